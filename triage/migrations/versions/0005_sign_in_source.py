"""sign-in attempts by source

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Failed sign-ins are capped per account and per (account, source address): one address that
guesses wrong is stopped after a few tries without locking the account's owner out
everywhere. The address is stored only as an HMAC with the app's secret. (No index: the
count reads an account's last hour through ix_sign_in_attempt_user_at and filters there.)
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.drop_column('source')
