"""What the benchmarks share: the repository root on sys.path, a throwaway PostgreSQL
database per run, a temporary SQLite file, the profile (TRIAGE_PROFILE) and a referral body
from its worked examples."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("TRIAGE_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# The council profile the benchmarks run (TRIAGE_PROFILE, as the service reads it).
PROFILE = os.environ.get("TRIAGE_PROFILE", "leicestershire")


def profile_body(profile_id: str = PROFILE) -> dict[str, Any]:
    """A partner's referral from the profile's first everyday worked example (routed to a
    service, no review, no statutory route)."""
    from datetime import date

    from config.profile import load_profile
    from rules.examples import first_routed_example, referral_body

    n, example = first_routed_example(load_profile(profile_id))
    return referral_body(example, today=date.today(), n=n, channel="partner",
                         organisation="Fire and Rescue Service")


BODY = profile_body()


def sqlite_url() -> str:
    folder = Path(tempfile.mkdtemp(prefix="bench-sqlite-"))
    return f"sqlite:///{folder / 'bench.sqlite3'}"


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database for one run, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"triage_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def on_each_backend(only: str | None, run: Callable[[str, str], T]) -> dict[str, T]:
    """run(name, url) on SQLite (a temporary file) and PostgreSQL (a throwaway database),
    or on `only` of them."""
    results: dict[str, T] = {}
    if only in (None, "sqlite"):
        results["sqlite"] = run("sqlite", sqlite_url())
    if only in (None, "postgres"):
        with throwaway_postgres() as url:
            results["postgres"] = run("postgres", url)
    return results


def migrated_app(url: str, **settings: Any):
    """The app on a freshly migrated database, as the tests build it (no background
    threads but the embedded relay)."""
    from sqlalchemy import create_engine

    from config.settings import Settings
    from triage import create_app
    from triage.migrations import upgrade

    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return create_app(Settings(env="test", database_url=url, secret_key="b" * 40,
                               instance_path=Path(tempfile.mkdtemp(prefix="bench-instance-")),
                               **{"profile": PROFILE, **settings}), background=False)
