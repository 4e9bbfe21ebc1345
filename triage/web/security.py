"""Who is signed in to the web app, CSRF on every form, page permissions and security headers.

Signed-in browsers carry a server-side session (the cookie is a random token, see
triage.services.signin); their forms carry that session's CSRF token. Forms used before
sign-in (sign-in itself, the public self-referral) carry a signed double-submit token held in
a cookie of its own.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from hashlib import sha256
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask.sessions import NullSession, SessionInterface

from triage.models import Role, User
from triage.services.accounts import signin

SESSION_COOKIE = "eh_session"
CSRF_COOKIE = "eh_csrf"
CSRF_FIELD = "csrf_token"
FIRST_SIGN_IN_PAGE = "auth.password"


def runtime():
    return current_app.extensions["triage"]


def _secure() -> bool:
    return runtime().settings.env == "production"


def cookie_name(base: str) -> str:
    """__Host- cookies (Secure, path /, no Domain) when served over HTTPS in production."""
    return f"__Host-{base}" if _secure() else base


def is_web_request() -> bool:
    path = request.path
    return not (path.startswith("/api/") or path == "/healthz" or path.startswith("/assets/")
                or path == "/oruk" or path.startswith("/oruk/"))


def current_user() -> User | None:
    return g.get("web_user")


def session_token() -> str | None:
    return request.cookies.get(cookie_name(SESSION_COOKIE))


def set_session_cookie(response, token: str) -> None:
    settings = runtime().settings
    g.new_session = True
    response.set_cookie(cookie_name(SESSION_COOKIE), token,
                        max_age=settings.session_absolute_hours * 3600, secure=_secure(),
                        httponly=True, samesite="Lax", path="/")


def clear_session_cookie(response) -> None:
    response.delete_cookie(cookie_name(SESSION_COOKIE), path="/", secure=_secure(),
                           httponly=True, samesite="Lax")


# -- CSRF ------------------------------------------------------------------------------------
def _sign(value: str) -> str:
    key = runtime().settings.secret_key.encode()
    return hmac.new(key, b"csrf:" + value.encode(), sha256).hexdigest()[:32]


def csrf_token() -> str:
    """The token to put in this page's forms."""
    web_session = g.get("web_session")
    if web_session is not None:
        return web_session.csrf_token
    if "anon_csrf" not in g:
        existing = request.cookies.get(cookie_name(CSRF_COOKIE), "")
        if _valid_anonymous(existing):
            g.anon_csrf = existing
        else:
            raw = secrets.token_urlsafe(24)
            g.anon_csrf = f"{raw}.{_sign(raw)}"
            g.set_csrf_cookie = True
    return g.anon_csrf


def _same(sent: str, expected: str) -> bool:
    """Constant-time comparison of what a browser sent (any text: compare_digest refuses
    non-ASCII str, which would be a 500) with what we issued."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8", "surrogatepass"))


def _valid_anonymous(token: str) -> bool:
    raw, _, signature = token.partition(".")
    return bool(raw) and _same(signature, _sign(raw))


def check_csrf() -> None:
    sent = request.form.get(CSRF_FIELD, "")
    web_session = g.get("web_session")
    if web_session is not None:
        ok = _same(sent, web_session.csrf_token)
    else:
        cookie = request.cookies.get(cookie_name(CSRF_COOKIE), "")
        ok = bool(sent) and _same(sent, cookie) and _valid_anonymous(sent)
    if not ok:
        signin.record_refused(runtime(), user=current_user(), what="csrf")
        abort(400, description="csrf")


# -- permissions -----------------------------------------------------------------------------
def require_role(allowed: set[Role]) -> Callable:
    """Page decorator: sign in first; then the role must be allowed (else 403, recorded)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                ended = g.get("session_ended")
                extra = {"ended": ended.value} if ended not in (None, signin.SessionEnd.none) \
                    else {}
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?"),
                                        **extra))
            if user.role not in allowed:
                signin.record_refused(runtime(), user=user, what=request.endpoint or "?")
                abort(403)
            if user.must_change_password and request.endpoint != FIRST_SIGN_IN_PAGE:
                # A one-time password from an administrator: nothing else until it is changed.
                return redirect(url_for(FIRST_SIGN_IN_PAGE))
            return view(*args, **kwargs)

        return wrapper

    return decorate


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: a sign-in link cannot send someone to another site."""
    if not target:
        return default
    try:
        parts = urlsplit(target)
    except ValueError:  # an unparseable address (a bad IPv6 literal...)
        return default
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target)):
        # CR or LF in a redirect would split the response's headers: go home instead.
        return default
    return target


def home_for(user: User) -> str:
    from triage.policy import FRONT_DOOR_PAGES, HUB_PAGES, PARTNER_PAGES
    from triage.services.hub.meetings import has_meetings

    if user.role in PARTNER_PAGES:
        return url_for("partner.index")
    if user.role in FRONT_DOOR_PAGES:
        return url_for("frontdoor.index")
    if user.role in HUB_PAGES and has_meetings(runtime()):
        return url_for("hub.queue")
    return url_for("casework.team_cases")


# -- request hooks ---------------------------------------------------------------------------
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
       "script-src 'self' 'sha256-{hash}'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")


class _NoSession(NullSession):
    def _refuse(self, *args, **kwargs):
        raise RuntimeError("Flask's cookie session is not used: keep what a signed-in "
                           "browser needs in its server-side session (g.web_session).")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse


class NoCookieSession(SessionInterface):
    """Flask's own session (a signed cookie holding data) is not used: a signed-in browser
    holds only a random token of a server-side session (see the module's docstring). Flask
    would still build a signing serializer and look for its cookie on every request, API
    calls included; with this, `flask.session` is Flask's null session, which refuses a write
    (so nothing can start keeping data in a cookie by accident)."""

    null_session_class = _NoSession

    def open_session(self, app: Flask, request) -> None:
        return None

    def save_session(self, app: Flask, session, response) -> None:  # never called: null
        return None


def init_app(app: Flask, *, inline_script_hash: str) -> None:
    csp = CSP.format(hash=inline_script_hash)
    app.session_interface = NoCookieSession()

    @app.before_request
    def _load_user():
        if not is_web_request():
            return
        found = signin.session_for(runtime(), session_token())
        g.web_session, g.web_user = found.session, found.user
        g.session_ended = found.ended
        if request.method == "POST":
            check_csrf()

    @app.after_request
    def _headers(response):
        if not is_web_request():
            return response
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if g.get("web_user") is not None or request.method == "POST":
            response.headers["Cache-Control"] = "no-store"
        if g.get("set_csrf_cookie"):
            response.set_cookie(cookie_name(CSRF_COOKIE), g.anon_csrf, secure=_secure(),
                                httponly=True, samesite="Lax", path="/")
        if (g.get("session_ended") not in (None, signin.SessionEnd.none)
                and not g.get("new_session")):
            clear_session_cookie(response)
        return response


def start_number() -> int:
    """The `?start=` of a list read page by page after a cursor: where in the list the page
    begins (1 for the first page), carried by the next-page link for "Showing 51 to 100"."""
    given = request.args.get("start", "")
    return min(int(given), 10**9) if given.isdigit() and int(given) > 0 else 1


def page_number() -> int:
    """The `?page=` of a paged list: 1 when missing or not a positive whole number."""
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1
