"""API authentication: the caller is the user holding the bearer token."""

from __future__ import annotations

from flask import g, request

from triage.models import User
from triage.services.accounts import users


def runtime():
    from flask import current_app

    return current_app.extensions["triage"]


def current_user() -> User:
    if "api_user" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        g.api_user = users.user_for_token(
            runtime().db, token.strip() if scheme.lower() == "bearer" else None)
    return g.api_user
