"""user administration

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Administrators manage accounts in the web app (issue 12). An account gains a generation
(bumped by every administrative change; processes re-check it before trusting a remembered
API token, so deactivation and revocation take effect at once everywhere), a flag that
forces a new password after a one-time password, and the moment its failed sign-ins were
cleared (an unlock). Password resets are rows of their own: the link's token is stored only
as its SHA-256.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import triage.models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('failures_cleared_at',
                                      triage.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
    op.create_table(
        'password_reset',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('created_at', triage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', triage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', triage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('ended_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_user_id'), ['user_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_user_id'))
    op.drop_table('password_reset')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('failures_cleared_at')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('generation')
