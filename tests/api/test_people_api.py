"""Finding people and reading the family record through the API (contract 5.2): each kind of
query, typos, who may search and see a family, partners' 403s, and the audit of every read."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select, update

from tests.api.cases_helpers import team
from triage.models import AuditEvent, Person
from triage.models.base import MAX_ID

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

PRIYA = {"ref": "c1", "role": "subject", "given_name": "Priya", "family_name": "Johnson",
         "date_of_birth": "2015-05-31"}
MUM = {"ref": "m1", "role": "household", "relationship": "mother", "given_name": "Anika",
       "family_name": "Johnson", "date_of_birth": "1987-01-20"}
NEIGHBOUR = {"ref": "c1", "role": "subject", "given_name": "Peter", "family_name": "Jones",
             "date_of_birth": "2012-02-02"}


def refer(client, auth, referral_body, people, **changes) -> dict:
    changes.setdefault("postcode", "LE11 2AB")
    body = referral_body(people=people, answers={"domestic_abuse": True}, **changes)
    response = client.post("/api/v1/referrals", json=body, headers=auth("partner"))
    assert response.status_code == 201, response.json
    return response.json


def search(client, headers, **params):
    return client.get("/api/v1/people", query_string=params, headers=headers)


def names(response) -> list[tuple[str, str]]:
    return [(r["person"]["given_name"], r["person"]["family_name"])
            for r in response.json["results"]]


def audits(rt, action: str) -> list[AuditEvent]:
    with rt.db.reader() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


@both_databases
def test_a_misspelt_name_finds_the_child_first_with_why(client, auth, referral_body, rt):
    refer(client, auth, referral_body, [PRIYA, MUM])
    refer(client, auth, referral_body, [NEIGHBOUR], postcode="LE13 0AB")
    response = search(client, auth("front_door"), q="Pria Jonson")
    assert response.status_code == 200, response.json
    first = response.json["results"][0]
    assert (first["person"]["given_name"], first["person"]["family_name"]) == (
        "Priya", "Johnson")
    assert first["person"]["date_of_birth"] == "2015-05-31"
    # A name alone could be anyone's: possible, each name's similarity given.
    assert first["band"] == "possible"
    assert first["reasons"] == ["given name very similar (0.95)",
                                "family name very similar (0.96)"]
    assert first["household_ids"]
    scores = [r["score"] for r in response.json["results"]]
    assert scores == sorted(scores, reverse=True)
    (row,) = audits(rt, "person.search")
    assert row.detail["kind"] == "name" and row.detail["results"] == len(scores)
    assert "Pria" not in str(row.detail) and "Jonson" not in str(row.detail)
    with_birthday = search(client, auth("front_door"), q="Pria Jonson",
                           date_of_birth="31/05/2015").json["results"][0]
    assert with_birthday["band"] == "likely" and with_birthday["score"] > first["score"]
    assert "same date of birth" in with_birthday["reasons"]


@both_databases
def test_spacing_hyphens_accents_and_order_are_forgiven(client, auth, referral_body):
    person = {**PRIYA, "given_name": "Zoë", "family_name": "Smith-Jones"}
    refer(client, auth, referral_body, [person])
    staff = auth("front_door")
    for q in ("Zoe Smith Jones", "zoe smithjones", "ZOË SMITH-JONES", "Smith-Jones, Zoe"):
        response = search(client, staff, q=q, date_of_birth="2015-05-31")
        assert names(response)[:1] == [("Zoë", "Smith-Jones")], q
        assert response.json["results"][0]["band"] == "exact", q
        assert response.json["results"][0]["reasons"][:2] == ["same given name",
                                                              "same family name"], q


@both_databases
def test_a_twin_or_a_father_with_the_same_name_is_never_more_than_possible(
        client, auth, referral_body):
    twin = {**PRIYA, "ref": "c2", "given_name": "Anya"}
    refer(client, auth, referral_body, [PRIYA, twin])
    father = {**NEIGHBOUR, "ref": "f1", "role": "household", "relationship": "father",
              "date_of_birth": "1984-07-01"}
    refer(client, auth, referral_body, [NEIGHBOUR, father], postcode="LE13 0AB")
    staff = auth("front_door")
    found = search(client, staff, q="Priya Johnson", date_of_birth="2015-05-31",
                   postcode="LE11 2AB").json["results"]
    assert [(r["person"]["given_name"], r["band"]) for r in found] == [
        ("Priya", "exact"), ("Anya", "possible")]
    assert "different given name (0.63)" in found[1]["reasons"]
    found = search(client, staff, q="Peter Jones", date_of_birth="2012-02-02").json["results"]
    assert [(r["person"]["date_of_birth"], r["band"]) for r in found] == [
        ("2012-02-02", "exact"), ("1984-07-01", "possible")]
    # The name alone is never exact: it could be either of them.
    alone = search(client, staff, q="Peter Jones").json["results"]
    assert {r["band"] for r in alone} == {"possible"} and len(alone) == 2


def test_a_date_of_birth_in_either_format_finds_the_person(client, auth, referral_body):
    refer(client, auth, referral_body, [PRIYA, MUM])
    staff = auth("front_door")
    for q in ("2015-05-31", "31/05/2015"):
        response = search(client, staff, q=q)
        assert names(response) == [("Priya", "Johnson")], q
        assert response.json["results"][0]["reasons"] == ["same date of birth"]


def test_a_postcode_finds_everyone_living_there(client, auth, referral_body):
    refer(client, auth, referral_body, [PRIYA, MUM])
    refer(client, auth, referral_body, [NEIGHBOUR], postcode="LE13 0AB")
    response = search(client, auth("front_door"), q="le112ab")
    assert sorted(names(response)) == [("Anika", "Johnson"), ("Priya", "Johnson")]
    assert all("same postcode" in r["reasons"] for r in response.json["results"])


def test_a_reference_finds_the_people_named_on_it(client, auth, referral_body):
    reference = refer(client, auth, referral_body, [PRIYA, MUM])["reference"]
    response = search(client, auth("front_door"), q=reference.lower())
    assert sorted(names(response)) == [("Anika", "Johnson"), ("Priya", "Johnson")]
    assert all(r["reasons"] == [f"named on {reference}"] and r["band"] == "exact"
               for r in response.json["results"])


@both_databases
def test_a_phone_number_in_any_form_finds_the_person(client, auth, referral_body, rt):
    # The phone as a referrer writes it; intake keeps it with the digits search compares.
    refer(client, auth, referral_body, [PRIYA, {**MUM, "contact": {"phone": "07700 900123"}}])
    staff = auth("front_door")
    for q in ("07700 900123", "+44 7700 900123", "07700900123"):
        response = search(client, staff, q=q)
        assert names(response) == [("Anika", "Johnson")], q
        assert response.json["results"][0]["reasons"] == ["same phone number"]


def test_filters_narrow_a_name_search(client, auth, referral_body):
    refer(client, auth, referral_body, [PRIYA, MUM])
    response = search(client, auth("front_door"), q="Johnson", date_of_birth="1987-01-20")
    assert names(response)[0] == ("Anika", "Johnson")
    assert "same date of birth" in response.json["results"][0]["reasons"]
    response = search(client, auth("front_door"), q="Johnson", postcode="LE13 0AB")
    assert all("same postcode" not in r["reasons"] for r in response.json["results"])


def test_bad_parameters_are_422_naming_the_field(client, auth):
    staff = auth("front_door")
    assert search(client, staff).status_code == 422
    bad = search(client, staff, q="x", date_of_birth="31st May")
    assert bad.status_code == 422 and "date_of_birth" in str(bad.json)
    bad = search(client, staff, postcode="NOT A POSTCODE")
    assert bad.status_code == 422 and "postcode" in str(bad.json)
    assert search(client, staff, q="a", colour="red").status_code == 422


@both_databases
def test_partners_may_not_search_or_read_the_family_record(client, auth, referral_body):
    created = refer(client, auth, referral_body, [PRIYA, MUM])
    partner = auth("partner")
    staff = auth("front_door")
    person = search(client, staff, q="Priya Johnson").json["results"][0]
    assert search(client, partner, q="Priya Johnson").status_code == 403
    assert client.get(f"/api/v1/people/{person['person']['id']}",
                      headers=partner).status_code == 403
    assert client.get(f"/api/v1/households/{person['household_ids'][0]}",
                      headers=partner).status_code == 403
    assert created["reference"]


@both_databases
def test_a_team_finds_only_families_it_works_with(client, auth, referral_body, rt):
    refer(client, auth, referral_body, [PRIYA, MUM])  # the Charnwood hub
    refer(client, auth, referral_body, [NEIGHBOUR], postcode="LE13 0AB")
    hub = auth("hub_coordinator", team=team("early_help_hub"))
    other = auth("practitioner", team="first_contact_plus:countywide")
    assert names(search(client, hub, q="Priya Johnson"))[:1] == [("Priya", "Johnson")]
    assert ("Peter", "Jones") not in names(search(client, hub, q="Peter Jones"))
    assert search(client, other, q="Priya Johnson").json["results"] == []
    found = search(client, auth("front_door"), q="Priya Johnson").json["results"][0]
    person_id, household_id = found["person"]["id"], found["household_ids"][0]
    assert client.get(f"/api/v1/people/{person_id}", headers=hub).status_code == 200
    # Not 403: a team outside the family is not told the family exists.
    assert client.get(f"/api/v1/people/{person_id}", headers=other).status_code == 404
    assert client.get(f"/api/v1/households/{household_id}", headers=other).status_code == 404
    assert audits(rt, "person.view_refused") and audits(rt, "household.view_refused")


@both_databases
def test_the_person_shows_contact_households_referrals_and_cases(
        client, auth, referral_body, rt):
    created = refer(client, auth, referral_body, [PRIYA, MUM])
    staff = auth("front_door")
    found = search(client, staff, q="Priya Johnson").json["results"][0]
    with rt.db.unit_of_work() as session:
        session.exec(update(Person).where(Person.id == found["person"]["id"])
                     .values(safe_to_contact=False, safe_contact_notes="Abuser reads texts"))
    response = client.get(f"/api/v1/people/{found['person']['id']}", headers=staff)
    assert response.status_code == 200
    person = response.json
    assert person["contact"]["safe_to_contact"] is False
    assert person["contact"]["safe_contact_notes"] == "Abuser reads texts"
    assert set(person["contact"]) == {"phone", "email", "preferred", "safe_to_contact",
                                      "safe_contact_notes", "language", "interpreter"}
    assert [h["postcode"] for h in person["households"]] == ["LE11 2AB"]
    assert [r["reference"] for r in person["referrals"]] == [created["reference"]]
    assert person["referrals"][0]["status"] and person["referrals"][0]["received_at"]
    assert [(c["service"], c["worker"]) for c in person["cases"]] == [
        ("early_help_hub", None)]
    (row,) = audits(rt, "person.view")
    assert row.object_id == str(person["id"]) and "Priya" not in str(row.detail)


@both_databases
def test_the_household_shows_members_and_one_chronology_oldest_first(
        client, auth, referral_body, rt):
    first = refer(client, auth, referral_body, [PRIYA, MUM])
    second = refer(client, auth, referral_body, [PRIYA, MUM])
    staff = auth("front_door")
    household_id = search(client, staff, q="Priya Johnson").json["results"][0][
        "household_ids"][0]
    response = client.get(f"/api/v1/households/{household_id}", headers=staff)
    assert response.status_code == 200
    family = response.json
    assert family["postcode"] == "LE11 2AB"
    assert sorted(m["given_name"] for m in family["members"]) == ["Anika", "Priya"]
    assert [r["reference"] for r in family["referrals"]] == [first["reference"],
                                                             second["reference"]]
    chronology = family["chronology"]
    assert [e["at"] for e in chronology] == sorted(e["at"] for e in chronology)
    kinds = [e["kind"] for e in chronology]
    assert kinds[0] == "received" and "decided" in kinds and "case_event" in kinds
    assert {"at", "kind", "summary", "reference", "case_id"} == set(chronology[0])
    only = client.get(f"/api/v1/households/{household_id}?kind=received", headers=staff).json
    assert [e["reference"] for e in only["chronology"]] == [first["reference"],
                                                            second["reference"]]
    assert client.get(f"/api/v1/households/{household_id}?kind=gossip",
                      headers=staff).status_code == 422
    assert len(audits(rt, "household.view")) == 2


def test_unknown_and_absurd_ids_are_404(client, auth):
    staff = auth("manager")
    for path in ("/api/v1/people/999999", "/api/v1/people/99999999999999999999999",
                 "/api/v1/households/424242", "/api/v1/households/99999999999999999999999"):
        assert client.get(path, headers=staff).status_code == 404, path


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
               min_size=1, max_size=40), person_id=st.integers(min_value=-5,
                                                                 max_value=10**25))
def test_a_partner_never_gets_a_contact_detail_from_the_people_api(
        client, auth, referral_body, rt, q, person_id):
    # Hypothesis reuses the test's database: the family is referred on the first example.
    if not search(client, auth("front_door"), q="Priya Johnson").json["results"]:
        refer(client, auth, referral_body, [
            PRIYA, {**MUM, "contact": {"phone": "07700 900123", "email": "family@example.org"}}])
    partner = auth("partner")
    some_id = max(person_id, 1)
    # An id too big for a key column names nothing: 404 before anyone is asked who you are.
    refused = 403 if some_id <= MAX_ID else 404
    for response, status in ((search(client, partner, q=q), 403),
                             (client.get(f"/api/v1/people/{some_id}", headers=partner), refused),
                             (client.get(f"/api/v1/households/{some_id}", headers=partner),
                              refused)):
        assert response.status_code == status
        assert "07700" not in response.get_data(as_text=True)
        assert "family@example.org" not in response.get_data(as_text=True)


def test_the_family_chronology_names_the_worker_a_case_was_assigned_to(
        client, auth, make_user, referral_body, rt):
    created = refer(client, auth, referral_body, [PRIYA, MUM])
    case = created["cases"][0]
    team = f"{case['service']}:{case['instance']}"
    worker, _ = make_user("practitioner" if "hub" not in case["service"] else
                          "hub_coordinator", team=team, name="Wren Worker")
    manager = auth("manager")
    assigned = client.post(f"/api/v1/cases/{case['id']}/events", headers=manager,
                           json={"event": "assign", "worker": worker.id})
    assert assigned.status_code == 200, assigned.json
    staff = auth("front_door")
    household_id = search(client, staff, q="Priya Johnson").json["results"][0][
        "household_ids"][0]
    chronology = client.get(f"/api/v1/households/{household_id}", headers=staff).json[
        "chronology"]
    assert any("assigned to Wren Worker" in e["summary"] for e in chronology)
    family_cases = client.get(f"/api/v1/households/{household_id}", headers=staff).json["cases"]
    assert {"id": worker.id, "name": "Wren Worker"} in [c["worker"] for c in family_cases]
