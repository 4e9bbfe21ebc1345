"""record merges

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Issue 13: staff merge two person records (or two household records) into one, and may undo
it. The merged record is kept, marked with the record it was merged into; record_merge keeps
who, when, why and every row the merge changed or removed, so an undo restores both records
exactly.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import triage.models.base

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
UTC = triage.models.base.UTCDateTime
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    for table in ('person', 'household'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('merged_at', UTC(timezone=True), nullable=True))
            batch_op.create_foreign_key(f'fk_{table}_merged_into', table, ['merged_into_id'],
                                        ['id'])
    op.create_table('record_merge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', S(length=16), nullable=False),
    sa.Column('merged_id', sa.Integer(), nullable=False),
    sa.Column('survivor_id', sa.Integer(), nullable=False),
    sa.Column('reason', S(), nullable=False),
    sa.Column('merged_by_id', sa.Integer(), nullable=True),
    sa.Column('merged_at', UTC(timezone=True), nullable=False),
    sa.Column('snapshot', JSON, nullable=False),
    sa.Column('note', S(), nullable=True),
    sa.Column('undone_at', UTC(timezone=True), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.Column('undo_reason', S(), nullable=True),
    sa.ForeignKeyConstraint(['merged_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['undone_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_record_merge_merged', 'record_merge', ['kind', 'merged_id'],
                    unique=False)
    op.create_index('ix_record_merge_survivor', 'record_merge', ['kind', 'survivor_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_record_merge_survivor', table_name='record_merge')
    op.drop_index('ix_record_merge_merged', table_name='record_merge')
    op.drop_table('record_merge')
    for table in ('household', 'person'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_merged_into', type_='foreignkey')
            batch_op.drop_column('merged_at')
            batch_op.drop_column('merged_into_id')
