"""blocking keys

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Issue 13: the keys candidates are found by, stored on write so that every candidate query
reads an index: each person's year of birth and SHA-256 hashes of their phone number and
email address (the indexes hold no readable contact), filled in for the people already known
in batches; the sound index gains the year of birth; the household's sector and district are
indexed. On PostgreSQL the pg_trgm extension and trigram (GIN) indexes on both folded names,
for names a typo has given another sound. pg_trgm needs a role allowed to create it (or a DBA
runs `CREATE EXTENSION pg_trgm` once).
"""
import hashlib
import re

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
BATCH = 5000
TRIGRAM_INDEXES = (('ix_person_family_trgm', 'family_name_key'),
                   ('ix_person_given_trgm', 'given_name_key'))


# The normalising of triage.schemas.contact.uk_phone_key and triage.linkage.compare as they
# are at this revision, frozen here so that this migration always fills in what it did.
def _uk_phone(raw):
    if not raw:
        return None
    compact = re.sub(r"[\s\-().]", "", str(raw).strip().replace("(0)", ""))
    if compact.startswith("+44"):
        compact = "0" + compact[3:]
    elif compact.startswith("0044"):
        compact = "0" + compact[4:]
    return compact if re.fullmatch(r"0[1235789]\d{8,9}", compact) else None


def _compared_phone(raw):
    digits = re.sub(r"\D", "", raw or "")
    if (raw or "").strip().startswith("+44") or digits.startswith("0044"):
        digits = "0" + digits[2:] if not digits.startswith("0044") else "0" + digits[4:]
    return digits if len(digits) >= 7 else None


def _sha256(text):
    return hashlib.sha256(text.encode()).hexdigest() if text else None


def phone_hash(raw):
    return _sha256(_compared_phone(_uk_phone(raw) or raw))


def email_hash(raw):
    text = (raw or "").strip().lower()
    return _sha256(text if "@" in text else None)


def _backfill(bind) -> None:
    """Year of birth and contact hashes for every person not anonymised, BATCH ids at a time."""
    year = ("CAST(EXTRACT(YEAR FROM date_of_birth) AS INTEGER)" if bind.dialect.name ==
            "postgresql" else "CAST(strftime('%Y', date_of_birth) AS INTEGER)")
    low, high = bind.execute(sa.text("SELECT min(id), max(id) FROM person")).one()
    if low is None:
        return
    set_hashes = sa.text("UPDATE person SET phone_hash = :phone_hash, email_hash = :email_hash "
                         "WHERE id = :id")
    for start in range(low, high + 1, BATCH):
        bounds = {"low": start, "high": start + BATCH - 1}
        bind.execute(sa.text(f"UPDATE person SET birth_year = {year} WHERE id BETWEEN :low AND "
                             ":high AND anonymised_at IS NULL"), bounds)
        rows = bind.execute(sa.text(
            "SELECT id, phone, email FROM person WHERE id BETWEEN :low AND :high "
            "AND anonymised_at IS NULL AND (phone IS NOT NULL OR email IS NOT NULL)"),
            bounds).all()
        hashes = [{"id": r.id, "phone_hash": phone_hash(r.phone), "email_hash": email_hash(r.email)}
                  for r in rows]
        if hashes:
            bind.execute(set_hashes, hashes)


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('phone_hash', S(length=64), nullable=True))
        batch_op.add_column(sa.Column('email_hash', S(length=64), nullable=True))
        batch_op.drop_index('ix_person_sound')
        batch_op.drop_index('ix_person_given')
        batch_op.drop_index('ix_person_phone')
    _backfill(op.get_bind())
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_sound',
                              ['family_name_sound', 'given_name_sound', 'birth_year'],
                              unique=False)
        batch_op.create_index('ix_person_given_year', ['given_name_key', 'birth_year'],
                              unique=False)
        batch_op.create_index('ix_person_phone_hash', ['phone_hash'], unique=False)
        batch_op.create_index('ix_person_email_hash', ['email_hash'], unique=False)
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_sector'), ['sector'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_district'), ['district'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for name, column in TRIGRAM_INDEXES:
            op.create_index(name, 'person', [column], unique=False, postgresql_using='gin',
                            postgresql_ops={column: 'gin_trgm_ops'})


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, _ in TRIGRAM_INDEXES:
            op.drop_index(name, table_name='person')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_district'))
        batch_op.drop_index(batch_op.f('ix_household_sector'))
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_email_hash')
        batch_op.drop_index('ix_person_phone_hash')
        batch_op.drop_index('ix_person_given_year')
        batch_op.drop_index('ix_person_sound')
        batch_op.create_index('ix_person_phone', ['phone_key'], unique=False)
        batch_op.create_index('ix_person_given', ['given_name_key', 'date_of_birth'],
                              unique=False)
        batch_op.create_index('ix_person_sound', ['family_name_sound', 'given_name_sound'],
                              unique=False)
        batch_op.drop_column('email_hash')
        batch_op.drop_column('phone_hash')
        batch_op.drop_column('birth_year')
