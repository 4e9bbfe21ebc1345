"""audit viewer and per-user notification reads

Revision ID: 0015
Revises: 0018
Create Date: 2026-12-02

Issue 15: the audit viewer reads audit events newest first, alone or by person, user, record,
action or date; each filter gets an index in (at, id) order so a page is a keyset read with no
sort. Each event now names the page or endpoint it happened on (its route pattern, never the
path). A team's notifications are shared, so whether one has been read is kept per user.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import triage.models.base

revision = '0015'
down_revision = '0018'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
UTC = triage.models.base.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('route', S(length=200), nullable=True))
        batch_op.drop_index('ix_audit_event_actor_id')
        batch_op.drop_index('ix_audit_object')
        batch_op.create_index('ix_audit_object', ['object_type', 'object_id', 'at', 'id'],
                              unique=False)
        batch_op.create_index('ix_audit_at', ['at', 'id'], unique=False)
        batch_op.create_index('ix_audit_actor_at', ['actor_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_action_at', ['action', 'at', 'id'], unique=False)
    op.create_table('notification_read',
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('notification_id', 'user_id')
    )
    op.create_index('ix_notification_read_user', 'notification_read',
                    ['user_id', 'notification_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notification_read_user', table_name='notification_read')
    op.drop_table('notification_read')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_action_at')
        batch_op.drop_index('ix_audit_actor_at')
        batch_op.drop_index('ix_audit_at')
        batch_op.drop_index('ix_audit_object')
        batch_op.create_index('ix_audit_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_audit_event_actor_id', ['actor_id'], unique=False)
        batch_op.drop_column('route')
