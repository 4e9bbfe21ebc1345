"""Escalation: overdue cases are marked and their team's managers told once per deadline; the
sweep is a periodic scan of the database that can run any number of times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from tests.api.cases_helpers import fire, open_case, team
from triage.models import AuditEvent, Case, CaseEvent, Notification, OutboxMessage
from triage.models.base import utcnow
from triage.services.cases.escalation import escalate_overdue

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def snapshot(rt) -> tuple:
    """Everything an escalation can change."""
    with rt.db.reader() as session:
        cases = [tuple(getattr(c, k) for k in ("id", "state", "version", "next_due_at",
                                              "overdue_since", "escalated_at",
                                              "escalation_due_at"))
                 for c in session.exec(select(Case).order_by(Case.id)).all()]
        counts = tuple(session.exec(select(func.count()).select_from(m)).one()
                       for m in (Notification, OutboxMessage, AuditEvent))
    return cases, counts


def escalations_for(rt, recipient: str) -> list[Notification]:
    with rt.db.reader() as session:
        return session.exec(select(Notification).where(
            Notification.kind == "case.escalated", Notification.recipient == recipient)).all()


@both_databases
def test_an_overdue_case_is_marked_and_its_managers_told_once_however_often_the_sweep_runs(
        client, auth, referral_body, rt, make_user):
    _, case_id = open_case(client, auth("partner"), referral_body, "local_area_coordination")
    theirs, _ = make_user("manager", team="local_area_coordination")
    other, _ = make_user("manager", team="first_contact_plus")
    assert escalate_overdue(rt) == 0, "not overdue yet"
    later = utcnow() + timedelta(days=30)
    assert escalate_overdue(rt, now=later) == 1
    with rt.db.reader() as session:
        case = session.get(Case, case_id)
    assert case.escalated_at == later and case.overdue_since == case.next_due_at
    assert case.escalation_due_at is None and case.version == 1, "escalation moves no state"
    (told,) = escalations_for(rt, f"user:{theirs.id}")
    assert "Introduction was due" in told.body and told.email == theirs.email
    assert escalations_for(rt, f"user:{other.id}") == []

    before = snapshot(rt)
    assert escalate_overdue(rt, now=later) == 0
    assert escalate_overdue(rt, now=later + timedelta(days=5)) == 0
    assert snapshot(rt) == before

    shown = client.get(f"/api/v1/cases/{case_id}", headers=auth("manager")).json
    assert shown["due"]["escalated_at"] is not None and shown["due"]["overdue_since"]
    worker = auth("practitioner", team=team("local_area_coordination"))
    introduced = fire(client, worker, case_id, "introduce").json
    assert introduced["due"]["next_due_at"] is None and introduced["due"]["overdue"] is False
    assert introduced["due"]["overdue_since"] is None


def test_an_event_on_a_case_still_overdue_does_not_escalate_the_same_deadline_again(
        client, auth, referral_body, rt, make_user):
    _, case_id = open_case(client, auth("partner"), referral_body, "early_help_hub")
    manager, _ = make_user("manager")  # no team: a county-wide manager
    later = utcnow() + timedelta(days=70)  # past the next hub meeting
    assert escalate_overdue(rt, now=later) == 1
    hub = auth("hub_coordinator", team=team("early_help_hub"))
    fire(client, hub, case_id, "add_to_agenda")
    fire(client, hub, case_id, "hold", reason="Family asked to wait")
    assert escalate_overdue(rt, now=later + timedelta(days=1)) == 0
    assert len(escalations_for(rt, f"user:{manager.id}")) == 1


@both_databases
def test_each_new_deadline_escalates_once(client, auth, referral_body, rt, make_user):
    _, case_id = open_case(client, auth("partner"), referral_body,
                           "supporting_leicestershire_families")
    assert escalate_overdue(rt, now=utcnow() + timedelta(days=10)) == 1  # accept within 5 days
    worker = auth("practitioner", team="supporting_leicestershire_families")
    fire(client, worker, case_id, "accept")
    with rt.db.reader() as session:
        plan_due = session.get(Case, case_id).escalation_due_at
    assert plan_due is not None, "the family plan (20 working days) escalates next"
    assert escalate_overdue(rt, now=plan_due - timedelta(seconds=1)) == 0
    assert escalate_overdue(rt, now=plan_due) == 1
    assert escalate_overdue(rt, now=plan_due + timedelta(days=1)) == 0
    told = escalations_for(rt, "managers")  # nobody manages this team: the managers' inbox
    assert [("Accept or decline" in n.body, "Family plan" in n.body) for n in told] == [
        (True, False), (False, True)]
    assert client.get("/api/v1/notifications", headers=auth("manager")).json[
        "notifications"][0]["kind"] == "case.escalated"


def test_the_embedded_timer_runs_the_sweep_and_beat_schedules_it(
        client, auth, referral_body, rt, app):
    _, case_id = open_case(client, auth("partner"), referral_body, "first_contact_plus")
    opened = utcnow() - timedelta(days=40)  # as if opened long ago
    with rt.db.unit_of_work() as session:
        session.execute(update(CaseEvent).where(CaseEvent.case_id == case_id).values(at=opened))
        session.execute(update(Case).where(Case.id == case_id).values(
            opened_at=opened, next_due_at=opened, escalation_due_at=opened))
    rt.relay.tick()
    with rt.db.reader() as session:
        assert session.get(Case, case_id).escalated_at is not None
    schedule = app.extensions["celery"].conf.beat_schedule
    assert {e["task"] for e in schedule.values()} >= {"triage.cases.escalate",
                                                      "triage.notifications.email"}
    assert "triage.cases.escalate" in app.extensions["celery"].tasks
