"""JSON API blueprints under /api/v1, registered explicitly."""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    from triage.api import (
        audit,
        cases,
        merges,
        meta,
        notifications,
        oruk,
        oruk_capacity,
        people,
        privacy,
        referrals,
        reports,
    )

    app.register_blueprint(meta.health)
    app.register_blueprint(meta.bp, url_prefix="/api/v1")
    app.register_blueprint(referrals.bp, url_prefix="/api/v1")
    app.register_blueprint(cases.bp, url_prefix="/api/v1")
    app.register_blueprint(notifications.bp, url_prefix="/api/v1")
    app.register_blueprint(people.bp, url_prefix="/api/v1")
    app.register_blueprint(privacy.bp, url_prefix="/api/v1")
    app.register_blueprint(merges.bp, url_prefix="/api/v1")
    app.register_blueprint(audit.bp, url_prefix="/api/v1")
    app.register_blueprint(oruk_capacity.bp, url_prefix="/api/v1")
    app.register_blueprint(oruk.bp)
    app.register_blueprint(reports.bp, url_prefix="/api/v1")
