"""The demo a newcomer explores: accounts listed, months of history, cases along their pathways."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from triage.demo import demo_data, load_demo
from triage.models import Case, CaseEvent, HouseholdMember, Person, Referral
from triage.models.base import utcnow


def test_demo_lists_every_account_and_loads_history_once(rt):
    summary = load_demo(rt, referrals=120)
    for spec in demo_data(rt.profile).users:
        assert spec.email in summary
    assert "Charnwood Early Help Hub" in summary  # team names, not slugs
    assert "early_help_hub:" not in summary

    with rt.db.reader() as session:
        received = session.exec(select(Referral.received_at)).all()
        closed = session.exec(select(func.count()).select_from(Case)
                              .where(Case.closed_at.is_not(None))).one()
        overdue = session.exec(select(func.count()).select_from(Case)
                               .where(Case.closed_at.is_(None),
                                      Case.overdue_since.is_not(None))).one()
        moved = session.exec(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.from_state.is_not(None))).one()
        referred_twice = session.exec(
            select(Referral.household_id).where(Referral.household_id.is_not(None))
            .group_by(Referral.household_id).having(func.count() > 1)).all()
        events_before_received = session.exec(
            select(func.count()).select_from(CaseEvent).join(Case).join(Referral)
            .where(CaseEvent.at < Referral.received_at)).one()
        memberships = session.exec(select(func.count()).select_from(HouseholdMember)).one()
        with_worker = session.exec(select(func.count()).select_from(Case)
                                   .where(Case.worker_id.is_not(None))).one()
        not_safe = session.exec(select(func.count()).select_from(Person)
                                .where(Person.safe_to_contact.is_(False))).one()
    now = utcnow()
    assert len(received) == 120
    # spread over the last months, not all today
    assert min(received) < now - timedelta(days=60)
    assert sum(r > now - timedelta(days=7) for r in received) < 30
    assert closed > 0 and overdue > 0 and moved > 0
    assert referred_twice, "some families are referred twice"
    assert events_before_received == 0
    assert memberships > 0
    assert with_worker > 0 and not_safe > 0
    assert "0 refused by validation" in summary

    again = load_demo(rt, referrals=120)
    assert "0 new" in again
    with rt.db.reader() as session:
        assert session.exec(select(func.count()).select_from(Referral)).one() == 120
