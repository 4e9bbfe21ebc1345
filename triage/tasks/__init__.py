"""Thin, named, idempotent Celery tasks over the same services the API calls (ids only)."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

# notify, linked_referrals and resets register outbox handlers when imported.
from triage.services.accounts import resets  # noqa: F401
from triage.services.cases import escalation
from triage.services.notices import mail, notify, outbox  # noqa: F401
from triage.services.people import duplicates
from triage.services.privacy import retention
from triage.services.referrals import drafts, linked_referrals  # noqa: F401
from triage.services.reports.refresh import refresh_job

log = logging.getLogger(__name__)


def _runtime():
    return current_app.extensions["triage"]


@shared_task(name="triage.outbox.deliver", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver(outbox_id: int) -> str:
    """Run one outbox message. A failure is recorded and the periodic sweep re-sends it.

    The exception is not re-raised: Celery would log its text, and an exception's text can
    carry SQL parameters (personal data). The outbox row keeps the error type and attempts."""
    rt = _runtime()
    try:
        return outbox.deliver(rt, int(outbox_id))
    except Exception as exc:  # noqa: BLE001 - recorded; the sweep retries with back-off
        log.warning("outbox.failed", extra={"outbox_id": int(outbox_id),
                                            "error": type(exc).__name__})
        outbox.record_failure(rt, int(outbox_id), exc)
        return "failed"


@shared_task(name="triage.outbox.sweep", ignore_result=True)
def sweep() -> int:
    """Re-send whatever is pending or stuck; safe to run twice."""
    return _runtime().relay.sweep()


@shared_task(name="triage.cases.escalate", ignore_result=True)
def escalate() -> int:
    """Mark overdue cases and tell their managers; safe to run twice (a periodic sweep)."""
    return escalation.escalate_overdue(_runtime())


@shared_task(name="triage.notifications.email", ignore_result=True)
def email() -> int:
    """Email notifications left unsent (server down, sender killed); nothing without SMTP."""
    return mail.send_pending(_runtime())


@shared_task(name="triage.drafts.purge", ignore_result=True)
def purge_drafts() -> int:
    """Delete self-referral drafts past their lifetime; safe to run twice."""
    return drafts.purge_expired(_runtime())


@shared_task(name="triage.retention.report", ignore_result=True)
def retention_report() -> int | None:
    """Report what the retention schedule finds due (erases nothing); safe to run twice."""
    return retention.report_due(_runtime())


@shared_task(name="triage.people.find_duplicates", ignore_result=True)
def find_duplicates() -> dict[str, int]:
    """Queue likely duplicate people for staff to check (nightly); safe to run twice."""
    return duplicates.find_duplicates(_runtime()).counts()


@shared_task(name="triage.reports.refresh", ignore_result=True)
def refresh_reports() -> int:
    """Count the report tallies again from the records; safe to run twice."""
    return refresh_job(_runtime())
