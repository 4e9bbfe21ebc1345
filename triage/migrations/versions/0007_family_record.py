"""family record

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Contact details and identity per person (phone, email, preferred contact, safe to contact,
language, NHS number, sex, ethnicity) with the keys search uses; the household's address;
the referrer's phone; a case's named worker and the case that opened it.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import triage.models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
PERSON_COLUMNS = [
    ('family_name_sound', S(length=16)), ('given_name_sound', S(length=16)),
    ('phone', S(length=32)), ('phone_key', S(length=16)), ('email', S(length=254)),
    ('preferred_contact', S(length=16)), ('safe_to_contact', sa.Boolean()),
    ('safe_contact_notes', S()), ('language', S(length=64)), ('interpreter', sa.Boolean()),
    ('nhs_number', S(length=10)), ('sex', S(length=16)), ('ethnicity', S(length=64)),
    ('contact_updated_at', triage.models.base.UTCDateTime(timezone=True)),
]
PERSON_INDEXES = [
    ('ix_person_sound', ['family_name_sound', 'given_name_sound']),
    ('ix_person_given', ['given_name_key', 'date_of_birth']),
    ('ix_person_dob', ['date_of_birth']),
    ('ix_person_phone', ['phone_key']),
    ('ix_person_nhs', ['nhs_number']),
]


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        for name, type_ in PERSON_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        for name, columns in PERSON_INDEXES:
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_line1', S(length=200), nullable=True))
        batch_op.add_column(sa.Column('address_line2', S(length=200), nullable=True))
        batch_op.add_column(sa.Column('town', S(length=100), nullable=True))
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referrer_phone', S(length=32), nullable=True))
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source_case_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_case_record_worker_id_user_account', 'user_account',
                                    ['worker_id'], ['id'])
        batch_op.create_foreign_key('fk_case_record_source_case_id_case_record', 'case_record',
                                    ['source_case_id'], ['id'])
        batch_op.create_index('ix_case_worker_open', ['worker_id', 'closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_record_source_case_id'), ['source_case_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_record_source_case_id'))
        batch_op.drop_index('ix_case_worker_open')
        batch_op.drop_constraint('fk_case_record_source_case_id_case_record', type_='foreignkey')
        batch_op.drop_constraint('fk_case_record_worker_id_user_account', type_='foreignkey')
        batch_op.drop_column('source_case_id')
        batch_op.drop_column('worker_id')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_column('referrer_phone')
    with op.batch_alter_table('household', schema=None) as batch_op:
        for name in ('town', 'address_line2', 'address_line1'):
            batch_op.drop_column(name)
    with op.batch_alter_table('person', schema=None) as batch_op:
        for name, _ in reversed(PERSON_INDEXES):
            batch_op.drop_index(name)
        for name, _ in reversed(PERSON_COLUMNS):
            batch_op.drop_column(name)
