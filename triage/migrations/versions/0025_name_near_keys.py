"""family names one edit apart, by keys: a GIN index for a typo with no date of birth

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04

Candidate search for a person with no date of birth reads one block for the family name typed
with a slip, among people of the same given name. 0024 answered it with a GiST index over
(profile, given name, family name trigrams): for a common name at a million people that scan
took 8-13 ms to find nothing (`bench/matching.py`, the slowest eighth of probes). This
replaces it with exact keys: `name_near_keys(given, family)` gives "given family" and
"given family-less-one-letter" for each letter (a deletion neighbourhood), and two family
names one letter dropped, added, changed or two swapped share at least one key ("Cowalski"
and "Kowalski" share "owalski"). A GIN index on those keys finds the people holding them in
about 0.2 ms; leaving out those with the family name typed (the other blocks read them) then
takes 1-2.5 ms for the commonest given and family name at 1M (365 people). PostgreSQL only,
like the trigram indexes of 0013; SQLite reads the same blocks without it. The index is about
190 MB at a million people and builds in about 35 s, holding a write lock on `person` while
it builds (on a large live database, create the function and then the index CONCURRENTLY by
hand first: README, "Running it in production").
"""
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

NAME = 'ix_person_name_near'
# IMMUTABLE, so an index may be built on it; STRICT: a person with no given or family name
# has no keys (and is not in the index).
FUNCTION = """
CREATE OR REPLACE FUNCTION name_near_keys(given text, family text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_agg(DISTINCT given || ' ' || variant)
  FROM (SELECT family AS variant
        UNION ALL
        SELECT overlay(family PLACING '' FROM i FOR 1)
        FROM generate_series(1, length(family)) AS i) AS variants
$$
"""
OLD = 'ix_person_given_family_gist'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FUNCTION)
        op.execute(f'CREATE INDEX IF NOT EXISTS {NAME} ON person USING gin '
                   '(name_near_keys(given_name_key, family_name_key))')
        op.drop_index(OLD, table_name='person', if_exists=True)
        # The planner needs the expression's statistics to prefer the index to a scan.
        op.execute('ANALYZE person')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index(OLD, 'person', ['profile_id', 'given_name_key', 'family_name_key'],
                        unique=False, postgresql_using='gist',
                        postgresql_ops={'family_name_key': 'gist_trgm_ops'})
        op.execute(f'DROP INDEX IF EXISTS {NAME}')
        op.execute('DROP FUNCTION IF EXISTS name_near_keys(text, text)')
