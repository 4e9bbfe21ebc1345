"""Reading the directory: pages of services (the Open Referral UK 3.0 page envelope), one
service, the need taxonomy and services at locations near a postcode. Used by the feed
(/oruk/) and the public directory pages alike."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from config.profile import parse_postcode
from triage.errors import NotFound, ValidationFailed
from triage.models import DirectoryService
from triage.runtime import Runtime
from triage.services.directory import catalogue
from triage.services.directory.capacity import all_statuses
from triage.services.directory.ids import as_uuid

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_SEARCH = 200
MAX_PROXIMITY_METRES = 200_000


class BadQuery(ValidationFailed):
    """A query parameter the feed cannot use: 400 naming it (a feed's caller sent it)."""

    status = 400


def _whole(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadQuery({name: [f"Must be a whole number from {low} to {high}."]},
                       f"The {name} parameter {raw[:20]!r} is not a whole number from {low} "
                       f"to {high}.")
    return int(raw)


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int

    @classmethod
    def of(cls, args: Mapping[str, str]) -> Paging:
        return cls(page=_whole(args, "page", 1, 1, 10**6),
                   per_page=_whole(args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE))

    @property
    def start(self) -> int:
        return (self.page - 1) * self.per_page

    def envelope(self, contents: list[Any], total: int) -> dict[str, Any]:
        """The ORUK 3.0 page: every page valid, the last included (an empty directory is
        one empty page)."""
        pages = max(1, math.ceil(total / self.per_page))
        return {"total_items": total, "total_pages": pages, "page_number": self.page,
                "size": self.per_page, "first_page": self.page == 1,
                "last_page": self.page >= pages, "empty": not contents,
                "contents": contents}


def _search(args: Mapping[str, str]) -> str | None:
    text = (args.get("search") or args.get("q") or "").strip().lower()
    if len(text) > MAX_SEARCH:
        raise BadQuery({"search": [f"Must be at most {MAX_SEARCH} characters."]})
    return text or None


def _term(args: Mapping[str, str]) -> str | None:
    raw = args.get("taxonomy_term_id")
    if not raw:
        return None
    found = as_uuid(raw)
    if found is None:
        raise BadQuery({"taxonomy_term_id": ["Must be a taxonomy term's id (a UUID)."]})
    return found


def _profile_text(doc: Mapping[str, Any]) -> str:
    words = [doc.get("name", ""), doc.get("description", ""),
             doc.get("organization", {}).get("name", "")]
    words += [a.get("taxonomy_term", {}).get("name", "") for a in doc.get("attributes", [])]
    words += [area.get("name", "") for area in doc.get("service_areas", [])]
    return " ".join(w for w in words if isinstance(w, str)).lower()


def _has_term(doc: Mapping[str, Any], term: str) -> bool:
    return any(a.get("taxonomy_term_id") == term for a in doc.get("attributes", []))


# Built documents, kept per process while what they are built from is unchanged: the
# profile's services (its content hash) with the capacity statuses as read now; the imported
# services as of their count and newest import (read on every request, so every process sees
# an import or a capacity change at once). Callers never change a document they are given.
_OWN: dict[Any, list[dict[str, Any]]] = {}
_IMPORTED: dict[str, tuple[Any, list[dict[str, Any]]]] = {}


def profile_documents(rt: Runtime) -> list[dict[str, Any]]:
    with rt.db.reader() as session:
        capacity = all_statuses(session)
    key = (rt.profile.id, rt.profile.content_hash, tuple(sorted(
        (k, s.code, s.notes, s.set_at) for k, s in capacity.items())))
    found = _OWN.get(key)
    if found is None:
        found = [catalogue.profile_service(rt.profile, s, capacity)
                 for s in rt.profile.services.values()]
        if len(_OWN) > 16:
            _OWN.clear()
        _OWN[key] = found
    return found


def imported_documents(rt: Runtime) -> list[dict[str, Any]]:
    """Every imported service, by name (for the filters a query cannot make)."""
    with rt.db.reader() as session:
        key = tuple(session.exec(select(func.count(), func.max(DirectoryService.import_id),
                                        func.max(DirectoryService.updated_at))).one())
        cached = _IMPORTED.get(rt.db.url)
        if cached is not None and cached[0] == key:
            return cached[1]
        docs = [r.document for r in session.exec(select(DirectoryService).order_by(
            DirectoryService.name, DirectoryService.id)).all()]
    _IMPORTED[rt.db.url] = (key, docs)
    return docs


def _imported_query(search: str | None):
    query = select(DirectoryService)
    if search:
        query = query.where(DirectoryService.search_text.contains(search, autoescape=True))
    return query


def services_page(rt: Runtime, args: Mapping[str, str], *,
                  shape: Callable[[dict[str, Any]], dict[str, Any]] = catalogue.list_form
                  ) -> dict[str, Any]:
    """A page of services, the profile's first (in its order), then imported ones by name."""
    paging = Paging.of(args)
    search, term = _search(args), _term(args)
    own = [d for d in profile_documents(rt)
           if (not search or search in _profile_text(d)) and (not term or _has_term(d, term))]
    with rt.db.reader() as session:
        query = _imported_query(search)
        if term:
            rows = [d for d in imported_documents(rt) if _has_term(d, term)
                    and (not search or search in _profile_text(d))]
            total_imported = len(rows)
            imported = rows[max(0, paging.start - len(own)):][:paging.per_page]
        else:
            total_imported = session.exec(select(func.count()).select_from(
                query.subquery())).one()
            skip = max(0, paging.start - len(own))
            room = paging.per_page - max(0, min(len(own) - paging.start, paging.per_page))
            imported = [r.document for r in session.exec(
                query.order_by(DirectoryService.name, DirectoryService.id)
                .offset(skip).limit(room)).all()] if room > 0 else []
    items = own[paging.start:paging.start + paging.per_page] + imported
    return paging.envelope([shape(d) for d in items][:paging.per_page],
                           len(own) + total_imported)


def service(rt: Runtime, service_id: str) -> dict[str, Any]:
    """One service, fully nested; 404 for an id that is not one of the directory's."""
    wanted = as_uuid(service_id)
    if wanted is not None:
        for doc in profile_documents(rt):
            if doc["id"] == wanted:
                return doc
        with rt.db.reader() as session:
            row = session.get(DirectoryService, wanted)
            if row is not None:
                return row.document
    raise NotFound(f"No service with id {service_id[:64]!r} in this directory.")


def imported_service(rt: Runtime, service_id: str) -> DirectoryService | None:
    wanted = as_uuid(service_id)
    if wanted is None:
        return None
    with rt.db.reader() as session:
        return session.get(DirectoryService, wanted)


def taxonomies_page(rt: Runtime, args: Mapping[str, str]) -> dict[str, Any]:
    paging = Paging.of(args)
    items = catalogue.taxonomies(rt.profile)
    return paging.envelope(items[paging.start:paging.start + paging.per_page], len(items))


def terms_page(rt: Runtime, args: Mapping[str, str]) -> dict[str, Any]:
    paging = Paging.of(args)
    items = [catalogue.term_document(t) for t in catalogue.terms(rt.profile)]
    taxonomy = args.get("taxonomy_id")
    if taxonomy:
        wanted = as_uuid(taxonomy)
        if wanted is None:
            raise BadQuery({"taxonomy_id": ["Must be a taxonomy's id (a UUID)."]})
        items = [t for t in items if t["taxonomy_id"] == wanted]
    return paging.envelope(items[paging.start:paging.start + paging.per_page], len(items))


# -- services at locations --------------------------------------------------------------------
def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def _outward(postcode: str) -> str:
    return postcode.split(" ")[0]


def _near(rt: Runtime, args: Mapping[str, str]) -> tuple[str | None, tuple[float, float] | None,
                                                          int | None]:
    raw = (args.get("postcode") or "").strip()
    proximity = None
    if args.get("proximity"):
        proximity = _whole(args, "proximity", 0, 1, MAX_PROXIMITY_METRES)
    if not raw:
        if proximity is not None:
            raise BadQuery({"postcode": ["Give a postcode with proximity: the distance is "
                                         "measured from it."]})
        return None, None, None
    parsed = parse_postcode(raw)
    if parsed is not None:
        outward = _outward(parsed[0])
    elif raw.upper().replace(" ", "") and len(raw) <= 4 and parse_postcode(f"{raw} 1AA"):
        outward = raw.upper().strip()  # a postcode district alone (the outward code)
    else:
        raise BadQuery({"postcode": [f"{raw[:20]!r} is not a UK postcode like "
                                     f"{rt.profile.texts['postcode_example']}."]})
    point = rt.profile.directory.postcode_districts.get(outward)
    if proximity is not None and point is None:
        raise BadQuery({"postcode": [f"Distances from {outward} are not known here; search "
                                     "by postcode without proximity."]})
    return outward, point, proximity


def service_at_locations_page(rt: Runtime, args: Mapping[str, str]) -> dict[str, Any]:
    paging = Paging.of(args)
    search, term = _search(args), _term(args)
    outward, point, proximity = _near(rt, args)
    docs = [*profile_documents(rt), *imported_documents(rt)]
    found: list[tuple[float, int, dict[str, Any], dict[str, Any], float | None]] = []
    for doc in docs:
        if (search and search not in _profile_text(doc)) or (term and not _has_term(doc, term)):
            continue
        for sal in doc.get("service_at_locations", []):
            location = sal.get("location") or {}
            here = (location.get("latitude"), location.get("longitude"))
            distance = (metres_between(point, here)  # type: ignore[arg-type]
                        if point is not None and None not in here else None)
            if proximity is not None:
                if distance is None or distance > proximity:
                    continue
            elif outward is not None and not any(
                    _outward(str(a.get("postal_code", "")).upper().strip()) == outward
                    for a in location.get("addresses", [])):
                continue
            found.append((distance if distance is not None else 0.0, len(found), doc, sal,
                          distance))
    if point is not None:
        found.sort(key=lambda r: (r[0], r[1]))
    items = []  # only the page's items are built
    for _, _, doc, sal, distance in found[paging.start:paging.start + paging.per_page]:
        location = sal.get("location") or {}
        item = {"id": sal["id"], "service_id": doc["id"],
                "location_id": sal.get("location_id") or location.get("id"),
                "location": location, "service": catalogue.list_form(doc)}
        if catalogue.CAPACITY_EXTENSION in sal:
            item[catalogue.CAPACITY_EXTENSION] = sal[catalogue.CAPACITY_EXTENSION]
        if distance is not None:
            item["distance"] = round(distance)
        items.append(item)
    return paging.envelope(items, len(found))
