"""report tallies

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-03

Reports for managers and commissioners (issue 15) read monthly tallies recounted by the
periodic sweep, so that every report costs the same with a million referrals as with fifty:
report_tally (fact, month, dimension, member, bucket, n) and report_refresh (when the tallies
were last recounted, shown on every report).
"""
import sqlalchemy as sa
from alembic import op

from triage.models.base import UTCDateTime

revision = '0021'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_tally',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('fact', sa.String(length=64), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('dimension', sa.String(length=32), nullable=False),
        sa.Column('member', sa.String(length=200), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_report_tally_read', 'report_tally', ['dimension', 'fact', 'month'])
    op.create_table(
        'report_refresh',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('refreshed_at', UTCDateTime(), nullable=False),
        sa.Column('took_ms', sa.Integer(), nullable=False),
        sa.Column('tallies', sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('report_refresh')
    op.drop_index('ix_report_tally_read', table_name='report_tally')
    op.drop_table('report_tally')
