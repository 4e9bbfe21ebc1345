"""Who a referral is about, on every council profile: a person typed with a slip is offered to
the front door (staff preview) and queued from a partner's referral; a restriction on anyone
in their household hides them from both until it is lifted; and on PostgreSQL a partner's
referral whose people are searched and checked against the restrictions still goes in as one
statement (no transaction to commit). SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from rules.examples import first_routed_example, referral_body
from tests.conftest import psycopg_commands
from triage.models import Person
from triage.models.base import utcnow
from triage.models.matching import MatchReview

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _bodies(rt) -> tuple[dict, dict]:
    """The profile's first routed example as a partner's referral with a second member of
    the household, and the same subject with a letter of the given name dropped."""
    _, example = first_routed_example(rt.profile)
    body = referral_body(example, today=utcnow().date(), n=0, channel="partner",
                         organisation="Fire and Rescue Service")
    subject = body["people"][0]
    body["people"].append({"ref": "p9", "role": "household", "relationship": "family member",
                           "given_name": "Relative", "family_name": subject["family_name"],
                           "date_of_birth": "1980-03-04"})
    slip = {**body, "people": [{**subject, "given_name": subject["given_name"][:-2]
                                + subject["given_name"][-1]}]}
    return body, slip


def _preview(client, headers, body) -> dict:
    staff = {**body, "channel": "staff", "referrer": {"organisation": "Front door"}}
    response = client.post("/api/v1/triage/preview", json=staff, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["candidates"]


def _person(rt, given: str) -> int:
    with rt.db.reader() as session:
        return session.exec(select(Person.id).where(Person.given_name == given)).one()


def _queued(rt) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(MatchReview)).one()


@both_databases
def test_a_restricted_household_is_hidden_from_intake_until_lifted(
        rt, client, auth, make_user, backend, monkeypatch):
    partner, manager = auth("partner"), auth("manager")
    body, slip = _bodies(rt)
    known = client.post("/api/v1/referrals", json=body, headers=partner)
    assert known.status_code == 201, known.json
    subject = _person(rt, body["people"][0]["given_name"])
    assert [c["person"]["id"] for c in _preview(client, manager, slip)["p1"]] == [subject]

    named, _ = make_user("front_door")
    restriction = client.post(f"/api/v1/people/{_person(rt, 'Relative')}/restriction",
                              json={"users": [named.id], "reason": "A staff member's family."},
                              headers=manager)
    assert restriction.status_code in (200, 201), restriction.json
    assert _preview(client, manager, slip) == {}
    held: list[int] = []
    monkeypatch.setattr(rt.relay, "after_commit", held.extend)  # the relay's own transaction
    with psycopg_commands() as sent:
        queued = client.post("/api/v1/referrals", json=slip, headers=partner)
    assert queued.status_code == 201, queued.json
    assert _queued(rt) == 0
    if backend == "postgres":
        # Stored without a COMMIT: one statement, atomic on its own. (A read, such as the
        # token's after an account changed, may still BEGIN and ROLLBACK.)
        assert "COMMIT" not in sent, sent

    lifted = client.post(f"/api/v1/restrictions/{restriction.json['id']}/lift",
                         json={"reason": "The worker has left the front door."},
                         headers=auth("admin"))
    assert lifted.status_code == 200, lifted.json
    # The slip itself is now known exactly (the partner's referral recorded it as new), so
    # another slip is what the front door is offered.
    again = {**slip, "people": [{**slip["people"][0],
                                 "given_name": body["people"][0]["given_name"] + "e"}]}
    assert subject in [c["person"]["id"] for c in _preview(client, manager, again)["p1"]]
    assert client.post("/api/v1/referrals", json=again, headers=partner).status_code == 201
    assert _queued(rt) >= 1
