"""What every request must satisfy before any view runs, for every route at once: its body
is within the size limit however it is sent, and its text can be stored (URL path values,
query strings, form fields, the headers we read).

A JSON body is checked as it is read (triage/api/body.py) and a CSV batch cell by cell
(triage/schemas/batch_csv.py), by the same rule (triage/schemas/text.py).
"""

from __future__ import annotations

from typing import IO

from flask import Flask, Request, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from triage.errors import ValidationFailed
from triage.schemas.text import problems_in_pairs


class _AtMost(LimitedStream):
    """A body with no Content-Length (chunked), read up to the limit and then one byte
    more: if there is one, the body is over the limit (413), never cut short at it.

    Werkzeug's own stream stops at the limit and reports the end of the body, so a chunked
    1.1 MB batch was read as its first 1 MB: the rows in it recorded, the rest dropped."""

    def __init__(self, stream: IO[bytes], limit: int):
        super().__init__(stream, limit, is_max=True)

    def on_exhausted(self) -> None:
        try:
            more = self._stream.read(1)
        except (OSError, ValueError) as exc:  # the client went away mid-body
            self.on_disconnect(error=exc)
            return
        if more:
            raise RequestEntityTooLarge()

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted:
            self.on_exhausted()
        return data


class BoundedRequest(Request):
    """Every body over MAX_CONTENT_LENGTH is a 413, with a Content-Length (werkzeug refuses
    it before reading) or without one (chunked: refused when reading passes the limit), for
    JSON, CSV and HTML forms alike."""

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        if (limit is not None and self.content_length is None and not self.shallow
                and "wsgi.input_terminated" in self.environ):
            return _AtMost(self.environ["wsgi.input"], limit)
        return super().stream


# Headers whose values the service reads and may store or look up.
READ_HEADERS = ("Idempotency-Key",)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Read only to choose where to go after signing in, by a rule of its own (safe_next ignores
# a bad one and goes home); never stored or looked up.
_OWN_RULE = frozenset({"next"})


def refuse_unstorable_text() -> None:
    """422 naming each URL part, query parameter, form field or header whose text cannot
    be stored (a NUL, a lone surrogate), before a view looks anything up with it."""
    if request.url_rule is None:
        # No route matched (a reference with a NUL in it is no reference): the address
        # itself is what cannot be stored or looked up.
        problems = problems_in_pairs([("path", request.path)], names="path")
    else:
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
    app.request_class = BoundedRequest
    app.before_request(refuse_unstorable_text)
