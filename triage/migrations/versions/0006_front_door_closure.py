"""front door closure

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

A referral the front door closes without a service (advice given, a duplicate, entered in
error...): when, why (a code of the profile's front_door.closures), the note and by whom.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import triage.models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', triage.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('closure', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=True))
        batch_op.add_column(sa.Column('closure_note', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
        batch_op.add_column(sa.Column('closed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_referral_closed_by_id_user_account', 'user_account',
                                    ['closed_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_constraint('fk_referral_closed_by_id_user_account', type_='foreignkey')
        batch_op.drop_column('closed_by_id')
        batch_op.drop_column('closure_note')
        batch_op.drop_column('closure')
        batch_op.drop_column('closed_at')
