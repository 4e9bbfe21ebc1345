"""Migration 0013 fills in the blocking keys of the people already known: a database with
people written at 0012 has each one's year of birth and contact hashes after upgrading, as
the service would have written them; anonymised people get none. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL
from triage.migrations import downgrade, upgrade
from triage.services.people.keys import person_keys

PEOPLE = [  # id, given, family, date of birth, phone, email, anonymised
    (1, "Priya", "Johnson", date(2015, 5, 31), "+44 7700 900123", "Mum@Example.org", None),
    (2, "Noah", "Patel", date(2014, 8, 12), "0116 496 0000", None, None),
    (3, "Gwen", "Smith", date(1932, 3, 1), None, "gwen@example.org", None),
    (4, None, None, date(2009, 1, 1), None, None, "2026-01-01 00:00:00"),
]
PERSON_ROWS = 12_000  # more than one batch of the backfill


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    request.getfixturevalue("postgres_server_url")  # skips when PostgreSQL is unreachable
    name = f"triage_migration_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_people_known_before_0013_get_their_keys(empty_database):
    engine = create_engine(empty_database)
    try:
        upgrade(engine, "0012")
        insert = text("INSERT INTO person (id, given_name, family_name, date_of_birth, phone, "
                      "email, anonymised_at, created_at) VALUES (:id, :g, :f, :d, :p, :e, :a, "
                      "'2026-01-01 00:00:00')")
        many = [{"id": 100 + i, "g": "Ann", "f": "Lee", "d": date(2000 + i % 20, 1, 2),
                 "p": None, "e": f"ann{i}@example.org", "a": None} for i in range(PERSON_ROWS)]
        with engine.begin() as conn:
            conn.execute(insert, [dict(zip(("id", "g", "f", "d", "p", "e", "a"), row,
                                           strict=True)) for row in PEOPLE] + many)
        upgrade(engine)
        with engine.connect() as conn:
            got = {r.id: r for r in conn.execute(text(
                "SELECT id, birth_year, phone_hash, email_hash FROM person"))}
        for pid, given, family, born, phone, email, anonymised in PEOPLE:
            row = got[pid]
            if anonymised:
                assert (row.birth_year, row.phone_hash, row.email_hash) == (None, None, None)
                continue
            keys = person_keys(given_name=given, family_name=family, date_of_birth=born,
                               phone=phone, email=email)
            assert (row.birth_year, row.phone_hash, row.email_hash) == \
                (keys["birth_year"], keys["phone_hash"], keys["email_hash"])
        last = got[100 + PERSON_ROWS - 1]
        assert last.birth_year == 2000 + (PERSON_ROWS - 1) % 20
        assert last.email_hash == person_keys(given_name=None, family_name=None,
                                              date_of_birth=None, phone=None,
                                              email=f"ann{PERSON_ROWS - 1}@example.org"
                                              )["email_hash"]
        downgrade(engine, "0012")  # and back: the columns and indexes go again
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM person")).scalar_one() == \
                len(PEOPLE) + PERSON_ROWS
    finally:
        engine.dispose()
