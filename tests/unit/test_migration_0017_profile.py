"""Migration 0017 records the people and households already stored under the profile the
service is configured to run (TRIAGE_PROFILE, a name or a folder whose profile.yaml gives the
id); downgrading drops the column again. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import create_engine, inspect, text

from tests.level_variants import copy_profile
from tests.unit.test_migration_0013_backfill import empty_database  # noqa: F401  (fixture)
from triage.migrations import downgrade, upgrade


def _stored_before_0017(engine) -> None:
    upgrade(engine, "0016")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO household (id, postcode, sector, created_at) VALUES "
                          "(1, 'LE11 2AB', 'LE11 2', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO person (id, given_name, family_name, date_of_birth, "
                          "created_at) VALUES (1, 'Tom', 'Reed', '2016-05-04', "
                          "'2026-01-01 00:00:00')"))


def _profiles(engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        return {(table, row[0]) for table in ("person", "household")
                for row in conn.execute(text(f"SELECT profile_id FROM {table}"))}  # noqa: S608


@pytest.mark.parametrize("configured", ["default", "folder"])
def test_rows_stored_before_0017_get_the_configured_profile(empty_database, tmp_path,  # noqa: F811
                                                             monkeypatch, configured):
    if configured == "folder":
        folder = copy_profile(tmp_path, "some-folder")
        meta = yaml.safe_load((folder / "profile.yaml").read_text(encoding="utf-8"))
        meta["id"] = "elsewhere"
        (folder / "profile.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
        monkeypatch.setenv("TRIAGE_PROFILE", str(folder))
        expected = "elsewhere"
    else:
        monkeypatch.delenv("TRIAGE_PROFILE", raising=False)
        expected = "leicestershire"
    engine = create_engine(empty_database)
    try:
        _stored_before_0017(engine)
        upgrade(engine, "0017")
        assert _profiles(engine) == {("person", expected), ("household", expected)}
        columns = {c["name"]: c for c in inspect(engine).get_columns("person")}
        assert columns["profile_id"]["nullable"] is False
        downgrade(engine, "0016")
        assert "profile_id" not in {c["name"] for c in inspect(engine).get_columns("person")}
    finally:
        engine.dispose()
