"""service directory: imported partner services, capacity status, onward connections

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

Issue 16: partners' Open Referral UK services loaded by `triage directory import` (their
organisations and each import), the capacity status a team's managers set per service
instance, and the onward connections a case records (First Contact Plus), by organisation.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import triage.models.base

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
UTC = triage.models.base.UTCDateTime
JSON = triage.models.base.JSONType


def upgrade() -> None:
    op.create_table('directory_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', S(length=200), nullable=False),
    sa.Column('format', S(length=16), nullable=False),
    sa.Column('services', sa.Integer(), nullable=False),
    sa.Column('organisations', sa.Integer(), nullable=False),
    sa.Column('imported_at', UTC(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('directory_organisation',
    sa.Column('id', S(length=36), nullable=False),
    sa.Column('name', S(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('website', S(length=500), nullable=True),
    sa.Column('email', S(length=254), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['directory_import.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('directory_service',
    sa.Column('id', S(length=36), nullable=False),
    sa.Column('organisation_id', S(length=36), nullable=False),
    sa.Column('name', S(length=300), nullable=False),
    sa.Column('status', S(length=32), nullable=False),
    sa.Column('assured_date', sa.Date(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('document', JSON, nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['directory_import.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['directory_organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_directory_service_name', 'directory_service', ['name'], unique=False)
    op.create_index(op.f('ix_directory_service_organisation_id'), 'directory_service',
                    ['organisation_id'], unique=False)
    op.create_table('capacity_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', S(length=64), nullable=False),
    sa.Column('instance', S(length=64), nullable=False),
    sa.Column('code', S(length=40), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('set_at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service', 'instance', name='uq_capacity_instance')
    )
    op.create_table('onward_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('case_event_id', sa.Integer(), nullable=False),
    sa.Column('service_id', S(length=36), nullable=True),
    sa.Column('organisation_id', S(length=36), nullable=True),
    sa.Column('organisation', S(length=300), nullable=False),
    sa.Column('need', sa.Text(), nullable=False),
    sa.Column('made_at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_event_id'], ['case_event.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_onward_connection_case_id'), 'onward_connection', ['case_id'],
                    unique=False)
    op.create_index('ix_onward_connection_org', 'onward_connection',
                    ['organisation_id', 'made_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_onward_connection_org', table_name='onward_connection')
    op.drop_index(op.f('ix_onward_connection_case_id'), table_name='onward_connection')
    op.drop_table('onward_connection')
    op.drop_table('capacity_status')
    op.drop_index(op.f('ix_directory_service_organisation_id'), table_name='directory_service')
    op.drop_index('ix_directory_service_name', table_name='directory_service')
    op.drop_table('directory_service')
    op.drop_table('directory_organisation')
    op.drop_table('directory_import')
