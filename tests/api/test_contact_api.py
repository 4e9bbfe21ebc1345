"""Contact details and identity (contract 5.1): every field checked and named when wrong,
kept on the person and household, shown to staff as kept now and to a partner as sent."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from triage.models import AuditEvent, Household, Person, Referral

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

CONTACT = {"phone": "07700 900123", "email": "gwen@example.org", "preferred": "phone",
           "safe_to_contact": False, "safe_contact_notes": "Do not leave voicemail",
           "language": "English", "interpreter": False}
ADDRESS = {"line1": "12 Elm Road", "line2": None, "town": "Melton Mowbray"}


def with_contact(referral_body, **person_changes) -> dict:
    body = referral_body(address=dict(ADDRESS))
    body["people"][0].update({"contact": dict(CONTACT), "nhs_number": "943 476 5919",
                              "sex": "female", "ethnicity": "white_british",
                              **person_changes})
    return body


def person_named(rt, given_name: str) -> Person:
    with rt.db.reader() as session:
        return session.exec(select(Person).where(Person.given_name == given_name)).one()


@both_databases
def test_contact_and_identity_are_kept_on_the_person_and_the_address_on_the_household(
        client, auth, referral_body, rt):
    response = client.post("/api/v1/referrals", json=with_contact(referral_body),
                           headers=auth("front_door"))
    assert response.status_code == 201, response.json
    gwen = person_named(rt, "Gwen")
    assert (gwen.phone, gwen.phone_key, gwen.email) == ("07700 900123", "07700900123",
                                                        "gwen@example.org")
    assert gwen.safe_to_contact is False and gwen.safe_contact_notes == "Do not leave voicemail"
    assert (gwen.nhs_number, gwen.sex, gwen.ethnicity) == ("9434765919", "female",
                                                           "white_british")
    assert gwen.preferred_contact == "phone" and gwen.contact_updated_at is not None
    with rt.db.reader() as session:
        home = session.exec(select(Household)).one()
    assert (home.address_line1, home.address_line2, home.town) == ("12 Elm Road", None,
                                                                   "Melton Mowbray")


@both_databases
def test_staff_see_the_contact_details_as_kept_now(client, auth, referral_body, rt):
    staff = auth("front_door")
    first = client.post("/api/v1/referrals", json=with_contact(referral_body),
                        headers=staff).json
    later = referral_body(address={"line1": "3 New Street", "town": "Melton Mowbray"})
    later["people"][0]["contact"] = {"phone": "+44 116 496 0000", "safe_to_contact": True}
    assert client.post("/api/v1/referrals", json=later, headers=staff).status_code == 201
    shown = client.get(f"/api/v1/referrals/{first['reference']}", headers=staff).json
    gwen = shown["people"][0]
    assert gwen["contact"]["phone"] == "+44 116 496 0000"  # newest wins
    assert gwen["contact"]["safe_to_contact"] is True
    assert gwen["contact"]["email"] == "gwen@example.org"  # not given again: kept
    assert gwen["nhs_number"] == "9434765919"
    assert shown["address"] == {"line1": "3 New Street", "line2": None,
                                "town": "Melton Mowbray"}
    assert person_named(rt, "Gwen").phone_key == "01164960000"
    with rt.db.reader() as session:
        views = session.exec(select(AuditEvent).where(AuditEvent.action == "referral.view")
                             ).all()
    assert len(views) == 1


@both_databases
def test_a_partner_sees_what_they_sent_and_nothing_added_later(client, auth, referral_body):
    partner = auth("partner")
    sent = referral_body()
    mine = client.post("/api/v1/referrals", json=sent, headers=partner).json
    assert "contact" not in mine["people"][0] and mine["address"] is None
    client.post("/api/v1/referrals", json=with_contact(referral_body),
                headers=auth("front_door"))
    seen = client.get(f"/api/v1/referrals/{mine['reference']}", headers=partner).json
    assert seen["address"] is None
    assert seen["people"][0] == {"ref": "p1", "role": "subject", "relationship": None,
                                 "given_name": "Gwen", "family_name": "Smith",
                                 "date_of_birth": "1932-03-01"}
    assert "07700" not in str(seen) and "9434765919" not in str(seen)


def test_a_partner_sees_their_own_contact_details_as_they_typed_them(
        client, auth, referral_body):
    partner = auth("partner")
    mine = client.post("/api/v1/referrals", json=with_contact(referral_body),
                       headers=partner).json
    seen = client.get(f"/api/v1/referrals/{mine['reference']}", headers=partner).json
    assert seen["people"][0]["contact"] == CONTACT
    assert seen["people"][0]["nhs_number"] == "943 476 5919"
    assert seen["address"] == ADDRESS


def test_the_typed_referrer_name_and_phone_are_kept_not_the_account_s(
        client, auth, referral_body, rt):
    body = referral_body(referrer={"organisation": "Fire", "name": "Sam Watch",
                                   "phone": "0116 496 0123"})
    created = client.post("/api/v1/referrals", json=body,
                          headers=auth("partner", name="Account Holder")).json
    assert created["referrer"]["name"] == "Sam Watch"
    assert created["referrer"]["phone"] == "0116 496 0123"
    unnamed = client.post("/api/v1/referrals", json=referral_body(referrer={"organisation": "F"}),
                          headers=auth("partner", name="Account Holder")).json
    assert unnamed["referrer"]["name"] == "Account Holder"
    with rt.db.reader() as session:
        assert session.exec(select(Referral.submitted_by_id)).all()[0] is not None


@pytest.mark.parametrize("field, value, path", [
    ("nhs_number", "943 476 5918", "people.0.nhs_number"),  # wrong check digit
    ("nhs_number", "12345", "people.0.nhs_number"),
    ("nhs_number", "1000000010", "people.0.nhs_number"),  # check digit would be 10
    ("sex", "f", "people.0.sex"),
    ("ethnicity", "british", "people.0.ethnicity"),
    ("contact", {"phone": "12345"}, "people.0.contact.phone"),
    ("contact", {"phone": "call me"}, "people.0.contact.phone"),
    ("contact", {"email": "not an email"}, "people.0.contact.email"),
    ("contact", {"preferred": "pigeon"}, "people.0.contact.preferred"),
    ("contact", {"safe_to_contact": "no"}, "people.0.contact.safe_to_contact"),
    ("contact", {"interpreter": 1}, "people.0.contact.interpreter"),
    ("contact", {"language": "x" * 65}, "people.0.contact.language"),
    ("contact", {"safe_contact_notes": "x" * 1001}, "people.0.contact.safe_contact_notes"),
    ("contact", {"fax": "0116"}, "people.0.contact.fax"),
])
def test_each_bad_contact_or_identity_field_is_named(client, auth, referral_body, field,
                                                      value, path):
    body = referral_body()
    body["people"][0][field] = value
    response = client.post("/api/v1/referrals", json=body, headers=auth("front_door"))
    assert response.status_code == 422
    assert path in response.json["errors"], response.json["errors"]


@pytest.mark.parametrize("address, path", [
    ({"line1": "x" * 201}, "address.line1"),
    ({"town": "x" * 101}, "address.town"),
    ({"county": "Leics"}, "address.county"),
])
def test_a_bad_address_is_named(client, auth, referral_body, address, path):
    response = client.post("/api/v1/referrals", json=referral_body(address=address),
                           headers=auth("front_door"))
    assert response.status_code == 422
    assert path in response.json["errors"]


@pytest.mark.parametrize("number", ["9434765919", "943-476-5919", " 943 476 5919 "])
def test_an_nhs_number_may_be_written_with_spaces_or_dashes(client, auth, referral_body, rt,
                                                           number):
    body = referral_body()
    body["people"][0]["nhs_number"] = number
    assert client.post("/api/v1/referrals", json=body,
                       headers=auth("front_door")).status_code == 201
    assert person_named(rt, "Gwen").nhs_number == "9434765919"


@pytest.mark.parametrize("phone, key", [("07700 900123", "07700900123"),
                                        ("+44 7700 900123", "07700900123"),
                                        ("+44 (0)116 496 0000", "01164960000"),
                                        ("0044 116-496-0000", "01164960000")])
def test_uk_phone_numbers_are_kept_as_written_and_searched_by_their_digits(
        client, auth, referral_body, rt, phone, key):
    body = referral_body()
    body["people"][0]["contact"] = {"phone": phone}
    assert client.post("/api/v1/referrals", json=body,
                       headers=auth("front_door")).status_code == 201
    gwen = person_named(rt, "Gwen")
    assert (gwen.phone, gwen.phone_key) == (phone.strip(), key)


@pytest.mark.parametrize("channel", ["staff", "partner"])
@pytest.mark.parametrize("missing", ["given_name", "family_name"])
def test_the_subject_needs_both_names_from_staff_and_partners(client, auth, referral_body,
                                                              channel, missing):
    body = referral_body(channel=channel)
    del body["people"][0][missing]
    response = client.post("/api/v1/referrals", json=body, headers=auth("front_door"))
    assert response.status_code == 422
    assert f"people.0.{missing}" in response.json["errors"]
    body["information_only"] = True
    assert client.post("/api/v1/referrals", json=body,
                       headers=auth("front_door")).status_code == 201


def test_a_partner_cannot_leave_the_names_out_by_naming_another_channel(
        client, auth, referral_body):
    body = referral_body(channel="self")
    del body["people"][0]["family_name"]
    response = client.post("/api/v1/referrals", json=body, headers=auth("partner"))
    assert response.status_code == 422
    assert "people.0.family_name" in response.json["errors"]


def test_a_self_referral_may_leave_a_name_out(client, referral_body, auth):
    body = referral_body(channel="self", referrer={})
    del body["people"][0]["family_name"]
    assert client.post("/api/v1/referrals", json=body,
                       headers=auth("front_door")).status_code == 201


def test_the_preview_takes_contact_details_too(client, auth, referral_body):
    response = client.post("/api/v1/triage/preview", json=with_contact(referral_body),
                           headers=auth("front_door"))
    assert response.status_code == 200, response.json


_text = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=3, max_size=20)
_staff_contact = st.fixed_dictionaries({}, optional={
    "phone": st.sampled_from(["07700 900999", "+44 116 496 0999", "01632 960999"]),
    "email": st.emails().filter(lambda e: len(e) < 200),
    "preferred": st.sampled_from(["phone", "text", "email", "letter"]),
    "safe_to_contact": st.booleans(),
    "safe_contact_notes": _text.map(lambda t: "NOTE" + t),
    "language": _text.map(lambda t: "LANG" + t),
    "interpreter": st.booleans(),
})


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(added=_staff_contact, nhs=st.sampled_from([None, "9434765919", "4010232137"]),
       sex=st.sampled_from([None, "male", "other"]))
def test_contact_details_added_later_by_staff_never_reach_the_partner_s_view(
        client, auth, referral_body, added, nhs, sex):
    """Whatever staff add about the same person on other referrals, the partner's view of
    the partner's own referral stays exactly what it was when sent."""
    partner = auth("partner")
    mine = client.post("/api/v1/referrals", json=referral_body(), headers=partner).json
    before = client.get(f"/api/v1/referrals/{mine['reference']}", headers=partner).json
    staff_body = referral_body(channel="staff", address={"line1": "ADDED 1 Lane"})
    staff_body["people"][0]["contact"] = copy.deepcopy(added)
    staff_body["people"][0].update({k: v for k, v in (("nhs_number", nhs), ("sex", sex))
                                    if v is not None})
    assert client.post("/api/v1/referrals", json=staff_body,
                       headers=auth("front_door")).status_code == 201
    after = client.get(f"/api/v1/referrals/{mine['reference']}", headers=partner).json
    assert after["people"] == before["people"]
    assert after["address"] == before["address"] is None
    assert all("sex" not in p and "contact" not in p for p in after["people"])
    text = str(after)
    # free text and numbers staff typed (codes like "phone" are words the page uses anyway)
    for key in ("phone", "email", "safe_contact_notes", "language"):
        if key in added:
            assert added[key] not in text
    assert "ADDED" not in text and (nhs is None or nhs not in text)


def test_the_openapi_document_describes_the_contact_fields(client):
    spec = client.get("/api/v1/openapi.json").json
    text = str(spec)
    for name in ("safe_to_contact", "nhs_number", "ethnicity", "preferred", "line1"):
        assert name in text
