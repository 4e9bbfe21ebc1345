"""match decisions and review queue

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Issue 13: a person's answer that two person records are (or are not) one person, kept so the
pair is never asked again; and the queue of pairs waiting for staff ("check who this is"), from
partners' and the public's referrals and from the nightly duplicate finder. Pairs are stored
lower id first, so one pair has one row whichever record came first.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import triage.models.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
UTC = triage.models.base.UTCDateTime
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('match_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('other_person_id', sa.Integer(), nullable=False),
    sa.Column('same', sa.Boolean(), nullable=False),
    sa.Column('source', S(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTC(timezone=True), nullable=False),
    sa.CheckConstraint('person_id < other_person_id', name='ck_match_decision_order'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['other_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'other_person_id', name='uq_match_decision_pair')
    )
    op.create_index('ix_match_decision_other', 'match_decision', ['other_person_id'],
                    unique=False)
    op.create_table('match_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('other_person_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('source', S(length=24), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('band', S(length=16), nullable=False),
    sa.Column('comparisons', JSON, nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('created_at', UTC(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTC(timezone=True), nullable=True),
    sa.CheckConstraint('person_id < other_person_id', name='ck_match_review_order'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['other_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'other_person_id', name='uq_match_review_pair')
    )
    op.create_index('ix_match_review_open', 'match_review', ['status', 'created_at', 'id'],
                    unique=False)
    op.create_index('ix_match_review_other', 'match_review', ['other_person_id'], unique=False)
    op.create_index(op.f('ix_match_review_referral_id'), 'match_review', ['referral_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_match_review_referral_id'), table_name='match_review')
    op.drop_index('ix_match_review_other', table_name='match_review')
    op.drop_index('ix_match_review_open', table_name='match_review')
    op.drop_table('match_review')
    op.drop_index('ix_match_decision_other', table_name='match_decision')
    op.drop_table('match_decision')
