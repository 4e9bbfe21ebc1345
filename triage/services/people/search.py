"""Finding people: one query text (a name, date of birth, postcode, reference or phone), each
candidate found through an index and bounded, then scored against what was typed by the record
linkage scorer (triage/linkage/, the profile's matching.yaml); every search audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, select

from config.matching import MatchingProfile
from config.profile import parse_postcode
from config.teams import Teams
from triage.errors import ValidationFailed
from triage.linkage import Match, Record, score
from triage.models import Case, Household, HouseholdMember, Person, Referral, ReferralPerson, User
from triage.policy import SEARCH_PEOPLE, require, sees_all_people, team_of
from triage.runtime import Runtime
from triage.schemas.contact import uk_phone_key
from triage.services import audit
from triage.services.people.candidates import CANDIDATES, by_name, people_where
from triage.services.people.keys import phone_hash
from triage.services.people.names import name_key
from triage.services.privacy import visibility

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
    band: str | None = "possible"


def parse_date(text: str | None) -> date | None:
    """A date of birth typed as 2015-05-31, 31/05/2015, 31-05-2015 or 31.05.2015."""
    text = (text or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


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
    """(given, family) as typed: the last words are the family name unless there is a comma
    ('Johnson, Priya'); a hyphen or spaces inside a family name fold away in its key."""
    if "," in q:
        family, _, given = q.partition(",")
        return given.strip() or None, family.strip() or None
    words = q.split()
    if len(words) == 1:
        return None, words[0]
    return words[0], " ".join(words[1:])


def _typed(kind: str, q: str, given: str | None, family: str | None, dob, postcode
           ) -> list[Record]:
    """What was typed, as records to score each candidate against; one word may be either
    name ("Johnson" or "Priya"), so it is tried as both and the better reading counts."""
    if kind == "name" and given is None:
        return [Record(family_name=family, date_of_birth=dob, postcode=postcode),
                Record(given_name=family, date_of_birth=dob, postcode=postcode)]
    if kind == "name":
        return [Record(given_name=given, family_name=family, date_of_birth=dob,
                       postcode=postcode)]
    return [Record(phone=q if kind == "phone" else None, date_of_birth=dob, postcode=postcode)]


def _best(typed: list[Record], entry: Found, matching: MatchingProfile) -> Match:
    p = entry.person
    known = Record(given_name=p.given_name, family_name=p.family_name,
                   date_of_birth=p.date_of_birth, postcode=entry.postcode,
                   phone=p.phone_key or p.phone, email=p.email)
    return max((score(t, known, matching) for t in typed), key=lambda m: m.score)


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

        def add(people) -> None:
            for p in people:
                found.setdefault(p.id, Found(p))

        if q and _REFERENCE.match(q):
            kind = "reference"
            reference = q.upper()
            add(session.exec(
                select(Person).join(ReferralPerson, ReferralPerson.person_id == Person.id)
                .join(Referral, Referral.id == ReferralPerson.referral_id)
                .where(Referral.reference == reference).limit(CANDIDATES)))
        elif q and uk_phone_key(q):
            kind = "phone"
            add(people_where(session, Person.phone_hash == phone_hash(q)))
        elif q and parse_date(q):
            kind = "date_of_birth"
            dob = dob or parse_date(q)
        elif q and parse_postcode(q):
            kind = "postcode"
            postcode = postcode or parse_postcode(q)[0]
        elif q:
            kind = "name"
            given, family = _name_parts(q)
            if not name_key(family):
                raise ValidationFailed({"q": ["Give a name, date of birth, postcode, "
                                              "reference or phone number."]})
            add(by_name(session, given, family).values())
        if not found and kind in ("filters", "date_of_birth", "postcode"):
            if dob:
                add(people_where(session, Person.date_of_birth == dob))
            elif postcode:
                add(session.exec(
                    select(Person).join(HouseholdMember, HouseholdMember.person_id == Person.id)
                    .join(Household, Household.id == HouseholdMember.household_id)
                    .where(Household.postcode == postcode).limit(CANDIDATES)))
        # Only who the caller may see is read further and scored: restricted people never,
        # and outside the front door only families the caller's team works with.
        hidden = visibility.hidden_for(session, user)
        ids = [pid for pid in found if pid not in hidden.people
               and found[pid].person.merged_into_id is None]
        if not sees_all_people(user):
            allowed = linked_people(session, user, ids, rt.profile.teams)
            ids = [pid for pid in ids if pid in allowed]
        found = {pid: found[pid] for pid in ids}
        _households(session, found)
        matching = rt.profile.matching
        typed = _typed(kind, q, given, family, dob, postcode)
        for entry in found.values():
            if kind == "reference":
                # Named on the referral typed: as sure as an exact match, with nothing to weigh.
                entry.score, entry.band = matching.bands["exact"], "exact"
                entry.reasons = [f"named on {reference}"]
                continue
            match = _best(typed, entry, matching)
            entry.score, entry.band, entry.reasons = match.score, match.band, match.reasons
        results = [e for e in found.values() if e.band is not None]
        results.sort(key=lambda e: (-e.score, e.person.family_name_key or "",
                                    e.person.given_name_key or "", e.person.id))
        results = results[:RESULTS]
        for entry in results:
            entry.score = round(entry.score, 1)
        _open_cases(session, results)
        audit.record(session, actor=user, action="person.search", object_type="person",
                     object_id="search", kind=kind, results=len(results),
                     person_ids=[e.person.id for e in results])
    return results


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


def team_filter(user: User, teams: Teams):
    """The cases of the user's team (a service, an instance, or several instances: one IN
    on the indexed instance column); None without a team that works cases."""
    team = team_of(user, teams)
    if team is None or team.service is None:
        return None
    if team.instance_filter is None:
        return Case.service == team.service
    if len(team.instance_filter) == 1:
        return and_(Case.service == team.service, Case.instance == team.instance_filter[0])
    return and_(Case.service == team.service, Case.instance.in_(team.instance_filter))


def linked_people(session: Session, user: User, person_ids: list[int], teams: Teams
                  ) -> set[int]:
    """Of these people, those in a household with a case of the user's team."""
    where = team_filter(user, teams)
    if where is None or not person_ids:
        return set()
    return set(session.exec(
        select(HouseholdMember.person_id).join(Case, Case.household_id ==
                                               HouseholdMember.household_id)
        .where(HouseholdMember.person_id.in_(person_ids), where).distinct()))


def linked_household(session: Session, user: User, household_id: int, teams: Teams) -> bool:
    where = team_filter(user, teams)
    if where is None:
        return False
    return session.exec(select(Case.id).where(Case.household_id == household_id, where)
                        .limit(1)).first() is not None


__all__ = ["Found", "linked_household", "linked_people", "parse_date",
           "search"]
