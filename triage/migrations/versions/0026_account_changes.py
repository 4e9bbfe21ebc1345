"""every process hears of a change to an account or API token (NOTIFY)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04

A web process remembers which user holds an API token and, until now, re-read the account's
generation on every request before trusting it: one round trip before any work. These
triggers announce, on commit, every change to `user_account` and every revocation or removal
of an `api_token` on the channel `triage_account_changed` (triage/account_changes.py); each
process listens and forgets what it remembered. A trigger rather than the application's own
NOTIFY, so a change made by hand in SQL (an account disabled by a DBA) is heard too.
PostgreSQL only: SQLite is one file on one machine and its processes still read.
"""
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION triage_account_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('triage_account_changed', '');
  RETURN NULL;
END
$$
"""
# One notification per statement is enough: a listener forgets everything it remembers.
TRIGGERS = {
    'user_account_changed': 'AFTER UPDATE OR DELETE ON user_account',
    'api_token_revoked': 'AFTER UPDATE OF revoked_at, token_hash, user_id OR DELETE ON api_token',
}


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FUNCTION)
        for name, when in TRIGGERS.items():
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON {when.rsplit(" ", 1)[1]}')
            op.execute(f'CREATE TRIGGER {name} {when} '
                       'FOR EACH STATEMENT EXECUTE FUNCTION triage_account_changed()')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, when in TRIGGERS.items():
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON {when.rsplit(" ", 1)[1]}')
        op.execute('DROP FUNCTION IF EXISTS triage_account_changed()')
