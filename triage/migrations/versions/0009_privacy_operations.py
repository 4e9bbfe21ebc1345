"""privacy operations

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

UK GDPR operations: restrictions naming the users who may see a person's record, the history
of rectified person fields (old and new values), retention reviews (what was due, what was
done) and when a person, household or referral was anonymised.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import triage.models.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
UTC = triage.models.base.UTCDateTime
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('record_restriction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('reason', S(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('set_at', UTC(timezone=True), nullable=False),
    sa.Column('lifted_at', UTC(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_reason', S(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['set_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('record_restriction', schema=None) as batch_op:
        batch_op.create_index('ix_record_restriction_active', ['lifted_at', 'person_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_record_restriction_person_id'), ['person_id'],
                              unique=False)
    op.create_table('record_restriction_user',
    sa.Column('restriction_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['restriction_id'], ['record_restriction.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('restriction_id', 'user_id')
    )
    op.create_table('person_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('field', S(length=64), nullable=False),
    sa.Column('old_value', S(), nullable=True),
    sa.Column('new_value', S(), nullable=True),
    sa.Column('reason', S(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('person_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_change_person_id'), ['person_id'],
                              unique=False)
    op.create_table('retention_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTC(timezone=True), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('profile_version', S(length=64), nullable=False),
    sa.Column('due', JSON, nullable=False),
    sa.Column('counts', JSON, nullable=False),
    sa.Column('confirmed_at', UTC(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('result', JSON, nullable=False),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('retention_review', schema=None) as batch_op:
        batch_op.create_index('ix_retention_review_status', ['status', 'created_at'],
                              unique=False)
    for table in ('person', 'household', 'referral'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('anonymised_at', UTC(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ('referral', 'household', 'person'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('anonymised_at')
    with op.batch_alter_table('retention_review', schema=None) as batch_op:
        batch_op.drop_index('ix_retention_review_status')
    op.drop_table('retention_review')
    with op.batch_alter_table('person_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_change_person_id'))
    op.drop_table('person_change')
    op.drop_table('record_restriction_user')
    with op.batch_alter_table('record_restriction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_restriction_person_id'))
        batch_op.drop_index('ix_record_restriction_active')
    op.drop_table('record_restriction')
