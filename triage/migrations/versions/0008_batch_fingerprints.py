"""batch fingerprints

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

The fingerprint of each CSV batch recorded (SHA-256 of the file without a BOM, line endings
normalised), with who sent it, its count and references: the same file sent again by the
same organisation (or user) within 30 days is refused unless confirmed.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import triage.models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batch_fingerprint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('references', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()),
                                                    'postgresql'), nullable=False),
    sa.Column('sent_at', triage.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batch_fingerprint', schema=None) as batch_op:
        batch_op.create_index('ix_batch_fingerprint_sender',
                              ['sender', 'fingerprint', 'sent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('batch_fingerprint', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_fingerprint_sender')
    op.drop_table('batch_fingerprint')
