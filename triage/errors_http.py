"""The one place errors become HTTP responses: JSON with a human-readable message."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, current_app, g, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from triage.errors import TriageError, ValidationFailed

log = logging.getLogger(__name__)


def _html_page(app: Flask, status: int, **context):
    """The web app's HTML error page for browser paths (registered by triage.web), else None."""
    render = app.extensions.get("html_error_page")
    return render(status, **context) if render is not None else None


def register(app: Flask) -> None:
    _name_the_route_for_audit(app)

    @app.errorhandler(TriageError)
    def _triage_error(exc: TriageError):
        if exc.status == 403:
            _audit_refusal()
        page = _html_page(app, exc.status, message=exc.message,
                          **({"errors": exc.errors} if isinstance(exc, ValidationFailed) else {}))
        if page is not None:
            return page
        return jsonify(exc.body()), exc.status

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        limit = app.config["MAX_CONTENT_LENGTH"]
        page = _html_page(app, 413, message=(
            f"What you sent is larger than {limit / 1_000_000:g} MB, so nothing was saved. "
            "Split a batch into smaller files."))
        if page is not None:
            return page
        return jsonify({"message": f"The request body is larger than {limit} bytes. "
                                   "Send large batches in smaller parts."}), 413

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        # The exception's own headers but its body: a 405 keeps its Allow header.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        page = _html_page(app, exc.code or 500, message=exc.description)
        if page is not None:
            return page[0], page[1], headers
        return jsonify({"message": exc.description or exc.name}), exc.code, headers

    @app.errorhandler(SQLAlchemyError)
    def _database(exc: SQLAlchemyError):
        if not _transient(exc):
            return _unexpected(exc)
        # The database is down, restarting, unreachable or too busy: nothing is wrong with
        # the request, and the caller should come back (a partner's retry with the same
        # Idempotency-Key never records a referral twice).
        error_id = uuid.uuid4().hex[:12]
        log.warning("request.database_unavailable", extra={
            "error_id": error_id, **request_fields(), **_error_codes(exc)})
        page = _html_page(app, 503, error_id=error_id)
        if page is None:
            page = jsonify({
                "message": "The database is not available just now, so this request may "
                           "not have been completed. Try again in a few seconds; if you "
                           "send an Idempotency-Key, sending the same request again is safe. "
                           f"Quote error id {error_id} if you contact us.",
                "error_id": error_id}), 503
        response = app.make_response(page)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        error_id = uuid.uuid4().hex[:12]
        log.exception("request.failed", extra={"error_id": error_id, **request_fields()})
        page = _html_page(app, 500, error_id=error_id)
        if page is not None:
            return page
        return jsonify({"message": "Something went wrong on our side. Nothing was saved. "
                                   f"Quote error id {error_id} if you contact us.",
                        "error_id": error_id}), 500


RETRY_AFTER_SECONDS = 5


def _name_the_route_for_audit(app: Flask) -> None:
    """Audit rows written while a request is served name its route pattern (what
    request_fields logs as "route"); set before any other hook, so a refusal or a session
    ending in another hook is named too."""
    from triage.services import audit

    def _set() -> None:
        g.audit_route = audit.current_route.set(
            request.url_rule.rule[:200] if request.url_rule else None)

    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("audit_route", None)
        if token is not None:
            try:
                audit.current_route.reset(token)
            except ValueError:  # set in another context: clear it rather than leak it
                audit.current_route.set(None)

    app.before_request_funcs.setdefault(None, []).insert(0, _set)
    app.teardown_request(_reset)


def request_fields() -> dict[str, object]:
    """The request as a log line may name it: the method, the route pattern
    (/api/v1/referrals/<reference>, or "unmatched") and the ids in it ({"case_id": 41}).
    Never the path or query string, which can hold a reference or a name typed into search."""
    fields: dict[str, object] = {"method": request.method,
                                 "route": request.url_rule.rule if request.url_rule
                                 else "unmatched"}
    ids = {k: v for k, v in (request.view_args or {}).items()
           if isinstance(v, int) and not isinstance(v, bool)}
    if ids:
        fields["ids"] = ids
    return fields


# What the database says when it, not the request, is the problem. SQLite: another writer
# holds the lock past the busy timeout. PostgreSQL (SQLSTATE): the connection failed (class
# 08), the server is shutting down or starting (57P01-57P03), out of connections (53300), a
# lock could not be had (55P03), or the transaction lost a serialisation race or deadlock
# (40001, 40P01) and will succeed when sent again.
_TRANSIENT_SQLITE = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED"})
_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "55P03", "40001",
                                  "40P01"})


def _transient(exc: SQLAlchemyError) -> bool:
    """A failure of the database rather than of the request, which sending the request
    again can cure. Anything else (a missing migration, a constraint, a bad statement) is a
    500 with its traceback in the log: retrying would fail the same way."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    if sqlite_name is not None:
        return sqlite_name in _TRANSIENT_SQLITE
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is None:
        # psycopg's errors from no server at all (refused, unreachable, closed) carry none.
        return isinstance(exc, OperationalError)
    return sqlstate.startswith("08") or sqlstate in _TRANSIENT_SQLSTATES


def _error_codes(exc: SQLAlchemyError) -> dict[str, str]:
    """What the driver said, as its class and code only (its message may quote the data):
    `error` is "OperationalError:SQLITE_BUSY" or "OperationalError:57P01", say."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    name = type(orig or exc).__name__
    return {"error": f"{name}:{code}" if code else name}


def _audit_refusal() -> None:
    """Every refusal by role or team is a security event, whichever service refused it
    (ids and route names only; written on its own, as the request's work was rolled back)."""
    from triage.services import audit

    user = g.get("api_user") or g.get("web_user")
    try:
        with current_app.extensions["triage"].db.unit_of_work() as session:
            audit.record(session, actor=user, action="access.refused", object_type="endpoint",
                         object_id=(request.endpoint or "unmatched")[:64],
                         method=request.method)
    except Exception:  # noqa: BLE001 - the refusal stands even if it could not be recorded
        log.exception("audit.failed")
