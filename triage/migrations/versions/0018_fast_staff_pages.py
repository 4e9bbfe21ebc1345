"""indexes for the staff pages at a million referrals

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-02

Issue 15: the front door's overdue list reads open cases soonest due first from a partial
index holding only open cases (most of a council's cases are closed); the hub queue and
meeting read one hub's cases in one state soonest due first from (service, instance, state,
next_due_at, id), instead of sorting every case in that state.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.create_index('ix_case_open_next_due', ['next_due_at', 'id'], unique=False,
                              postgresql_where=sa.text('closed_at IS NULL'),
                              sqlite_where=sa.text('closed_at IS NULL'))
        batch_op.create_index('ix_case_team_state_due',
                              ['service', 'instance', 'state', 'next_due_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index('ix_case_team_state_due')
        batch_op.drop_index('ix_case_open_next_due')
