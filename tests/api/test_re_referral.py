"""A re-referral: a referral for a person or family with a case closed within the profile's
front_door.re_referral_months, worked out once at intake, kept on the referral and shown to
staff (never to partners: it would tell them the family is known)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select, update

from tests.api.cases_helpers import ADULT, fire, open_case
from triage.models import Case, Referral
from triage.models.base import utcnow

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
PARTNER_OF_ADULT = {"ref": "a2", "role": "household", "relationship": "partner",
                    "given_name": "Kim", "family_name": "Hale", "date_of_birth": "1970-01-02"}


def contact_body(referral_body, **changes):
    """A referral for Sam Hale that First Contact Plus takes (see cases_helpers.ROUTED_TO)."""
    body = referral_body(postcode="LE13 1AB", people=[ADULT],
                         answers={"adult_mental_health": True})
    body.update(changes)
    return body


def closed_case(client, auth, rt, referral_body, *, days_ago: int | None, **changes) -> int:
    """Sam Hale's First Contact Plus case, closed by its team `days_ago` (left open: None)."""
    _, case_id = open_case(client, auth("front_door"),
                           lambda **c: contact_body(referral_body, **{**c, **changes}),
                           "first_contact_plus")
    if days_ago is None:
        return case_id
    team = auth("practitioner", team="first_contact_plus")
    assert fire(client, team, case_id, "contact").status_code == 200
    assert fire(client, team, case_id, "close", outcome="needs_met").status_code == 200
    with rt.db.unit_of_work() as session:
        session.exec(update(Case).where(Case.id == case_id).values(
            closed_at=utcnow() - timedelta(days=days_ago)))
    return case_id


def submit(client, headers, body) -> dict:
    response = client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


@both_databases
def test_a_family_whose_case_closed_eleven_months_ago_is_a_re_referral(
        client, auth, rt, referral_body):
    case_id = closed_case(client, auth, rt, referral_body, days_ago=335)
    front_door = auth("front_door")
    created = submit(client, front_door, contact_body(referral_body))
    flag = created["re_referral"]
    assert flag["case_id"] == case_id and flag["service"] == "first_contact_plus"
    with rt.db.reader() as session:
        closed_at = session.get(Case, case_id).closed_at
        kept = session.exec(select(Referral).where(
            Referral.reference == created["reference"])).one()
    assert flag["closed_at"] == closed_at.isoformat()
    # Kept on the referral, so reports count re-referrals per period without recomputing.
    assert kept.re_referral_of_case_id == case_id and kept.re_referral_closed_at == closed_at
    again = client.get(f"/api/v1/referrals/{created['reference']}", headers=front_door).json
    assert again["re_referral"] == flag


@both_databases
def test_a_family_whose_case_closed_thirteen_months_ago_is_not_a_re_referral(
        client, auth, rt, referral_body):
    closed_case(client, auth, rt, referral_body, days_ago=396)
    created = submit(client, auth("front_door"), contact_body(referral_body))
    assert created["re_referral"] is None


@both_databases
def test_a_family_with_an_open_case_is_not_a_re_referral(client, auth, rt, referral_body):
    closed_case(client, auth, rt, referral_body, days_ago=None)
    created = submit(client, auth("front_door"), contact_body(referral_body))
    assert created["re_referral"] is None
    assert created["people"][0]["known_before"] is True  # known, but nothing closed


def test_a_new_family_is_not_a_re_referral(client, auth, rt, referral_body):
    closed_case(client, auth, rt, referral_body, days_ago=30)
    other = dict(ADULT, given_name="Alex", date_of_birth="1979-03-03")
    created = submit(client, auth("front_door"), contact_body(referral_body, people=[other]))
    assert created["re_referral"] is None


@both_databases
def test_the_flag_follows_a_person_who_moved_to_a_new_household(
        client, auth, rt, referral_body):
    case_id = closed_case(client, auth, rt, referral_body, days_ago=60)
    created = submit(client, auth("front_door"), contact_body(referral_body,
                                                              postcode="LE11 2AB"))
    with rt.db.reader() as session:
        first = session.exec(select(Case.household_id).where(Case.id == case_id)).one()
        moved = session.exec(select(Referral.household_id).where(
            Referral.reference == created["reference"])).one()
    assert moved != first  # a new household at the new postcode
    assert created["re_referral"]["case_id"] == case_id


@both_databases
def test_a_referral_for_another_member_of_the_household_is_a_re_referral(
        client, auth, rt, referral_body):
    case_id = closed_case(client, auth, rt, referral_body, days_ago=60,
                          people=[ADULT, PARTNER_OF_ADULT])
    only_kim = dict(PARTNER_OF_ADULT, role="subject", relationship=None)
    created = submit(client, auth("front_door"), contact_body(referral_body,
                                                              people=[only_kim]))
    assert created["re_referral"]["case_id"] == case_id


@both_databases
def test_partners_never_see_that_a_referral_is_a_re_referral(client, auth, rt, referral_body):
    case_id = closed_case(client, auth, rt, referral_body, days_ago=60)
    partner = auth("partner")
    created = submit(client, partner, contact_body(referral_body))
    assert "re_referral" not in created
    url = f"/api/v1/referrals/{created['reference']}"
    assert "re_referral" not in client.get(url, headers=partner).json
    assert client.get(url, headers=auth("front_door")).json["re_referral"]["case_id"] == case_id


def test_the_window_is_the_profile_s(client, auth, rt, referral_body):
    closed_case(client, auth, rt, referral_body, days_ago=200)
    front_door = auth("front_door")
    rt.profile = replace(rt.profile, front_door=replace(rt.profile.front_door,
                                                        re_referral_months=6))
    assert submit(client, front_door, contact_body(referral_body))["re_referral"] is None
    rt.profile = replace(rt.profile, front_door=replace(rt.profile.front_door,
                                                        re_referral_months=7))
    assert submit(client, front_door, contact_body(referral_body))["re_referral"] is not None
    rt.profile = replace(rt.profile, front_door=replace(rt.profile.front_door,
                                                        re_referral_months=None))
    assert submit(client, front_door, contact_body(referral_body))["re_referral"] is None


def test_the_api_document_describes_the_re_referral(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    field = schemas["Referral"]["properties"]["re_referral"]
    assert "Staff only" in field["description"] and field["nullable"] is True
    assert set(field["properties"]) == {"case_id", "service", "closed_at"}
    assert field["properties"]["closed_at"]["format"] == "date-time"
    assert "first_contact_plus" in field["properties"]["service"]["enum"]


def test_a_restriction_on_the_family_hides_the_re_referral_with_the_referral(
        client, auth, rt, make_user, referral_body):
    """The flag comes from the households of the referral's own people, so a restriction
    that hides the earlier case hides the new referral too: nothing leaks through the flag."""
    from triage.models import Person
    from triage.services.privacy.restrictions import set_restriction

    closed_case(client, auth, rt, referral_body, days_ago=60,
                people=[ADULT, PARTNER_OF_ADULT])
    created = submit(client, auth("front_door"), contact_body(referral_body,
                                                              postcode="LE11 2AB"))
    assert created["re_referral"] is not None
    manager, _ = make_user("manager")
    with rt.db.reader() as session:
        kim = session.exec(select(Person.id).where(Person.given_name == "Kim")).one()
    set_restriction(rt, user=manager, person_id=kim,
                    body={"users": [manager.id], "reason": "Fled domestic abuse; new address."})
    url = f"/api/v1/referrals/{created['reference']}"
    assert client.get(url, headers=auth("front_door")).status_code == 404
