"""The public face of a profile's services (services.yaml): who provides them, where, when, how
to contact them and which needs they meet, as the Open Referral UK directory publishes them.

Everything here is optional: a profile without it still publishes each service's name,
description, status, area and ages. Only what is meant for the public belongs here (public
phone lines and mailboxes, opening hours, public addresses), never staff contacts or internal
capacity figures (those stay in a service's `capacity`, which the directory never reads).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from config.keys import unknown_keys

Problem = Callable[[str, str], None]

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")

ORGANISATION_KEYS = {"id", "name", "description", "website", "email"}
CONTACT_KEYS = {"name", "title", "phone", "email"}
SCHEDULE_KEYS = {"days", "opens_at", "closes_at", "description"}
LOCATION_KEYS = {"name", "description", "address_1", "address_2", "city", "region",
                 "postal_code", "latitude", "longitude"}
SERVICE_KEYS = {"url", "email", "contacts", "schedules", "needs", "languages", "fees"}
INSTANCE_KEYS = {"location", "contacts", "schedules"}
TOP_KEYS = {"organisation", "postcode_districts"}


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    description: str
    website: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Contact:
    """A contact meant for the public: a named line or mailbox, never a member of staff."""

    name: str
    title: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Schedule:
    """Weekly opening: these days, from opens_at to closes_at (HH:MM, council time)."""

    days: tuple[str, ...]
    opens_at: str
    closes_at: str
    description: str | None = None


@dataclass(frozen=True)
class Location:
    name: str
    address_1: str
    city: str
    postal_code: str
    description: str | None = None
    address_2: str | None = None
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class ServicePublic:
    url: str | None = None
    email: str | None = None
    fees: str | None = None
    contacts: tuple[Contact, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    # Checklist domain ids and headline area codes the service meets (the need taxonomy).
    needs: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstancePublic:
    location: Location | None = None
    contacts: tuple[Contact, ...] = ()
    schedules: tuple[Schedule, ...] = ()


@dataclass(frozen=True)
class Directory:
    """A profile's public directory data; empty when services.yaml says nothing public."""

    organisation: Organisation | None = None
    services: Mapping[str, ServicePublic] = field(default_factory=dict)
    # (service id, instance id) -> where and when that instance meets people.
    instances: Mapping[tuple[str, str], InstancePublic] = field(default_factory=dict)
    # Postcode district (outward code, LE11) -> (latitude, longitude) of its middle, for the
    # feed's `proximity` search.
    postcode_districts: Mapping[str, tuple[float, float]] = field(default_factory=dict)


def _text(data: Mapping[str, Any], name: str, key: str, problem: Problem, *,
          required: bool = False, pattern: re.Pattern | None = None,
          what: str = "") -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            problem(f"{key}.{name}", "is required")
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problem(f"{key}.{name}", "must be text")
        return None
    value = str(value).strip()
    if pattern is not None and not pattern.match(value):
        problem(f"{key}.{name}", f"{value!r} is not {what}")
        return None
    return value


def _mapping(value: Any, key: str, problem: Problem) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problem(key, "must be a mapping")
        return None
    return value


def _list(value: Any, key: str, problem: Problem) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        problem(key, "must be a list")
        return []
    return value


def load_contacts(value: Any, key: str, problem: Problem) -> tuple[Contact, ...]:
    out = []
    for i, item in enumerate(_list(value, key, problem)):
        at = f"{key}[{i}]"
        item = _mapping(item, at, problem)
        if item is None:
            continue
        unknown_keys(item, CONTACT_KEYS, at, problem)
        name = _text(item, "name", at, problem, required=True)
        phone = _text(item, "phone", at, problem, pattern=_PHONE, what="a phone number")
        email = _text(item, "email", at, problem, pattern=_EMAIL, what="an email address")
        if phone is None and email is None and "phone" not in item and "email" not in item:
            problem(at, "needs a phone or an email")
        if name:
            out.append(Contact(name=name, title=_text(item, "title", at, problem),
                               phone=phone, email=email))
    return tuple(out)


def load_schedules(value: Any, key: str, problem: Problem) -> tuple[Schedule, ...]:
    out = []
    for i, item in enumerate(_list(value, key, problem)):
        at = f"{key}[{i}]"
        item = _mapping(item, at, problem)
        if item is None:
            continue
        unknown_keys(item, SCHEDULE_KEYS, at, problem)
        days = item.get("days")
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            problem(f"{at}.days", f"must be a list of days, each one of {', '.join(DAYS)}")
            days = None
        opens = _text(item, "opens_at", at, problem, required=True, pattern=_TIME,
                      what="a time like 09:00")
        closes = _text(item, "closes_at", at, problem, required=True, pattern=_TIME,
                       what="a time like 17:00")
        if opens and closes and closes <= opens:
            problem(f"{at}.closes_at", "must be after opens_at")
            continue
        if days and opens and closes:
            out.append(Schedule(days=tuple(days), opens_at=opens, closes_at=closes,
                                description=_text(item, "description", at, problem)))
    return tuple(out)


def _coordinate(item: Mapping[str, Any], name: str, at: str, low: float, high: float,
                problem: Problem) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        problem(f"{at}.{name}", f"must be a number from {low:g} to {high:g}")
        return None
    return float(value)


def load_location(value: Any, key: str, problem: Problem) -> Location | None:
    item = _mapping(value, key, problem)
    if item is None:
        return None
    unknown_keys(item, LOCATION_KEYS, key, problem)
    name = _text(item, "name", key, problem, required=True)
    address_1 = _text(item, "address_1", key, problem, required=True)
    city = _text(item, "city", key, problem, required=True)
    postcode = _text(item, "postal_code", key, problem, required=True, pattern=_POSTCODE,
                     what="a UK postcode like LE3 8RA")
    latitude = _coordinate(item, "latitude", key, -90, 90, problem)
    longitude = _coordinate(item, "longitude", key, -180, 180, problem)
    if (latitude is None) != (longitude is None):
        problem(key, "give both latitude and longitude, or neither")
    if not (name and address_1 and city and postcode):
        return None
    return Location(name=name, address_1=address_1, city=city, postal_code=postcode,
                    description=_text(item, "description", key, problem),
                    address_2=_text(item, "address_2", key, problem),
                    region=_text(item, "region", key, problem),
                    latitude=latitude, longitude=longitude)


def load_directory(data: Any, problem: Problem, *, needs: set[str]) -> Directory:
    """Read the public directory parts of services.yaml (already parsed): the top-level
    `directory` (organisation, postcode districts), each service's `directory` and each
    instance's `directory`. `needs`: the checklist's domain ids and headline area codes."""
    if not isinstance(data, Mapping):
        return Directory()
    top = _mapping(data.get("directory"), "directory", problem) or {}
    unknown_keys(top, TOP_KEYS, "directory", problem)
    organisation = None
    org = _mapping(top.get("organisation"), "directory.organisation", problem)
    if org is not None:
        at = "directory.organisation"
        unknown_keys(org, ORGANISATION_KEYS, at, problem)
        oid = _text(org, "id", at, problem, required=True)
        name = _text(org, "name", at, problem, required=True)
        description = _text(org, "description", at, problem, required=True)
        if oid and name and description:
            organisation = Organisation(
                id=oid, name=name, description=description,
                website=_text(org, "website", at, problem, pattern=_URL, what="a web address"),
                email=_text(org, "email", at, problem, pattern=_EMAIL, what="an email address"))
    districts: dict[str, tuple[float, float]] = {}
    for outward, point in (_mapping(top.get("postcode_districts"),
                                    "directory.postcode_districts", problem) or {}).items():
        at = f"directory.postcode_districts.{outward}"
        if not _OUTWARD.match(str(outward)):
            problem(at, "is not a postcode district like LE11")
        elif (not isinstance(point, list) or len(point) != 2
              or any(isinstance(v, bool) or not isinstance(v, int | float) for v in point)
              or not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180)):
            problem(at, "must be [latitude, longitude]")
        else:
            districts[str(outward)] = (float(point[0]), float(point[1]))
    services: dict[str, ServicePublic] = {}
    instances: dict[tuple[str, str], InstancePublic] = {}
    # A wrongly shaped services list or instances list is named by the services loader.
    listed = data.get("services") if isinstance(data.get("services"), list) else []
    for i, s in enumerate(listed):
        if not isinstance(s, Mapping) or not s.get("id"):
            continue
        sid = str(s["id"])
        key = f"services[{i}].directory"
        public = _mapping(s.get("directory"), key, problem)
        if public is not None:
            unknown_keys(public, SERVICE_KEYS, key, problem)
            wanted = [str(n) for n in _list(public.get("needs"), f"{key}.needs", problem)]
            for n in wanted:
                if n not in needs:
                    problem(f"{key}.needs", f"{n!r} is not a checklist domain or headline "
                                            "area")
            languages = [str(x) for x in _list(public.get("languages"), f"{key}.languages",
                                                problem)]
            services[sid] = ServicePublic(
                url=_text(public, "url", key, problem, pattern=_URL, what="a web address"),
                email=_text(public, "email", key, problem, pattern=_EMAIL,
                            what="an email address"),
                fees=_text(public, "fees", key, problem),
                contacts=load_contacts(public.get("contacts"), f"{key}.contacts", problem),
                schedules=load_schedules(public.get("schedules"), f"{key}.schedules", problem),
                needs=tuple(n for n in wanted if n in needs), languages=tuple(languages))
        given = s.get("instances") if isinstance(s, Mapping) else None
        for j, inst in enumerate(given if isinstance(given, list) else []):
            if not isinstance(inst, Mapping) or not inst.get("id"):
                continue
            at = f"services[{i}].instances[{j}].directory"
            place = _mapping(inst.get("directory"), at, problem)
            if place is None:
                continue
            unknown_keys(place, INSTANCE_KEYS, at, problem)
            instances[(sid, str(inst["id"]))] = InstancePublic(
                location=load_location(place.get("location"), f"{at}.location", problem),
                contacts=load_contacts(place.get("contacts"), f"{at}.contacts", problem),
                schedules=load_schedules(place.get("schedules"), f"{at}.schedules", problem))
    return Directory(organisation=organisation, services=services, instances=instances,
                     postcode_districts=districts)
