"""Thin, named, idempotent Celery tasks over the same services the API calls (ids only)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from triage.services import notify, outbox  # noqa: F401  (notify registers outbox handlers)


def _runtime():
    return current_app.extensions["triage"]


@shared_task(name="triage.outbox.deliver", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver(outbox_id: int) -> str:
    """Run one outbox message. A failure is recorded and the periodic sweep re-sends it."""
    rt = _runtime()
    try:
        return outbox.deliver(rt, int(outbox_id))
    except Exception as exc:
        outbox.record_failure(rt, int(outbox_id), exc)
        raise


@shared_task(name="triage.outbox.sweep", ignore_result=True)
def sweep() -> int:
    """Re-send whatever is pending or stuck; safe to run twice."""
    return _runtime().relay.sweep()
