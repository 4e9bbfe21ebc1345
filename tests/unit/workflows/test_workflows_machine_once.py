"""Machines are built once per pathway and shared: firing cases never builds a Machine,
never registers the case with one, and never grows machine.models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import transitions
from conftest import Case


def test_ten_thousand_cases_share_one_machine_per_pathway(pathways, monkeypatch):
    p = pathways.for_service("first_contact_plus")
    machine = p.machine
    built: list[object] = []
    original_init = transitions.Machine.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        original_init(self, *args, **kwargs)

    def no_add_model(self, *args, **kwargs):
        raise AssertionError("add_model must not be called per case")

    monkeypatch.setattr(transitions.Machine, "__init__", counting_init)
    monkeypatch.setattr(transitions.Machine, "add_model", no_add_model)
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    for i in range(10_000):
        case = Case(state=p.initial_state, opened_at=at)
        t1 = p.fire(case, "contact", {}, actor="w", at=at + timedelta(minutes=i))
        case.history.append(t1)
        p.fire(case, "record_connections",
               {"connections": [{"organisation": "Age UK", "need": "loneliness"}]},
               actor="w", at=at + timedelta(minutes=i + 1))
        assert case.state == "connections_made"
    assert built == []
    assert p.machine is machine
    assert machine.models == []
    assert not hasattr(case, "trigger") and not hasattr(case, "contact")


def test_every_pathway_has_its_own_machine_with_no_models_and_no_auto_transitions(pathways):
    machines = [p.machine for p in pathways]
    assert len({id(m) for m in machines}) == len(pathways)
    for p in pathways:
        assert p.machine.models == []
        assert not any(name.startswith("to_") for name in p.machine.events)
        assert set(p.machine.events) == set(p.events)
