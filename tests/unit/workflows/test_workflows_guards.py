"""The rules the guards enforce, in the domain's words: reasons, outcomes, acceptance, holds,
reopening, step-up and step-down, and payloads that name what is wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import Case

import workflows


def _next(case: Case, days: int = 1):
    return case.history[-1].at + timedelta(days=days)


def _fire(pathways, service, case, event, payload=None, days=1):
    p = pathways.for_service(service)
    t = p.fire(case, event, payload or {}, actor="worker", at=_next(case, days))
    case.history.append(t)
    if p.is_closed(t.to_state):
        case.closed_at = t.at
    return t


def test_decline_without_a_reason_is_refused_naming_the_codes(pathways, case_in):
    case = case_in("supporting_leicestershire_families", "requested")
    with pytest.raises(workflows.MissingFields) as err:
        _fire(pathways, "supporting_leicestershire_families", case, "decline", {})
    assert set(err.value.fields) == {"reason"}
    assert "not_eligible" in err.value.fields["reason"]
    assert case.state == "requested" and len(case.history) == 1


def test_decline_with_an_unknown_code_lists_the_allowed_codes(pathways, case_in):
    case = case_in("first_contact_plus", "requested")
    with pytest.raises(workflows.MissingFields) as err:
        _fire(pathways, "first_contact_plus", case, "decline", {"reason": "too busy"})
    assert "'too busy' is not an allowed code" in err.value.fields["reason"]
    assert "outside_area" in err.value.fields["reason"]


def test_decline_returns_the_referral_to_the_front_door(pathways, case_in):
    case = case_in("local_area_coordination", "requested")
    t = _fire(pathways, "local_area_coordination", case, "decline", {"reason": "outside_area"})
    assert case.state == "rejected"
    assert t.reason == "outside_area" and t.outcome == "declined_by_service"
    assert t.effects == ("return_to_front_door", "notify_referrer_declined")


def test_closure_needs_a_coded_outcome(pathways, case_in):
    case = case_in("first_contact_plus", "connections_made")
    for payload in ({}, {"outcome": "happy"}, {"outcome": "stepped_up"}):
        with pytest.raises(workflows.MissingFields) as err:
            _fire(pathways, "first_contact_plus", case, "close", payload)
        assert "outcome" in err.value.fields
        assert case.state == "connections_made"
    t = _fire(pathways, "first_contact_plus", case, "close", {"outcome": "partly_met"})
    assert (case.state, t.outcome, t.effects) == ("completed", "partly_met",
                                                  ("notify_referrer_closed",))


def test_needs_cannot_be_met_before_the_service_accepted_the_case(pathways, case_in):
    p = pathways.for_service("supporting_leicestershire_families")
    case = case_in("supporting_leicestershire_families", "requested")
    assert "close" not in [e.name for e in p.allowed_events(case)]
    with pytest.raises(workflows.EventNotAllowed):
        _fire(pathways, p.service, case, "close", {"outcome": "needs_met"})
    with pytest.raises(workflows.MissingFields) as err:
        _fire(pathways, p.service, case, "close_before_acceptance", {"outcome": "needs_met"})
    assert "could_not_contact" in err.value.fields["outcome"]
    t = _fire(pathways, p.service, case, "close_before_acceptance",
              {"outcome": "could_not_contact"})
    assert t.outcome == "could_not_contact"


def test_has_been_accepted_reads_the_history_not_only_the_current_state(pathways, case_in):
    from workflows.guards import Subject, has_been_accepted

    p = pathways.for_service("supporting_leicestershire_families")
    case = case_in(p.service, "requested")
    subject = Subject(state="requested", case=case, states=p.states, reopen_within_months=12,
                      event="close", at=_next(case), actor="x")
    assert not has_been_accepted(subject, "completed")
    accepted = case_in(p.service, "on_hold")
    subject = Subject(state="on_hold", case=accepted, states=p.states, reopen_within_months=12,
                      event="close", at=_next(accepted), actor="x")
    assert has_been_accepted(subject, "completed")


@pytest.mark.parametrize(("service", "held_from"), [
    ("first_contact_plus", "contacted"),
    ("first_contact_plus", "connections_made"),
    ("local_area_coordination", "introduced"),
    ("local_area_coordination", "working_together"),
    ("early_help_hub", "awaiting_hub_meeting"),
    ("early_help_hub", "discussed"),
    ("supporting_leicestershire_families", "accepted"),
    ("supporting_leicestershire_families", "assessment"),
    ("supporting_leicestershire_families", "plan"),
    ("supporting_leicestershire_families", "reviewing"),
])
def test_resume_goes_back_to_the_state_the_case_was_held_from(pathways, case_in, service,
                                                              held_from):
    case = case_in(service, "on_hold", via=held_from)
    p = pathways.for_service(service)
    [resume] = [e for e in p.allowed_events(case, at=_next(case)) if e.name == "resume"]
    assert resume.to_state == held_from
    t = _fire(pathways, service, case, "resume")
    assert (t.from_state, t.to_state, case.state) == ("on_hold", held_from, held_from)


def test_a_hold_needs_a_reason_and_holds_do_not_nest(pathways, case_in):
    case = case_in("early_help_hub", "discussed")
    with pytest.raises(workflows.MissingFields):
        _fire(pathways, "early_help_hub", case, "hold", {"reason": "   "})
    _fire(pathways, "early_help_hub", case, "hold", {"reason": "family in hospital"})
    with pytest.raises(workflows.EventNotAllowed):
        _fire(pathways, "early_help_hub", case, "hold", {"reason": "again"})


def test_reopening_within_twelve_months_keeps_the_history(pathways, case_in):
    service = "supporting_leicestershire_families"
    p = pathways.for_service(service)
    case = case_in(service, "reviewing")
    _fire(pathways, service, case, "close", {"outcome": "needs_met"})
    closed_at = case.history[-1].at
    t = p.fire(case, "reopen", {"reason": "family asked for help again"}, actor="worker",
               at=closed_at.replace(year=closed_at.year + 1))
    case.history.append(t)
    assert case.state == "reviewing" and t.effects == ("notify_team_reopened",)
    assert [h.event for h in case.history[:3]] == ["open", "accept", "start_assessment"]
    assert workflows.replay(p, case.history) == "reviewing"


def test_reopening_after_twelve_months_is_refused(pathways, case_in):
    service = "first_contact_plus"
    p = pathways.for_service(service)
    case = case_in(service, "completed")
    late = case.closed_at.replace(year=case.closed_at.year + 1) + timedelta(seconds=1)
    assert "reopen" not in [e.name for e in p.allowed_events(case, at=late)]
    with pytest.raises(workflows.EventNotAllowed) as err:
        p.fire(case, "reopen", {"reason": "again"}, actor="worker", at=late)
    assert "reopening window" in str(err.value)
    assert case.state == "completed"


def test_reopening_window_falls_back_to_closed_at_without_history(pathways):
    from datetime import UTC, datetime

    p = pathways.for_service("local_area_coordination")
    closed = datetime(2026, 1, 31, 12, tzinfo=UTC)
    case = Case(state="completed", history=[], closed_at=closed)
    assert "reopen" in [e.name for e in p.allowed_events(case, at=datetime(2027, 1, 31, 12,
                                                                              tzinfo=UTC))]
    assert "reopen" not in [e.name for e in p.allowed_events(case, at=datetime(2027, 2, 1,
                                                                                  tzinfo=UTC))]


@pytest.mark.parametrize("service", ["first_contact_plus", "local_area_coordination",
                                     "early_help_hub", "supporting_leicestershire_families",
                                     "signposting"])
def test_step_up_from_any_open_early_help_state_opens_a_statutory_referral(pathways, case_in,
                                                                         service):
    p = pathways.for_service(service)
    for state in [s for s in p.states if p.is_open(s)]:
        case = case_in(service, state)
        with pytest.raises(workflows.MissingFields):
            _fire(pathways, service, case, "step_up", {})
        t = _fire(pathways, service, case, "step_up", {"reason": "disclosure of harm"})
        assert p.is_closed(case.state) and t.outcome == "stepped_up"
        assert "open_statutory_referral" in t.effects


@pytest.mark.parametrize("service", ["first_response", "adult_social_care"])
def test_statutory_step_down_opens_a_linked_early_help_referral(pathways, case_in, service):
    case = case_in(service, "acknowledged")
    t = _fire(pathways, service, case, "step_down", {"reason": "below threshold; family "
                                                               "would welcome support"})
    assert case.state == "no_further_action" and t.outcome == "stepped_down"
    assert t.effects == ("open_early_help_referral", "notify_referrer_closed")


@pytest.mark.parametrize("service", ["first_response", "adult_social_care"])
def test_statutory_decision_only_after_acknowledgement(pathways, case_in, service):
    case = case_in(service, "sent")
    with pytest.raises(workflows.EventNotAllowed):
        _fire(pathways, service, case, "accept_for_assessment")
    _fire(pathways, service, case, "acknowledge")
    t = _fire(pathways, service, case, "no_further_action", {"reason": "below_threshold"})
    assert t.outcome == "no_further_action"


def test_hub_allocation_needs_a_known_lead_agency_and_a_named_lead_professional(pathways,
                                                                             case_in):
    case = case_in("early_help_hub", "discussed")
    with pytest.raises(workflows.MissingFields) as err:
        _fire(pathways, "early_help_hub", case, "allocate", {"lead_agency": "police"})
    assert set(err.value.fields) == {"lead_agency", "lead_professional"}
    assert "childrens_centre" in err.value.fields["lead_agency"]
    t = _fire(pathways, "early_help_hub", case, "allocate",
              {"lead_agency": "school", "lead_professional": "Ms Patel, SENCO"})
    assert case.state == "allocated" and t.outcome == "allocated"
    assert t.payload["lead_professional"] == "Ms Patel, SENCO"
    assert "notify_lead_agency" in t.effects


def test_hub_no_further_action_needs_a_coded_reason(pathways, case_in):
    case = case_in("early_help_hub", "discussed")
    with pytest.raises(workflows.MissingFields):
        _fire(pathways, "early_help_hub", case, "no_further_action", {})
    t = _fire(pathways, "early_help_hub", case, "no_further_action",
              {"reason": "universal_services"})
    assert t.outcome == "no_further_action" and t.reason == "universal_services"


def test_hub_discussion_records_a_valid_meeting_date(pathways, case_in):
    case = case_in("early_help_hub", "awaiting_hub_meeting")
    with pytest.raises(workflows.MissingFields) as err:
        _fire(pathways, "early_help_hub", case, "record_discussion", {"meeting_date": "10/11"})
    assert "is not a date" in err.value.fields["meeting_date"]


def test_onward_connections_record_organisation_and_need_for_each(pathways, case_in):
    case = case_in("first_contact_plus", "contacted")
    for bad, words in (([], "at least 1"), ([{"organisation": "CAB"}], "needs need"),
                       ("CAB", "must be a list")):
        with pytest.raises(workflows.MissingFields) as err:
            _fire(pathways, "first_contact_plus", case, "record_connections",
                  {"connections": bad})
        assert words in err.value.fields["connections"]
    t = _fire(pathways, "first_contact_plus", case, "record_connections", {"connections": [
        {"organisation": "Citizens Advice", "need": "money"},
        {"organisation": "Warm Homes", "need": "housing"}]})
    assert [c["need"] for c in t.payload["connections"]] == ["money", "housing"]


def test_cancel_needs_a_reason_and_records_entered_in_error(pathways, case_in):
    case = case_in("signposting", "requested")
    with pytest.raises(workflows.MissingFields):
        _fire(pathways, "signposting", case, "cancel")
    t = _fire(pathways, "signposting", case, "cancel", {"reason": "duplicate"})
    assert (case.state, t.outcome) == ("cancelled", "entered_in_error")


def test_signposting_closes_once_advice_is_given(pathways, case_in):
    case = case_in("signposting", "requested")
    t = _fire(pathways, "signposting", case, "give_advice", {"advice": "Family Information "
                                                                       "Directory: play groups"})
    assert (case.state, t.outcome) == ("completed", "advice_given")


def test_allowed_events_name_their_needs_and_codes(pathways, case_in):
    p = pathways.for_service("first_contact_plus")
    case = case_in(p.service, "connections_made")
    events = {e.name: e for e in p.allowed_events(case)}
    assert events["close"].needs == ("outcome",)
    assert events["close"].choices["outcome"] == [
        "needs_met", "partly_met", "declined_by_family", "could_not_contact", "moved_away"]
    assert events["close"].as_dict()["to_state"] == "completed"


def test_a_payload_must_be_json_friendly(pathways, case_in):
    case = case_in("first_contact_plus", "requested")
    with pytest.raises(workflows.MissingFields) as err:
        _fire(pathways, "first_contact_plus", case, "contact", {"note": object()})
    assert "note" in err.value.fields


def test_firing_changes_only_the_state_of_the_case(pathways, case_in):
    case = case_in("first_contact_plus", "requested")
    history, opened, closed = list(case.history), case.opened_at, case.closed_at
    pathways.for_service("first_contact_plus").fire(case, "contact", {}, actor="w",
                                                    at=_next(case))
    assert (case.history, case.opened_at, case.closed_at) == (history, opened, closed)
    assert case.state == "contacted"


def test_an_unknown_state_is_refused(pathways):
    case = Case(state="limbo")
    with pytest.raises(workflows.EventNotAllowed) as err:
        pathways.for_service("signposting").fire(case, "cancel", {"reason": "x"}, actor="w",
                                                 at=__import__("datetime").datetime.now())
    assert "not a state" in str(err.value)
    assert case.state == "limbo"


def test_replay_refuses_a_history_that_does_not_follow_the_machine(pathways, case_in):
    p = pathways.for_service("first_contact_plus")
    case = case_in(p.service, "connections_made")
    assert workflows.replay(p, case.history) == "connections_made"
    broken = [case.history[0], case.history[2]]
    with pytest.raises(workflows.HistoryDoesNotReplay) as err:
        workflows.replay(p, broken)
    assert err.value.index == 1
    tampered = [*case.history[:-1],
                workflows.Transition("contacted", "completed", "record_connections", "x",
                                     case.history[-1].at, payload=case.history[-1].payload)]
    with pytest.raises(workflows.HistoryDoesNotReplay):
        workflows.replay(p, tampered)
    no_payload = [*case.history[:-1],
                  workflows.Transition("contacted", "connections_made", "record_connections",
                                       "x", case.history[-1].at)]
    with pytest.raises(workflows.HistoryDoesNotReplay):
        workflows.replay(p, no_payload)
