"""A small, hand-counted world for report tests: five referrals in January to March 2026 (and
one in December 2025, outside the period), their decisions, cases and case histories, written
straight into the tables so that every moment is known. The expected figures are worked out
by hand in tests/api/test_reports.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from triage.models import (
    Case,
    CaseEvent,
    Decision,
    Household,
    HouseholdMember,
    Person,
    Referral,
    ReferralPerson,
)

NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
SLF_TEAM = "supporting_leicestershire_families:north-west"


def at(month: int, day: int, hour: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def _referral(session, *, received: datetime, channel: str, household: Household,
              status: str, organisation: str | None = None, answers: dict | None = None,
              **more: Any) -> Referral:
    r = Referral(received_at=received, profile_id="leicestershire", checklist_id="eha",
                 checklist_version="1", channel=channel, referrer_organisation=organisation,
                 postcode=household.postcode, household_id=household.id, consent="given",
                 status=status, answers=answers or {}, raw_body={}, **more)
    session.add(r)
    session.flush()
    r.reference = f"EH-{received.year}-{r.id:06d}"
    return r


def _decision(session, referral: Referral, level: str, decided: datetime,
              kind: str = "engine") -> None:
    session.add(Decision(referral_id=referral.id, kind=kind, level=int(level[0]),
                         level_code=level, body={}, inputs={}, ruleset_id="leicestershire",
                         ruleset_version="test", decided_at=decided, current=True))


def _subject(session, referral: Referral, person: Person) -> None:
    session.add(ReferralPerson(referral_id=referral.id, ref="p1", person_id=person.id,
                               role="subject"))


def _case(session, referral: Referral, household: Household, service: str, instance: str,
          opened: datetime, moves: list[tuple], *, state: str, closed: datetime | None = None,
          outcome: str | None = None, worker_id: int | None = None,
          next_due: datetime | None = None) -> Case:
    c = Case(referral_id=referral.id, household_id=household.id, service=service,
             instance=instance, state=state, opened_at=opened, closed_at=closed,
             outcome=outcome, worker_id=worker_id, next_due_at=next_due)
    session.add(c)
    session.flush()
    session.add(CaseEvent(case_id=c.id, from_state=None, to_state=_initial(service),
                          event="open", by_label="system", at=opened))
    for event, to_state, when, *extra in moves:
        reason = extra[0] if extra else None
        payload = extra[1] if len(extra) > 1 else {}
        session.add(CaseEvent(case_id=c.id, from_state="x", to_state=to_state, event=event,
                              by_label="worker@test", at=when, reason=reason,
                              payload=payload))
    return c


def _initial(service: str) -> str:
    return "sent" if service in ("first_response", "adult_social_care") else "requested"


def build(rt, *, worker_id: int, health_question: str) -> dict[str, int]:
    """Write the world; returns the ids tests need."""
    with rt.db.unit_of_work() as s:
        h1 = Household(postcode="LE11 1AA", sector="LE11 1", district="charnwood",
                       profile_id=rt.profile.id)
        h2 = Household(postcode="LE13 0AB", sector="LE13 0", district="melton",
                       profile_id=rt.profile.id)
        s.add_all([h1, h2])
        s.flush()
        p1 = Person(given_name="Amy", family_name="Ash", date_of_birth=date(2015, 5, 1),
                    sex="female", ethnicity="white_british", profile_id=rt.profile.id)
        p2 = Person(given_name="Bob", family_name="Birch", date_of_birth=date(1950, 1, 1),
                    sex="male", profile_id=rt.profile.id)
        p3 = Person(given_name="Cal", family_name="Cedar", date_of_birth=date(2010, 6, 1),
                    sex="not_stated", profile_id=rt.profile.id)
        s.add_all([p1, p2, p3])
        s.flush()
        s.add_all([HouseholdMember(household_id=h1.id, person_id=p1.id),
                   HouseholdMember(household_id=h2.id, person_id=p2.id),
                   HouseholdMember(household_id=h1.id, person_id=p3.id)])

        # R0: December 2025, outside the period asked for.
        r0 = _referral(s, received=at(12, 20, year=2025), channel="staff", household=h2,
                       status="routed")
        _decision(s, r0, "2", r0.received_at)
        _subject(s, r0, p2)
        # R1: a partner's referral, decided at once, two First Contact Plus cases.
        r1 = _referral(s, received=at(1, 6), channel="partner", household=h1,
                       status="routed", organisation="Fire and Rescue Service",
                       answers={health_question: True})
        _decision(s, r1, "2", r1.received_at)
        _subject(s, r1, p1)
        _case(s, r1, h1, "first_contact_plus", "countywide", at(1, 6), [
            ("contact", "contacted", at(1, 8)),
            ("record_connections", "connections_made", at(1, 10), None, {"connections": [
                {"organisation": "Age UK", "need": "loneliness"},
                {"organisation": "Citizens Advice", "need": "debt"}]}),
            ("close", "completed", at(1, 20), None, {"outcome": "needs_met"})],
            state="completed", closed=at(1, 20), outcome="needs_met")
        _case(s, r1, h1, "first_contact_plus", "countywide", at(3, 25), [],
              state="requested")
        # R2: staff, needed review, decided on Monday 19 January (due Friday 16th: late);
        # a re-referral; an open family support case with a plan and a review.
        r2 = _referral(s, received=at(1, 15, 9), channel="staff", household=h2,
                       status="routed", re_referral_of_case_id=r0.id)
        _decision(s, r2, "3", at(1, 19, 11), kind="override")
        _subject(s, r2, p2)
        _case(s, r2, h2, "supporting_leicestershire_families", "north-west", at(1, 19, 11), [
            ("accept", "accepted", at(1, 20)),
            ("start_assessment", "assessment", at(1, 27)),
            ("agree_plan", "plan", at(2, 10)),
            ("review", "reviewing", at(3, 1))],
            state="reviewing", worker_id=worker_id, next_due=at(4, 1))
        # R3: a self-referral closed at the front door with advice, two hours later.
        r3 = _referral(s, received=at(2, 3), channel="self", household=h1, status="closed",
                       closure="advice_given", closed_at=at(2, 3, 12))
        _decision(s, r3, "1", r3.received_at)
        _subject(s, r3, p3)
        # R4: the police; statutory, stepped down; the hub declined its case.
        r4 = _referral(s, received=at(3, 2), channel="partner", household=h1,
                       status="routed", organisation="Police")
        _decision(s, r4, "4", r4.received_at)
        _subject(s, r4, p1)
        _case(s, r4, h1, "first_response", "countywide", at(3, 2), [
            ("acknowledge", "acknowledged", at(3, 2, 15)),
            ("step_down", "no_further_action", at(3, 3), "below threshold")],
            state="no_further_action", closed=at(3, 3), outcome="stepped_down")
        _case(s, r4, h1, "early_help_hub", "charnwood-hub", at(3, 2), [
            ("decline", "rejected", at(3, 4), "not_eligible")],
            state="rejected", closed=at(3, 4), outcome="declined_by_service")
        # R5: received, not decided yet.
        r5 = _referral(s, received=at(3, 20), channel="staff", household=h2,
                       status="received")
        _subject(s, r5, p2)
    return {"worker": worker_id}
