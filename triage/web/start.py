"""The start page: what this service is and where to go next."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("start", __name__, template_folder="templates")


@bp.get("/")
def index():
    rt = current_app.extensions["triage"]
    return render_template("start.html", profile=rt.profile)
