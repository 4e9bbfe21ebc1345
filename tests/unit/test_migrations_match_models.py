"""The schema the migrations build is the schema the models declare (no autogenerate drift)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import triage.models  # noqa: F401  (registers every table on the metadata)

# PostgreSQL-only indexes: migration 0013's pg_trgm GIN on the folded names and 0025's GIN on
# the names' deletion keys (an expression index): SQLite can hold no such index, so the models
# do not declare them; everything else is compared.
POSTGRES_ONLY_INDEXES = {"ix_person_family_trgm", "ix_person_given_trgm", "ix_person_name_near"}


def _compared(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_freshly_migrated_database_matches_the_models(database_url):
    # The same comparison `alembic revision --autogenerate` makes (triage/migrations/env.py
    # compares types too). Nothing else is ignored on either database: every table, column,
    # type, index and constraint the models declare is one SQLite can hold as well.
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                "include_object": _compared})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == [], ("the migrations and the models differ; declare on the model "
                               f"what a migration made, or add a migration: {differences}")
