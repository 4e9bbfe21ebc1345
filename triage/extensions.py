"""Extensions bound to the app in the factory: the Celery app, built from settings."""

from __future__ import annotations

from datetime import timedelta

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask

from config.settings import Settings, daily_time

DRAFT_PURGE_SECONDS = 600  # expired self-referral drafts are deleted at least this often
# The retention schedule reports what is due this often (nothing changes until an admin
# confirms a report, so a daily report is soon enough for the month UK GDPR allows).
RETENTION_REPORT_SECONDS = 6 * 3600
# Report tallies are counted again this often (triage.services.reports.refresh); every report
# shows when they were last counted.
REPORTS_REFRESH_SECONDS = 3600


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    """One Celery app per Flask app. Without Redis, tasks run eagerly in this process."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=settings.redis_url or "memory://",
        task_always_eager=settings.in_process_tasks,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        # A task is acknowledged only once it has run; a worker that dies mid-task leaves the
        # message to be redelivered, and the outbox makes the re-run a no-op when it had finished.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A Redis restart can surface as a channel error (a reply during loading, a reset
        # pipeline), not only a connection error: the worker reconnects instead of exiting.
        broker_channel_error_retry=True,
        broker_transport_options={
            "visibility_timeout": 3600,
            "socket_connect_timeout": 3,
            "socket_timeout": 5,
            "max_retries": 1,
        },
        task_publish_retry=False,
        # Keep the service's JSON log handler (no personal data) in the worker too.
        worker_hijack_root_logger=False,
        imports=("triage.tasks",),
        beat_schedule={
            "outbox-sweep": {
                "task": "triage.outbox.sweep",
                "schedule": timedelta(seconds=settings.outbox_sweep_seconds),
            },
            # Timers are sweeps over the database, never countdown/ETA tasks in Redis.
            "cases-escalate": {
                "task": "triage.cases.escalate",
                "schedule": timedelta(seconds=settings.escalation_sweep_seconds),
            },
            "notifications-email": {
                "task": "triage.notifications.email",
                "schedule": timedelta(seconds=settings.outbox_sweep_seconds),
            },
            "drafts-purge": {
                "task": "triage.drafts.purge",
                "schedule": timedelta(seconds=DRAFT_PURGE_SECONDS),
            },
            "retention-report": {
                "task": "triage.retention.report",
                "schedule": timedelta(seconds=RETENTION_REPORT_SECONDS),
            },
            "reports-refresh": {
                "task": "triage.reports.refresh",
                "schedule": timedelta(seconds=REPORTS_REFRESH_SECONDS),
            },
            # Nightly, when the service is quiet: it reads every person (see duplicates.py).
            "people-find-duplicates": {
                "task": "triage.people.find_duplicates",
                "schedule": _nightly(settings.duplicate_finder_at),
            },
        },
    )
    from celery.signals import setup_logging

    # A receiver on setup_logging stops Celery configuring logging; create_app already did.
    setup_logging.connect(_keep_service_logging, weak=False)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def _nightly(at: str) -> crontab:
    hour, minute = daily_time(at) or (2, 30)
    return crontab(hour=hour, minute=minute)


def _keep_service_logging(**_kwargs) -> None:
    """Celery's logging stays on the service's handlers (see triage.logs)."""
