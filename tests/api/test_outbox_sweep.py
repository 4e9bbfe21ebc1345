"""The sweep re-sends what is stuck, once per stuck period, not on every tick."""

from __future__ import annotations

from datetime import timedelta

from triage.models import OutboxMessage, OutboxStatus
from triage.models.base import utcnow
from triage.services.notices import outbox


def _stuck_message(rt) -> int:
    with rt.db.unit_of_work() as session:
        message = outbox.enqueue(session, topic="referral.received", payload={"referral_id": 0})
    long_ago = utcnow() - timedelta(seconds=rt.settings.outbox_stuck_after_seconds + 60)
    with rt.db.unit_of_work() as session:
        row = session.get(OutboxMessage, message.id)
        row.status, row.dispatched_at, row.created_at = OutboxStatus.dispatched, long_ago, long_ago
    return message.id


def test_a_stuck_message_is_due_again_only_after_another_stuck_period(rt):
    message_id = _stuck_message(rt)
    assert outbox.due_for_sweep(rt) == [message_id]
    outbox.mark_dispatched(rt, [message_id])  # what the Celery relay does when it re-sends
    assert outbox.due_for_sweep(rt) == []
    with rt.db.reader() as session:
        row = session.get(OutboxMessage, message_id)
    assert row.status == OutboxStatus.dispatched
    assert row.dispatched_at > utcnow() - timedelta(seconds=30)


def test_marking_never_reopens_a_delivered_message(rt):
    message_id = _stuck_message(rt)
    with rt.db.unit_of_work() as session:
        session.get(OutboxMessage, message_id).status = OutboxStatus.done
    outbox.mark_dispatched(rt, [message_id])
    with rt.db.reader() as session:
        assert session.get(OutboxMessage, message_id).status == OutboxStatus.done
