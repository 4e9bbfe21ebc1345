"""Concurrent events on one case: exactly one wins, the others get 409 and change nothing (the
version check on the case row); concurrent closures of one referral's cases close it."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import func, select

from tests.api.cases_helpers import fire, hub_and_contact_family, open_case, team
from triage.models import Case, CaseEvent, OutboxMessage

on_postgres = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _race(app, calls: list[tuple[dict, int, str, dict]]) -> list:
    """Run each (headers, case id, event, fields) in its own thread, released together."""
    start = threading.Barrier(len(calls), timeout=30)
    results: list = [None] * len(calls)

    def run(i: int, headers: dict, case_id: int, event: str, fields: dict) -> None:
        client = app.test_client()
        start.wait()
        results[i] = fire(client, headers, case_id, event, **fields)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _hold_after_firing(monkeypatch, pathway, parties: int) -> None:
    """Make every request fire the event in memory, then wait for the others before writing:
    all of them have read the same version, so only the row's version check can decide."""
    gate = threading.Barrier(parties, timeout=30)
    real_fire = pathway.fire

    def fire_then_wait(*args, **kwargs):
        step = real_fire(*args, **kwargs)
        gate.wait()
        return step

    monkeypatch.setattr(pathway, "fire", fire_then_wait)


def _events(rt, case_id: int) -> list[str]:
    with rt.db.reader() as session:
        return list(session.exec(select(CaseEvent.event).where(CaseEvent.case_id == case_id)
                                 .order_by(CaseEvent.id)).all())


@on_postgres
def test_two_events_read_at_the_same_version_one_wins_the_other_is_409_and_changes_nothing(
        app, client, auth, referral_body, rt, monkeypatch):
    _, case_id = open_case(client, auth("partner"), referral_body, "local_area_coordination")
    worker = auth("practitioner", team=team("local_area_coordination"))
    manager = auth("manager")
    with rt.db.reader() as session:
        messages_before = session.exec(select(func.count()).select_from(OutboxMessage)).one()
    _hold_after_firing(monkeypatch, rt.pathways.for_service("local_area_coordination"), 2)
    introduce, decline = _race(app, [(worker, case_id, "introduce", {}),
                                     (manager, case_id, "decline", {"reason": "outside_area"})])
    assert sorted([introduce.status_code, decline.status_code]) == [200, 409]
    winner, loser = (introduce, decline) if introduce.status_code == 200 else (decline, introduce)
    assert "moved by someone else" in loser.json["message"]
    assert loser.json["state"] == winner.json["state"] and loser.json["version"] == 2
    assert _events(rt, case_id) == ["open", winner.json["history"][-1]["event"]]
    with rt.db.reader() as session:
        case = session.get(Case, case_id)
        messages = session.exec(select(func.count()).select_from(OutboxMessage)).one()
    assert (case.state, case.version) == (winner.json["state"], 2)
    assert messages == messages_before + 1, "only the winner's effects went to the outbox"


@both_databases
def test_many_clients_firing_the_same_event_at_once_move_the_case_once(
        app, client, auth, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, "first_contact_plus")
    headers = [auth("practitioner", team="first_contact_plus") for _ in range(8)]
    results = _race(app, [(h, case_id, "contact", {"version": 1}) for h in headers])
    assert sorted(r.status_code for r in results) == [200] + [409] * 7
    assert _events(rt, case_id) == ["open", "contact"]


@on_postgres
def test_two_cases_of_one_referral_closing_at_once_close_the_referral(
        app, client, auth, referral_body, rt, monkeypatch):
    partner = auth("partner")
    family = hub_and_contact_family(referral_body)
    created = client.post("/api/v1/referrals", json=family, headers=partner).json
    ids = {c["service"]: c["id"] for c in created["cases"]}
    manager = auth("manager")
    # Both closures fire in memory, then write together: each would see the other case still
    # open unless the referral row is locked before its cases are read.
    gate = threading.Barrier(2, timeout=30)
    for service in ("first_contact_plus", "early_help_hub"):
        pathway = rt.pathways.for_service(service)

        def fire_then_wait(*args, _real=pathway.fire, **kwargs):
            step = _real(*args, **kwargs)
            gate.wait()
            return step

        monkeypatch.setattr(pathway, "fire", fire_then_wait)
    results = _race(app, [
        (manager, ids[service], "close_before_acceptance", {"outcome": "moved_away"})
        for service in ("first_contact_plus", "early_help_hub")])
    assert [r.status_code for r in results] == [200, 200]
    referral = client.get(f"/api/v1/referrals/{created['reference']}", headers=partner).json
    assert [c["state"] for c in referral["cases"]] == ["completed", "completed"]
    assert referral["status"] == "closed"
