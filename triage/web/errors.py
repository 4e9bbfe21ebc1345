"""HTML error pages for browser paths: what went wrong and what to do next (the API keeps JSON)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, render_template, request

from triage.web.security import is_web_request, safe_next

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


def html_error_page(status: int, *, message: str | None = None, error_id: str | None = None,
                    errors: dict[str, list[str]] | None = None):
    if not is_web_request():
        return None
    status = status if status in TITLES else (500 if status >= 500 else 400)
    summary, links = _field_errors(errors or {})
    return render_template("errors/error.html", status=status, title=TITLES[status],
                           message=message, error_id=error_id, errors=summary,
                           error_links=links), status


def _field_errors(errors: dict[str, list[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """A 422 refused before the page's own checks (text that cannot be stored, say): the
    GOV.UK error summary names each field, linking to it on the form it came from."""
    back = _form_page()
    summary = {name: f"{name.replace('-', ' ').replace('_', ' ')}: {messages[0]}"
               for name, messages in errors.items() if messages}
    return summary, {name: f"{back}#{name}" for name in summary}


def _form_page() -> str:
    """The page the form was on (the Referer, as a local path), to link to its fields."""
    try:
        parts = urlsplit(request.referrer or "")
    except ValueError:
        return ""
    return safe_next(parts._replace(scheme="", netloc="", fragment="").geturl(), "")


def init_app(app: Flask) -> None:
    app.extensions["html_error_page"] = html_error_page
