"""Two council profiles on one database (a copy of Leicestershire's under another id stands in
for the second): a family referred under one is, to the other, a family never seen. No exact
link, no candidate, no "check who this is" pair, no search hit, no merge."""

from __future__ import annotations

import pytest
import yaml
from sqlmodel import select

from config.settings import Settings
from tests.api.cases_helpers import CHILD, MUM
from tests.level_variants import copy_profile
from triage.models import MatchReview, Person, Referral, ReferralPerson

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
TYPO = {**CHILD, "given_name": "Tomm"}


@pytest.fixture
def elsewhere(tmp_path, database_url):
    """A second service on the same database, running the profile `elsewhere`."""
    from triage import create_app

    folder = copy_profile(tmp_path, "elsewhere")
    meta = yaml.safe_load((folder / "profile.yaml").read_text(encoding="utf-8"))
    meta["id"] = "elsewhere"
    (folder / "profile.yaml").write_text(yaml.safe_dump(meta, sort_keys=False),
                                         encoding="utf-8")
    app = create_app(Settings(env="test", instance_path=tmp_path / "elsewhere-instance",
                              database_url=database_url, profile=str(folder),
                              secret_key="test-secret-key-" + "x" * 32),
                     background=False, synchronous_tasks=True)
    yield app
    rt = app.extensions["triage"]
    rt.relay.stop()
    rt.db.dispose()


def _refer(client, headers, referral_body, people) -> str:
    response = client.post("/api/v1/referrals", headers=headers, json=referral_body(
        channel="staff", postcode="LE13 1AB", people=people,
        answers={"parenting_support": True}))
    assert response.status_code == 201, response.json
    return response.json["reference"]


def _people_on(rt, reference: str) -> dict[str, int]:
    with rt.db.reader() as session:
        return dict(session.exec(select(ReferralPerson.ref, ReferralPerson.person_id).join(
            Referral, Referral.id == ReferralPerson.referral_id).where(
            Referral.reference == reference)).all())


def _found(client, headers, q: str) -> set[int]:
    response = client.get("/api/v1/people", query_string={"q": q}, headers=headers)
    assert response.status_code == 200, response.json
    return {r["person"]["id"] for r in response.json["results"]}


@both_databases
def test_a_family_known_under_one_profile_is_new_under_the_other(
        client, auth, referral_body, rt, elsewhere):
    staff = auth("front_door")
    theirs_client = elsewhere.test_client()
    assert rt.profile.id == "leicestershire"
    assert elsewhere.extensions["triage"].profile.id == "elsewhere"
    # The Reeds are referred under the other profile first, then (twice) under ours.
    theirs = _people_on(rt, _refer(theirs_client, staff, referral_body, [CHILD, MUM]))
    preview = client.post("/api/v1/triage/preview", headers=staff, json=referral_body(
        channel="staff", postcode="LE13 1AB", people=[CHILD, MUM],
        answers={"parenting_support": True}))
    assert preview.status_code == 200 and not preview.json.get("candidates")
    ours = _people_on(rt, _refer(client, staff, referral_body, [CHILD, MUM]))
    assert set(ours.values()).isdisjoint(theirs.values())  # new people, not linked
    again = _people_on(rt, _refer(client, staff, referral_body, [CHILD, MUM]))
    assert again == ours  # under its own profile the exact match still links
    typo = _people_on(rt, _refer(client, staff, referral_body, [TYPO]))
    with rt.db.reader() as session:
        profiles = dict(session.exec(select(Person.id, Person.profile_id)).all())
        pairs = session.exec(select(MatchReview.person_id, MatchReview.other_person_id)).all()
    assert {profiles[i] for i in theirs.values()} == {"elsewhere"}
    assert {profiles[i] for i in [*ours.values(), *typo.values()]} == {"leicestershire"}
    # The typo is queued for checking against our Tom only, never theirs.
    assert pairs == [tuple(sorted((ours["c1"], typo["c1"])))]
    listed = client.get("/api/v1/match-reviews", headers=staff).json["reviews"]
    assert [[p["id"] for p in r["people"]] for r in listed] == [list(pairs[0])]
    assert theirs_client.get("/api/v1/match-reviews", headers=staff).json["reviews"] == []

    assert _found(client, staff, "Tom Reed") == {ours["c1"], typo["c1"]}
    assert _found(theirs_client, staff, "Tom Reed") == {theirs["c1"]}

    refused = client.post(f"/api/v1/people/{ours['c1']}/merge", headers=staff,
                          json={"into": theirs["c1"], "reason": "Same boy, other council."})
    assert refused.status_code == 422, refused.json
    assert refused.json["errors"]["into"] == ["No such person."]
    hidden = client.post(f"/api/v1/people/{theirs['c1']}/merge", headers=staff,
                         json={"into": ours["c1"], "reason": "Same boy, other council."})
    assert hidden.status_code == 404


@both_databases
def test_another_profiles_family_record_and_merges_are_not_found(
        client, auth, referral_body, rt, elsewhere):
    """Staff of one council who may see every family still see none of the other's: its
    people, households, merges and referrals' families are not found, as if never recorded."""
    manager = auth("manager")
    theirs_client = elsewhere.test_client()
    reference = _refer(theirs_client, manager, referral_body, [CHILD, MUM])
    theirs = _people_on(rt, reference)
    typo = _people_on(rt, _refer(theirs_client, manager, referral_body, [TYPO]))
    merged = theirs_client.post(f"/api/v1/people/{typo['c1']}/merge", headers=manager,
                                json={"into": theirs["c1"], "reason": "The same boy."})
    assert merged.status_code == 201, merged.json
    with rt.db.reader() as session:
        household = session.exec(select(Referral.household_id).where(
            Referral.reference == reference)).one()
    own = {f"/api/v1/people/{theirs['c1']}", f"/api/v1/households/{household}",
           f"/api/v1/merges/{merged.json['id']}"}
    for path in own:  # under their own profile each is there
        assert theirs_client.get(path, headers=manager).status_code == 200, path
    for path in own:
        assert client.get(path, headers=manager).status_code == 404, path
    undo = client.post(f"/api/v1/merges/{merged.json['id']}/undo", headers=manager,
                       json={"reason": "Not theirs to undo."})
    assert undo.status_code == 404
    with rt.db.reader() as session:  # nothing was undone
        assert session.get(Person, typo["c1"]).merged_into_id == theirs["c1"]


@both_databases
def test_another_profiles_referrals_cases_and_privacy_requests_are_not_found(
        client, auth, make_user, referral_body, rt, elsewhere):
    """Reading, deciding, exporting, correcting or restricting another council's records, or
    reading their audit trail, is answered as for records that do not exist, and changes
    nothing."""
    admin = auth("admin")
    theirs_client = elsewhere.test_client()
    reference = _refer(theirs_client, admin, referral_body, [CHILD, MUM])
    child = _people_on(rt, reference)["c1"]
    case_id = theirs_client.get(f"/api/v1/referrals/{reference}", headers=admin).json[
        "cases"][0]["id"]
    reads = [f"/api/v1/referrals/{reference}", f"/api/v1/cases/{case_id}",
             f"/api/v1/people/{child}/export", f"/referrals/{reference}/family"]
    for path in reads[:3]:  # under their own profile each is there
        assert theirs_client.get(path, headers=admin).status_code == 200, path
    for path in reads[:3]:
        assert client.get(path, headers=admin).status_code == 404, path
    assert client.get("/api/v1/audit", query_string={"person": child},
                      headers=admin).status_code == 404
    rectified = client.post(f"/api/v1/people/{child}/rectification", headers=admin,
                            json={"changes": {"given_name": "Thomas"},
                                  "reason": "Not ours to correct."})
    assert rectified.status_code == 404, rectified.json
    restricted = client.post(f"/api/v1/people/{child}/restriction", headers=admin,
                             json={"reason": "Not ours to restrict.",
                                   "users": [make_user("front_door")[0].id]})
    assert restricted.status_code == 404, restricted.json
    moved = client.post(f"/api/v1/cases/{case_id}/events", headers=admin,
                        json={"event": "close", "outcome": "needs_met"})
    assert moved.status_code == 404, moved.json
    with rt.db.reader() as session:  # nothing changed
        assert session.get(Person, child).given_name == CHILD["given_name"]
    # Their own restriction is theirs to list and lift, not ours.
    theirs = theirs_client.post(f"/api/v1/people/{child}/restriction", headers=admin,
                                json={"reason": "A family at risk.",
                                      "users": [make_user("front_door")[0].id]})
    assert theirs.status_code == 201, theirs.json
    listed = theirs_client.get("/api/v1/restrictions", headers=admin).json["restrictions"]
    assert [r["id"] for r in listed] == [theirs.json["id"]]
    assert client.get("/api/v1/restrictions", headers=admin).json["restrictions"] == []
    lifted = client.post(f"/api/v1/restrictions/{theirs.json['id']}/lift", headers=admin,
                         json={"reason": "Not ours to lift."})
    assert lifted.status_code == 404
    assert theirs_client.get("/api/v1/restrictions", headers=admin).json["restrictions"]
