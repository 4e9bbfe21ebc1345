"""HTML pages; the full GOV.UK-styled web app grows here (front door, hub, partner, public)."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from triage.web import start

    app.register_blueprint(start.bp)
