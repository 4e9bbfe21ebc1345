"""When the database is unreachable, restarting or locked, the caller is told to come back
(503 with Retry-After), not that something broke; a partner's retry with the same
Idempotency-Key then records the referral once."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import kill_connections
from triage.db import Database
from triage.models import Referral
from triage.services.accounts.users import TOKEN_PREFIX

postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _referrals(rt) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(Referral)).scalar_one()


def _assert_come_back_later(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Try again in a few seconds" in response.json["message"]
    assert "Idempotency-Key" in response.json["message"]
    assert len(response.json["error_id"]) == 12


@postgres_only
def test_a_connection_dropped_by_a_restart_answers_503_and_the_retry_is_recorded_once(
        app, rt, auth, referral_body, database_url, caplog):
    headers = {**auth("partner"), "Idempotency-Key": "fire-batch-12-row-4"}
    # A pooled connection is pinged only after sitting idle; one used a moment ago meets
    # the restart at its first statement. Never pinging makes that certain here.
    rt.db.dispose()
    rt.db = Database(database_url, ping_after_idle_seconds=3600)
    client = app.test_client()
    assert client.post("/api/v1/referrals", json=referral_body(),
                       headers={"Authorization": headers["Authorization"]}).status_code == 201

    assert kill_connections(database_url) >= 1

    body = referral_body(concerns="Smoke alarm missing; lives alone.")
    with caplog.at_level(logging.WARNING):
        failed = client.post("/api/v1/referrals", json=body, headers=headers)
    _assert_come_back_later(failed)
    warning = next(r for r in caplog.records if r.msg == "request.database_unavailable")
    assert warning.error_id == failed.json["error_id"] and warning.error
    assert "Smoke alarm" not in caplog.text and "Gwen" not in caplog.text

    retried = client.post("/api/v1/referrals", json=body, headers=headers)
    assert retried.status_code == 201
    again = client.post("/api/v1/referrals", json=body, headers=headers)
    assert again.json["reference"] == retried.json["reference"]
    assert _referrals(rt) == 2


def test_a_database_locked_beyond_the_busy_timeout_answers_503_and_loses_nothing(
        settings, auth, referral_body, database_url):
    from triage import create_app

    impatient = create_app(replace(settings, sqlite_busy_timeout_ms=200), background=False,
                           synchronous_tasks=True)
    rt = impatient.extensions["triage"]
    try:
        client = impatient.test_client()
        _, token = _partner(rt)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "row-9"}
        holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another process's long write
        try:
            _assert_come_back_later(
                client.post("/api/v1/referrals", json=referral_body(), headers=headers))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert _referrals(rt) == 0
        assert client.post("/api/v1/referrals", json=referral_body(),
                           headers=headers).status_code == 201
        assert _referrals(rt) == 1
    finally:
        rt.relay.stop()
        rt.db.dispose()


def _partner(rt):
    from triage.services.accounts import users

    user = users.create_user(rt.db, email="night@fire.example", role="partner",
                                organisation="Leicestershire Fire and Rescue Service")
    return user, users.create_token(rt.db, email=user.email)


@pytest.fixture
def unreachable(settings):
    """The service started while its database server is down (nothing listens on port 9)."""
    from triage import create_app

    app = create_app(replace(settings,
                             database_url="postgresql+psycopg://postgres@127.0.0.1:9/test"),
                     background=False, synchronous_tasks=True)
    yield app
    app.extensions["triage"].relay.stop()
    app.extensions["triage"].db.dispose()


def test_with_the_database_down_the_api_says_come_back_and_the_checklist_still_answers(
        unreachable):
    client = unreachable.test_client()
    assert client.get("/api/v1/checklist").status_code == 200
    assert client.get("/healthz").status_code == 503
    token = TOKEN_PREFIX + "x" * 43  # looks like a token: only the database can tell
    _assert_come_back_later(client.post(
        "/api/v1/referrals", json={}, headers={"Authorization": f"Bearer {token}"}))


def test_with_the_database_down_a_browser_gets_the_service_unavailable_page(unreachable):
    from tests.web.conftest import Browser

    web = Browser(unreachable.test_client())
    response = web.post("/login", {"email": "duty@example.org", "password": "x" * 12},
                        from_page="/login")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "Sorry, the service is unavailable" in page
    assert "has probably not been saved" in page


def test_a_database_that_answers_but_is_wrong_is_a_500_not_come_back_later(
        app, rt, auth, referral_body):
    """A missing table (a migration not run) fails the same way every time: the caller is
    not told to retry, and the traceback is logged for the operator."""
    headers = auth("partner")
    with rt.db.engine.begin() as conn:
        conn.execute(text("DROP TABLE outbox_message"))
    response = app.test_client().post("/api/v1/referrals", json=referral_body(),
                                      headers=headers)
    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert "Something went wrong on our side" in response.json["message"]
    assert _referrals(rt) == 0
