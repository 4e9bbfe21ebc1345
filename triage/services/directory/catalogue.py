"""The directory's services as Open Referral UK 3.0 documents: the profile's own services
(built from services.yaml's generic fields and, where given, its `directory` keys) and the
partners' services imported into the database. Optional fields with nothing in them are left
out; nothing private (staff, a service's `capacity` planning figures) is ever read here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from config.directory import Contact, Location, Schedule
from config.profile import Profile, Service
from triage.services.directory.capacity import Status
from triage.services.directory.ids import derived

COUNTRY = "GB"
STALE_AFTER_DAYS = 90
CAPACITY_EXTENSION = "x_capacity"


def _clean(value: Any) -> Any:
    """Drop optional fields with nothing in them (None, "", [], {}), all the way down."""
    if isinstance(value, Mapping):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


# -- taxonomy ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    id: str
    code: str
    name: str
    description: str
    taxonomy_id: str
    taxonomy: str


def taxonomies(profile: Profile) -> list[dict[str, Any]]:
    """The need taxonomy: the checklist's domains and its headline areas."""
    checklist = profile.checklist
    return [
        {"id": derived(profile.id, "taxonomy", "domains"),
         "name": f"{checklist.title}: domains",
         "description": f"The domains of need of {profile.name}'s {checklist.title} "
                        f"(version {checklist.version}).", "version": str(checklist.version)},
        {"id": derived(profile.id, "taxonomy", "headline_areas"),
         "name": f"{checklist.title}: headline areas",
         "description": "The headline areas of need the checklist's questions are grouped by "
                        "(the Supporting Families outcomes).",
         "version": str(checklist.version)},
    ]


def terms(profile: Profile) -> list[Term]:
    checklist = profile.checklist
    domains, areas = taxonomies(profile)
    out = [Term(id=derived(profile.id, "term", "domain", d.id), code=d.id, name=d.title,
                description=f"{d.title} ({d.side} questions of the checklist)",
                taxonomy_id=domains["id"], taxonomy=domains["name"])
           for d in checklist.domains.values()]
    out += [Term(id=derived(profile.id, "term", "headline_area", code), code=code, name=text,
                 description=f"Headline area {code}: {text}", taxonomy_id=areas["id"],
                 taxonomy=areas["name"])
            for code, text in checklist.headline_areas.items()]
    return out


def term_document(term: Term) -> dict[str, Any]:
    return {"id": term.id, "code": term.code, "name": term.name,
            "description": term.description, "taxonomy": term.taxonomy,
            "taxonomy_id": term.taxonomy_id}


# -- the profile's services -----------------------------------------------------------------
def organisation(profile: Profile) -> dict[str, Any]:
    org = profile.directory.organisation
    if org is None:
        return {"id": derived(profile.id, "organisation"), "name": profile.name,
                "description": f"{profile.name}, which runs the services in this directory."}
    return _clean({"id": derived(profile.id, "organisation", org.id), "name": org.name,
                   "description": org.description, "website": org.website,
                   "email": org.email})


def service_id(profile: Profile, service: str) -> str:
    return derived(profile.id, "service", service)


def _schedule(profile: Profile, sid: str, key: str, schedule: Schedule, n: int,
              sal_id: str | None = None) -> dict[str, Any]:
    return {"id": derived(profile.id, "schedule", key, str(n)), "service_id": sid,
            "service_at_location_id": sal_id, "freq": "WEEKLY",
            "byday": ",".join(schedule.days), "opens_at": schedule.opens_at,
            "closes_at": schedule.closes_at, "description": schedule.description}


def _contact(profile: Profile, sid: str, key: str, contact: Contact, n: int,
             title: str | None = None) -> dict[str, Any]:
    cid = derived(profile.id, "contact", key, str(n))
    return {"id": cid, "service_id": sid, "name": contact.name,
            "title": contact.title or title, "email": contact.email,
            "phones": [{"id": derived(profile.id, "phone", key, str(n)), "contact_id": cid,
                        "number": contact.phone}] if contact.phone else []}


def _location(profile: Profile, key: str, place: Location) -> dict[str, Any]:
    lid = derived(profile.id, "location", key)
    return {"id": lid, "location_type": "physical", "name": place.name,
            "description": place.description, "latitude": place.latitude,
            "longitude": place.longitude,
            "addresses": [{"id": derived(profile.id, "address", key), "location_id": lid,
                           "address_1": ", ".join(x for x in (place.address_1, place.address_2)
                                                  if x),
                           "city": place.city, "region": place.region,
                           "state_province": place.region or place.city,
                           "postal_code": place.postal_code, "country": COUNTRY,
                           "address_type": "physical"}]}


def _sectors(profile: Profile, service: Service, instance: str) -> list[str]:
    if not service.instance_from:
        return []
    return sorted(p.sector for p in profile.localities.rows.values()
                  if p.column(service.instance_from) == instance)


def _capacity(profile: Profile, service: Service, instance: str, status: Status,
              sid: str) -> dict[str, Any]:
    return {**status.public(), "service_area_id": derived(profile.id, "area", service.id,
                                                          instance),
            "area": service.instances[instance].name, "service_id": sid}


def _attributes(profile: Profile, link_id: str, needs: Iterable[str]) -> list[dict[str, Any]]:
    by_code = {t.code: t for t in terms(profile)}
    out = []
    for code in needs:
        term = by_code[code]
        out.append({"id": derived(profile.id, "attribute", link_id, code), "link_id": link_id,
                    "link_type": "service", "taxonomy_term_id": term.id,
                    "taxonomy_term": term_document(term)})
    return out


def profile_service(profile: Profile, service: Service,
                    capacity: Mapping[tuple[str, str], Status]) -> dict[str, Any]:
    """One of the profile's services, fully nested."""
    sid = service_id(profile, service.id)
    org = organisation(profile)
    public = profile.directory.services.get(service.id)
    areas, sals, schedules, contacts, extension = [], [], [], [], []
    for n, s in enumerate(public.schedules if public else ()):
        schedules.append(_schedule(profile, sid, service.id, s, n))
    for n, c in enumerate(public.contacts if public else ()):
        contacts.append(_contact(profile, sid, service.id, c, n))
    single = len(service.instances) == 1 and not service.instance_from
    for instance in service.instances.values():
        sectors = _sectors(profile, service, instance.id)
        areas.append({"id": derived(profile.id, "area", service.id, instance.id),
                      "service_id": sid,
                      "name": service.area_served if single else instance.name,
                      "extent": f"Postcode sectors {', '.join(sectors)}" if sectors else None,
                      "extent_type": "text" if sectors else None})
        key = f"{service.id}/{instance.id}"
        here = profile.directory.instances.get((service.id, instance.id))
        sal_id = None
        if here is not None and here.location is not None:
            location = _location(profile, key, here.location)
            sal_id = derived(profile.id, "service_at_location", key)
            status = capacity.get((service.id, instance.id))
            sals.append({"id": sal_id, "service_id": sid, "location_id": location["id"],
                         "location": location,
                         CAPACITY_EXTENSION: status.public() if status else None})
        for n, s in enumerate(here.schedules if here else ()):
            schedules.append(_schedule(profile, sid, key, s, n, sal_id))
        for n, c in enumerate(here.contacts if here else ()):
            contacts.append(_contact(profile, sid, key, c, n, title=instance.name))
        status = capacity.get((service.id, instance.id))
        if status is not None:
            extension.append(_capacity(profile, service, instance.id, status, sid))
    ages = service.ages or {}
    return _clean({
        "id": sid, "organization_id": org["id"], "name": service.name,
        "description": service.description, "url": public.url if public else None,
        "email": public.email if public else None,
        "status": service.status if service.status in ("active", "inactive", "defunct")
        else "inactive",
        "fees": public.fees if public else None,
        "minimum_age": ages.get("min"), "maximum_age": ages.get("max"),
        "organization": org, "service_areas": areas, "service_at_locations": sals,
        "schedules": schedules, "contacts": contacts,
        "languages": [{"id": derived(profile.id, "language", service.id, name),
                       "service_id": sid, "name": name}
                      for name in (public.languages if public else ())],
        "attributes": _attributes(profile, sid, public.needs if public else ()),
        CAPACITY_EXTENSION: extension,
    })


LIST_FIELDS = ("id", "organization_id", "name", "description", "url", "email", "status",
               "fees", "accreditations", "minimum_age", "maximum_age", "assured_date",
               "assurer_email", "alert", "last_modified", "organization")


def list_form(document: Mapping[str, Any]) -> dict[str, Any]:
    """A service as a page of /services lists it: its own fields and organisation."""
    out = {k: document[k] for k in LIST_FIELDS if k in document}
    if "organization" in out:
        out["organization"] = {k: v for k, v in out["organization"].items()
                               if k in ("id", "name", "description", "email", "website",
                                        "logo", "uri", "parent_organization_id")}
    return out


def is_stale(document: Mapping[str, Any], today: date) -> bool:
    """An imported service whose information was last checked (assured) more than 90 days
    ago, or never."""
    assured = document.get("assured_date")
    if not assured:
        return True
    try:
        return (today - date.fromisoformat(str(assured)[:10])).days > STALE_AFTER_DAYS
    except ValueError:
        return True
