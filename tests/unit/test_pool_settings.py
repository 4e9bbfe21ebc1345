"""The database pool settings (README, "Sizing"): read from TRIAGE_DB_*, checked, and used."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from config.settings import Settings, SettingsError
from triage.db import Database


def test_pool_settings_reach_the_engine():
    settings = Settings.from_env({"TRIAGE_DATABASE_URL": "postgresql+psycopg://u@db.invalid/x",
                                  "TRIAGE_DB_POOL_SIZE": "3", "TRIAGE_DB_MAX_OVERFLOW": "0",
                                  "TRIAGE_DB_POOL_TIMEOUT_SECONDS": "7"}, env_file=None)
    database = Database.from_settings(settings)
    try:
        assert database.engine.pool.size() == 3
        assert database.engine.pool._max_overflow == 0
        assert database.engine.pool._timeout == 7
    finally:
        database.dispose()


@pytest.mark.parametrize(("key", "value", "message"), [
    ("TRIAGE_DB_POOL_SIZE", "0", "TRIAGE_DB_POOL_SIZE must be between 1 and 500"),
    ("TRIAGE_DB_MAX_OVERFLOW", "-1", "TRIAGE_DB_MAX_OVERFLOW must be between 0 and 500"),
    ("TRIAGE_DB_POOL_TIMEOUT_SECONDS", "0", "TRIAGE_DB_POOL_TIMEOUT_SECONDS must be between"),
    ("TRIAGE_DB_PREPARE_THRESHOLD", "-2", "TRIAGE_DB_PREPARE_THRESHOLD must be 0"),
    ("TRIAGE_DB_POOL_SIZE", "ten", "TRIAGE_DB_POOL_SIZE must be a whole number"),
])
def test_a_bad_pool_setting_is_refused_by_name(key, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({key: value}, env_file=None)


@pytest.mark.postgres
@pytest.mark.parametrize(("threshold", "prepared"), [(0, False), (2, True)])
def test_prepare_threshold_zero_never_prepares_on_the_server(postgres_server_url, threshold,
                                                             prepared):
    """Behind PgBouncer in transaction mode (before 1.21) a statement prepared on one server
    connection is missing on the next: with 0 nothing is ever prepared."""
    database = Database(postgres_server_url, prepare_threshold=threshold)
    try:
        with database.engine.connect() as conn:
            for _ in range(5):
                conn.execute(text("SELECT count(*) FROM user_account WHERE id > :n"), {"n": 0})
            names = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        assert (names > 0) is prepared
    finally:
        database.dispose()
