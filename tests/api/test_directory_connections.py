"""First Contact Plus's onward connections pick a service from the directory (or name an
organisation in free text); each is kept so reports count connections by organisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from tests.api.cases_helpers import ROUTED_TO, fire, open_case, team
from tests.web.conftest import Browser
from triage.models import CaseEvent, OnwardConnection
from triage.services.accounts import users
from triage.services.directory import catalogue, connections, importer

FEED = Path(__file__).resolve().parent.parent / "fixtures" / "oruk-import" / "partner-3.0.json"
both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@both_databases
def test_connections_pick_from_the_directory_and_are_counted_by_organisation(
        client, auth, referral_body, rt):
    importer.load(rt, FEED)
    feed = json.loads(FEED.read_text())["contents"]
    food, debt = feed[1], feed[2]  # both run by the Charnwood food bank
    worker = auth("practitioner", team=team("first_contact_plus"))
    _, case_id = open_case(client, auth("partner"), referral_body, "first_contact_plus")
    assert fire(client, worker, case_id, "contact").status_code == 200
    lac = catalogue.service_id(rt.profile, "local_area_coordination")
    done = fire(client, worker, case_id, "record_connections", connections=[
        {"service": food["id"], "need": "no food in the house"},
        {"service": debt["id"], "need": "rent arrears"},
        {"service": lac, "need": "lonely since moving"},
        {"organisation": "Age UK Leicestershire", "need": "benefits check"}])
    assert done.status_code == 200, done.json
    recorded = done.json["history"][-1]["payload"]["connections"]
    assert recorded[0] == {"organisation": "Charnwood Community Food Bank",
                           "need": "no food in the house", "service": food["id"]}
    assert recorded[3] == {"organisation": "Age UK Leicestershire", "need": "benefits check"}
    with rt.db.reader() as session:
        rows = session.exec(select(OnwardConnection).order_by(OnwardConnection.id)).all()
    assert [(r.service_id, r.organisation_id) for r in rows] == [
        (food["id"], food["organization"]["id"]), (debt["id"], debt["organization"]["id"]),
        (lac, catalogue.organisation(rt.profile)["id"]), (None, None)]
    assert connections.by_organisation(rt) == [
        {"organisation": "Charnwood Community Food Bank",
         "organisation_id": food["organization"]["id"], "connections": 2},
        {"organisation": "Age UK Leicestershire", "organisation_id": None, "connections": 1},
        {"organisation": "Leicestershire County Council",
         "organisation_id": catalogue.organisation(rt.profile)["id"], "connections": 1}]


def test_an_unknown_directory_service_is_named_and_nothing_is_recorded(client, auth,
                                                                        referral_body, rt):
    worker = auth("practitioner", team=team("first_contact_plus"))
    _, case_id = open_case(client, auth("partner"), referral_body, "first_contact_plus")
    fire(client, worker, case_id, "contact")
    refused = fire(client, worker, case_id, "record_connections", connections=[
        {"organisation": "Citizens Advice", "need": "debt"},
        {"service": "00000000-0000-0000-0000-000000000000", "need": "food"}])
    assert refused.status_code == 422
    assert list(refused.json["errors"]) == ["connections.1.service"]
    with rt.db.reader() as session:
        assert session.exec(select(OnwardConnection)).all() == []
        assert session.exec(select(CaseEvent).where(
            CaseEvent.event == "record_connections")).all() == []


def test_the_case_form_offers_the_directory_and_free_text(app, rt, make_user):
    importer.load(rt, FEED)
    _, token = make_user("partner")
    client = app.test_client()
    body = {"channel": "partner", "referrer": {"organisation": "Fire", "name": "A. Officer",
                                               "email": "a@example.org"},
            "postcode": "LE13 0AB",
            "people": [{"ref": "p1", "role": "subject", "given_name": "Gwen",
                        "family_name": "Smith", "date_of_birth": "1932-03-01"}],
            "answers": {"memory_concern": True, "social_isolation": True}, "consent": "given"}
    body.update(ROUTED_TO["first_contact_plus"][0])
    made = client.post("/api/v1/referrals", json=body,
                       headers={"Authorization": f"Bearer {token}"}).json
    case_id = next(c["id"] for c in made["cases"] if c["service"] == "first_contact_plus")
    users.create_user(rt.db, email="fcp.worker@test.example", role="practitioner",
                      team=team("first_contact_plus"), password="a long enough passphrase 1")
    web = Browser(client)
    web.sign_in("fcp.worker@test.example", "a long enough passphrase 1")
    url = f"/cases/{case_id}/events/contact"
    assert web.post(url, {}, from_page=url).status_code == 302
    url = f"/cases/{case_id}/events/record_connections"
    web.get(url)
    assert "Good Neighbours befriending (Voluntary Action LeicesterShire)" in web.last
    befriending = json.loads(FEED.read_text())["contents"][0]["id"]
    sent = web.post(url, {"connections-0-service": befriending,
                          "connections-0-need": "lonely",
                          "connections-1-organisation": "Age UK", "connections-1-need": "money"})
    assert sent.status_code == 302, web.last
    assert [r["connections"] for r in connections.by_organisation(rt)] == [1, 1]
    assert {r["organisation"] for r in connections.by_organisation(rt)} == {
        "Voluntary Action LeicesterShire", "Age UK"}
