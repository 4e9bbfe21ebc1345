"""The start page (what this service is and where to go next) and the accessibility statement."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template

from triage.web.security import current_user, home_for

bp = Blueprint("start", __name__)


@bp.get("/")
def index():
    user = current_user()
    if user is not None:
        return redirect(home_for(user))
    return render_template("start.html")


@bp.get("/accessibility")
def accessibility():
    return render_template("accessibility.html")
