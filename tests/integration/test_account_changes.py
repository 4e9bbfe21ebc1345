"""The account-change listener on a real PostgreSQL: it hears a change however it is made,
is trusted only while it can hear itself, and stops at once when told."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from triage.account_changes import AccountChanges

on_postgres = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _conninfo(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def _until(condition, seconds=5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _wake(database_url):
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")

    def wake(channel: str) -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_notify(:c, '')"), {"c": channel})

    return engine, wake


@on_postgres
def test_a_change_to_an_account_or_a_token_is_heard_and_forgets_what_was_remembered(
        database_url, make_user):
    user, token = make_user("partner")
    forgotten = threading.Event()
    changes = AccountChanges(_conninfo(database_url), forgotten.set, check_every=0.5)
    engine, wake = _wake(database_url)
    try:
        assert not changes.trusted()  # starts listening on first use
        assert _until(changes.trusted)
        for change in ("UPDATE user_account SET name = 'Renamed' WHERE id = :id",
                       "UPDATE api_token SET revoked_at = now() WHERE user_id = :id"):
            forgotten.clear()
            heard = changes.heard
            with engine.connect() as conn:
                conn.execute(text(change), {"id": user.id})
            assert forgotten.wait(2) and changes.heard > heard
        # A token's last use is written once a minute: nobody needs to forget anything.
        forgotten.clear()
        with engine.connect() as conn:
            conn.execute(text("UPDATE api_token SET last_used_at = now() WHERE user_id = :id"),
                         {"id": user.id})
        assert not forgotten.wait(1)
        started = time.monotonic()
        changes.stop(wake=wake)
        assert time.monotonic() - started < 1.5 and not changes._thread.is_alive()
        assert not changes.trusted()
    finally:
        changes.stop()
        engine.dispose()


@on_postgres
def test_a_listener_that_cannot_hear_itself_is_never_trusted(database_url):
    """As through PgBouncer in transaction mode, where LISTEN stays on another server
    connection: its own notification never comes back, so callers keep reading."""

    class Deaf(AccountChanges):
        def _ping(self, conn) -> None:
            conn.execute("SELECT pg_notify('nobody_listens_here', 'ping')")

    changes = Deaf(_conninfo(database_url), lambda: None, check_every=0.2)
    try:
        changes.start()
        assert not _until(changes.trusted, seconds=1.5)
        assert changes._failures >= 1
    finally:
        changes.stop()
