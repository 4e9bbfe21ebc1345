"""The hourly failure limit holds under parallel guesses: real threads against the app, on
SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from config.settings import Settings
from tests.web.conftest import PASSWORD, Browser

LIMIT = 3
GUESSES = 10
both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32,
                    signin_max_failures_per_hour=LIMIT)


@both_databases
def test_parallel_wrong_passwords_get_at_most_the_limit_of_password_checks(
        app, rt, monkeypatch):
    from triage.models import AuditEvent, SignInAttempt
    from triage.services.accounts import users

    user = users.create_user(rt.db, email="target@test.example", role="front_door",
                                password=PASSWORD)
    checked = []
    lock = threading.Lock()
    real_verify = users.verify_password

    def counting_verify(who, password):
        with lock:
            checked.append(who.id)
        return real_verify(who, password)

    monkeypatch.setattr(users, "verify_password", counting_verify)
    browsers = [Browser(app.test_client()) for _ in range(GUESSES)]
    for n, browser in enumerate(browsers):
        # Each guess from its own address: the per-account limit is what stops them.
        browser.client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        browser.get("/login")  # each one's own CSRF cookie and token
    ready = threading.Barrier(GUESSES)
    statuses: list[int] = []

    def guess(browser: Browser, n: int) -> None:
        ready.wait()
        response = browser.post("/login", {"email": "target@test.example",
                                           "password": f"wrong-guess-number-{n}"})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(b, n)) for n, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [401] * GUESSES
    assert len(checked) == LIMIT  # the rest were refused before any password check
    with rt.db.reader() as session:
        attempts = session.exec(select(SignInAttempt)
                                .where(SignInAttempt.user_id == user.id)).all()
        locked = session.exec(select(AuditEvent)
                              .where(AuditEvent.action == "signin.locked")).all()
    assert len(attempts) == GUESSES and not any(a.succeeded for a in attempts)
    assert len(locked) == GUESSES - LIMIT
    assert {a.detail["why"] for a in locked} == {"locked"}
    # Locked now: even the right password is refused, without checking it.
    browser = Browser(app.test_client())
    assert browser.sign_in("target@test.example").status_code == 401
    assert len(checked) == LIMIT
