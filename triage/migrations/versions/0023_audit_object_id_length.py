"""audit object ids long enough for a service instance

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

An audit event about a service instance names it `service:instance`, and each id may be 64
characters: `audit_event.object_id` grows from 64 to 160 characters (on PostgreSQL a wider
varchar needs no rewrite of the table or its indexes).
"""
import sqlmodel
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('object_id', existing_type=S(length=64), type_=S(length=160),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('object_id', existing_type=S(length=160), type_=S(length=64),
                              existing_nullable=False)
