"""level codes on decisions

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

Levels are a council profile's data (issue 14): a decision keeps `level`, the level's number
on the continuum, and adds `level_code`, the profile's code for it ("4" in Leicestershire;
"4a", "4b", "adult" in Lancashire). Until now every level was a whole number, so existing
decisions get their number as their code.
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level_code', sa.String(length=16), nullable=True))
    op.execute("UPDATE decision SET level_code = CAST(level AS VARCHAR(16))")
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.alter_column('level_code', existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('level_code')
