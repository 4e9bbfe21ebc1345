"""Health, the OpenAPI document and the published checklist (no sign-in needed)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from triage.api.auth import runtime
from triage.api.openapi import build_spec
from triage.schemas.checklist import ChecklistOutSchema

health = Blueprint("health", __name__)
bp = Blueprint("meta", __name__)


@health.get("/healthz")
def healthz():
    rt = runtime()
    try:
        with rt.db.reader() as session:
            session.exec(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok", "profile": rt.profile.id,
                    "ruleset": {"id": rt.ruleset.id, "version": rt.ruleset.version},
                    "tasks": "in-process" if rt.settings.in_process_tasks else "celery"})


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec(runtime()))


@bp.get("/checklist")
def checklist():
    return jsonify(ChecklistOutSchema().dump(runtime().profile.checklist))
