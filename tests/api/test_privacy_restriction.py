"""Restricting a person's record so only named users see it (UK GDPR): everyone else, admins
and the front door included, gets a 404 on the person, their family, referrals and cases, and
never finds them in search or a worklist; set and lifted by managers and admins with a reason;
audited. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from tests.api.cases_helpers import team
from triage.models import AuditEvent

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

PRIYA = {"ref": "c1", "role": "subject", "given_name": "Priya", "family_name": "Johnson",
         "date_of_birth": "2015-05-31",
         "contact": {"phone": "07700 900123", "safe_to_contact": False}}
MUM = {"ref": "m1", "role": "household", "relationship": "mother", "given_name": "Anika",
       "family_name": "Johnson", "date_of_birth": "1987-01-20"}
OTHER = {"ref": "c1", "role": "subject", "given_name": "Peter", "family_name": "Jones",
         "date_of_birth": "2012-02-02"}
REASON = "A member of the front door team's own family."


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def refer(client, headers, referral_body, people, postcode="LE11 2AB") -> dict:
    body = referral_body(people=people, postcode=postcode, answers={"domestic_abuse": True})
    response = client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def person_id(client, headers, q: str) -> int:
    found = client.get("/api/v1/people", query_string={"q": q}, headers=headers).json
    return found["results"][0]["person"]["id"]


@pytest.fixture
def family(client, make_user, referral_body):
    """The Johnsons (a hub case) and the Joneses; a manager, a named front-door worker, an
    admin and a front-door worker who is not named, and the hub's coordinator."""
    users = {role: make_user(role) for role in ("manager", "admin", "front_door")}
    users["named"] = make_user("front_door")
    users["hub"] = make_user("hub_coordinator", team=team("early_help_hub"))
    partner = make_user("partner")
    johnsons = refer(client, bearer(partner[1]), referral_body, [PRIYA, MUM])
    jones = refer(client, bearer(partner[1]), referral_body, [OTHER], postcode="LE13 0AB")
    headers = {k: bearer(t) for k, (_, t) in users.items()}
    pid = person_id(client, headers["manager"], "Priya Johnson")
    return {"users": users, "headers": headers, "johnsons": johnsons, "jones": jones,
            "priya": pid, "partner": bearer(partner[1])}


def restrict(client, family, names=("named",), by="manager", reason=REASON):
    ids = [family["users"][n][0].id for n in names]
    return client.post(f"/api/v1/people/{family['priya']}/restriction",
                       json={"users": ids, "reason": reason}, headers=family["headers"][by])


def visible(client, headers, family) -> dict[str, int]:
    """The status of each read of the Johnsons' record for this caller."""
    ref = family["johnsons"]["reference"]
    case_id = family["johnsons"]["cases"][0]["id"]
    person = client.get(f"/api/v1/people/{family['priya']}", headers=headers)
    household = person.json["households"][0]["id"] if person.status_code == 200 else None
    return {
        "person": person.status_code,
        "referral": client.get(f"/api/v1/referrals/{ref}", headers=headers).status_code,
        "case": client.get(f"/api/v1/cases/{case_id}", headers=headers).status_code,
        "household": client.get(f"/api/v1/households/{household}", headers=headers).status_code
        if household else None,
    }


@both_databases
def test_a_restricted_family_is_a_404_to_everyone_not_named_even_admins(client, family, rt):
    ref = family["johnsons"]["reference"]
    case_id = family["johnsons"]["cases"][0]["id"]
    household = client.get(f"/api/v1/people/{family['priya']}",
                           headers=family["headers"]["manager"]).json["households"][0]["id"]
    response = restrict(client, family)
    assert response.status_code == 201, response.json
    assert [u["id"] for u in response.json["users"]] == [family["users"]["named"][0].id]
    for who in ("admin", "front_door", "manager", "hub"):
        h = family["headers"][who]
        assert client.get(f"/api/v1/people/{family['priya']}", headers=h).status_code == 404
        assert client.get(f"/api/v1/households/{household}", headers=h).status_code == 404
        assert client.get(f"/api/v1/referrals/{ref}", headers=h).status_code == 404
        assert client.get(f"/api/v1/cases/{case_id}", headers=h).status_code == 404
        assert client.post(f"/api/v1/cases/{case_id}/events", json={"event": "close"},
                           headers=h).status_code == 404
        assert client.get(f"/api/v1/people/{family['priya']}/export",
                          headers=h).status_code == (403 if who == "hub" else 404)
    # The mother shares the household: she is hidden with it.
    for q in ("Priya Johnson", "Anika Johnson", "Johnson", "07700900123", ref, "31/05/2015"):
        found = client.get("/api/v1/people", query_string={"q": q},
                           headers=family["headers"]["admin"]).json["results"]
        assert not [r for r in found if r["person"]["family_name"] == "Johnson"], q
    # Lists: the referral, the hub's worklist and the front door's lists leave it off.
    listed = client.get("/api/v1/referrals", headers=family["headers"]["front_door"]).json
    assert ref not in [r["reference"] for r in listed["referrals"]]
    assert family["jones"]["reference"] in [r["reference"] for r in listed["referrals"]]
    hub_list = client.get("/api/v1/cases?service=early_help_hub",
                          headers=family["headers"]["hub"]).json
    assert case_id not in [c["id"] for c in hub_list["cases"]]
    assert hub_list["total"] == len(hub_list["cases"])
    # The partner who sent it still sees it as they sent it (a 404 would tell them the
    # person is restricted), and nothing of the family they were not sent.
    mine = client.get("/api/v1/referrals?mine=1", headers=family["partner"]).json
    assert ref in [r["reference"] for r in mine["referrals"]]
    theirs = client.get(f"/api/v1/referrals/{ref}", headers=family["partner"])
    assert theirs.status_code == 200
    assert client.get(f"/api/v1/people/{family['priya']}",
                      headers=family["partner"]).status_code == 403
    # The named user sees everything, and search finds the family for them.
    assert visible(client, family["headers"]["named"], family) == {
        "person": 200, "referral": 200, "case": 200, "household": 200}
    named_search = client.get("/api/v1/people", query_string={"q": "Priya Johnson"},
                              headers=family["headers"]["named"]).json["results"]
    assert named_search[0]["person"]["id"] == family["priya"]
    with rt.db.reader() as session:
        set_row = session.exec(select(AuditEvent).where(
            AuditEvent.action == "person.restricted")).one()
        refused = session.exec(select(AuditEvent).where(
            AuditEvent.action == "person.view_refused")).all()
    assert set_row.object_id == str(family["priya"])
    assert set_row.detail["user_ids"] == [family["users"]["named"][0].id]
    assert REASON not in str(set_row.detail)
    assert refused


@both_databases
def test_lifting_a_restriction_shows_the_family_again_and_is_audited(client, family, rt):
    restriction = restrict(client, family).json
    listed = client.get("/api/v1/restrictions", headers=family["headers"]["admin"]).json
    assert [r["id"] for r in listed["restrictions"]] == [restriction["id"]]
    assert listed["restrictions"][0]["person_id"] == family["priya"]
    assert "Priya" not in str(listed)
    # An admin who is not named may still lift it (the named users may have left).
    lifted = client.post(f"/api/v1/restrictions/{restriction['id']}/lift",
                         json={"reason": "The worker has left the front door."},
                         headers=family["headers"]["admin"])
    assert lifted.status_code == 200, lifted.json
    assert visible(client, family["headers"]["front_door"], family) == {
        "person": 200, "referral": 200, "case": 200, "household": 200}
    again = client.post(f"/api/v1/restrictions/{restriction['id']}/lift",
                        json={"reason": "The worker has left the front door."},
                        headers=family["headers"]["admin"])
    assert again.status_code == 404
    with rt.db.reader() as session:
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action == "person.restriction_lifted")).one().detail == {
            "restriction_id": restriction["id"]}


def test_a_named_user_may_change_who_is_named_and_the_old_restriction_ends(client, family):
    restrict(client, family, names=("named", "manager"))
    changed = restrict(client, family, names=("manager", "admin"))
    assert changed.status_code == 201
    assert client.get(f"/api/v1/people/{family['priya']}",
                      headers=family["headers"]["named"]).status_code == 404
    assert client.get(f"/api/v1/people/{family['priya']}",
                      headers=family["headers"]["admin"]).status_code == 200
    listed = client.get("/api/v1/restrictions", headers=family["headers"]["admin"]).json
    assert len(listed["restrictions"]) == 1


def test_restricting_needs_a_reason_and_staff_who_exist(client, family, make_user):
    partner, _ = make_user("partner")
    response = client.post(f"/api/v1/people/{family['priya']}/restriction",
                           json={"users": [999999, partner.id], "reason": "short"},
                           headers=family["headers"]["manager"])
    assert response.status_code == 422
    assert "10 to 2000" in response.json["errors"]["reason"][0]
    response = client.post(f"/api/v1/people/{family['priya']}/restriction",
                           json={"users": [999999, partner.id], "reason": REASON},
                           headers=family["headers"]["manager"])
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"users.0", "users.1"}
    response = client.post(f"/api/v1/people/{family['priya']}/restriction",
                           json={"users": [], "reason": REASON, "extra": 1},
                           headers=family["headers"]["manager"])
    assert response.status_code == 422
    assert {"users", "extra"} <= set(response.json["errors"])
    assert visible(client, family["headers"]["front_door"], family)["person"] == 200


@pytest.mark.parametrize("role", ["front_door", "hub", "partner"])
def test_only_managers_and_admins_restrict_or_lift(client, family, role):
    headers = family["partner"] if role == "partner" else family["headers"][role]
    ids = [family["users"]["named"][0].id]
    response = client.post(f"/api/v1/people/{family['priya']}/restriction",
                           json={"users": ids, "reason": REASON}, headers=headers)
    assert response.status_code == 403
    assert client.get("/api/v1/restrictions", headers=headers).status_code == 403
    assert client.post("/api/v1/restrictions/1/lift", json={"reason": REASON},
                       headers=headers).status_code == 403


def test_a_restriction_on_an_unknown_person_is_a_404(client, family):
    response = client.post("/api/v1/people/987654/restriction",
                           json={"users": [family["users"]["named"][0].id], "reason": REASON},
                           headers=family["headers"]["manager"])
    assert response.status_code == 404


WORDS = ["Priya", "Pria", "Anika", "Johnson", "Jonson", "Peter", "Jones", "07700 900123",
         "31/05/2015", "1987-01-20", "LE11 2AB", "LE11 2AB", "johnson, priya"]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
       dob=st.sampled_from(["", "2015-05-31", "1987-01-20", "2012-02-02"]),
       postcode=st.sampled_from(["", "LE11 2AB", "LE13 0AB"]),
       who=st.sampled_from(["admin", "front_door", "manager"]))
def test_a_restricted_person_never_appears_in_any_search_for_a_user_not_named(
        client, family, words, dob, postcode, who):
    if "restricted" not in family:
        assert restrict(client, family).status_code == 201
        family["restricted"] = True
    params = {"q": " ".join(words)}
    if dob:
        params["date_of_birth"] = dob
    if postcode:
        params["postcode"] = postcode
    response = client.get("/api/v1/people", query_string=params, headers=family["headers"][who])
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert all(r["person"]["family_name"] != "Johnson" for r in response.json["results"])


def test_a_blank_reason_is_a_422_not_a_saved_restriction(client, family):
    for reason in ("", "   ", None):
        response = restrict(client, family, reason=reason)
        assert response.status_code == 422, reason
        assert "reason" in response.json["errors"]
