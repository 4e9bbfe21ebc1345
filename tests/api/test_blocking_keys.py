"""The blocking keys candidates are found by are written wherever a person's names, date of
birth or contact change: a new person from intake, new contact at a later referral, a
correction; anonymising clears them. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlmodel import select

from triage.models import Person
from triage.models.base import utcnow
from triage.services.people.keys import KEY_COLUMNS
from triage.services.privacy.retention import anonymise_person

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
PRIYA = {"ref": "c1", "role": "subject", "given_name": "Priya", "family_name": "O'Neil",
         "date_of_birth": "2015-05-31",
         "contact": {"phone": "+44 7700 900123", "email": "Mum@Example.org"}}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _priya(rt) -> Person:
    with rt.db.reader() as session:
        return session.exec(select(Person).where(Person.given_name == "Priya")).one()


@pytest.fixture
def sent(client, auth, referral_body):
    headers = auth("front_door")
    response = client.post("/api/v1/referrals", headers=headers,
                           json=referral_body(people=[PRIYA], postcode="LE11 2AB"))
    assert response.status_code == 201, response.json
    return headers


@both_databases
def test_intake_stores_the_year_of_birth_and_contact_only_as_hashes(sent, rt):
    priya = _priya(rt)
    assert (priya.family_name_key, priya.family_name_sound, priya.birth_year) == \
        ("oneil", "o54", 2015)
    # Hashed as the scorer compares them: national digits, trimmed lower-case email.
    assert priya.phone_hash == _sha("07700900123")
    assert priya.email_hash == _sha("mum@example.org")
    assert "7700" not in priya.phone_hash and "example" not in priya.email_hash


@both_databases
def test_a_later_referral_with_a_new_email_replaces_its_hash(client, sent, rt, referral_body):
    again = {**PRIYA, "contact": {"email": "priya.new@example.org"}}
    response = client.post("/api/v1/referrals", headers=sent,
                           json=referral_body(people=[again], postcode="LE11 2AB"))
    assert response.status_code == 201, response.json
    priya = _priya(rt)
    assert priya.email_hash == _sha("priya.new@example.org")
    assert priya.phone_hash == _sha("07700900123")  # not given again: kept


@both_databases
def test_correcting_the_email_and_date_of_birth_changes_their_keys(client, sent, rt, auth):
    pid = _priya(rt).id
    response = client.post(f"/api/v1/people/{pid}/rectification", headers=auth("front_door"),
                           json={"changes": {"date_of_birth": "2014-05-31",
                                             "family_name": "Jonson",
                                             "contact": {"email": "p.oneil@example.org"}},
                                 "reason": "The family told us the details were wrong."})
    assert response.status_code == 200, response.json
    priya = _priya(rt)
    assert priya.email_hash == _sha("p.oneil@example.org")
    assert (priya.birth_year, priya.family_name_key, priya.family_name_sound) == \
        (2014, "jonson", "j525")
    assert priya.phone_hash == _sha("07700900123")


@both_databases
def test_anonymising_clears_every_key(sent, rt):
    with rt.db.unit_of_work() as session:
        priya = session.exec(select(Person).where(Person.given_name == "Priya")).one()
        anonymise_person(session, priya, utcnow())
        pid = priya.id
    with rt.db.reader() as session:
        priya = session.get(Person, pid)
        assert {c: getattr(priya, c) for c in KEY_COLUMNS} == dict.fromkeys(KEY_COLUMNS)
        assert priya.date_of_birth == date(2015, 1, 1)  # the year stays for reports
