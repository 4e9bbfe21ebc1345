"""The blocking keys stored with each person, so that candidates come from indexes: folded and
sound keys of both names, the year of birth, and one-way hashes of the phone number and email
address (the index holds no readable contact). Every write of a person's names, date of birth
or contact sets them through `person_keys`."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from triage.linkage.compare import email_key, phone_key
from triage.schemas.contact import uk_phone_key
from triage.services.people.names import name_key, sound_key

# The columns `person_keys` sets; anonymising a person clears them all.
KEY_COLUMNS = ("given_name_key", "family_name_key", "given_name_sound", "family_name_sound",
               "birth_year", "phone_key", "phone_hash", "email_hash")


def _sha256(text: str | None) -> str | None:
    return hashlib.sha256(text.encode()).hexdigest() if text else None


def phone_hash(raw: str | None) -> str | None:
    """SHA-256 (hex) of the phone number as the scorer compares it: "+44 7700 900123" and
    "07700 900123" hash alike."""
    return _sha256(phone_key(uk_phone_key(raw) or raw))


def email_hash(raw: str | None) -> str | None:
    """SHA-256 (hex) of the email address trimmed and lower-cased."""
    return _sha256(email_key(raw))


def name_keys(given: str | None, family: str | None) -> dict[str, str | None]:
    given_key, family_key = name_key(given), name_key(family)
    return {"given_name_key": given_key, "family_name_key": family_key,
            "given_name_sound": sound_key(given_key), "family_name_sound": sound_key(family_key)}


def contact_keys(phone: str | None, email: str | None) -> dict[str, str | None]:
    return {"phone_key": uk_phone_key(phone), "phone_hash": phone_hash(phone),
            "email_hash": email_hash(email)}


def person_keys(*, given_name: str | None, family_name: str | None,
                date_of_birth: date | None, phone: str | None, email: str | None
                ) -> dict[str, Any]:
    """Every key column of a person with these details."""
    return {**name_keys(given_name, family_name),
            "birth_year": date_of_birth.year if date_of_birth else None,
            **contact_keys(phone, email)}


def keys_of(person: Any) -> dict[str, Any]:
    """The key columns a person (row or model) should have now."""
    return person_keys(given_name=person.given_name, family_name=person.family_name,
                       date_of_birth=person.date_of_birth, phone=person.phone,
                       email=person.email)


__all__ = ["KEY_COLUMNS", "contact_keys", "email_hash", "keys_of", "name_keys", "person_keys",
           "phone_hash"]
