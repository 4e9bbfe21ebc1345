"""Shared fixtures: settings, a migrated database per test (SQLite or PostgreSQL), apps, users."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config.settings import Settings

POSTGRES_URL = os.environ.get("TRIAGE_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TRIAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("TRIAGE_TEST_REQUIRE_SERVICES") == "1"


def kill_connections(database_url: str) -> int:
    """What a PostgreSQL restart does to a database's open connections: end them all
    (but this one). Returns how many were ended."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": make_url(database_url).database}).scalar_one()
    finally:
        admin.dispose()


def _unavailable(what: str, why: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required in CI but unreachable: {why}")
    pytest.skip(f"{what} not reachable ({why}); set TRIAGE_TEST_POSTGRES_URL / "
                "TRIAGE_TEST_REDIS_URL or start it")


@contextmanager
def psycopg_commands() -> Iterator[list[str]]:
    """Every BEGIN, COMMIT and ROLLBACK psycopg sends inside the block (psycopg sends them
    itself, not through a cursor): how many transactions a unit of work really opened."""
    import psycopg

    sent: list[str] = []
    original = psycopg.Connection._exec_command

    def spy(self, command, *args, **kwargs):
        sent.append(command.decode() if isinstance(command, bytes) else str(command))
        return original(self, command, *args, **kwargs)

    psycopg.Connection._exec_command = spy
    try:
        yield sent
    finally:
        psycopg.Connection._exec_command = original


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A throwaway database on the PostgreSQL server, created for this test session."""
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        _unavailable("PostgreSQL", type(exc).__name__)
    name = f"triage_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    from triage.migrations import upgrade

    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :n"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    from triage.migrations import upgrade

    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _truncate_all(url: str) -> None:
    from sqlmodel import SQLModel

    import triage.models  # noqa: F401

    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(request, backend, tmp_path, sqlite_template) -> str:
    if backend == "postgres":
        url = request.getfixturevalue("postgres_server_url")
        _truncate_all(url)
        return url
    path = tmp_path / "triage.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32)


@pytest.fixture
def app(settings):
    from triage import create_app

    application = create_app(settings, background=False, synchronous_tasks=True)
    yield application
    rt = application.extensions["triage"]
    rt.relay.stop()
    rt.db.dispose()


@pytest.fixture
def rt(app):
    return app.extensions["triage"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(rt) -> Callable[..., tuple]:
    """make_user(role, **fields) -> (user, token)."""
    from triage.services.accounts import users

    counter = iter(range(10_000))

    def make(role: str = "front_door", **fields):
        n = next(counter)
        if role == "partner":
            fields.setdefault("organisation", "Leicestershire Fire and Rescue Service")
        user = users.create_user(rt.db, email=f"{role}{n}@test.example", role=role, **fields)
        return user, users.create_token(rt.db, email=user.email)

    return make


@pytest.fixture
def auth(make_user) -> Callable[..., dict]:
    """auth(role, **fields) -> headers for a new user with that role."""

    def headers(role: str = "front_door", **fields) -> dict:
        _, token = make_user(role, **fields)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def referral_body() -> Callable[..., dict]:
    """A valid referral body (the contract's example); keyword arguments replace fields."""

    def body(**changes) -> dict:
        base = {
            "channel": "partner",
            "referrer": {"organisation": "Fire and Rescue Service", "name": "A. Officer",
                         "email": "a@example.org"},
            "postcode": "LE13 0AB",
            "people": [
                {"ref": "p1", "role": "subject", "given_name": "Gwen", "family_name": "Smith",
                 "date_of_birth": "1932-03-01"},
                {"ref": "p2", "role": "household", "relationship": "son",
                 "date_of_birth": "1960-07-12"},
            ],
            "answers": {"memory_concern": True, "social_isolation": True, "falls_risk": False},
            "consent": "given",
            "information_only": False,
            "step_down": False,
            "concerns": "free text",
        }
        base.update(changes)
        return base

    return body


def pytest_addoption(parser) -> None:
    parser.addoption("--profile", action="append", default=[], metavar="ID",
                     help="run the any-profile suite (tests/profiles, the pathway machines) "
                          "against this council profile only; repeatable (default: every "
                          "profile under config/profiles)")


def pytest_configure(config) -> None:
    named = config.getoption("--profile")
    if named:
        os.environ["TRIAGE_TEST_PROFILES"] = ",".join(named)
