"""Merging two records of one person (and undoing it) and the "check who this is" worklist,
through the API: what the front door sees change, and who may do it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from tests.api.cases_helpers import CHILD, MUM, open_case, team
from triage.linkage import Record
from triage.models import Decision, MatchDecision, MatchReview, Referral, ReferralPerson
from triage.services.people.candidates import find_candidates

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
REASON = "Same child: the school confirmed the spelling."
TYPO = {**CHILD, "given_name": "Tom", "family_name": "Reid"}


def _person_on(rt, reference: str, ref: str = "c1") -> int:
    with rt.db.reader() as session:
        return session.exec(select(ReferralPerson.person_id).join(
            Referral, Referral.id == ReferralPerson.referral_id).where(
            Referral.reference == reference, ReferralPerson.ref == ref)).one()


def _two_toms(client, headers, referral_body, rt) -> tuple[int, int]:
    first = client.post("/api/v1/referrals", headers=headers, json=referral_body(
        postcode="LE13 1AB", people=[CHILD, MUM], answers={"parenting_support": True}))
    second = client.post("/api/v1/referrals", headers=headers, json=referral_body(
        postcode="LE11 2AB", people=[TYPO], answers={"parenting_support": True}))
    assert first.status_code == second.status_code == 201
    return _person_on(rt, first.json["reference"]), _person_on(rt, second.json["reference"])


def _found(client, headers, q: str) -> set[int]:
    return {r["person"]["id"] for r in client.get("/api/v1/people", query_string={"q": q},
                                                  headers=headers).json["results"]}


def test_a_merged_person_leaves_search_and_comes_back_when_the_merge_is_undone(
        client, auth, referral_body, rt):
    staff = auth("front_door")
    known, newer = _two_toms(client, staff, referral_body, rt)
    assert newer in _found(client, staff, "Tom Reid")
    merged = client.post(f"/api/v1/people/{newer}/merge", headers=staff,
                         json={"into": known, "reason": REASON})
    assert merged.status_code == 201, merged.json
    assert merged.json["merged_id"] == newer and merged.json["survivor_id"] == known
    assert merged.json["changed"]["referral_person"] == 1
    assert newer not in _found(client, staff, "Tom Reid")
    with rt.db.reader() as session:
        offered = {c.person.id for c in find_candidates(
            session, Record(given_name="Tom", family_name="Reid",
                            date_of_birth=date(2016, 5, 4)), rt.profile.matching,
            profile_id=rt.profile.id)}
    assert known in offered and newer not in offered
    page = client.get(f"/api/v1/people/{known}", headers=staff).json
    assert len(page["referrals"]) == 2 and page["merges"][0]["reason"] == REASON
    assert client.get(f"/api/v1/people/{newer}", headers=staff).json["merged_into"] == known
    with rt.db.reader() as session:
        decided = session.exec(select(MatchDecision)).one()
        assert (decided.same, decided.source) == (True, "merge")
    shown = client.get(f"/api/v1/merges/{merged.json['id']}", headers=staff)
    assert shown.status_code == 200 and shown.json["merged_by"]["id"]
    undone = client.post(f"/api/v1/merges/{merged.json['id']}/undo", headers=staff,
                         json={"reason": "Two different children after all."})
    assert undone.status_code == 200, undone.json
    assert undone.json["undone_at"] and undone.json["undo_reason"]
    assert newer in _found(client, staff, "Tom Reid")
    assert len(client.get(f"/api/v1/people/{known}", headers=staff).json["referrals"]) == 1
    again = client.post(f"/api/v1/merges/{merged.json['id']}/undo", headers=staff,
                        json={"reason": "Two different children after all."})
    assert again.status_code == 409


def test_bad_merges_are_refused_naming_the_field(client, auth, referral_body, rt):
    staff = auth("front_door")
    known, newer = _two_toms(client, staff, referral_body, rt)
    for body, field in (({"into": newer, "reason": REASON}, "into"),
                        ({"into": 2147483647, "reason": REASON}, "into"),
                        ({"into": known, "reason": "short"}, "reason"),
                        ({"into": "x", "reason": REASON}, "into"),
                        ({"reason": REASON}, "into")):
        answer = client.post(f"/api/v1/people/{newer}/merge", headers=staff, json=body)
        assert answer.status_code == 422, (body, answer.json)
        assert list(answer.json["errors"]) == [field]
    assert client.post("/api/v1/people/2147483647/merge", headers=staff,
                       json={"into": known, "reason": REASON}).status_code == 404


def test_an_undo_that_later_merges_block_is_a_409_saying_what_changed(
        client, auth, referral_body, rt):
    staff = auth("front_door")
    known, newer = _two_toms(client, staff, referral_body, rt)
    third = _person_on(rt, client.post("/api/v1/referrals", headers=staff, json=referral_body(
        postcode="LE11 2AB", people=[{**CHILD, "given_name": "Thomas"}])).json["reference"])
    first = client.post(f"/api/v1/people/{newer}/merge", headers=staff,
                        json={"into": known, "reason": REASON}).json
    later = client.post(f"/api/v1/people/{known}/merge", headers=staff,
                        json={"into": third, "reason": REASON})
    assert later.status_code == 201, later.json
    refused = client.post(f"/api/v1/merges/{first['id']}/undo", headers=staff,
                          json={"reason": "Two different children after all."})
    assert refused.status_code == 409
    assert f"merge {later.json['id']}" in refused.json["message"]
    assert client.post(f"/api/v1/people/{newer}/merge", headers=staff,
                       json={"into": third, "reason": REASON}).status_code == 409


def test_households_merge_and_their_page_says_so(client, auth, referral_body, rt):
    staff = auth("front_door")
    known, newer = _two_toms(client, staff, referral_body, rt)
    homes = [client.get(f"/api/v1/people/{p}", headers=staff).json["households"][0]["id"]
             for p in (known, newer)]
    merged = client.post(f"/api/v1/households/{homes[1]}/merge", headers=staff,
                         json={"into": homes[0], "reason": REASON})
    assert merged.status_code == 201, merged.json
    family = client.get(f"/api/v1/households/{homes[0]}", headers=staff).json
    assert {m["id"] for m in family["members"]} >= {known, newer}
    assert len(family["referrals"]) == 2
    assert any(e["kind"] == "merged" for e in family["chronology"])


@pytest.mark.parametrize("role", ["partner", "hub_coordinator", "practitioner"])
def test_only_the_front_door_and_managers_merge_or_check_pairs(client, auth, referral_body,
                                                                rt, role):
    staff = auth("front_door")
    known, newer = _two_toms(client, staff, referral_body, rt)
    other = auth(role)
    assert client.post(f"/api/v1/people/{newer}/merge", headers=other,
                       json={"into": known, "reason": REASON}).status_code == 403
    assert client.get("/api/v1/match-reviews", headers=other).status_code == 403


def _queue(rt, person_id: int, other_id: int, referral: str | None = None) -> int:
    """The pair's review: the one intake queued for a partner's referral, or a new one."""
    with rt.db.unit_of_work() as session:
        referral_id = session.exec(select(Referral.id).where(
            Referral.reference == referral)).one() if referral else None
        low, high = sorted((person_id, other_id))
        queued = session.exec(select(MatchReview.id).where(
            MatchReview.person_id == low, MatchReview.other_person_id == high)).first()
        if queued is not None:
            return queued
        review = MatchReview(person_id=low, other_person_id=high, referral_id=referral_id,
                             source="intake", score=14.2, band="likely", comparisons=[
                                 {"field": "family_name", "level": "similar", "weight": 2.5,
                                  "reason": "family name sounds the same"},
                                 {"field": "date_of_birth", "level": "same", "weight": 9.1,
                                  "reason": "same date of birth"}])
        session.add(review)
        session.flush()
        return review.id


@both_databases
def test_same_links_the_newer_record_and_decides_the_referral_again_as_the_known_familys(
        client, auth, referral_body, rt):
    partner, staff = auth("partner"), auth("front_door")
    open_case(client, partner, referral_body, "supporting_leicestershire_families")
    sent = client.post("/api/v1/referrals", headers=partner, json=referral_body(
        postcode="LE13 0AB", consent="not_asked", answers={"parenting_support": True},
        people=[TYPO, {**MUM, "given_name": "Joanne"}]))
    assert sent.status_code == 201 and sent.json["status"] == "awaiting_consent"
    before = [r["service"] for r in sent.json["decision"]["routes"]]
    assert "supporting_leicestershire_families" not in before
    with rt.db.reader() as session:
        known = session.exec(select(ReferralPerson.person_id).where(
            ReferralPerson.ref == "c1").order_by(ReferralPerson.referral_id)).first()
    newer = _person_on(rt, sent.json["reference"])
    review_id = _queue(rt, known, newer, sent.json["reference"])
    listed = client.get("/api/v1/match-reviews?status=open", headers=staff)
    assert listed.status_code == 200, listed.json
    # intake queued this pair (and any other pair the partner's referral may be) itself
    shown = next(r for r in listed.json["reviews"] if r["id"] == review_id)
    assert shown["id"] == review_id and shown["referral"] == sent.json["reference"]
    assert {p["id"] for p in shown["people"]} == {known, newer}
    assert "same date of birth" in shown["reasons"]
    assert [p["postcode_district"] for p in shown["people"]] == ["LE13", "LE13"]
    assert any(p["open_cases"] for p in shown["people"])
    answer = client.post(f"/api/v1/match-reviews/{review_id}", headers=staff,
                         json={"decision": "same", "reason": REASON})
    assert answer.status_code == 200, answer.json
    assert answer.json["review"]["status"] == "linked"
    assert [m["kind"] for m in answer.json["merges"]] == ["person", "household"]
    assert answer.json["merges"][0]["merged_id"] == newer
    assert "linked to a known family" in answer.json["redecided"]
    with rt.db.reader() as session:
        current = session.exec(select(Decision).join(
            Referral, Referral.id == Decision.referral_id).where(
            Referral.reference == sent.json["reference"], Decision.current.is_(True))).one()
    assert current.reason == "linked to a known family"
    assert "supporting_leicestershire_families" in [r["service"] for r in
                                                    current.body["routes"]]
    referral = client.get(f"/api/v1/referrals/{sent.json['reference']}", headers=staff).json
    assert referral["decision"]["level"] == current.level
    assert review_id not in [r["id"] for r in client.get(
        "/api/v1/match-reviews", headers=staff).json["reviews"]]
    assert client.post(f"/api/v1/match-reviews/{review_id}", headers=staff, json={
        "decision": "same", "reason": REASON}).status_code == 409


def test_not_the_same_dismisses_the_pair_for_good(client, auth, referral_body, rt):
    staff = auth("front_door")
    known, newer = _two_toms(client, staff, referral_body, rt)
    review_id = _queue(rt, known, newer)
    answer = client.post(f"/api/v1/match-reviews/{review_id}", headers=staff,
                         json={"decision": "not_same", "reason": REASON})
    assert answer.status_code == 200, answer.json
    assert answer.json["review"]["status"] == "dismissed" and answer.json["merges"] == []
    with rt.db.reader() as session:
        decided = session.exec(select(MatchDecision)).one()
        assert (decided.same, decided.source) == (False, "review")
        from triage.services.people import review_queue
        assert review_queue.is_decided(session, newer, known)
    assert client.get("/api/v1/match-reviews", headers=staff).json["reviews"] == []
    assert [r["id"] for r in client.get("/api/v1/match-reviews?status=dismissed",
                                        headers=staff).json["reviews"]] == [review_id]
    bad = client.post(f"/api/v1/match-reviews/{review_id}", headers=staff,
                      json={"decision": "maybe", "reason": REASON})
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["decision"]


def test_the_worklist_pages_oldest_first_and_leaves_out_restricted_people(
        client, auth, referral_body, rt, make_user):
    staff_user, token = make_user("front_door")
    staff = {"Authorization": f"Bearer {token}"}
    manager = auth("manager")
    known, newer = _two_toms(client, staff, referral_body, rt)
    third = _person_on(rt, client.post("/api/v1/referrals", headers=staff, json=referral_body(
        postcode="LE11 2AB", people=[{**CHILD, "given_name": "Thomas"}])).json["reference"])
    # oldest first: intake queues a referral's pairs itself, in its own order
    ids = sorted([_queue(rt, known, newer), _queue(rt, known, third), _queue(rt, newer, third)])
    first = client.get("/api/v1/match-reviews?limit=2", headers=staff).json
    assert [r["id"] for r in first["reviews"]] == ids[:2]
    rest = client.get(f"/api/v1/match-reviews?limit=2&after={first['next_after']}",
                      headers=staff).json
    assert [r["id"] for r in rest["reviews"]] == ids[2:] and rest["next_after"] is None
    restricted = client.post(f"/api/v1/people/{third}/restriction", headers=manager,
                             json={"users": [staff_user.id], "reason": REASON})
    assert restricted.status_code == 201
    assert [r["id"] for r in client.get("/api/v1/match-reviews", headers=manager)
            .json["reviews"]] == ids[:1]
    assert client.post(f"/api/v1/match-reviews/{ids[1]}", headers=manager, json={
        "decision": "same", "reason": REASON}).status_code == 404
    assert client.post(f"/api/v1/people/{newer}/merge", headers=manager, json={
        "into": third, "reason": REASON}).status_code == 422
    assert client.get("/api/v1/match-reviews?limit=0", headers=staff).status_code == 422


def test_a_hub_team_cannot_reach_the_merge_of_a_family_it_works_with(client, auth,
                                                                      referral_body, rt):
    staff = auth("front_door")
    _, case_id = open_case(client, staff, referral_body, "early_help_hub")
    hub = auth("hub_coordinator", team=team("early_help_hub"))
    assert client.get("/api/v1/merges/1", headers=hub).status_code == 403


def test_real_merges_and_worklist_answers_match_the_documented_schemas(client, auth,
                                                                       referral_body, rt):
    from tests.api.test_openapi_document import _conforms

    spec = client.get("/api/v1/openapi.json").json
    staff = auth("front_door")
    known, newer = _two_toms(client, staff, referral_body, rt)
    review_id = _queue(rt, known, newer)
    _conforms(spec, "/api/v1/match-reviews", "get",
              client.get("/api/v1/match-reviews", headers=staff))
    _conforms(spec, "/api/v1/match-reviews", "get",
              client.get("/api/v1/match-reviews?status=nope", headers=staff))
    answered = client.post(f"/api/v1/match-reviews/{review_id}", headers=staff,
                           json={"decision": "same", "reason": REASON})
    _conforms(spec, "/api/v1/match-reviews/{review_id}", "post", answered)
    _conforms(spec, "/api/v1/match-reviews/{review_id}", "post", client.post(
        f"/api/v1/match-reviews/{review_id}", headers=staff,
        json={"decision": "same", "reason": REASON}))
    merge_id = answered.json["merges"][0]["id"]
    _conforms(spec, "/api/v1/merges/{merge_id}", "get",
              client.get(f"/api/v1/merges/{merge_id}", headers=staff))
    _conforms(spec, "/api/v1/people/{person_id}", "get",
              client.get(f"/api/v1/people/{known}", headers=staff))
    home = client.get(f"/api/v1/people/{known}", headers=staff).json["households"][0]["id"]
    _conforms(spec, "/api/v1/households/{household_id}", "get",
              client.get(f"/api/v1/households/{home}", headers=staff))
    undone = client.post(f"/api/v1/merges/{merge_id}/undo", headers=staff,
                         json={"reason": "Two different children after all."})
    _conforms(spec, "/api/v1/merges/{merge_id}/undo", "post", undone)
    _conforms(spec, "/api/v1/merges/{merge_id}/undo", "post", client.post(
        f"/api/v1/merges/{merge_id}/undo", headers=staff,
        json={"reason": "Two different children after all."}))
    _conforms(spec, "/api/v1/people/{person_id}/merge", "post", client.post(
        f"/api/v1/people/{newer}/merge", headers=staff, json={"into": newer, "reason": REASON}))
    _conforms(spec, "/api/v1/households/{household_id}/merge", "post", client.post(
        f"/api/v1/households/{home}/merge", headers=auth("partner"),
        json={"into": home, "reason": REASON}))
