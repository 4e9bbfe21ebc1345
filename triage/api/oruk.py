"""The Open Referral UK 3.0 feed under /oruk/: public, read-only, open to any site (CORS *).
What it publishes is the profile's public directory data and the partners' imported services;
see triage.services.directory."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from triage.api.auth import runtime
from triage.api.openapi_oruk import feed_spec
from triage.services.directory import feed

bp = Blueprint("oruk", __name__, url_prefix="/oruk")
VERSION = "HSDS-UK-3.0"


@bp.after_request
def _open_to_all(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
    response.headers.setdefault("Cache-Control", "public, max-age=60")
    return response


@bp.get("/")
def index():
    return jsonify({"version": VERSION, "profile": runtime().profile.id,
                    "openapi_url": url_for("oruk.openapi", _external=True)})


@bp.get("/openapi.json")
def openapi():
    return jsonify(feed_spec(runtime()))


@bp.get("/services")
def services():
    return jsonify(feed.services_page(runtime(), request.args))


@bp.get("/services/<service_id>")
def service(service_id: str):
    return jsonify(feed.service(runtime(), service_id))


@bp.get("/taxonomies")
def taxonomies():
    return jsonify(feed.taxonomies_page(runtime(), request.args))


@bp.get("/taxonomy_terms")
def taxonomy_terms():
    return jsonify(feed.terms_page(runtime(), request.args))


@bp.get("/service_at_locations")
def service_at_locations():
    return jsonify(feed.service_at_locations_page(runtime(), request.args))
