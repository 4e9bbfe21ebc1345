"""HTML pages for staff, partners and the public, on GOV.UK Frontend; registered explicitly."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from flask import Blueprint, Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

HERE = Path(__file__).resolve().parent


def _inline_script_hash() -> str:
    """CSP hash of the one inline script in the GOV.UK page template (marks JS as enabled)."""
    import govuk_frontend_jinja

    template = Path(govuk_frontend_jinja.__file__).parent / "templates" / "template.html"
    found = re.search(r"<script[^>]*>(.*?)</script>", template.read_text(encoding="utf-8"),
                      re.S)
    script = found.group(1) if found else ""
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def register_web(app: Flask) -> None:
    from triage.web import (
        admin_access,
        admin_users,
        audit,
        auth,
        casework,
        context,
        directory,
        errors,
        frontdoor,
        hub,
        merges,
        notifications,
        partner,
        people,
        privacy,
        public,
        referrals,
        reports,
        security,
        start,
    )

    settings = app.extensions["triage"].settings
    if settings.proxy_hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,
                                x_proto=settings.proxy_hops)
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(HERE / "templates")),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    assets = Blueprint("assets", __name__, static_folder="static", static_url_path="/assets")
    app.register_blueprint(assets)
    security.init_app(app, inline_script_hash=_inline_script_hash())
    context.init_app(app)
    errors.init_app(app)
    directory.init_app(app)
    for bp in (start.bp, auth.bp, frontdoor.bp, referrals.bp, partner.bp, public.bp,
               casework.bp, hub.bp, people.bp, privacy.bp, admin_users.bp, admin_access.bp,
               merges.bp, audit.bp, notifications.bp, directory.bp, reports.bp):
        app.register_blueprint(bp)
