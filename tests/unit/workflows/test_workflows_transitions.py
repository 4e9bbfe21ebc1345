"""Every allowed and every forbidden transition of every pathway, driven from pathways.yaml."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import path_to, valid_payload, walk

import workflows
from config.profile import load_profile

PATHWAYS = workflows.load_pathways(load_profile("leicestershire"))

ALLOWED = [
    pytest.param(p.service, row, id=f"{p.service}:{row.source}-{row.event}->{row.dest}")
    for p in PATHWAYS for row in p.transitions
]

FORBIDDEN = [
    pytest.param(p.service, state, event, id=f"{p.service}:{state}-{event}")
    for p in PATHWAYS for state in p.states
    for event in (*p.events, "no_such_event")
    if not any(r.event == event and r.source == state for r in p.transitions)
]


def _case_for(p: workflows.Pathway, row):
    if row.event == "resume":
        hold = next(r for r in p.transitions if r.source == row.dest and r.dest == row.source)
        return walk(p, [*path_to(p, row.dest), hold])
    return walk(p, path_to(p, row.source))


@pytest.mark.parametrize(("service", "row"), ALLOWED)
def test_every_transition_in_the_data_is_allowed_with_a_complete_payload(service, row):
    p = PATHWAYS.for_service(service)
    case = _case_for(p, row)
    assert row.event in [e.name for e in p.allowed_events(case, at=case.history[-1].at)]
    at = case.history[-1].at + timedelta(days=1)
    t = p.fire(case, row.event, valid_payload(row, p.data.fields), actor="worker", at=at)
    assert (t.from_state, t.to_state, t.event) == (row.source, row.dest, row.event)
    assert case.state == row.dest
    assert t.effects == row.effects
    assert t.by == "worker" and t.at == at
    if p.is_closed(row.dest):
        assert t.outcome in p.data.outcomes
    assert workflows.replay(p, [*case.history, t]) == row.dest


@pytest.mark.parametrize(("service", "state", "event"), FORBIDDEN)
def test_every_event_not_in_the_data_is_refused_and_leaves_the_case_alone(service, state, event):
    p = PATHWAYS.for_service(service)
    case = walk(p, path_to(p, state))
    rows = [r for r in p.transitions if r.event == event]
    payload = {k: v for r in rows for k, v in valid_payload(r, p.data.fields).items()}
    before = (case.state, list(case.history))
    with pytest.raises(workflows.EventNotAllowed) as err:
        p.fire(case, event, payload, actor="worker", at=case.history[-1].at + timedelta(days=1))
    assert (case.state, case.history) == before
    assert err.value.state == state and err.value.event == event
    assert event not in [e.name for e in err.value.allowed]


def test_the_tables_cover_every_pathway_and_the_common_vocabulary():
    assert set(PATHWAYS.services) == {
        "first_contact_plus", "local_area_coordination", "early_help_hub",
        "supporting_leicestershire_families", "first_response", "adult_social_care",
        "signposting"}
    early_help = [p for p in PATHWAYS if p.initial_state == "requested"]
    for p in early_help:
        assert {"decline", "step_up", "cancel"} <= set(p.events), p.service
    for p in early_help:
        if p.service != "signposting":
            assert {"hold", "resume", "close", "reopen"} <= set(p.events), p.service
    for service in ("first_response", "adult_social_care"):
        assert PATHWAYS.for_service(service).events == (
            "acknowledge", "accept_for_assessment", "no_further_action", "step_down", "cancel")


@pytest.mark.parametrize("p", list(PATHWAYS), ids=lambda p: p.service)
def test_every_state_means_a_fhir_task_status_and_closed_states_are_final_or_reopen(p):
    for state, spec in p.states.items():
        assert isinstance(spec.status, workflows.TaskStatus)
        if spec.closed:
            leaving = {r.event for r in p.transitions if r.source == state}
            assert leaving <= {"reopen"}, (state, leaving)
