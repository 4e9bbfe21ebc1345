"""What every request must satisfy before any view runs, for every route at once: its text
can be stored (URL path values, query strings, form fields, the headers we read).

A JSON body is checked as it is read (triage/api/body.py) and a CSV batch cell by cell
(triage/schemas/batch_csv.py), by the same rule (triage/schemas/text.py).
"""

from __future__ import annotations

from flask import Flask, request

from triage.errors import ValidationFailed
from triage.schemas.text import problems_in_pairs

# Headers whose values the service reads and may store or look up.
READ_HEADERS = ("Idempotency-Key",)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Read only to choose where to go after signing in, by a rule of its own (safe_next ignores
# a bad one and goes home); never stored or looked up.
_OWN_RULE = frozenset({"next"})


def refuse_unstorable_text() -> None:
    """422 naming each URL part, query parameter, form field or header whose text cannot
    be stored (a NUL, a lone surrogate), before a view looks anything up with it."""
    problems = problems_in_pairs(
        ((k, v) for k, v in (request.view_args or {}).items() if isinstance(v, str)),
        names="path")
    problems.update(problems_in_pairs(
        ((k, v) for k, v in request.args.items(multi=True) if k not in _OWN_RULE),
        names="query"))
    if request.mimetype in _FORM_TYPES:
        problems.update(problems_in_pairs(
            ((k, v) for k, v in request.form.items(multi=True) if k not in _OWN_RULE),
            names="form"))
    problems.update(problems_in_pairs(
        ((h, request.headers[h]) for h in READ_HEADERS if h in request.headers),
        names="header"))
    if problems:
        raise ValidationFailed(problems)


def init_app(app: Flask) -> None:
    """Registered after the web app's hooks, so an HTML error page knows who is signed in."""
    app.before_request(refuse_unstorable_text)
