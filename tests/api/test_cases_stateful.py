"""Hypothesis drives each pathway through the API with random events and payloads (mostly
allowed, sometimes not): an accepted event bumps the version by one, a refused one (409, 422)
changes nothing, the stored history always replays to the stored state (assigning a worker
never moves it), a closed case always has its outcome and closing time, the case has at most
one named worker and that worker is on its team, and the referral's status follows its
cases."""

from __future__ import annotations

from itertools import count

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select

from rules.examples import letters
from tests.api.cases_helpers import ROUTED_TO, fire, open_case, team
from triage.models import Case, CaseEvent, Referral, User
from triage.policy import may_hold_case
from triage.services.cases.case_dues import WORKER_EVENTS


def _value(draw, field: dict):
    if field["choices"] is not None:
        return draw(st.sampled_from([c["code"] for c in field["choices"]]))
    if field["kind"] == "connections":
        return draw(st.lists(st.fixed_dictionaries({
            "organisation": st.sampled_from(["Citizens Advice", "Warm Homes"]),
            "need": st.sampled_from(["money", "housing"])}), min_size=1, max_size=3))
    if field["kind"] == "date":
        return draw(st.dates().map(lambda d: d.isoformat()))
    # Text a database can store (a NUL or a lone surrogate is a 422: test_text_boundary.py).
    return draw(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                        min_size=1, max_size=30).filter(str.strip))


@pytest.mark.parametrize("service", sorted(ROUTED_TO))
def test_random_events_through_the_api_keep_every_record_consistent(
        app, auth, referral_body, rt, service):
    client = app.test_client()
    partner = auth("partner")
    worker = auth("manager", team=team(service))
    auth("practitioner", team=team(service), name="Priya Shah")  # a second worker to assign
    pathway = rt.pathways.for_service(service)
    families = count()

    class CaseThroughTheApi(RuleBasedStateMachine):
        @initialize()
        def open_the_case(self) -> None:
            # Each example its own family: the same family referred again would be routed
            # by what an earlier example did to its case (joined, or stepped up).
            self.reference, self.case_id = open_case(
                client, partner, referral_body, service, family=f"Reed{letters(next(families))}")
            self.version = 1
            self.declined = False

        @rule(data=st.data())
        def fire_an_event(self, data: st.DataObject) -> None:
            shown = client.get(f"/api/v1/cases/{self.case_id}", headers=worker).json
            allowed = {e["event"]: e for e in shown["allowed_events"]}
            valid = bool(allowed) and data.draw(st.integers(0, 4)) > 0
            if valid:
                event = data.draw(st.sampled_from(sorted(allowed)))
                fields = {f["name"]: _value(data.draw, f) for f in allowed[event]["fields"]}
            else:
                event = data.draw(st.sampled_from([*pathway.events, "fly_to_the_moon"]))
                fields = {name: data.draw(st.one_of(st.none(), st.text(max_size=5)))
                          for name in data.draw(st.lists(st.sampled_from(
                              ["reason", "outcome", "advice", "lead_agency"]), max_size=2))}
            response = fire(client, worker, self.case_id, event, **fields)
            if valid:
                assert response.status_code == 200, (event, fields, response.json)
                self.version += 1
                self.declined |= event == "decline"
            else:
                assert response.status_code in (200, 409, 422), response.json
                if response.status_code == 200:
                    self.version += 1
                    self.declined |= event == "decline"
            if response.status_code != 422:  # 200 and 409 say which version the case is at
                assert response.json["version"] == self.version

        @invariant()
        def stored_records_agree(self) -> None:
            with rt.db.reader() as session:
                case = session.get(Case, self.case_id)
                history = session.exec(select(CaseEvent).where(
                    CaseEvent.case_id == self.case_id).order_by(CaseEvent.at, CaseEvent.id)
                ).all()
                referral = session.get(Referral, case.referral_id)
                open_cases = session.exec(select(Case.id).where(
                    Case.referral_id == referral.id, Case.closed_at.is_(None))).all()
                holder = session.get(User, case.worker_id) if case.worker_id else None
            assert case.version == self.version == len(history)
            moves = [row for row in history if row.event not in WORKER_EVENTS]
            assert pathway.replay(moves) == case.state
            assert all(row.from_state == row.to_state for row in history
                       if row.event in WORKER_EVENTS)
            assigned = [row.payload["worker_id"] for row in history
                        if row.event in WORKER_EVENTS]
            assert case.worker_id == (assigned[-1] if assigned else None)
            assert holder is None or may_hold_case(holder, case, rt.profile.teams)
            closed = pathway.is_closed(case.state)
            assert (case.closed_at is not None) == closed
            assert (case.outcome is not None) == closed
            if closed:
                assert case.outcome == history[-1].payload["outcome"]
                assert case.next_due_at is None and case.escalation_due_at is None
            expected = "needs_review" if self.declined else (
                "routed" if open_cases else "closed")
            assert referral.status == expected

    CaseThroughTheApi.TestCase.settings = settings(
        max_examples=10, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    run_state_machine_as_test(CaseThroughTheApi, settings=CaseThroughTheApi.TestCase.settings)
