"""The Flask service: create_app() builds it from Settings; nothing is built at import."""

from __future__ import annotations

import logging

from flask import Flask

from config.profile import load_profile
from config.settings import Settings, daily_time


def create_app(settings: Settings | None = None, *, background: bool = True,
               synchronous_tasks: bool = False) -> Flask:
    """Build the app: settings, database, council policy, Celery, relay, blueprints.

    `background=False` starts no timer thread (tests, CLI); `synchronous_tasks=True` runs
    in-process outbox messages before the request returns (tests).
    """
    import rules
    import workflows
    from triage import boundary, errors_http, logs, urls
    from triage.api import register_api
    from triage.db import Database
    from triage.extensions import (
        DRAFT_PURGE_SECONDS,
        REPORTS_REFRESH_SECONDS,
        RETENTION_REPORT_SECONDS,
        celery_init_app,
    )
    from triage.json_wire import IsoDatesJSONProvider
    from triage.relay import CeleryRelay, Every, InProcessRelay, Nightly
    from triage.runtime import Runtime
    from triage.services.cases.escalation import escalate_overdue
    from triage.services.notices.mail import send_pending
    from triage.services.people.duplicates import find_duplicates
    from triage.services.privacy.retention import report_due
    from triage.services.referrals.drafts import purge_expired
    from triage.services.reports.refresh import refresh_job
    from triage.web import register_web

    settings = (settings or Settings.from_env()).validated()
    if settings.env != "production":
        settings = settings.with_secret()
    logs.configure(settings.log_level)

    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        TESTING=settings.env == "test",
    )
    # Responses keep the schemas' field order (reference first), as the API docs show them.
    # (Flask 3 ignores the old JSON_SORT_KEYS setting; this is where it lives now.)
    app.json = IsoDatesJSONProvider(app)
    urls.init_app(app)  # before any blueprint adds a route with an id in it
    profile = load_profile(settings.profile)
    rt = Runtime(settings=settings, db=Database.from_settings(settings), profile=profile)
    rt.ruleset = rules.load(profile)
    rt.pathways = workflows.load_pathways(profile)
    celery = celery_init_app(app, settings)
    if settings.in_process_tasks:
        rt.relay = InProcessRelay(rt, synchronous=synchronous_tasks)
        # The embedded mode's timers; Celery beat runs the same sweeps in production.
        rt.relay.periodic.extend([Every(settings.escalation_sweep_seconds, escalate_overdue),
                                  Every(settings.outbox_sweep_seconds, send_pending),
                                  Every(DRAFT_PURGE_SECONDS, purge_expired),
                                  Every(RETENTION_REPORT_SECONDS, report_due),
                                  Every(REPORTS_REFRESH_SECONDS, refresh_job),
                                  Nightly(daily_time(settings.duplicate_finder_at),
                                          find_duplicates)])
    else:
        rt.relay = CeleryRelay(rt, celery)
    app.extensions["triage"] = rt

    import triage.tasks  # noqa: F401  (registers tasks and outbox handlers)

    register_api(app)
    register_web(app)
    boundary.init_app(app)
    errors_http.register(app)
    if background:
        rt.relay.start()
    logging.getLogger(__name__).info("app.started", extra={
        "profile": profile.id, "ruleset_version": rt.ruleset.version})
    return app
