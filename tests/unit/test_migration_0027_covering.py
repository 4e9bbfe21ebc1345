"""Migration 0027 makes candidate search's two broad indexes covering on PostgreSQL; an index a
DBA built beforehand (CONCURRENTLY, as `<name>_new`) is swapped in rather than built again, and
a downgrade puts the plain indexes back. SQLite keeps the plain indexes throughout."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.unit.test_migration_0013_backfill import empty_database  # noqa: F401  (fixture)
from triage.migrations import downgrade, upgrade

NAMES = ("ix_person_given_year", "ix_person_dob")


def _indexes(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'person' "
            "AND (indexname LIKE 'ix_person_given_year%' OR indexname LIKE 'ix_person_dob%')"
        )).all())


@pytest.mark.parametrize("empty_database", ["postgres"], indirect=True)
def test_a_prebuilt_index_is_swapped_in_and_a_downgrade_restores_the_plain_ones(
        empty_database):  # noqa: F811
    engine = create_engine(empty_database)
    try:
        upgrade(engine, "0026")
        with engine.begin() as conn:
            conn.execute(text("CREATE INDEX ix_person_dob_new ON person (date_of_birth) "
                              "INCLUDE (id, given_name_key)"))  # the DBA's, built beforehand
        upgrade(engine, "0027")
        found = _indexes(engine)
        assert set(found) == set(NAMES)  # no `_new` index left behind
        assert found["ix_person_dob"].endswith("INCLUDE (id, given_name_key)")  # theirs, kept
        assert "INCLUDE (id, profile_id, date_of_birth, family_name_sound, family_name_key, " \
               "given_name_sound)" in found["ix_person_given_year"]
        downgrade(engine, "0026")
        assert {name: "INCLUDE" in sql for name, sql in _indexes(engine).items()} == {
            name: False for name in NAMES}
    finally:
        engine.dispose()


@pytest.mark.parametrize("empty_database", ["sqlite"], indirect=True)
def test_on_sqlite_the_indexes_stay_plain(empty_database):  # noqa: F811
    engine = create_engine(empty_database)
    try:
        upgrade(engine, "0027")
        columns = {index["name"]: index["column_names"]
                   for index in inspect(engine).get_indexes("person")}
        assert columns["ix_person_given_year"] == ["given_name_key", "birth_year"]
        assert columns["ix_person_dob"] == ["date_of_birth"]
    finally:
        engine.dispose()
