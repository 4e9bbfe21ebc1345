"""worklist indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

A team's worklist (GET /api/v1/cases, the web's team cases and the hub queue) reads one
team's open cases soonest due first: an index on (service, instance, closed_at, next_due_at)
hands them over in that order, so a page is read without sorting the team's every open case.
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.create_index('ix_case_team_open_due',
                              ['service', 'instance', 'closed_at', 'next_due_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index('ix_case_team_open_due')
