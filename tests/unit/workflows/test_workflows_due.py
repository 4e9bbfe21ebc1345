"""What is due on a case and when, from each pathway's timescales and the case's history."""

from __future__ import annotations

from datetime import UTC, date, datetime

from conftest import Case, path_to, walk

import workflows


def _at(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=UTC)


def _kinds(dues):
    return {d.kind: d for d in dues}


def test_first_contact_plus_first_contact_within_ten_working_days_over_christmas(pathways,
                                                                                 calendar):
    p = pathways.for_service("first_contact_plus")
    case = walk(p, [], start=_at(2026, 12, 14))
    [due] = p.due(case, now=_at(2026, 12, 30), calendar=calendar)
    assert (due.kind, due.due_at, due.overdue) == ("first_contact", date(2026, 12, 30), False)
    [late] = p.escalation_due(case, _at(2026, 12, 31), calendar)
    assert late.kind == "first_contact" and late.overdue
    case.history.append(p.fire(case, "contact", {}, actor="w", at=_at(2026, 12, 29)))
    assert p.due(case, now=_at(2027, 1, 30), calendar=calendar) == []


def test_coordinators_have_ten_working_days_to_introduce(pathways, calendar):
    p = pathways.for_service("local_area_coordination")
    case = walk(p, [], start=_at(2026, 11, 2))
    [due] = p.due(case, now=_at(2026, 11, 3), calendar=calendar)
    assert due.due_at == date(2026, 11, 16) and not due.overdue


def test_family_support_plan_review_and_closure_follow_acceptance(pathways, calendar):
    p = pathways.for_service("supporting_leicestershire_families")
    start = _at(2026, 11, 2)
    case = walk(p, [], start=start)
    assert _kinds(p.due(case, now=start, calendar=calendar))["first_contact"].due_at == \
        date(2026, 11, 9)
    accept = p.fire(case, "accept", {}, actor="w", at=_at(2026, 11, 3))
    case.history.append(accept)
    due = _kinds(p.due(case, now=_at(2026, 11, 4), calendar=calendar))
    assert set(due) == {"plan", "closure"}
    # 20 working days from Tue 3 Nov 2026: 1 Dec 2026.
    assert due["plan"].due_at == date(2026, 12, 1)
    assert due["closure"].due_at == date(2027, 11, 3)
    late = p.escalation_due(case, _at(2026, 12, 2), calendar)
    assert [d.kind for d in late] == ["plan"]
    for event, when in (("start_assessment", _at(2026, 11, 10)), ("agree_plan", _at(2026, 11, 20))):
        case.history.append(p.fire(case, event, {}, actor="w", at=when))
    due = _kinds(p.due(case, now=_at(2026, 11, 21), calendar=calendar))
    assert set(due) == {"review", "closure"}
    assert due["review"].due_at == date(2027, 2, 20)
    case.history.append(p.fire(case, "review", {}, actor="w", at=_at(2027, 2, 1)))
    due = _kinds(p.due(case, now=_at(2027, 6, 1), calendar=calendar))
    assert due["review"].due_at == date(2027, 5, 1) and due["review"].overdue
    # Reviews are due every three months but do not escalate; closure is not yet due.
    assert p.escalation_due(case, _at(2027, 6, 1), calendar) == []
    assert not due["closure"].overdue


def test_hub_cases_are_due_at_the_next_meeting_whose_papers_have_not_gone(pathways, calendar):
    p = pathways.for_service("early_help_hub")
    # Second Tuesday of November 2026 is the 10th; papers go three working days before (5th).
    on_time = walk(p, [], start=_at(2026, 11, 5))
    [due] = p.due(on_time, now=_at(2026, 11, 5), calendar=calendar)
    assert (due.kind, due.due_at) == ("hub_meeting", date(2026, 11, 10))
    too_late = walk(p, [], start=_at(2026, 11, 6))
    [due] = p.due(too_late, now=_at(2026, 11, 6), calendar=calendar)
    assert due.due_at == date(2026, 12, 8)
    assert [d.kind for d in p.escalation_due(too_late, _at(2026, 12, 9), calendar)] == [
        "hub_meeting"]
    discussed = walk(p, path_to(p, "discussed"), start=_at(2026, 11, 2))
    assert p.due(discussed, now=_at(2027, 1, 1), calendar=calendar) == []


def test_hub_meetings_can_differ_per_hub(pathways, calendar):
    from dataclasses import replace

    from workflows.specs import MeetingRule

    p = pathways.for_service("early_help_hub")
    data = replace(p.data, meetings_by_instance={"melton-hub": MeetingRule(3, 1, 0)})
    melton = workflows.Pathway(p.spec, data)
    case = Case(state="requested", opened_at=_at(2026, 11, 2), instance="melton-hub")
    [due] = melton.due(case, now=_at(2026, 11, 2), calendar=calendar)
    assert due.due_at == date(2026, 11, 5)  # first Thursday of November 2026
    case.instance = "blaby-hub"
    [due] = melton.due(case, now=_at(2026, 11, 2), calendar=calendar)
    assert due.due_at == date(2026, 11, 10)


def test_statutory_front_door_acknowledges_and_decides_within_one_working_day(pathways,
                                                                              calendar):
    p = pathways.for_service("first_response")
    case = walk(p, [], start=_at(2026, 12, 24, 16))
    due = _kinds(p.due(case, now=_at(2026, 12, 24, 17), calendar=calendar))
    assert due["acknowledge"].due_at == date(2026, 12, 29)
    assert due["decision"].due_at == date(2026, 12, 29)
    assert {d.kind for d in p.escalation_due(case, _at(2026, 12, 30), calendar)} == {
        "acknowledge", "decision"}
    case.history.append(p.fire(case, "acknowledge", {}, actor="w", at=_at(2026, 12, 29)))
    assert [d.kind for d in p.escalation_due(case, _at(2026, 12, 30), calendar)] == [
        "decision"]


def test_closed_cases_have_nothing_due(pathways, calendar):
    for p in pathways:
        closed = next(s for s in p.states if p.is_closed(s))
        case = walk(p, path_to(p, closed), start=_at(2026, 1, 5))
        assert p.due(case, now=_at(2028, 1, 1), calendar=calendar) == []


def test_next_due_at_is_the_earliest_due_date(pathways, calendar):
    p = pathways.for_service("supporting_leicestershire_families")
    case = walk(p, path_to(p, "accepted"), start=_at(2026, 11, 2))
    assert p.next_due_at(case, now=_at(2026, 11, 4), calendar=calendar) == \
        min(d.due_at for d in p.due(case, now=_at(2026, 11, 4), calendar=calendar))
    assert p.next_due_at(case, now=_at(2026, 11, 4), calendar=calendar) == date(2026, 12, 1)
    closed = walk(p, path_to(p, "cancelled"), start=_at(2026, 11, 2))
    assert p.next_due_at(closed, now=_at(2026, 11, 4), calendar=calendar) is None
