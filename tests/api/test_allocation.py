"""Caseload allocation (policy §5) and teams declared in the profile, on a copy of the
Leicestershire profile that balances Local Area Coordination within each district
(tests/allocation_profile.py): Loughborough East holds 2 open cases, Shepshed 3, both in
Charnwood; Melton North (2) is alone in Melton."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from config.settings import Settings
from tests.allocation_profile import (
    CHARNWOOD_TEAM,
    LOUGHBOROUGH_EAST,
    MELTON,
    SHEPSHED,
    allocation_profile,
)
from triage.errors import ValidationFailed
from triage.models import Case, CaseEvent
from triage.services.accounts import users
from triage.services.referrals.allocation import lock_key

LAC = "local_area_coordination"


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32,
                    profile=str(allocation_profile(tmp_path)))


_people = iter(range(100_000))


GIVEN = ("Ada", "Bea", "Cai", "Dev", "Eli", "Fay", "Gus", "Hal", "Ivy", "Joy", "Kit", "Lev")
FAMILY = ("Smith", "Jones", "Patel", "Brown", "Khan", "Evans", "Wilson", "Taylor", "Clarke",
          "Wright", "Hughes", "Green", "Baker", "Hill")


def _body(referral_body, postcode: str, *, consent: str = "given", family: str | None = None):
    """A referral that routes to the coordinator of `postcode`'s patch; a new person (and
    household) each time unless `family` names one."""
    if family is not None:
        person = {"given_name": "Gwen", "family_name": family, "date_of_birth": "1931-05-17"}
    else:
        n = next(_people)
        person = {"given_name": GIVEN[n % 12], "family_name": FAMILY[(n // 12) % 14],
                  "date_of_birth": f"{1920 + n % 37}-{1 + n % 12:02d}-{1 + n % 28:02d}"}
    return referral_body(postcode=postcode, consent=consent,
                         people=[{"ref": "p1", "role": "subject", **person}])


def _lac_route(decision: dict) -> dict:
    (route,) = [r for r in decision["routes"] if r["service"] == LAC]
    return route


def _submit(client, headers, body) -> dict:
    response = client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _lac_case(rt, reply) -> Case:
    with rt.db.reader() as session:
        (case,) = session.exec(select(Case).where(
            Case.service == LAC, Case.id.in_([c["id"] for c in reply["cases"]]))).all()
        return case


def _open_reason(rt, case_id: int) -> str:
    with rt.db.reader() as session:
        return session.exec(select(CaseEvent.reason).where(
            CaseEvent.case_id == case_id, CaseEvent.event == "open")).one()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_full_patch_sends_new_cases_to_the_emptiest_one_in_its_district(
        client, auth, referral_body, rt):
    staff = auth("front_door", team="front_door")
    first = _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST))
    route = _lac_route(first["decision"])
    assert route["instance"] == "loughborough-east"
    assert route["allocation"]["outcome"] == "home"
    assert "Loughborough East coordinator has room (0 of 2 open cases)." in route["reason"]
    _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST))

    # Loughborough East is full (2 of 2): the preview and the recording both say Shepshed.
    body = _body(referral_body, LOUGHBOROUGH_EAST)
    preview = client.post("/api/v1/triage/preview", json=body, headers=staff).get_json()
    moved = _submit(client, staff, body)
    for decision in (preview, moved["decision"]):
        route = _lac_route(decision)
        assert route["instance"] == "shepshed"
        assert route["reason"].endswith(
            "Loughborough East coordinator is full (2 of 2 open cases); allocated to Shepshed "
            "coordinator (0 of 3).")
        assert route["allocation"] == {
            "home": "loughborough-east", "outcome": "moved", "open": 0, "capacity": 3,
            "home_open": 2, "home_capacity": 2, "text": route["allocation"]["text"]}
    case = _lac_case(rt, moved)
    assert case.instance == "shepshed"
    assert "allocated to Shepshed coordinator (0 of 3)" in _open_reason(rt, case.id)


def test_when_every_team_of_the_district_is_full_the_case_stays_home_over_capacity(
        client, auth, referral_body, rt):
    staff = auth("front_door", team="front_door")
    for postcode in [LOUGHBOROUGH_EAST] * 2 + [SHEPSHED] * 3:
        _submit(client, staff, _body(referral_body, postcode))
    reply = _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST))
    route = _lac_route(reply["decision"])
    assert route["instance"] == "loughborough-east"
    assert route["allocation"]["outcome"] == "over_capacity"
    assert route["reason"].endswith(
        "Loughborough East coordinator is full (2 of 2 open cases) and so is every other team "
        "in Charnwood; it stays with Loughborough East coordinator, over capacity.")
    assert _lac_case(rt, reply).instance == "loughborough-east"


def test_a_case_never_leaves_its_district(client, auth, referral_body, rt):
    """Melton North is Melton's only patch: full, it keeps its cases though Charnwood has
    room."""
    staff = auth("front_door", team="front_door")
    for _ in range(2):
        _submit(client, staff, _body(referral_body, MELTON))
    reply = _submit(client, staff, _body(referral_body, MELTON))
    route = _lac_route(reply["decision"])
    assert (route["instance"], route["allocation"]["outcome"]) == ("melton-north",
                                                                   "over_capacity")


def test_a_family_with_an_open_case_stays_with_that_team(client, auth, referral_body, rt):
    staff = auth("front_door", team="front_door")
    _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST))
    known = _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST, family="Stays"))
    assert _lac_case(rt, known).instance == "loughborough-east"  # now 2 of 2: full
    again = _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST, family="Stays"))
    route = _lac_route(again["decision"])
    assert (route["instance"], route["allocation"]["outcome"]) == ("loughborough-east",
                                                                   "open_case")
    assert "already has an open case with Loughborough East coordinator" in route["reason"]
    # Closed, the family's case no longer holds it: a new one is balanced again.
    with rt.db.unit_of_work() as session:
        session.execute(update(Case.__table__).where(Case.__table__.c.id == _lac_case(
            rt, known).id).values(closed_at=_lac_case(rt, known).opened_at))
        session.execute(update(Case.__table__).where(Case.__table__.c.id == _lac_case(
            rt, again).id).values(closed_at=_lac_case(rt, again).opened_at))
    _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST))
    later = _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST, family="Stays"))
    assert _lac_route(later["decision"])["allocation"]["outcome"] == "moved"


def test_a_case_waiting_for_consent_is_allocated_when_consent_is_recorded(
        client, auth, referral_body, rt):
    staff = auth("front_door", team="front_door")
    waiting = _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST,
                                           consent="not_asked"))
    assert waiting["status"] == "awaiting_consent"
    assert _lac_route(waiting["decision"])["instance"] == "loughborough-east"
    for _ in range(2):  # meanwhile Loughborough East fills up
        _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST))
    given = client.post(f"/api/v1/referrals/{waiting['reference']}/consent",
                        json={"consent": "given"}, headers=staff)
    assert given.status_code == 200, given.get_json()
    case = _lac_case(rt, given.get_json())
    assert case.instance == "shepshed"
    assert _open_reason(rt, case.id).endswith(
        "Loughborough East coordinator is full (2 of 2 open cases); allocated to Shepshed "
        "coordinator (0 of 3).")


def test_a_route_chosen_by_a_person_is_never_moved(client, auth, referral_body, rt):
    staff = auth("front_door", team="front_door")
    for _ in range(2):
        _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST))
    reply = _submit(client, staff, _body(referral_body, MELTON, consent="not_asked"))
    chosen = client.post(f"/api/v1/referrals/{reply['reference']}/override", headers=staff,
                         json={"routes": [{"service": LAC, "instance": "loughborough-east"}],
                               "reason": "The family asked for their old coordinator."})
    assert chosen.status_code == 200, chosen.get_json()
    given = client.post(f"/api/v1/referrals/{reply['reference']}/consent",
                        json={"consent": "given"}, headers=staff)
    assert _lac_case(rt, given.get_json()).instance == "loughborough-east"


def test_a_team_of_several_patches_lists_and_works_the_cases_of_each(
        client, auth, referral_body, rt):
    staff = auth("front_door", team="front_door")
    east = _lac_case(rt, _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST)))
    shepshed = _lac_case(rt, _submit(client, staff, _body(referral_body, SHEPSHED)))
    melton = _lac_case(rt, _submit(client, staff, _body(referral_body, MELTON)))
    worker = auth("practitioner", team=CHARNWOOD_TEAM)
    listed = client.get("/api/v1/cases", headers=worker).get_json()
    assert {c["id"] for c in listed["cases"]} == {east.id, shepshed.id}
    narrowed = client.get("/api/v1/cases?instance=shepshed", headers=worker).get_json()
    assert [c["id"] for c in narrowed["cases"]] == [shepshed.id]
    assert client.get("/api/v1/cases?instance=melton-north",
                      headers=worker).status_code == 403
    assert client.get(f"/api/v1/cases/{shepshed.id}", headers=worker).status_code == 200
    assert client.get(f"/api/v1/cases/{melton.id}", headers=worker).status_code == 403
    by_team = client.get(f"/api/v1/cases?team={CHARNWOOD_TEAM}",
                         headers=auth("manager")).get_json()
    assert {c["id"] for c in by_team["cases"]} == {east.id, shepshed.id}


def test_an_account_needs_a_team_of_the_profile(rt):
    with pytest.raises(ValidationFailed) as refused:
        users.create_user(rt.db, email="typo@council.example", role="practitioner",
                          team="local_area_coordination:charnwod", teams=rt.profile.teams)
    assert refused.value.errors == {"team": [
        'no team "local_area_coordination:charnwod" in this council\'s profile']}
    made = users.create_user(rt.db, email="ok@council.example", role="manager",
                             team=CHARNWOOD_TEAM, teams=rt.profile.teams)
    assert made.team == CHARNWOOD_TEAM


def test_managers_see_each_teams_open_cases_against_capacity(client, auth, referral_body, rt):
    staff = auth("front_door", team="front_door")
    for postcode in [LOUGHBOROUGH_EAST] * 3 + [SHEPSHED]:
        _submit(client, staff, _body(referral_body, postcode))
    reply = client.get("/api/v1/cases/capacity", headers=auth("manager", team=CHARNWOOD_TEAM))
    assert reply.status_code == 200, reply.get_json()
    rows = {(r["service"], r["instance"]): r for r in reply.get_json()["teams"]}
    assert {i for s, i in rows if s == LAC} == {"loughborough-east", "shepshed"}
    assert rows[(LAC, "loughborough-east")] | {} == {
        "service": LAC, "instance": "loughborough-east",
        "name": "Loughborough East coordinator", "unit": "district", "unit_value": "charnwood",
        "unit_name": "Charnwood", "open": 2, "capacity": 2, "spare": 0, "full": True,
        "balanced": True}
    assert rows[(LAC, "shepshed")]["open"] == 2 and not rows[(LAC, "shepshed")]["full"]
    everyone = client.get("/api/v1/cases/capacity", headers=auth("admin")).get_json()
    assert len([r for r in everyone["teams"] if r["service"] == LAC]) == 8
    assert client.get("/api/v1/cases/capacity",
                      headers=auth("practitioner", team=CHARNWOOD_TEAM)).status_code == 403


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_on_postgresql_an_intake_waits_for_another_allocating(
        client, auth, referral_body, rt):
    """Two intakes at once cannot both take a team's last place: the second waits on the
    allocation's advisory lock until the first commits, then counts its case."""
    staff = auth("front_door", team="front_door")
    first = _lac_case(rt, _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST)))
    second = _lac_case(rt, _submit(client, staff, _body(referral_body, LOUGHBOROUGH_EAST)))
    with rt.db.unit_of_work() as session:  # Loughborough East: 1 of 2 open
        session.execute(update(Case.__table__).where(Case.__table__.c.id == second.id)
                        .values(closed_at=second.opened_at))
    results: dict[str, object] = {}

    def intake():
        try:
            results["reply"] = _submit(app_client, staff, _body(referral_body,
                                                                LOUGHBOROUGH_EAST))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            results["error"] = exc

    app_client = client.application.test_client()
    with rt.db.unit_of_work() as session:
        # Another writer allocating holds the lock and takes Charnwood's last place.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": lock_key()})
        session.execute(update(Case.__table__).where(Case.__table__.c.id == second.id)
                        .values(closed_at=None))
        worker = threading.Thread(target=intake)
        worker.start()
        worker.join(timeout=2.0)
        assert worker.is_alive(), "the intake did not wait for the unit's lock"
    worker.join(timeout=60)
    assert "error" not in results, results.get("error")
    route = _lac_route(results["reply"]["decision"])
    assert (route["instance"], route["allocation"]["home_open"]) == ("shepshed", 2)
    assert first.instance == "loughborough-east"
