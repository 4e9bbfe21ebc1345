"""A pathway's meeting is optional data (pathways.yaml `meeting:`): a profile without one
loads without meeting dates, and a meeting block names its problems when it is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import workflows
from config.profile import PROFILES_DIR, load_profile
from tests.profile_copies import leicestershire_without_meetings


def _hub(d):
    return d["pathways"]["early_help_hub"]


def test_the_shipped_profile_s_hub_pathway_has_its_meeting(pathways):
    meeting = pathways.data.pathways["early_help_hub"].meeting
    assert (meeting.new, meeting.agenda, meeting.discussed) == (
        "requested", "awaiting_hub_meeting", "discussed")
    assert meeting.decisions == ("allocate", "no_further_action")
    assert meeting.queue_states == ("requested", "awaiting_hub_meeting", "discussed", "on_hold")
    assert [p.service for p in pathways.data.meeting_pathways] == ["early_help_hub"]
    assert pathways.data.meetings_default is not None


def test_a_profile_without_a_meeting_needs_no_meeting_dates(tmp_path):
    pathways = workflows.load_pathways(load_profile(
        leicestershire_without_meetings(tmp_path / "p")))
    assert pathways.check() == []
    assert pathways.data.meeting_pathways == ()
    assert pathways.data.meetings_default is None
    assert pathways.data.pathways["early_help_hub"].meeting is None


def _load(tmp_path: Path, edit) -> list[str]:
    folder = tmp_path / "profile"
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    path = folder / "pathways.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(workflows.WorkflowError) as err:
        workflows.load_pathways(load_profile(folder))
    return [f"{p.key}: {p.message}" for p in err.value.problems]


M = "pathways.early_help_hub.meeting"


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda d: d.pop("hub_meetings"),
     "hub_meetings: is required: when early_help_hub's meetings are held (default: "
     "{weekday, nth, papers_working_days})"),
    (lambda d: _hub(d)["meeting"].update(agenda="in_the_pub"),
     f"{M}.agenda: unknown state 'in_the_pub'"),
    (lambda d: _hub(d)["meeting"].update(discussed="allocated"),
     f"{M}.discussed: 'allocated' is a closed state"),
    (lambda d: _hub(d)["meeting"].pop("decisions"), f"{M}.decisions: is required"),
    (lambda d: _hub(d)["meeting"].update(add_to_agenda="record_discussion"),
     f"{M}.add_to_agenda: 'record_discussion' does not lead from 'requested'"),
    (lambda d: _hub(d)["meeting"].update(decisions=["allocate", "add_to_agenda"]),
     f"{M}.decisions: 'add_to_agenda' does not lead from 'discussed'"),
    (lambda d: _hub(d)["meeting"].update(decisions=["allocate", "vanish"]),
     f"{M}.decisions: unknown event 'vanish'"),
    (lambda d: _hub(d)["meeting"].update(date_field="reason"),
     f"{M}.date_field: 'reason' is not a date field (declare it under fields with kind: date)"),
    (lambda d: _hub(d)["meeting"].update(chair="the mayor"), f"{M}.chair: unknown key"),
    (lambda d: _hub(d)["meeting"].update(listed=["limbo"]), f"{M}.listed: unknown state 'limbo'"),
    (lambda d: _hub(d).pop("meeting"),
     "pathways.early_help_hub.timescales[0].within.hub_meeting: this pathway has no meeting "
     "(declare its meeting: block)"),
    (lambda d: d["pathways"]["supporting_leicestershire_families"].update(
        meeting=_hub(d)["meeting"]),
     "pathways.supporting_leicestershire_families.meeting: only one pathway may have a "
     "meeting (early_help_hub has one)"),
])
def test_a_wrong_meeting_is_named(tmp_path, edit, problem):
    problems = _load(tmp_path, edit)
    assert any(problem in p for p in problems), problems


def test_meeting_dates_without_a_meeting_are_a_warning(tmp_path):
    folder = leicestershire_without_meetings(tmp_path / "p")
    path = folder / "pathways.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["hub_meetings"] = {"default": {"weekday": "tuesday", "nth": 2,
                                       "papers_working_days": 3}}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    problems = workflows.load_pathways(load_profile(folder)).check()
    assert [(p.key, p.message) for p in problems] == [
        ("hub_meetings", "warning: no pathway has a meeting: these dates are not used")]
