"""web security

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Web app sessions and sign-in security (issue 5): fill in
    pass


def downgrade() -> None:
    pass
