"""Hypothesis drives each pathway's machine with random events, payloads and gaps in time:
never an undefined state, never a closed case without an outcome, history always replays,
and a refused event (not allowed, or missing fields) leaves the case as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Case
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import workflows
from config.profile import load_profile
from tests.profile_ids import selected_profiles

# Every council profile's pathways (tests/profile_ids.py: all shipped, or those named).
PATHWAYS = {pid: workflows.load_pathways(load_profile(pid)) for pid in selected_profiles()}
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
ALL_CODES = sorted({c for ps in PATHWAYS.values() for p in ps for t in p.transitions
                    for codes in t.choices.values() for c in codes})
ANY_VALUE = st.one_of(
    st.none(), st.just(""), st.text(max_size=12), st.sampled_from(ALL_CODES),
    st.lists(st.fixed_dictionaries({"organisation": st.text(max_size=5),
                                    "need": st.text(max_size=5)}), max_size=3),
    st.integers(), st.just("2026-11-10"))


def valid_value(draw: Any, row: Any, name: str, fields: Any) -> Any:
    if name in row.choices:
        return draw(st.sampled_from(list(row.choices[name])))
    kind = fields[name].kind
    if kind == "connections":
        return draw(st.lists(st.fixed_dictionaries({
            "organisation": st.sampled_from(["Citizens Advice", "Warm Homes", "Carers Trust"]),
            "need": st.sampled_from(["money", "housing", "carers"])}), min_size=1, max_size=4))
    if kind == "date":
        return draw(st.dates().map(lambda d: d.isoformat()))
    return draw(st.text(min_size=1, max_size=20).filter(str.strip))


def pathway_machine(profile_id: str, service: str) -> type[RuleBasedStateMachine]:
    p = PATHWAYS[profile_id].for_service(service)
    events = [*p.events, "no_such_event"]

    class PathwayMachine(RuleBasedStateMachine):
        @initialize()
        def open_case(self) -> None:
            self.now = START
            self.case = Case(state=p.initial_state, opened_at=START)
            self.case.history.append(p.opening(actor="test", at=START))

        @rule(gap=st.one_of(st.integers(0, 30), st.integers(0, 500)), data=st.data())
        def fire_an_event(self, gap: int, data: st.DataObject) -> None:
            self.now += timedelta(days=gap)
            allowed = [e.name for e in p.allowed_events(self.case, at=self.now)]
            # Mostly an event the case can take, so runs go deep; sometimes any event at all.
            if allowed and data.draw(st.integers(0, 3)):
                event = data.draw(st.sampled_from(allowed))
            else:
                event = data.draw(st.sampled_from(events))
            rows = [r for r in p.transitions if r.event == event and r.source == self.case.state]
            payload: dict[str, Any] = {}
            for row in rows[:1]:
                for name in row.needs:
                    how = data.draw(st.sampled_from(["valid"] * 6 + ["missing", "random"]))
                    if how == "valid":
                        payload[name] = valid_value(data.draw, row, name, p.data.fields)
                    elif how == "random":
                        payload[name] = data.draw(ANY_VALUE)
            if data.draw(st.booleans()):
                payload["note"] = data.draw(ANY_VALUE)
            before_state, before_len = self.case.state, len(self.case.history)
            try:
                t = p.fire(self.case, event, payload, actor="test", at=self.now)
            except workflows.EventNotAllowed as exc:
                assert event not in allowed
                assert exc.state == before_state
                assert (self.case.state, len(self.case.history)) == (before_state, before_len)
                return
            except workflows.MissingFields as exc:
                assert event in allowed and exc.fields
                assert (self.case.state, len(self.case.history)) == (before_state, before_len)
                return
            assert event in allowed
            assert (t.from_state, t.to_state, t.event) == (before_state, self.case.state, event)
            self.case.history.append(t)
            self.case.closed_at = t.at if p.is_closed(t.to_state) else None

        @invariant()
        def state_is_defined(self) -> None:
            assert self.case.state in p.states

        @invariant()
        def a_closed_case_has_a_coded_outcome(self) -> None:
            if p.is_closed(self.case.state):
                last = self.case.history[-1]
                assert last.to_state == self.case.state
                assert last.outcome in p.data.outcomes

        @invariant()
        def history_replays_to_the_current_state(self) -> None:
            assert workflows.replay(p, self.case.history) == self.case.state

        @invariant()
        def acceptance_precedes_needs_met(self) -> None:
            outcomes = [h.outcome for h in self.case.history if h.from_state is not None]
            if "needs_met" in outcomes or "partly_met" in outcomes:
                assert any(p.states[h.to_state].accepted for h in self.case.history)

    PathwayMachine.__name__ = f"{profile_id}_{service}_machine"
    return PathwayMachine


@pytest.mark.parametrize(("profile_id", "service"), [
    (pid, service) for pid, ps in PATHWAYS.items() for service in ps.services])
def test_random_event_sequences_keep_every_pathway_consistent(profile_id, service):
    machine = pathway_machine(profile_id, service)
    machine.TestCase.settings = settings(
        max_examples=100, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    machine.TestCase().runTest()
