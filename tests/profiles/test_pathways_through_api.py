"""Every pathway of every profile end to end through the API: a worked example opens a case
of the service, and a manager of its team moves it along its pathway (to the nearest state
where the service has accepted the case, then to a closed state) with the fields each event
asks for; the case ends closed with a coded outcome and its history holds every step."""

from __future__ import annotations

import pytest

import workflows
from tests.profiles.test_examples_through_intake import _body, _submittable

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
SKIP_EVENTS = {"resume", "reopen", "cancel"}


def _shortest(p, start: str, goal) -> list[tuple[str, str]]:
    """(event, to) steps from `start` to the nearest state for which goal(state) holds."""
    rows = p.shortest_route(start, goal, lambda row: row.event not in SKIP_EVENTS)
    if rows is None:
        raise AssertionError(f"{p.service}: no path from {start}")
    return [(row.event, row.dest) for row in rows]


def _value(field: dict):
    if field["choices"]:
        codes = [c["code"] for c in field["choices"]]
        return "needs_met" if "needs_met" in codes else codes[0]
    if field["kind"] == "connections":
        return [{"organisation": "Citizens Advice", "need": "money and benefits"}]
    if field["kind"] == "date":
        return "2026-11-10"
    return "Talked with the family; agreed next steps."


def _opening_examples(rt) -> dict[str, tuple[int, dict, str]]:
    """service -> (n, example, instance) of the first worked example routed there."""
    found: dict[str, tuple[int, dict, str]] = {}
    for n, example in _submittable(rt):
        for route in example["expected"].get("routes") or []:
            if route.get("instance") and not example["expected"].get("needs_review"):
                found.setdefault(route["service"], (n, example, route["instance"]))
    return found


@both_databases
def test_every_pathway_runs_from_referral_to_closure(client, auth, rt):
    pathways = workflows.load_pathways(rt.profile)
    openers = _opening_examples(rt)
    missing = sorted(set(pathways.services) - set(openers))
    assert not missing, f"no worked example opens a case of: {missing}"
    front_door = auth("front_door")
    for service in pathways.services:
        p = pathways.for_service(service)
        n, example, instance = openers[service]
        created = client.post("/api/v1/referrals", json=_body(example, n, "given"),
                              headers=front_door)
        assert created.status_code == 201, created.json
        case_id = next(c["id"] for c in created.json["cases"] if c["service"] == service)
        manager = auth("manager", team=f"{service}:{instance}")
        accepted = [s for s in p.states if p.states[s].accepted]
        steps = _shortest(p, p.initial_state, lambda s: s in accepted) if accepted else []
        middle = steps[-1][1] if steps else p.initial_state
        steps += _shortest(p, middle, p.is_closed)
        for event, to in steps:
            case = client.get(f"/api/v1/cases/{case_id}", headers=manager).json
            allowed = {e["event"]: e for e in case["allowed_events"]}
            assert event in allowed, (service, case["state"], event, sorted(allowed))
            body = {"event": event, "version": case["version"],
                    **{f["name"]: _value(f) for f in allowed[event]["fields"]}}
            moved = client.post(f"/api/v1/cases/{case_id}/events", json=body, headers=manager)
            assert moved.status_code == 200, (service, event, moved.json)
            assert moved.json["state"] == to, (service, event, moved.json["state"])
        final = client.get(f"/api/v1/cases/{case_id}", headers=manager).json
        assert p.is_closed(final["state"]) and final["closed_at"], (service, final["state"])
        assert final["outcome"] in p.data.outcomes, (service, final.get("outcome"))
        assert [h["event"] for h in final["history"]][-len(steps):] == [e for e, _ in steps]
