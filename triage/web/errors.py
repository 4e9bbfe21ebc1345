"""HTML error pages for browser paths: what went wrong and what to do next (the API keeps JSON)."""

from __future__ import annotations

from flask import Flask, render_template

from triage.web.security import is_web_request

TITLES = {
    400: "Sorry, there is a problem with the page",
    401: "You need to sign in",
    403: "You cannot see this page",
    404: "Page not found",
    405: "Sorry, there is a problem with the page",
    409: "This has changed since you opened it",
    413: "What you sent is too large",
    422: "Sorry, there is a problem with what you sent",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}


def html_error_page(status: int, *, message: str | None = None, error_id: str | None = None):
    if not is_web_request():
        return None
    status = status if status in TITLES else (500 if status >= 500 else 400)
    return render_template("errors/error.html", status=status, title=TITLES[status],
                           message=message, error_id=error_id), status


def init_app(app: Flask) -> None:
    app.extensions["html_error_page"] = html_error_page
