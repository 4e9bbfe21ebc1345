"""At intake (issue 13): a staff preview lists the known people who may be each person not
matched exactly, with band, score and reasons; the worker answers "same person" (the referral
joins that person and household) or "not the same" (a new person, and the pair is never
offered again); a partner's or the public's preview never reveals anyone, and their referral
is recorded as new people with the pairs queued for the front door to check."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from tests.api.test_privacy_restriction import MUM, OTHER
from triage.models import AuditEvent, HouseholdMember, Person, Referral, ReferralPerson
from triage.models.matching import MatchDecision, MatchReview

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

PRIYA = {"ref": "p1", "role": "subject", "given_name": "Priya", "family_name": "Johnson",
         "date_of_birth": "2015-05-31"}
TYPO = {**PRIYA, "given_name": "Pria", "family_name": "Jonson"}
POSTCODE = "LE11 2AB"


def staff_body(referral_body, people=(TYPO,), **changes) -> dict:
    return referral_body(**{"channel": "staff", "postcode": POSTCODE, "people": list(people),
                            "referrer": {"organisation": "Front door"}, **changes})


@pytest.fixture
def known(client, auth, referral_body):
    """Priya Johnson, already known (a partner referred her family)."""
    created = client.post("/api/v1/referrals", json=referral_body(
        postcode=POSTCODE, people=[PRIYA]), headers=auth("partner"))
    assert created.status_code == 201, created.json
    return created.json


def person_named(rt, given: str) -> int:
    with rt.db.reader() as session:
        return session.exec(select(Person.id).where(Person.given_name == given)).one()


def priya_id(rt) -> int:
    return person_named(rt, "Priya")


def count(rt, model, *where) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def preview(client, headers, body):
    response = client.post("/api/v1/triage/preview", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


@both_databases
def test_a_staff_preview_lists_a_likely_known_person_with_reasons(client, auth, rt,
                                                                  referral_body, known):
    shown = preview(client, auth("front_door"), staff_body(referral_body))
    [candidate] = shown["candidates"]["p1"]
    assert candidate["person"] == {"id": priya_id(rt), "given_name": "Priya",
                                   "family_name": "Johnson", "date_of_birth": "2015-05-31"}
    assert candidate["band"] in ("likely", "possible")
    assert candidate["score"] > 0
    assert "same date of birth" in candidate["reasons"]
    assert any("family name" in r and "similar" in r for r in candidate["reasons"])
    assert candidate["postcode_district"] == "LE11"
    assert "level" in shown  # the decision is still there
    with rt.db.reader() as session:
        viewed = session.exec(select(AuditEvent).where(
            AuditEvent.action == "person.candidates_view")).one()
    assert viewed.detail == {"person_ids": [priya_id(rt)], "count": 1}


@both_databases
def test_being_offered_as_a_candidate_is_in_the_person_s_subject_access_export(
        client, auth, rt, referral_body, known):
    preview(client, auth("front_door"), staff_body(referral_body))
    export = client.get(f"/api/v1/people/{priya_id(rt)}/export", headers=auth("manager"))
    assert export.status_code == 200, export.json
    assert "person.candidates_view" in {v["action"] for v in export.json["views"]}


@both_databases
def test_a_partners_preview_of_the_same_body_lists_nobody(client, auth, referral_body, known):
    body = staff_body(referral_body, channel="partner")
    shown = preview(client, auth("partner"), body)
    assert "candidates" not in shown
    assert "Priya" not in str(shown)


def test_an_exact_match_is_linked_as_before_and_offers_nobody(client, auth, referral_body,
                                                              known, rt):
    shown = preview(client, auth("front_door"), staff_body(referral_body, people=[PRIYA]))
    assert shown["candidates"] == {}


@both_databases
def test_same_as_links_to_the_known_person_and_household(client, auth, rt, referral_body,
                                                         known):
    pid = priya_id(rt)
    people_before = count(rt, Person)
    body = staff_body(referral_body, identity={"p1": {"same_as": pid}})
    created = client.post("/api/v1/referrals", json=body, headers=auth("front_door"))
    assert created.status_code == 201, created.json
    assert count(rt, Person) == people_before
    assert created.json["people"][0]["known_before"] is True
    with rt.db.reader() as session:
        referral = session.exec(select(Referral).where(
            Referral.reference == created.json["reference"])).one()
        first = session.exec(select(Referral).where(
            Referral.reference == known["reference"])).one()
        linked = session.exec(select(ReferralPerson.person_id).where(
            ReferralPerson.referral_id == referral.id)).one()
        audited = session.exec(select(AuditEvent).where(
            AuditEvent.action == "person.identity_confirmed")).one()
    assert linked == pid
    assert referral.household_id == first.household_id
    assert audited.object_id == str(pid) and audited.detail["source"] == "intake"
    assert count(rt, MatchReview) == 0


@both_databases
def test_not_same_as_creates_a_person_a_decision_and_the_pair_is_not_offered_again(
        client, auth, rt, referral_body, known):
    pid = priya_id(rt)
    staff = auth("front_door")
    created = client.post("/api/v1/referrals", json=staff_body(
        referral_body, identity={"p1": {"not_same_as": [pid]}}), headers=staff)
    assert created.status_code == 201, created.json
    with rt.db.reader() as session:
        new_id = session.exec(select(Person.id).where(Person.given_name == "Pria")).one()
        decision = session.exec(select(MatchDecision)).one()
    assert (decision.person_id, decision.other_person_id) == (min(pid, new_id),
                                                              max(pid, new_id))
    assert decision.same is False and decision.source == "intake"
    assert decision.decided_by_id is not None and decision.decided_at is not None
    assert count(rt, MatchReview) == 0  # decided, so not queued
    # The same typed person again is now Pria (exact), and Priya is not offered.
    again = preview(client, staff, staff_body(referral_body))
    assert again["candidates"] == {}
    # Another spelling is offered both, but the decided pair is never queued.
    other = {**TYPO, "given_name": "Priyah"}
    offered = {c["person"]["id"] for c in preview(client, staff, staff_body(
        referral_body, people=[other]))["candidates"].get("p1", [])}
    assert pid in offered
    partner = client.post("/api/v1/referrals", json=staff_body(
        referral_body, people=[other], channel="partner"), headers=auth("partner"))
    assert partner.status_code == 201
    with rt.db.reader() as session:
        pairs = {(r.person_id, r.other_person_id) for r in session.exec(select(MatchReview))}
    assert (min(pid, new_id), max(pid, new_id)) not in pairs


@both_databases
def test_a_partner_referral_is_recorded_new_and_queued_for_checking(client, auth, rt,
                                                                    referral_body, known):
    pid = priya_id(rt)
    people_before = count(rt, Person)
    created = client.post("/api/v1/referrals", json=staff_body(
        referral_body, channel="partner"), headers=auth("partner"))
    assert created.status_code == 201, created.json
    assert count(rt, Person) == people_before + 1
    with rt.db.reader() as session:
        new_id = session.exec(select(Person.id).where(Person.given_name == "Pria")).one()
        review = session.exec(select(MatchReview)).one()
        referral_id = session.exec(select(Referral.id).where(
            Referral.reference == created.json["reference"])).one()
        households = set(session.exec(select(HouseholdMember.household_id).where(
            HouseholdMember.person_id.in_([pid, new_id]))))
    assert (review.person_id, review.other_person_id) == (min(pid, new_id), max(pid, new_id))
    assert review.source == "intake" and review.status == "open"
    assert review.referral_id == referral_id
    assert review.band in ("likely", "possible") and review.score > 0
    assert {c["field"] for c in review.comparisons} >= {"given_name", "date_of_birth"}
    assert all(set(c) == {"field", "level", "weight", "reason"} for c in review.comparisons)
    assert "Priya" not in str(review.comparisons) and "Pria" not in str(review.comparisons)
    assert len(households) == 2  # never linked on a guess


def test_the_public_is_never_linked_on_a_guess(rt, referral_body, known):
    from triage.errors import ValidationFailed
    from triage.services.referrals import intake

    intake.submit_referral(rt, user=None, body=staff_body(referral_body, channel="self"))
    assert count(rt, MatchReview) == 1
    with pytest.raises(ValidationFailed) as refused:
        intake.submit_referral(rt, user=None, body=staff_body(
            referral_body, channel="self", identity={"p1": {"same_as": priya_id(rt)}}))
    assert set(refused.value.errors) == {"identity"}


@both_databases
def test_a_restricted_person_is_never_offered(client, auth, make_user, rt, referral_body,
                                              known):
    named, token = make_user("front_door")
    manager = auth("manager")
    restricted = client.post(f"/api/v1/people/{priya_id(rt)}/restriction",
                             json={"users": [named.id], "reason": "A staff member's family."},
                             headers=manager)
    assert restricted.status_code in (200, 201), restricted.json
    for headers in (manager, {"Authorization": f"Bearer {token}"}, auth("admin")):
        assert preview(client, headers, staff_body(referral_body))["candidates"] == {}
    refused = client.post("/api/v1/referrals", json=staff_body(
        referral_body, identity={"p1": {"same_as": priya_id(rt)}}), headers=manager)
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"identity.p1.same_as"}
    client.post("/api/v1/referrals", json=staff_body(referral_body, channel="partner"),
                headers=auth("partner"))
    assert count(rt, MatchReview) == 0


@both_databases
def test_a_restriction_on_one_of_a_household_hides_all_of_it_from_intake_until_lifted(
        client, auth, make_user, rt, referral_body):
    partner, manager = auth("partner"), auth("manager")
    named, _ = make_user("front_door")
    created = client.post("/api/v1/referrals", json=referral_body(
        postcode=POSTCODE, people=[PRIYA, MUM]), headers=partner)
    assert created.status_code == 201, created.json
    # Her mother is restricted, so Priya (her household) is covered too.
    restriction = client.post(f"/api/v1/people/{person_named(rt, 'Anika')}/restriction",
                              json={"users": [named.id], "reason": "A staff member's family."},
                              headers=manager)
    assert restriction.status_code in (200, 201), restriction.json
    assert preview(client, manager, staff_body(referral_body))["candidates"] == {}
    client.post("/api/v1/referrals", json=staff_body(referral_body, channel="partner"),
                headers=partner)
    assert count(rt, MatchReview) == 0
    lifted = client.post(f"/api/v1/restrictions/{restriction.json['id']}/lift",
                         json={"reason": "The worker has left the front door."},
                         headers=auth("admin"))
    assert lifted.status_code == 200, lifted.json
    # ("Pria Jonson" is now known exactly: the partner's referral recorded her as new.)
    offered = preview(client, manager, staff_body(
        referral_body, people=[{**PRIYA, "family_name": "Johnsen"}]))["candidates"]
    assert priya_id(rt) in [c["person"]["id"] for c in offered["p1"]]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_partner_referral_whose_people_are_queued_goes_in_as_one_statement(
        client, auth, make_user, rt, referral_body, known, monkeypatch):
    """The candidate search and the restrictions are plain reads, so every row of a referral
    whose look-alikes are queued (and a restriction in force elsewhere) goes in with one
    statement: no transaction to commit. (Its message is held back, so the relay's own
    transaction is not among what is counted.)"""
    from tests.conftest import psycopg_commands

    partner = auth("partner")
    created = client.post("/api/v1/referrals", json=referral_body(
        postcode="LE13 0AB", people=[OTHER]), headers=partner)
    assert created.status_code == 201, created.json
    named, _ = make_user("front_door")
    restricted = client.post(f"/api/v1/people/{person_named(rt, 'Peter')}/restriction",
                             json={"users": [named.id], "reason": "A staff member's family."},
                             headers=auth("manager"))
    assert restricted.status_code in (200, 201), restricted.json
    held: list[int] = []
    monkeypatch.setattr(rt.relay, "after_commit", held.extend)
    with psycopg_commands() as sent:
        queued = client.post("/api/v1/referrals", json=staff_body(
            referral_body, channel="partner"), headers=partner)
    assert queued.status_code == 201, queued.json
    assert count(rt, MatchReview, MatchReview.person_id.in_([priya_id(rt)])
                 | MatchReview.other_person_id.in_([priya_id(rt)])) == 1
    # Stored without a COMMIT (a read, such as the token's after an account changed, may
    # still BEGIN and ROLLBACK).
    assert "COMMIT" not in sent, sent
    assert len(held) == 1  # the referral's one message, committed with it


def test_a_hub_worker_is_offered_only_families_their_team_works_with(client, auth, rt,
                                                                     referral_body, known):
    from tests.api.cases_helpers import team

    hub = auth("hub_coordinator", team=team("early_help_hub"))
    assert preview(client, hub, staff_body(referral_body))["candidates"] == {}


@pytest.mark.parametrize(("identity", "field"), [
    ({"p9": {"same_as": 1}}, "identity.p9"),
    ({"p1": {"same_as": 1, "not_same_as": [2]}}, "identity.p1"),
    ({"p1": {}}, "identity.p1"),
    ({"p1": {"same_as": "1"}}, "identity.p1.same_as"),
    ({"p1": {"not_same_as": []}}, "identity.p1.not_same_as"),
    ({"p1": {"maybe": 3}}, "identity.p1.maybe"),
    ({"p1": "same"}, "identity.p1"),
    (["p1"], "identity"),
    ({"p1": {"same_as": 999999}}, "identity.p1.same_as"),
    ({"p1": {"not_same_as": [999999]}}, "identity.p1.not_same_as"),
])
def test_a_bad_identity_is_a_422_naming_the_field(client, auth, rt, referral_body, known,
                                                  identity, field):
    staff = auth("front_door")
    people_before = count(rt, Person)
    for path in ("/api/v1/triage/preview", "/api/v1/referrals"):
        response = client.post(path, json=staff_body(referral_body, identity=identity),
                               headers=staff)
        assert response.status_code == 422, (path, response.json)
        assert field in response.json["errors"], (path, response.json)
    assert count(rt, Person) == people_before
    assert count(rt, MatchDecision) == 0


def test_an_exactly_matched_person_cannot_be_given_an_identity(client, auth, rt,
                                                               referral_body, known):
    response = client.post("/api/v1/referrals", json=staff_body(
        referral_body, people=[PRIYA], identity={"p1": {"not_same_as": [priya_id(rt)]}}),
        headers=auth("front_door"))
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"identity.p1"}


@both_databases
def test_partners_and_batches_may_not_send_identity(client, auth, rt, referral_body, known):
    body = staff_body(referral_body, identity={"p1": {"same_as": priya_id(rt)}})
    partner = auth("partner")
    for path in ("/api/v1/triage/preview", "/api/v1/referrals"):
        response = client.post(path, json=body, headers=partner)
        assert response.status_code == 422, response.json
        assert set(response.json["errors"]) == {"identity"}
    batch = client.post("/api/v1/referrals/batch", json={"referrals": [body]},
                        headers=auth("front_door"))
    assert batch.status_code == 422, batch.json
    assert set(batch.json["errors"]) == {"referrals.0.identity"}
    assert count(rt, MatchDecision) == 0 and count(rt, Referral) == 1


def test_a_staff_referral_on_another_channel_may_not_send_identity(client, auth, rt,
                                                                   referral_body, known):
    response = client.post("/api/v1/referrals", json=staff_body(
        referral_body, channel="self", identity={"p1": {"same_as": priya_id(rt)}}),
        headers=auth("front_door"))
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"identity"}


# -- property: a not-same answer is never asked again ------------------------------------------
SPELLINGS = [("Pria", "Jonson"), ("Priya", "Jonson"), ("Pryia", "Johnson"),
             ("Priyah", "Johnsen"), ("Pria", "Johnston"), ("Preya", "Johnson")]
_families = iter(range(1, 10_000))


@given(steps=st.lists(st.tuples(st.sampled_from(SPELLINGS), st.booleans(),
                                st.sampled_from(["staff", "partner"])),
                      min_size=1, max_size=6))
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_decided_pairs_never_appear_in_a_later_preview_or_the_queue(rt, demo_staff, steps):
    """Any sequence of referrals of one child under different spellings, each answering
    "not the same" for all or some of the known people offered (or sent by a partner):
    afterwards no preview offers a decided pair, and the queue never holds one."""
    from triage.services.referrals import intake

    staff, partner = demo_staff
    family = next(_families)
    dob = (date(1990, 1, 1) + timedelta(days=family)).isoformat()
    postcode = f"LE{1 + family % 17} {family % 10}AB"
    base = {"channel": "staff", "referrer": {"organisation": "Front door"},
            "postcode": postcode, "answers": {"memory_concern": False},
            "consent": "given"}

    def body(given, family_name, **more):
        return {**base, "people": [{"ref": "p1", "role": "subject", "given_name": given,
                                    "family_name": family_name, "date_of_birth": dob}],
                **more}

    with rt.db.reader() as session:
        first = session.exec(select(func.coalesce(func.max(Person.id), 0))).one()
    intake.submit_referral(rt, user=staff, body=body("Priya", "Johnson"))
    answered = 0
    for (given_name, family_name), all_of_them, channel in steps:
        if channel == "partner":
            intake.submit_referral(rt, user=partner, body=body(given_name, family_name,
                                                               channel="partner"))
            continue
        offered = [c["person"]["id"] for c in intake.preview(
            rt, user=staff, body=body(given_name, family_name))["candidates"].get("p1", [])]
        answer = offered if all_of_them else offered[:1]
        answered += len(answer)
        identity = {"p1": {"not_same_as": answer}} if answer else {}
        intake.submit_referral(rt, user=staff, body=body(given_name, family_name,
                                                         identity=identity))
    with rt.db.reader() as session:
        mine = list(session.exec(select(Person).where(Person.id > first)))
        ids = {(p.given_name, p.family_name): p.id for p in mine}
        ours = set(ids.values())
        decided = {(d.person_id, d.other_person_id)
                   for d in session.exec(select(MatchDecision)) if not d.same
                   and {d.person_id, d.other_person_id} & ours}
        queued = {(r.person_id, r.other_person_id) for r in session.exec(select(MatchReview))
                  if {r.person_id, r.other_person_id} & ours}
    assert not decided & queued
    assert len(decided) == answered
    for (given_name, family_name), _, _ in steps:
        typed = ids.get((given_name, family_name))
        shown = intake.preview(rt, user=staff, body=body(given_name, family_name))["candidates"]
        for c in shown.get("p1", []):
            assert typed is None or tuple(sorted((typed, c["person"]["id"]))) not in decided


@pytest.fixture
def demo_staff(make_user):
    return make_user("front_door")[0], make_user("partner")[0]
