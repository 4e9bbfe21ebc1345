"""a GiST index for a family name typed with a typo and no date of birth

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

Candidate search for a person with no date of birth reads one block by family names alike by
trigrams among people of the same given name. Through the GIN trigram index PostgreSQL reads
every family name sharing trigrams with the one typed (thousands at a million people) and
intersects them with the given name's rows: the slowest block of the slowest probes
(`bench/matching.py`, 1,000,000 people: no-date-of-birth probes p95 about 40 ms). A GiST
index over (profile, given name, family name trigrams) answers the equality and the trigram
test in one index scan (p95 about 17 ms). PostgreSQL only; it needs the btree_gist extension
(shipped with PostgreSQL, like pg_trgm; a role allowed to create it, or a DBA runs
`CREATE EXTENSION btree_gist` once). SQLite has no trigram search and reads the same blocks
without it.
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

NAME = 'ix_person_given_family_gist'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        op.create_index(NAME, 'person', ['profile_id', 'given_name_key', 'family_name_key'],
                        unique=False, postgresql_using='gist',
                        postgresql_ops={'family_name_key': 'gist_trgm_ops'})


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index(NAME, table_name='person')
