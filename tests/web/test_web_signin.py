"""Sign-in, sessions, CSRF, refused access and the password policy, through the web pages."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from tests.web.conftest import PASSWORD, error_links


def _audit(rt, action):
    from triage.models import AuditEvent

    with rt.db.reader() as session:
        return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def _sessions(rt):
    from triage.models import WebSession

    with rt.db.reader() as session:
        return session.exec(select(WebSession)).all()


def test_staff_sign_in_lands_on_their_home_page_with_a_secure_session_cookie(web, rt):
    response = web.sign_in("frontdoor@demo.test")
    assert response.status_code == 302
    assert response.headers["Location"] == "/front-door/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("eh_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert len(_sessions(rt)) == 1
    assert _audit(rt, "signin.ok")


def test_wrong_password_is_refused_with_the_error_by_the_field_and_recorded(web, rt):
    response = web.sign_in("frontdoor@demo.test", "not-the-password-at-all")
    assert response.status_code == 401
    assert error_links(web.last) == {"email": "Enter a correct email address and password."}
    assert _audit(rt, "signin.failed")
    assert not _sessions(rt)


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(web):
    response = web.sign_in("nobody@demo.test", "whatever-password")
    assert response.status_code == 401
    assert "Enter a correct email address and password." in web.last


def test_an_account_is_locked_after_the_hourly_failure_limit(web, rt, demo_users):
    from triage.models import SignInAttempt
    from triage.models.base import utcnow

    user = demo_users["fcp@demo.test"]
    limit = rt.settings.signin_max_failures_per_hour
    with rt.db.unit_of_work() as session:
        for _ in range(limit):
            session.add(SignInAttempt(user_id=user.id, at=utcnow(), succeeded=False))
    response = web.sign_in("fcp@demo.test")  # the right password, but locked
    assert response.status_code == 401
    # The same answer as a wrong password (saying "locked" would reveal the account exists);
    # the audit trail says which it was.
    assert error_links(web.last) == {"email": "Enter a correct email address and password."}
    assert [a.detail["why"] for a in _audit(rt, "signin.locked")] == ["locked"]
    with rt.db.unit_of_work() as session:  # failures older than an hour no longer count
        for row in session.exec(select(SignInAttempt)).all():
            row.at = utcnow() - timedelta(hours=2)
    assert web.sign_in("fcp@demo.test").status_code == 302


def test_wrong_guesses_from_one_address_stop_that_address_not_the_account_owner(
        web, make_web, rt, demo_users):
    """Someone who knows a worker's email cannot lock them out from one address: after the
    per-address limit that address is refused (even with the right password), while the
    owner, elsewhere, still signs in. Addresses are stored only as an HMAC."""
    from triage.models import SignInAttempt
    from triage.services.accounts import rate_limits

    stranger = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
    limit = rt.settings.signin_max_failures_per_source_per_hour
    assert limit < rt.settings.signin_max_failures_per_hour
    for n in range(limit):
        response = web.post("/login", {"email": "fcp@demo.test",
                                       "password": f"guess-number-{n}-wrong"},
                            from_page="/login", **stranger)
        assert response.status_code == 401
    assert web.post("/login", {"email": "fcp@demo.test", "password": PASSWORD},
                    from_page="/login", **stranger).status_code == 401
    assert [a.detail["why"] for a in _audit(rt, "signin.locked")] == ["locked_for_source"]
    owner = make_web()  # the test client's own address
    assert owner.sign_in("fcp@demo.test").status_code == 302
    with rt.db.reader() as session:
        sources = {a.source for a in session.exec(select(SignInAttempt)).all()}
    assert sources == {rate_limits.source_key(rt, "203.0.113.9"),
                       rate_limits.source_key(rt, "127.0.0.1")}


def test_every_refused_sign_in_looks_and_costs_the_same_but_the_audit_says_why(
        web, rt, demo_users, monkeypatch):
    """Unknown email, wrong password, locked, disabled and no password: one message, one
    status, one Argon2 check each (so timing does not tell them apart either)."""
    from sqlalchemy import update

    from triage.models import SignInAttempt, User
    from triage.models.base import utcnow
    from triage.services.accounts import signin, users

    users.create_user(rt.db, email="nopassword@test.example", role="front_door")
    with rt.db.unit_of_work() as session:
        session.execute(update(User).where(User.email == "hub.charnwood@demo.test")
                        .values(active=False))
        for _ in range(rt.settings.signin_max_failures_per_hour):
            session.add(SignInAttempt(user_id=demo_users["fcp@demo.test"].id, at=utcnow(),
                                      succeeded=False))
    checks = []
    real_verify = users.verify_password

    class CountingHasher(signin.PasswordHasher):
        def verify(self, hash, password):  # noqa: A002 - argon2's own parameter name
            checks.append("dummy")
            return super().verify(hash, password)

    def counting_verify(user, password):
        checks.append("real")
        return real_verify(user, password)

    monkeypatch.setattr(signin, "PasswordHasher", CountingHasher)
    monkeypatch.setattr(users, "verify_password", counting_verify)
    answers = []
    for email, password in [("nobody@demo.test", PASSWORD),
                            ("frontdoor@demo.test", "not-the-password-at-all"),
                            ("fcp@demo.test", PASSWORD),
                            ("hub.charnwood@demo.test", PASSWORD),
                            ("nopassword@test.example", PASSWORD)]:
        checks.clear()
        response = web.sign_in(email, password)
        answers.append((response.status_code, error_links(web.last)))
        assert len(checks) == 1, (email, checks)
    assert answers == [(401, {"email": "Enter a correct email address and password."})] * 5
    assert not _sessions(rt)
    why = sorted(a.detail["why"] for a in _audit(rt, "signin.failed") + _audit(rt, "signin.locked"))
    assert why == ["inactive", "locked", "no_password", "unknown_account", "wrong_password"]


def test_the_session_id_changes_at_sign_in(web, rt):
    web.sign_in("frontdoor@demo.test")
    first = {s.id for s in _sessions(rt)}
    # Signing in again from a browser that already holds a session (or a planted one).
    web.post("/login", {"email": "frontdoor@demo.test", "password": PASSWORD},
             from_page="/sign-out")
    second = {s.id for s in _sessions(rt)}
    assert first and second and not first & second
    assert len(second) == 1  # the old session was deleted, not left behind


def test_sign_out_ends_the_session_on_the_server(web, rt):
    web.sign_in("frontdoor@demo.test")
    cookie = web.client.get_cookie("eh_session").value
    response = web.post("/sign-out", from_page="/sign-out")
    assert response.status_code == 302
    assert not _sessions(rt)
    web.client.set_cookie("eh_session", cookie)  # a copied cookie is worthless now
    assert web.get("/front-door/").status_code == 302


def test_an_idle_session_ends_after_the_idle_timeout(web, rt):
    from triage.models import WebSession
    from triage.models.base import utcnow

    web.sign_in("frontdoor@demo.test")
    with rt.db.unit_of_work() as session:
        row = session.exec(select(WebSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=rt.settings.session_idle_minutes + 1)
    response = web.get("/front-door/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not _sessions(rt)
    web.get(response.headers["Location"])
    assert "had not done anything for 30 minutes" in web.last


def test_a_session_ends_at_its_absolute_lifetime_even_when_active(web, rt):
    from triage.models import WebSession
    from triage.models.base import utcnow

    web.sign_in("frontdoor@demo.test")
    with rt.db.unit_of_work() as session:
        row = session.exec(select(WebSession)).one()
        row.created_at = utcnow() - timedelta(hours=rt.settings.session_absolute_hours,
                                              minutes=1)
        row.last_seen_at = utcnow()
    assert web.get("/front-door/").status_code == 302
    assert not _sessions(rt)


def test_a_form_without_its_csrf_token_is_refused_and_recorded(web, rt):
    web.sign_in("frontdoor@demo.test")
    response = web.client.post("/sign-out", data={})
    assert response.status_code == 400
    assert "form you sent had expired" in response.get_data(as_text=True)
    assert _audit(rt, "access.refused")
    assert _sessions(rt)  # not signed out


def test_sign_in_itself_needs_the_csrf_token(client, demo_users):
    response = client.post("/login", data={"email": "frontdoor@demo.test",
                                           "password": PASSWORD})
    assert response.status_code == 400


def test_a_page_for_another_role_is_refused_and_recorded(web, rt):
    web.sign_in("fire@demo.test")
    response = web.get("/front-door/")
    assert response.status_code == 403
    assert "does not give access to this page" in web.last
    assert [a.object_id for a in _audit(rt, "access.refused")] == ["frontdoor.index"]


def test_signed_out_visitors_are_sent_to_sign_in_and_back(web):
    response = web.get("/front-door/worklists/overdue")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/front-door/worklists/overdue")
    web.get(response.headers["Location"])
    response = web.post("/login", {"email": "frontdoor@demo.test", "password": PASSWORD,
                                   "next": "/front-door/worklists/overdue"})
    assert response.headers["Location"] == "/front-door/worklists/overdue"


def test_sign_in_never_redirects_to_another_site(web):
    web.get("/login?next=//evil.example/")
    response = web.post("/login", {"email": "frontdoor@demo.test", "password": PASSWORD,
                                   "next": "//evil.example/"})
    assert response.headers["Location"] == "/front-door/"


def test_a_next_address_with_a_line_break_is_ignored_not_a_server_error(make_web):
    # Found by probing: CR/LF in `next` was a 500 after the password was accepted.
    for bad in ("/front-door/\r\nSet-Cookie: x=1", "/cases/\n", "/\x00"):
        web = make_web()
        web.get("/login")
        response = web.post("/login", {"email": "frontdoor@demo.test", "password": PASSWORD,
                                       "next": bad})
        assert response.status_code == 302, bad
        assert response.headers["Location"] == "/front-door/"


def test_navigation_follows_the_role(make_web):
    front = make_web()
    front.sign_in("frontdoor@demo.test")
    front.get("/front-door/")
    assert "Worklists" in front.last and "Hub queue" not in front.last
    hub = make_web()
    hub.sign_in("hub.charnwood@demo.test")
    hub.get("/hub/")
    assert "Hub queue" in hub.last and "Worklists" not in hub.last
    partner = make_web()
    partner.sign_in("fire@demo.test")
    partner.get("/partner/")
    assert "Your referrals" in partner.last and "Worklists" not in partner.last


def test_a_breached_or_short_password_is_refused_when_changing_it(web):
    web.sign_in("frontdoor@demo.test")
    web.post("/account/password", {"current_password": PASSWORD,
                                   "new_password": "qwerty123456",
                                   "confirm_password": "qwerty123456"},
             from_page="/account/password")
    assert "stolen in data breaches" in error_links(web.last)["new_password"]
    web.post("/account/password", {"current_password": PASSWORD, "new_password": "short1",
                                   "confirm_password": "short1"})
    assert "at least 12 characters" in error_links(web.last)["new_password"]
    response = web.post("/account/password", {"current_password": PASSWORD,
                                              "new_password": "copper kettle winter lane",
                                              "confirm_password": "copper kettle winter lane"})
    assert response.status_code == 200 and "Password changed" in web.last


def test_the_password_policy_also_guards_new_accounts(rt):
    import pytest

    from triage.errors import ValidationFailed
    from triage.services.accounts import users

    with pytest.raises(ValidationFailed) as refused:
        users.create_user(rt.db, email="x@test.example", role="front_door",
                             password="123456qwerty")
    assert "data breaches" in refused.value.errors["password"][0]


def test_pages_carry_security_headers(client):
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_inline_script_of_the_page_template_is_allowed_by_its_hash(client):
    import base64
    import hashlib
    import re

    html = client.get("/").get_data(as_text=True)
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in client.get("/").headers["Content-Security-Policy"]


def test_production_cookies_are_secure_host_cookies(tmp_path, database_url):
    from config.settings import Settings
    from tests.web.conftest import Browser
    from triage import create_app
    from triage.demo import ensure_demo_users

    app = create_app(Settings(env="production", instance_path=tmp_path / "i",
                              database_url=database_url, secret_key="p" * 40),
                     background=False, synchronous_tasks=True)
    ensure_demo_users(app.extensions["triage"])
    browser = Browser(app.test_client())
    browser.client.get("/login", base_url="https://localhost")
    page = browser.client.get("/login", base_url="https://localhost")
    browser.last = page.get_data(as_text=True)
    response = browser.post("/login", {"email": "frontdoor@demo.test", "password": PASSWORD},
                            base_url="https://localhost")
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("__Host-eh_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app.extensions["triage"].db.dispose()
