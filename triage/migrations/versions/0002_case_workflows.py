"""case workflows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Case workflows (issue 4): when the escalation sweep next has something to escalate on a
case (indexed, so the sweep reads only those cases); the link from a case event to the
referral it opened (step-up / step-down, one per event); and email delivery bookkeeping on
notifications (claimed, attempts, last error).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import triage.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_due_at',
                                      triage.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_case_escalation_due', ['escalation_due_at'], unique=False)

    op.create_table('case_referral_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('case_event_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', triage.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_event_id'], ['case_event.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_event_id', name='uq_case_referral_link_event')
    )
    with op.batch_alter_table('case_referral_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_referral_link_case_id'), ['case_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_case_referral_link_referral_id'), ['referral_id'],
                              unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_claimed_at',
                                      triage.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('email_attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('email_error',
                                      sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))
        # The mail sweep reads notifications that have an address and are not yet sent.
        batch_op.create_index('ix_notification_unsent', ['sent_at', 'created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_unsent')
        batch_op.drop_column('email_error')
        batch_op.drop_column('email_attempts')
        batch_op.drop_column('email_claimed_at')

    with op.batch_alter_table('case_referral_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_referral_link_referral_id'))
        batch_op.drop_index(batch_op.f('ix_case_referral_link_case_id'))
    op.drop_table('case_referral_link')

    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index('ix_case_escalation_due')
        batch_op.drop_column('escalation_due_at')
