"""re-referral flag

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

A referral for a family with a case closed within the profile's front_door.re_referral_months
is a re-referral (issue 13). Intake works it out once and keeps it on the referral: the case
and when it closed, so reports count re-referrals per period without recomputing. The check
reads a household's cases closed since a moment: an index on (household_id, closed_at). The
case id is not a foreign key (case_record already refers to referral: a cycle).
Referrals received before this revision are not flagged.
"""
import sqlalchemy as sa
from alembic import op

import triage.models.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('re_referral_of_case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('re_referral_closed_at',
                                      triage.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
    op.create_index('ix_case_household_closed', 'case_record', ['household_id', 'closed_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_household_closed', table_name='case_record')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_column('re_referral_closed_at')
        batch_op.drop_column('re_referral_of_case_id')
