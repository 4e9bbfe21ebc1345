"""candidate search: the two broad blocks read their index only (PostgreSQL INCLUDE)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05

Two of candidate search's blocks read through a broad key and keep only the people whose
names or date could still reach a band (people/candidates.py, `blocks`): the same given name
and year of birth, and the same date of birth. At a million people a common given name and
year is about 140 people, each on its own heap page: that block alone took about 1.2 ms of a
search's 2.5 ms (EXPLAIN ANALYZE, `bench/matching.py`'s people). With the columns the blocks
filter on carried in the index (INCLUDE), PostgreSQL answers both from the index alone
(an index-only scan, no heap page), and the search took 0.9 ms. Each index grows from about
9 MB to about 80 MB at a million people (an index with INCLUDE columns is not deduplicated).

PostgreSQL only: SQLite keeps the plain indexes and reads the same blocks through them. The
new index is built as `<name>_new` and swapped in, so the old one serves until then; each
build holds a write lock on `person` for a few seconds at a million people. On a large live
database build them first by hand, `CREATE INDEX CONCURRENTLY IF NOT EXISTS
ix_person_given_year_new ON person (given_name_key, birth_year) INCLUDE (...)` with the
columns below (and ix_person_dob_new likewise): the upgrade then only swaps them in.
"""
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

# name: (key columns, the columns the block filters on and returns)
COVERING = {
    'ix_person_given_year': (
        ['given_name_key', 'birth_year'],
        ['id', 'profile_id', 'date_of_birth', 'family_name_sound', 'family_name_key',
         'given_name_sound']),
    'ix_person_dob': (
        ['date_of_birth'],
        ['id', 'profile_id', 'anonymised_at', 'family_name_sound', 'family_name_key',
         'given_name_sound']),
}


def _swap(name: str, keys: list[str], include: list[str]) -> None:
    """Build the index as `<name>_new` (unless a DBA already built it, CONCURRENTLY), then put
    it in the old one's place."""
    made = f'{name}_new'
    covering = f' INCLUDE ({", ".join(include)})' if include else ''
    op.execute(f'CREATE INDEX IF NOT EXISTS {made} ON person ({", ".join(keys)}){covering}')
    op.execute(f'DROP INDEX IF EXISTS {name}')
    op.execute(f'ALTER INDEX {made} RENAME TO {name}')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, (keys, include) in COVERING.items():
            _swap(name, keys, include)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, (keys, _) in COVERING.items():
            _swap(name, keys, [])
