"""Loading a partner's Open Referral UK feed file (a 1.0 or 3.0 page of services) into the
directory: every problem named (where in the file, what is wrong) and nothing saved, or every
service saved in one transaction. A service or organisation already imported is updated by its
id. Services whose information was last checked (assured_date) more than 90 days ago are
flagged stale on the directory."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlmodel import select

from triage.errors import ValidationFailed
from triage.models import DirectoryImport, DirectoryOrganisation, DirectoryService
from triage.models.base import utcnow
from triage.runtime import Runtime
from triage.services import audit
from triage.services.directory import catalogue
from triage.services.directory.ids import as_uuid, imported

SCHEMAS = Path(__file__).resolve().parent / "oruk_schemas"
MAX_SERVICES = 10_000
DAYS = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH",
        "friday": "FR", "saturday": "SA", "sunday": "SU"}


@cache
def _service_schema() -> Draft202012Validator:
    schema = json.loads((SCHEMAS / "service.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


@dataclass(frozen=True)
class Loaded:
    format: str
    services: int
    created: int
    updated: int
    organisations: int
    stale: int


class ImportProblems(ValidationFailed):
    """The file cannot be loaded: each problem by its place in the file."""


def _problem(problems: dict[str, list[str]], where: str, message: str) -> None:
    problems.setdefault(where, []).append(message)


def read_file(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportProblems({"file": [f"cannot be read: {exc.strerror}"]}) from None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
        raise ImportProblems({"file": [f"is not JSON{where}"]}) from None


def envelope(data: Any) -> tuple[str, str, list[Any]]:
    """(format, the key holding the services, the services) of an ORUK page."""
    if isinstance(data, Mapping) and isinstance(data.get("contents"), list):
        return "3.0", "contents", data["contents"]
    if isinstance(data, Mapping) and isinstance(data.get("content"), list):
        return "1.0", "content", data["content"]
    raise ImportProblems({"file": [
        "is not an Open Referral UK page of services: expected `contents` (3.0: total_items, "
        "page_number, contents...) or `content` (1.0: totalElements, number, content...)"]})


# -- 1.0 -> 3.0 ------------------------------------------------------------------------------
def _id(value: Any, kind: str) -> str:
    return as_uuid(value) or imported(str(value), kind)


def _each(item: Mapping[str, Any], key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    value = item.get(key)
    if isinstance(value, list):
        for i, x in enumerate(value):
            if isinstance(x, Mapping):
                yield i, x


def _day(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    codes = [DAYS.get(p.lower(), p.upper()[:2]) for p in parts]
    return ",".join(codes) if codes and all(c in DAYS.values() for c in codes) else None


def from_1_0(s: Mapping[str, Any]) -> dict[str, Any]:
    """An ORUK 1.0 service in the 3.0 shape (ids made UUIDs where they are not)."""
    sid = _id(s.get("id"), "service")
    org = s.get("organization") if isinstance(s.get("organization"), Mapping) else {}
    oid = _id(org.get("id"), "organisation") if org.get("id") is not None else None
    ages = [e for _, e in _each(s, "eligibilitys")]
    mins = [e["minimum_age"] for e in ages if isinstance(e.get("minimum_age"), int | float)]
    maxs = [e["maximum_age"] for e in ages if isinstance(e.get("maximum_age"), int | float)]
    sals = []
    for _, sal in _each(s, "service_at_locations"):
        loc = sal.get("location") if isinstance(sal.get("location"), Mapping) else {}
        lid = _id(loc.get("id", sal.get("id")), "location")
        sals.append({"id": _id(sal.get("id"), "service_at_location"), "service_id": sid,
                     "location_id": lid, "location": {
                         "id": lid, "location_type": "physical", "name": loc.get("name"),
                         "description": loc.get("description"),
                         "latitude": loc.get("latitude"), "longitude": loc.get("longitude"),
                         "addresses": [{
                             "id": _id(a.get("id", f"{lid}/{j}"), "address"),
                             "location_id": lid, "address_1": a.get("address_1"),
                             "city": a.get("city"), "state_province": a.get("state_province"),
                             "postal_code": a.get("postal_code"),
                             "country": a.get("country") or "GB",
                             "address_type": "physical"}
                             for j, a in _each(loc, "physical_addresses")]}})
    return catalogue._clean({
        "id": sid, "organization_id": oid, "name": s.get("name"),
        "description": s.get("description"), "url": s.get("url"), "email": s.get("email"),
        "status": s.get("status"), "fees": s.get("fees"),
        "accreditations": s.get("accreditations"), "assured_date": s.get("assured_date"),
        "minimum_age": min(mins) if mins else None, "maximum_age": max(maxs) if maxs else None,
        "organization": {"id": oid, "name": org.get("name"),
                         "description": org.get("description"), "email": org.get("email"),
                         "website": org.get("url") or org.get("website"),
                         "logo": org.get("logo")} if org else None,
        "service_at_locations": sals,
        "schedules": [{"id": _id(r.get("id", f"{sid}/{i}"), "schedule"), "service_id": sid,
                       "freq": "WEEKLY", "byday": _day(r.get("weekday") or r.get("byday")),
                       "opens_at": r.get("opens_at"), "closes_at": r.get("closes_at"),
                       "description": r.get("description")}
                      for i, r in _each(s, "regular_schedules")],
        "contacts": [{"id": _id(c.get("id", f"{sid}/{i}"), "contact"), "service_id": sid,
                      "name": c.get("name"), "title": c.get("title"),
                      "phones": [{"id": _id(p.get("id", f"{sid}/{i}/{j}"), "phone"),
                                  "number": p.get("number")} for j, p in _each(c, "phones")]}
                     for i, c in _each(s, "contacts")],
        "service_areas": [{"id": _id(a.get("id", f"{sid}/{i}"), "service_area"),
                           "service_id": sid, "name": a.get("service_area"),
                           "extent": a.get("extent"), "uri": a.get("uri")}
                          for i, a in _each(s, "service_areas")],
        "languages": [{"id": _id(x.get("id", f"{sid}/{i}"), "language"), "service_id": sid,
                       "name": x.get("language")} for i, x in _each(s, "languages")],
        "attributes": [{"id": _id(t.get("id", f"{sid}/{i}"), "attribute"), "link_id": sid,
                        "link_type": "service",
                        "taxonomy_term_id": _id(tax.get("id"), "taxonomy_term"),
                        "taxonomy_term": {"id": _id(tax.get("id"), "taxonomy_term"),
                                          "name": tax.get("name"),
                                          "description": tax.get("name"),
                                          "taxonomy": tax.get("vocabulary")}}
                       for i, t in _each(s, "service_taxonomys")
                       for tax in [t.get("taxonomy")] if isinstance(tax, Mapping)
                       and tax.get("id") is not None],
        "funding": [{"id": _id(f.get("id", f"{sid}/{i}"), "funding"), "service_id": sid,
                     "source": f.get("source")} for i, f in _each(s, "fundings")],
        "cost_options": [{"id": _id(c.get("id", f"{sid}/{i}"), "cost_option"),
                          "service_id": sid, "amount": c.get("amount"),
                          "option": c.get("option"),
                          "amount_description": c.get("amount_description")}
                         for i, c in _each(s, "cost_options")],
    })


def _check_1_0(i: int, s: Any, problems: dict[str, list[str]]) -> None:
    at = f"content.{i}"
    if not isinstance(s, Mapping):
        _problem(problems, at, "must be a service (an object)")
        return
    for key in ("id", "name", "status"):
        if s.get(key) in (None, ""):
            _problem(problems, f"{at}.{key}", "is required")


# -- checking ----------------------------------------------------------------------------------
def _path(parts) -> str:
    return ".".join(str(p) for p in parts)


def check(data: Any, *, own_ids: set[str]) -> tuple[str, list[dict[str, Any]]]:
    """The feed's format and its services in the 3.0 shape; ImportProblems naming every
    problem (file.<key>.<i>.<field>) when any service cannot be loaded."""
    fmt, key, items = envelope(data)
    problems: dict[str, list[str]] = {}
    if not items:
        _problem(problems, key, "has no services")
    if len(items) > MAX_SERVICES:
        _problem(problems, key, f"has {len(items)} services; at most {MAX_SERVICES} at once")
    docs: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        at = f"{key}.{i}"
        if fmt == "1.0":
            _check_1_0(i, item, problems)
            if not isinstance(item, Mapping):
                continue
            doc = from_1_0(item)
        elif isinstance(item, Mapping):
            doc = dict(item)
        else:
            _problem(problems, at, "must be a service (an object)")
            continue
        for error in sorted(_service_schema().iter_errors(doc), key=lambda e: list(e.path)):
            where = _path([at, *error.absolute_path])
            if error.validator == "required":
                missing = error.message.split("'")[1] if "'" in error.message else ""
                where = _path([where, missing]) if missing else where
                _problem(problems, where, "is required")
            else:
                _problem(problems, where, error.message)
        org = doc.get("organization")
        if not isinstance(org, Mapping):
            _problem(problems, f"{at}.organization", "is required: the directory lists each "
                     "service with the organisation that provides it")
        elif doc.get("organization_id") not in (None, org.get("id")):
            _problem(problems, f"{at}.organization_id", "is not the id of its organization")
        assured = doc.get("assured_date")
        if assured is not None:
            try:
                date.fromisoformat(str(assured)[:10])
            except ValueError:
                _problem(problems, f"{at}.assured_date", f"{assured!r} is not a date like "
                         "2026-11-30")
        sid = as_uuid(doc.get("id"))
        if sid in own_ids:
            _problem(problems, f"{at}.id", "is the id of one of the council's own services")
        if sid is not None:
            doc["id"] = sid
        docs.append(doc)
    seen: dict[str, int] = {}
    for i, doc in enumerate(docs):
        sid = doc.get("id")
        if isinstance(sid, str) and sid in seen:
            _problem(problems, f"{key}.{i}.id", f"is the id of {key}.{seen[sid]} too: each "
                     "service once")
        elif isinstance(sid, str):
            seen[sid] = i
    if problems:
        count = sum(len(v) for v in problems.values())
        raise ImportProblems(problems, f"The file has {count} problem{'s' * (count != 1)}; "
                                       "nothing was imported.")
    return fmt, [catalogue._clean(d) for d in docs]


def search_text(doc: Mapping[str, Any]) -> str:
    words = [doc.get("name", ""), doc.get("description", ""),
             doc.get("organization", {}).get("name", "")]
    words += [a.get("taxonomy_term", {}).get("name", "") for a in doc.get("attributes", [])]
    words += [a.get("name", "") for a in doc.get("service_areas", [])]
    return " ".join(w for w in words if isinstance(w, str)).lower()


def load(rt: Runtime, path: Path, *, today: date | None = None) -> Loaded:
    """Check the file, then save every service (and its organisation) in one transaction."""
    own = {catalogue.service_id(rt.profile, s) for s in rt.profile.services}
    fmt, docs = check(read_file(path), own_ids=own)
    today = today or date.today()
    now = utcnow()
    created = updated = 0
    with rt.db.unit_of_work() as session:
        run = DirectoryImport(source=path.name[:200], format=fmt, services=len(docs),
                              imported_at=now)
        session.add(run)
        session.flush()
        orgs: dict[str, Mapping[str, Any]] = {}
        for doc in docs:
            orgs[doc["organization"]["id"]] = doc["organization"]
        for oid, org in orgs.items():
            row = session.get(DirectoryOrganisation, oid) or DirectoryOrganisation(
                id=oid, name="", description="", import_id=run.id)
            row.name, row.description = str(org["name"])[:300], str(org["description"])
            row.website, row.email = org.get("website"), org.get("email")
            row.import_id, row.updated_at = run.id, now
            session.add(row)
        session.flush()
        existing = set(session.exec(select(DirectoryService.id).where(
            DirectoryService.id.in_([d["id"] for d in docs]))).all())
        for doc in docs:
            doc = {**doc, "organization_id": doc["organization"]["id"]}
            row = session.get(DirectoryService, doc["id"]) if doc["id"] in existing else None
            if row is None:
                row = DirectoryService(id=doc["id"], organisation_id=doc["organization_id"],
                                       name="", status="", search_text="", import_id=run.id)
                created += 1
            else:
                updated += 1
            assured = doc.get("assured_date")
            row.organisation_id = doc["organization_id"]
            row.name, row.status = str(doc["name"])[:300], str(doc["status"])
            row.assured_date = date.fromisoformat(str(assured)[:10]) if assured else None
            row.search_text, row.document = search_text(doc), doc
            row.import_id, row.updated_at = run.id, now
            session.add(row)
        run.organisations = len(orgs)
        session.add(run)
        audit.record(session, actor=None, action="directory.import",
                     object_type="directory_import", object_id=run.id, format=fmt,
                     services=len(docs), created=created, updated=updated)
    stale = sum(1 for d in docs if catalogue.is_stale(d, today))
    return Loaded(format=fmt, services=len(docs), created=created, updated=updated,
                  organisations=len(orgs), stale=stale)
