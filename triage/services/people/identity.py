"""Who each person on a referral is, beyond an exact match: the known people who may be them
(shown to staff before they submit), the worker's answer for each (the same person, or not),
kept as MatchDecision rows so a pair is never asked about again, and the "check who this is"
queue (MatchReview) for the people nobody has answered for (a partner's or the public's
referral is never linked on a guess).

One candidate lookup (people/candidates.py) per person not matched exactly; everything else
here works on what that lookup found."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from config.profile import Profile
from config.teams import Teams
from triage.errors import ValidationFailed
from triage.linkage import Record
from triage.models import Case, HouseholdMember, Person, User
from triage.models.base import utcnow
from triage.models.matching import MatchDecision, MatchReview
from triage.policy import CHECK_KNOWN_PEOPLE, may, sees_all_people
from triage.schemas.referral import PersonInput, ReferralInput
from triage.services import audit
from triage.services.people.candidates import Candidate, find_candidates
from triage.services.people.search import linked_people
from triage.services.privacy import visibility
from triage.statements import Row, new_rows

SHOWN = 5  # candidates kept per person: the best few are what a worker can weigh
SOURCES = ("intake", "review", "merge")

NOT_ALLOWED = ("Only staff recording a referral on the staff channel may say who its people "
               "are; leave identity out.")
BATCH_NOT_ALLOWED = ("A batch is recorded as new people and checked by the front door; "
                     "leave identity out.")


def pair(a: int, b: int) -> tuple[int, int]:
    """A pair of person ids as stored: lower id first."""
    if a == b:
        raise ValueError("A pair needs two different people.")
    return (a, b) if a < b else (b, a)


def may_decide(user: User | None, data: ReferralInput) -> bool:
    """Whether this referral is the staff journey, where the worker says who people are."""
    return user is not None and may(user, CHECK_KNOWN_PEOPLE) and data.channel == "staff"


def refuse_identity(user: User | None, data: ReferralInput, field: str = "identity") -> None:
    """422 naming `field` when a caller outside the staff journey says who people are."""
    if data.identity and not may_decide(user, data):
        raise ValidationFailed({field: [NOT_ALLOWED]})


def typed_record(person: PersonInput, postcode: str | None) -> Record:
    return Record(given_name=person.given_name, family_name=person.family_name,
                  date_of_birth=person.date_of_birth, postcode=postcode,
                  phone=person.contact.get("phone"), email=person.contact.get("email"))


def offered(session: Session, profile: Profile, data: ReferralInput,
            found: Sequence[Any]) -> dict[str, list[Candidate]]:
    """{person ref: the known people under this profile who may be them, best first} for
    every person on the referral not matched exactly; restricted people and those already
    matched exactly on this referral are left out."""
    matching = profile.matching
    if matching is None:
        return {}
    exact = {row.id for row in found if row is not None}
    restricted: frozenset[int] | None = None
    out: dict[str, list[Candidate]] = {}
    for person, known in zip(data.people, found, strict=True):
        if known is not None or not (person.family_name or person.given_name):
            continue
        candidates = find_candidates(session, typed_record(person, data.postcode), matching,
                                     profile_id=profile.id, exclude=exact)
        if not candidates:
            continue
        if restricted is None:
            # Everyone a restriction in force covers: never suggested, never queued.
            restricted = visibility.covered_people(session)
        kept = [c for c in candidates if c.person.id not in restricted][:SHOWN]
        if kept:
            out[person.ref] = kept
    return out


def visible_to(session: Session, user: User, candidates: dict[str, list[Candidate]],
               teams: Teams
               ) -> dict[str, list[Candidate]]:
    """The candidates this user may be told of: none a restriction hides from them, and for
    staff outside the front door only families their team works with (as search)."""
    ids = {c.person.id for found in candidates.values() for c in found}
    if not ids:
        return {}
    hidden = visibility.hidden_for(session, user).people
    if not sees_all_people(user):
        ours = linked_people(session, user, sorted(ids), teams)
        hidden = hidden | (ids - ours)
    out = {ref: [c for c in found if c.person.id not in hidden]
           for ref, found in candidates.items()}
    return {ref: found for ref, found in out.items() if found}


def person_row(person: Person) -> Row:
    """A known person as the exact match gives one (every column, no ORM state)."""
    return Row(**{column.name: getattr(person, column.name)
                  for column in Person.__table__.columns})


def resolve(data: ReferralInput, found: Sequence[Any],
            candidates: dict[str, list[Candidate]]) -> list[Any]:
    """`found` with each `same_as` person in place of a new record; 422 naming the field for
    a choice that is not one of the person's candidates this user may see."""
    refs = {p.ref: i for i, p in enumerate(data.people)}
    out = list(found)
    used = {row.id: p.ref for p, row in zip(data.people, found, strict=True) if row is not None}
    errors: dict[str, list[str]] = {}
    for ref, choice in data.identity.items():
        i = refs[ref]
        if found[i] is not None:
            errors[f"identity.{ref}"] = ["This person is already matched exactly to a known "
                                         "person; leave them out of identity."]
            continue
        offered_ids = {c.person.id: c for c in candidates.get(ref, [])}
        if "same_as" in choice:
            pid = choice["same_as"]
            if pid not in offered_ids:
                errors[f"identity.{ref}.same_as"] = [
                    "Not one of the known people who may be this person; check again for "
                    "known people."]
            elif pid in used:
                errors[f"identity.{ref}.same_as"] = [
                    f"That person is already on this referral as {used[pid]}."]
            else:
                out[i] = person_row(offered_ids[pid].person)
                used[pid] = ref
        else:
            stale = [pid for pid in choice["not_same_as"] if pid not in offered_ids]
            if stale:
                errors[f"identity.{ref}.not_same_as"] = [
                    "Not among the known people who may be this person: "
                    + ", ".join(str(pid) for pid in stale)
                    + ". Check again for known people."]
    if errors:
        raise ValidationFailed(errors)
    return out


def _open_cases(session: Session, person_ids: Collection[int]) -> dict[int, int]:
    if not person_ids:
        return {}
    return dict(session.exec(
        select(HouseholdMember.person_id, func.count(func.distinct(Case.id)))
        .join(Case, Case.household_id == HouseholdMember.household_id)
        .where(HouseholdMember.person_id.in_(list(person_ids)), Case.closed_at.is_(None))
        .group_by(HouseholdMember.person_id)).all())


def postcode_district(postcode: str | None) -> str | None:
    """The outward code only ("SW1A" of "SW1A 1AA"): enough to tell families apart."""
    if not postcode:
        return None
    return postcode.split()[0] if " " in postcode else postcode[:-3] or None


def shown(session: Session, candidates: dict[str, list[Candidate]]
          ) -> dict[str, list[dict[str, Any]]]:
    """Candidates as the preview gives them: who, their postcode district, band, score,
    the reasons in plain English and how many open cases their households have."""
    cases = _open_cases(session, {c.person.id for found in candidates.values()
                                  for c in found})
    return {ref: [{
        "person": {"id": c.person.id, "given_name": c.person.given_name,
                   "family_name": c.person.family_name,
                   "date_of_birth": c.person.date_of_birth.isoformat()},
        "postcode_district": postcode_district(c.postcode),
        "band": c.match.band, "score": round(c.match.score, 2),
        "reasons": c.match.reasons, "open_cases": cases.get(c.person.id, 0),
    } for c in found] for ref, found in candidates.items()}


def _insert(session: Session):
    name = session.get_bind().dialect.name
    return pg_insert if name == "postgresql" else sqlite_insert


def decide_pair(session: Session, a: int, b: int, *, same: bool, user: User | None,
                source: str, now: datetime | None = None) -> None:
    """Keep a person's answer for the pair (a, b) in the caller's transaction: one row per
    pair (lower id first); the same answer again changes nothing, a different one replaces
    it (who and when too). Audited with ids only."""
    if source not in SOURCES:
        raise ValueError(f"Unknown decision source {source!r}.")
    low, high = pair(a, b)
    values = {"same": same, "source": source, "decided_by_id": user.id if user else None,
              "decided_at": now or utcnow()}
    table = MatchDecision.__table__
    inserted = session.execute(
        _insert(session)(table).values(person_id=low, other_person_id=high, **values)
        .on_conflict_do_nothing(index_elements=["person_id", "other_person_id"])
        .returning(table.c.id)).first()
    if inserted is None:  # decided before
        changed = session.execute(update(table).where(
            table.c.person_id == low, table.c.other_person_id == high,
            table.c.same != same).values(**values))
        if changed.rowcount == 0:
            return
    audit.record(session, actor=user, action="person.match_decision", object_type="person",
                 object_id=low, other_person_id=high, same=same, source=source)


def decided_pairs(session: Session, person_ids: Collection[int]) -> set[tuple[int, int]]:
    """Every decided pair (lower id first) with one of these people in it."""
    if not person_ids:
        return set()
    ids = list(person_ids)
    return {(a, b) for a, b in session.exec(
        select(MatchDecision.person_id, MatchDecision.other_person_id).where(or_(
            MatchDecision.person_id.in_(ids), MatchDecision.other_person_id.in_(ids))))}


def queue_reviews(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Add pairs to the "check who this is" queue; a pair decided or already queued (from
    any source, even by a transaction committed meanwhile) is skipped, so the queue holds
    each pair once. Returns how many were added."""
    if not rows:
        return 0
    now = utcnow()
    rows = [{"created_at": now, **r} for r in rows]
    decided = decided_pairs(session, {r["person_id"] for r in rows})
    rows = [r for r in rows if (r["person_id"], r["other_person_id"]) not in decided]
    if not rows:
        return 0
    table = MatchReview.__table__
    added = session.execute(_insert(session)(table).values(rows)
                            .on_conflict_do_nothing(index_elements=["person_id",
                                                                    "other_person_id"])
                            .returning(table.c.id)).all()
    return len(added)


def review_row(new_id: int, candidate: Candidate, *, referral_id: int | None,
               now: datetime) -> dict[str, Any]:
    low, high = pair(new_id, candidate.person.id)
    return {"person_id": low, "other_person_id": high, "referral_id": referral_id,
            "source": "intake", "score": round(candidate.match.score, 4),
            "band": candidate.match.band,
            "comparisons": [{"field": c.field, "level": c.level, "weight": round(c.weight, 4),
                             "reason": c.reason} for c in candidate.match.comparisons],
            "status": "open", "created_at": now}


def record_choices(session: Session, *, user: User | None, data: ReferralInput,
                   people: Sequence[Any], known_before: Sequence[bool],
                   candidates: dict[str, list[Candidate]], referral_id: int,
                   now: datetime) -> None:
    """After recording: keep the worker's answers (a `not_same_as` pairs the new record with
    each candidate named; a `same_as` is the link itself, audited) and queue every other
    candidate of a new record for the front door to check."""
    queued: list[dict[str, Any]] = []
    for person_in, person, known in zip(data.people, people, known_before, strict=True):
        choice = data.identity.get(person_in.ref, {})
        if "same_as" in choice:
            audit.record(session, actor=user, action="person.identity_confirmed",
                         object_type="person", object_id=person.id, referral_id=referral_id,
                         source="intake")
            continue
        if known:
            continue
        not_same = set(choice.get("not_same_as", ()))
        for pid in sorted(not_same):
            decide_pair(session, person.id, pid, same=False, user=user, source="intake",
                        now=now)
        queued += [review_row(person.id, c, referral_id=referral_id, now=now)
                   for c in candidates.get(person_in.ref, []) if c.person.id not in not_same]
    # Every pair has a record made just now, so none can be decided or queued already (but
    # for the answers above, left out): the plain insert, which on PostgreSQL goes in with
    # the referral's other rows, not queue_reviews' check and ON CONFLICT.
    new_rows(session, MatchReview, queued, ids=False)


def open_reviews_of(session: Session, person_ids: Collection[int]) -> list[MatchReview]:
    """Open queue rows with one of these people in them, oldest first."""
    if not person_ids:
        return []
    ids = list(person_ids)
    return list(session.exec(select(MatchReview).where(
        MatchReview.status == "open",
        or_(MatchReview.person_id.in_(ids), MatchReview.other_person_id.in_(ids)))
        .order_by(MatchReview.created_at, MatchReview.id)))


def is_decided(session: Session, a: int, b: int) -> bool:
    low, high = pair(a, b)
    return session.exec(select(MatchDecision.id).where(and_(
        MatchDecision.person_id == low, MatchDecision.other_person_id == high))).first() \
        is not None


__all__ = ["BATCH_NOT_ALLOWED", "NOT_ALLOWED", "SHOWN", "decide_pair", "decided_pairs",
           "is_decided", "may_decide", "offered", "open_reviews_of", "pair", "person_row",
           "queue_reviews", "record_choices", "refuse_identity", "resolve",
           "shown", "typed_record", "visible_to"]
