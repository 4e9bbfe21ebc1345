"""Open Referral UK ids: UUIDs derived from the profile's own ids (uuid5), so every service,
location and term keeps its id across restarts and machines without being stored."""

from __future__ import annotations

import uuid

# The namespace of every id this service derives (itself a uuid5 of the project's name).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://openreferraluk.org/early-help-triage")


def derived(profile_id: str, *parts: str) -> str:
    """A stable UUID for one thing of a profile: derived("leicestershire", "service",
    "first_contact_plus")."""
    return str(uuid.uuid5(NAMESPACE, "/".join((profile_id, *parts))))


def imported(source_id: str, kind: str) -> str:
    """A UUID for a partner's id that is not one (ORUK 1.0 feeds allow any text)."""
    return str(uuid.uuid5(NAMESPACE, f"import/{kind}/{source_id}"))


def as_uuid(value: object) -> str | None:
    """The canonical form of a UUID given as text, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
