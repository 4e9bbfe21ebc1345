"""people and households carry their profile

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Issue 13: matching never links across council profiles. Each person and household carries the
profile id it was recorded under (NOT NULL). The rows already stored were all recorded under
the one profile this deployment runs, so they get the configured profile's id: TRIAGE_PROFILE
(from the environment or .env, as the service reads it; default leicestershire), or the `id`
in that folder's profile.yaml when the setting is a path. The two composite indexes a block or
the exact match reads in order (names, then year or date of birth) are led by the profile.
"""
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

PROFILES = Path(__file__).resolve().parents[3] / 'config' / 'profiles'
TABLES = ('person', 'household')


def configured_profile_id() -> str:
    """The id of the profile the service is configured to run (what Runtime.profile.id is)."""
    from config.settings import Settings

    name = Settings.from_env().profile
    folder = Path(name)
    if not (folder.is_dir() and (folder / 'profile.yaml').exists()):
        folder = PROFILES / name
    meta_file = folder / 'profile.yaml'
    meta = yaml.safe_load(meta_file.read_text()) if meta_file.exists() else None
    return str(meta.get('id', folder.name)) if isinstance(meta, dict) else folder.name


def upgrade() -> None:
    profile_id = configured_profile_id()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('profile_id', sa.String(length=64), nullable=True))
        op.get_bind().execute(sa.text(f"UPDATE {table} SET profile_id = :p"),  # noqa: S608
                              {"p": profile_id})
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('profile_id', existing_type=sa.String(length=64),
                                  nullable=False)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_sound')
        batch_op.drop_index('ix_person_match')
        batch_op.create_index('ix_person_sound', ['profile_id', 'family_name_sound',
                                                  'given_name_sound', 'birth_year'],
                              unique=False)
        batch_op.create_index('ix_person_match', ['profile_id', 'family_name_key',
                                                  'date_of_birth'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_match')
        batch_op.drop_index('ix_person_sound')
        batch_op.create_index('ix_person_match', ['family_name_key', 'date_of_birth'],
                              unique=False)
        batch_op.create_index('ix_person_sound',
                              ['family_name_sound', 'given_name_sound', 'birth_year'],
                              unique=False)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('profile_id')
