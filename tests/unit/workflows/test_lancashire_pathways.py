"""Lancashire's pathways as data: targeted early help allocates a lead professional, then the
early help assessment, a Team Around the Family plan and its reviews, each due in working
days, and closes with one of its closure reasons; no pathway waits for a hub meeting."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import path_to, walk

import workflows
from config.profile import load_profile


def _at(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=UTC)


@pytest.fixture(scope="module")
def lancashire() -> workflows.Pathways:
    return workflows.load_pathways(load_profile("lancashire"))


def _kinds(dues):
    return {d.kind: d for d in dues}


def test_every_service_has_a_pathway_and_none_waits_for_a_hub_meeting(lancashire):
    for service in load_profile("lancashire").services:
        p = lancashire.for_service(service)
        assert all(t.unit != "hub_meeting" for t in p.spec.timescales), service


def test_targeted_early_help_runs_allocation_assessment_plan_review_close(lancashire,
                                                                          calendar):
    p = lancashire.for_service("wpehs_targeted")
    start = _at(2026, 11, 2)  # a Monday
    case = walk(p, [], start=start)
    [due] = p.due(case, now=start, calendar=calendar)
    # A lead professional within five working days.
    assert (due.kind, due.due_at) == ("first_contact", date(2026, 11, 9))
    with pytest.raises(workflows.MissingFields) as missing:
        p.fire(case, "allocate", {}, actor="w", at=_at(2026, 11, 3))
    assert "lead_professional" in missing.value.fields
    case.history.append(p.fire(case, "allocate", {"lead_professional": "Jo Bell, 01772 000000"},
                               actor="w", at=_at(2026, 11, 3)))
    due = _kinds(p.due(case, now=_at(2026, 11, 4), calendar=calendar))
    assert set(due) == {"assessment", "plan", "closure"}
    # From Tue 3 Nov 2026: assessment in 10 working days, the plan in 30, closure in 130.
    assert due["assessment"].due_at == date(2026, 11, 17)
    assert due["plan"].due_at == date(2026, 12, 15)
    assert [d.kind for d in p.escalation_due(case, _at(2026, 11, 18), calendar)] == [
        "assessment"]
    for event, when in (("start_assessment", _at(2026, 11, 10)),
                        ("agree_plan", _at(2026, 11, 30))):
        case.history.append(p.fire(case, event, {}, actor="w", at=when))
    due = _kinds(p.due(case, now=_at(2026, 12, 1), calendar=calendar))
    assert set(due) == {"review", "closure"}
    # Reviews every 30 working days: from Mon 30 Nov, over the 25 and 28 December and
    # 1 January bank holidays, Thu 14 January.
    assert due["review"].due_at == date(2027, 1, 14)
    case.history.append(p.fire(case, "review", {}, actor="w", at=_at(2027, 1, 11)))
    assert _kinds(p.due(case, now=_at(2027, 1, 12), calendar=calendar))["review"].due_at == \
        date(2027, 2, 22)
    with pytest.raises(workflows.MissingFields):
        p.fire(case, "close", {"outcome": "stepped_up"}, actor="w", at=_at(2027, 2, 1))
    closed = p.fire(case, "close", {"outcome": "universal_support"}, actor="w",
                    at=_at(2027, 2, 1))
    assert closed.to_state == "completed" and p.is_closed(closed.to_state)


def test_the_universal_offer_closes_when_advice_is_given_or_a_group_attended(lancashire):
    p = lancashire.for_service("wpehs_universal")
    advised = walk(p, path_to(p, "completed"))
    assert advised.history[-1].event in ("give_advice", "close_before_acceptance")
    grouped = walk(p, path_to(p, "in_group"))
    done = p.fire(grouped, "finish_group", {}, actor="w", at=_at(2026, 11, 20))
    assert done.to_state == "completed"
