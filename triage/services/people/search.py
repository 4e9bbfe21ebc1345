"""Finding people: one query text (a name, date of birth, postcode, reference or phone), each
candidate found through an index and bounded, then scored in Python; every search audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from rapidfuzz.distance import JaroWinkler
from sqlalchemy import and_
from sqlmodel import Session, select

from config.profile import parse_postcode
from triage.errors import ValidationFailed
from triage.models import Case, Household, HouseholdMember, Person, Referral, ReferralPerson, User
from triage.policy import SEARCH_PEOPLE, require, sees_all_people, team_of
from triage.runtime import Runtime
from triage.schemas.contact import uk_phone_key
from triage.services import audit
from triage.services.people.names import name_key, sound_key
from triage.services.privacy import visibility

CANDIDATES = 500  # each candidate query is bounded so a common surname cannot flood it
RESULTS = 50
_REFERENCE = re.compile(r"^[A-Za-z]{1,8}-\d{4}-\d{1,9}$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y", "%d/%m/%y")


@dataclass
class Found:
    person: Person
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    household_ids: list[int] = field(default_factory=list)
    postcode: str | None = None
    open_cases: list[dict[str, Any]] = field(default_factory=list)
    band: str = "possible"


def parse_date(text: str | None) -> date | None:
    """A date of birth typed as 2015-05-31, 31/05/2015, 31-05-2015 or 31.05.2015."""
    text = (text or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def jaro_winkler(a: str, b: str) -> float:
    """Similarity of two folded names, 0 to 1 (rapidfuzz's Jaro-Winkler): typos near the end
    cost less than at the start."""
    return JaroWinkler.similarity(a, b)


def parse_query(args: dict[str, str]) -> dict[str, Any]:
    """The query's parts; 422 naming the field for a date or postcode that is not one."""
    errors: dict[str, list[str]] = {}
    q = (args.get("q") or "").strip()
    dob_text = (args.get("date_of_birth") or "").strip()
    postcode_text = (args.get("postcode") or "").strip()
    unknown = set(args) - {"q", "date_of_birth", "postcode"}
    for name in sorted(unknown):
        errors[name] = ["Unknown parameter; use q, date_of_birth or postcode."]
    dob = parse_date(dob_text) if dob_text else None
    if dob_text and dob is None:
        errors["date_of_birth"] = ["Not a date; use YYYY-MM-DD or DD/MM/YYYY."]
    postcode = parse_postcode(postcode_text)[0] if parse_postcode(postcode_text) else None
    if postcode_text and postcode is None:
        errors["postcode"] = ["Not a UK postcode."]
    if len(q) > 200:
        errors["q"] = ["At most 200 characters."]
    if not (q or dob or postcode) and not errors:
        errors["q"] = ["Give a name, date of birth, postcode, reference or phone number."]
    if errors:
        raise ValidationFailed(errors)
    return {"q": q, "date_of_birth": dob, "postcode": postcode}


def _name_parts(q: str) -> tuple[str | None, str | None]:
    """(given, family): the last word is the family name unless there is a comma
    ('Johnson, Priya'); a hyphen or spaces inside a family name fold away in its key."""
    if "," in q:
        family, _, given = q.partition(",")
        return name_key(given), name_key(family)
    words = q.split()
    if len(words) == 1:
        return None, name_key(words[0])
    return name_key(words[0]), name_key("".join(words[1:]))


def _people(session: Session, *where) -> list[Person]:
    return list(session.exec(select(Person).where(*where).limit(CANDIDATES)))


def _by_name(session: Session, given: str | None, family: str | None) -> list[Person]:
    found: dict[int, Person] = {}
    pairs = [(given, family)] + ([(family, given)] if given else [])
    for g, f in pairs:
        if not f:
            continue
        f_sound = sound_key(f)
        where = [Person.family_name_sound == f_sound]
        if g:
            where.append(Person.given_name_sound == sound_key(g))
        for p in _people(session, *where):
            found[p.id] = p
        for p in _people(session, Person.family_name_key == f):
            found[p.id] = p
    if given is None and family:
        # One word may be a given name ("Priya").
        for p in _people(session, Person.given_name_key == family):
            found[p.id] = p
    return list(found.values())


def _score_name(found: Found, given: str | None, family: str | None) -> None:
    p = found.person
    pg, pf = p.given_name_key or "", p.family_name_key or ""
    fam = jaro_winkler(family or "", pf)
    giv = jaro_winkler(given or "", pg) if given else None
    swapped = (jaro_winkler(family or "", pg) + jaro_winkler(given or "", pf)) / 2 if given \
        else 0.0
    if giv is None and jaro_winkler(family or "", pg) > fam:
        fam, giv = 0.0, jaro_winkler(family or "", pg)
        found.reasons.append("given name is" if pg == family else "given name sounds like")
        found.score += 60 * giv
        return
    if giv is not None and swapped > (fam + giv) / 2:
        found.reasons.append("names given the other way round")
        found.score += 70 * swapped
        return
    _name_reason(found, "family name", pf, family, fam)
    if giv is not None:
        _name_reason(found, "given name", pg, given, giv)
        found.score += 45 * fam + 35 * giv
    else:
        found.score += 60 * fam


def _name_reason(found: Found, which: str, known: str | None, typed: str | None,
                 similarity: float) -> None:
    """Why one name matched: the same, sounding alike, or spelt nearly the same."""
    if known == typed:
        found.reasons.append(f"same {which}")
    elif sound_key(known) == sound_key(typed):
        found.reasons.append(f"{which} sounds like")
    elif similarity >= 0.8:
        found.reasons.append(f"{which} spelt nearly the same")


def search(rt: Runtime, *, user: User, args: dict[str, str]) -> list[Found]:
    """People matching the query, best first; staff outside the front door see only families
    their team works with. Audited with counts and ids only, never the query."""
    require(user, SEARCH_PEOPLE, "search for people")
    query = parse_query(args)
    q, dob, postcode = query["q"], query["date_of_birth"], query["postcode"]
    with rt.db.unit_of_work() as session:
        found: dict[int, Found] = {}
        kind = "filters"
        given = family = None

        def add(people, reason: str | None = None, score: float = 0.0) -> None:
            for p in people:
                entry = found.setdefault(p.id, Found(p))
                if reason and reason not in entry.reasons:
                    entry.reasons.append(reason)
                    entry.score += score

        if q and _REFERENCE.match(q):
            kind = "reference"
            reference = q.upper()
            people = list(session.exec(
                select(Person).join(ReferralPerson, ReferralPerson.person_id == Person.id)
                .join(Referral, Referral.id == ReferralPerson.referral_id)
                .where(Referral.reference == reference).limit(CANDIDATES)))
            add(people, f"named on {reference}", 100)
        elif q and uk_phone_key(q):
            kind = "phone"
            add(_people(session, Person.phone_key == uk_phone_key(q)), "phone number", 100)
        elif q and parse_date(q):
            kind = "date_of_birth"
            dob = dob or parse_date(q)
        elif q and parse_postcode(q):
            kind = "postcode"
            postcode = postcode or parse_postcode(q)[0]
        elif q:
            kind = "name"
            given, family = _name_parts(q)
            if not family:
                raise ValidationFailed({"q": ["Give a name, date of birth, postcode, "
                                              "reference or phone number."]})
            add(_by_name(session, given, family))
        only_filters = not found and kind in ("filters", "date_of_birth", "postcode")
        if only_filters:
            if dob:
                add(_people(session, Person.date_of_birth == dob))
            elif postcode:
                add(session.exec(
                    select(Person).join(HouseholdMember, HouseholdMember.person_id == Person.id)
                    .join(Household, Household.id == HouseholdMember.household_id)
                    .where(Household.postcode == postcode).limit(CANDIDATES)))
        _households(session, found)
        for entry in found.values():
            if kind == "name":
                _score_name(entry, given, family)
            if dob:
                if entry.person.date_of_birth == dob:
                    entry.reasons.append("same date of birth")
                    entry.score += 20 if kind == "name" else 60
                elif only_filters or kind != "name":
                    entry.score = -1
                else:
                    entry.score -= 10
            if postcode:
                if entry.postcode == postcode:
                    entry.reasons.append(f"lives at {postcode}")
                    entry.score += 15 if kind == "name" or dob else 60
                elif only_filters or kind != "name":
                    entry.score = -1
        results = [e for e in found.values() if e.score > (30 if kind == "name" else 0)]
        hidden = visibility.hidden_for(session, user)
        results = [e for e in results if e.person.id not in hidden.people]
        if not sees_all_people(user):
            allowed = linked_people(session, user, [e.person.id for e in results])
            results = [e for e in results if e.person.id in allowed]
        results.sort(key=lambda e: (-e.score, e.person.family_name_key or "",
                                    e.person.given_name_key or "", e.person.id))
        results = results[:RESULTS]
        for entry in results:
            entry.score = round(min(entry.score, 100.0), 1)
            entry.band = _band(entry, kind, given, family)
        _open_cases(session, results)
        audit.record(session, actor=user, action="person.search", object_type="person",
                     object_id="search", kind=kind, results=len(results),
                     person_ids=[e.person.id for e in results])
    return results


def _band(entry: Found, kind: str, given: str | None, family: str | None) -> str:
    p = entry.person
    if kind in ("reference", "phone"):
        return "exact"
    if kind == "name":
        exact = p.family_name_key == family and (given is None or p.given_name_key == given)
        if exact:
            return "exact"
        return "likely" if entry.score >= 70 else "possible"
    return "exact" if entry.score >= 60 else "possible"


def _households(session: Session, found: dict[int, Found]) -> None:
    if not found:
        return
    rows = session.exec(
        select(HouseholdMember.person_id, Household.id, Household.postcode)
        .join(Household, Household.id == HouseholdMember.household_id)
        .where(HouseholdMember.person_id.in_(list(found)))
        .order_by(HouseholdMember.since.desc()))
    for person_id, household_id, postcode in rows:
        entry = found[person_id]
        entry.household_ids.append(household_id)
        entry.postcode = entry.postcode or postcode


def _open_cases(session: Session, results: list[Found]) -> None:
    by_household: dict[int, list[Found]] = {}
    for entry in results:
        for h in entry.household_ids:
            by_household.setdefault(h, []).append(entry)
    if not by_household:
        return
    cases = session.exec(select(Case).where(Case.household_id.in_(list(by_household)),
                                            Case.closed_at.is_(None)).order_by(Case.id))
    for case in cases:
        for entry in by_household[case.household_id]:
            entry.open_cases.append({"id": case.id, "service": case.service,
                                     "state": case.state})


def team_filter(user: User):
    service, instance = team_of(user)
    if service is None:
        return None
    if instance:
        return and_(Case.service == service, Case.instance == instance)
    return Case.service == service


def linked_people(session: Session, user: User, person_ids: list[int]) -> set[int]:
    """Of these people, those in a household with a case of the user's team."""
    where = team_filter(user)
    if where is None or not person_ids:
        return set()
    return set(session.exec(
        select(HouseholdMember.person_id).join(Case, Case.household_id ==
                                               HouseholdMember.household_id)
        .where(HouseholdMember.person_id.in_(person_ids), where).distinct()))


def linked_household(session: Session, user: User, household_id: int) -> bool:
    where = team_filter(user)
    if where is None:
        return False
    return session.exec(select(Case.id).where(Case.household_id == household_id, where)
                        .limit(1)).first() is not None


__all__ = ["Found", "jaro_winkler", "linked_household", "linked_people", "parse_date",
           "search"]
