"""pathways.yaml is checked when it loads: every problem is named with its file and key."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import workflows
from config.profile import PROFILES_DIR, load_profile


@pytest.fixture
def broken(tmp_path: Path) -> Callable[[Callable[[dict[str, Any]], None]], list[str]]:
    """broken(edit): copy the Leicestershire profile, apply edit to its pathways data, load it
    and return the problems as 'key: message' strings."""

    def load(edit: Callable[[dict[str, Any]], None]) -> list[str]:
        folder = tmp_path / "profile"
        shutil.copytree(PROFILES_DIR / "leicestershire", folder)
        path = folder / "pathways.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        with pytest.raises(workflows.WorkflowError) as err:
            workflows.load_pathways(load_profile(folder))
        assert all(p.file == "pathways.yaml" for p in err.value.problems)
        return [f"{p.key}: {p.message}" for p in err.value.problems]

    return load


def _fcp(data):
    return data["pathways"]["first_contact_plus"]


def test_the_shipped_profile_loads_with_no_problems_or_warnings(pathways):
    assert pathways.check() == []


def test_an_unknown_state_in_a_transition(broken):
    problems = broken(lambda d: _fcp(d)["events"]["contact"].update(to="nowhere"))
    assert "pathways.first_contact_plus.events.contact.to: unknown state 'nowhere'" in problems


def test_an_event_without_a_target(broken):
    problems = broken(lambda d: _fcp(d)["events"]["contact"].pop("to"))
    assert any(p.startswith("pathways.first_contact_plus.events.contact.to: is required")
               for p in problems)


def test_a_service_with_no_pathway_and_a_pathway_with_no_service(broken):
    def edit(d):
        d["pathways"]["nonsense"] = d["pathways"].pop("signposting")

    problems = broken(edit)
    assert "pathways.signposting: service signposting has no pathway" in problems
    assert "pathways.nonsense: not a service in services.yaml" in problems


def test_closing_without_an_outcome_is_a_data_error(broken):
    def edit(d):
        d["pathways"]["signposting"]["events"]["give_advice"].pop("outcome")

    problems = broken(edit)
    assert any("closes the case in 'completed' without an outcome" in p for p in problems)


@pytest.mark.parametrize(("edit", "words"), [
    (lambda d: _fcp(d)["events"]["contact"].update(effects=["send_flowers"]),
     "unknown effect 'send_flowers'"),
    (lambda d: _fcp(d)["events"]["contact"].update(guards=["is_sunny"]), "unknown guard"),
    (lambda d: _fcp(d)["events"]["contact"].update(needs=["shoe_size"]), "unknown field"),
    (lambda d: d["common_events"]["decline"].update(choices={"reason": "nope"}),
     "unknown code list 'nope'"),
    (lambda d: _fcp(d)["states"]["contacted"].update(status="busy"), "FHIR task status"),
    (lambda d: _fcp(d).update(initial="limbo"), "unknown state 'limbo'"),
    (lambda d: _fcp(d).update(colour="blue"), "unknown key"),
    (lambda d: _fcp(d)["events"].pop("resume"), "is on hold but no event resumes from it"),
    (lambda d: [_fcp(d)["events"].pop(e) for e in ("resume", "cancel", "step_up")],
     "is open but no event leaves it"),
    (lambda d: _fcp(d)["timescales"][0].update(within={"fortnights": 1}), "within"),
    (lambda d: _fcp(d)["timescales"][0].update(done_when={"entered": ["x"]}),
     "unknown state 'x'"),
    (lambda d: d["hub_meetings"]["instances"].update({"atlantis-hub": d["hub_meetings"]
                                                     ["default"]}),
     "not a service instance"),
    (lambda d: d["hub_meetings"]["default"].update(weekday="saturday"), "weekday"),
    (lambda d: _fcp(d)["events"]["close"].update(outcome="needs_met"),
     "either fixes the outcome or needs one"),
    (lambda d: _fcp(d)["events"].update(contact_again={"from": ["requested"], "to": "contacted"},
                                        contact={"from": ["requested", "requested"],
                                                 "to": "contacted"}),
     "ambiguous"),
])
def test_each_kind_of_bad_data_is_named(broken, edit, words):
    problems = broken(edit)
    assert any(words in p for p in problems), problems


def test_an_unreachable_state_is_a_warning_from_check(tmp_path):
    folder = tmp_path / "profile"
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    path = folder / "pathways.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["pathways"]["signposting"]["states"]["archived"] = {"status": "completed",
                                                             "closed": True}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    problems = workflows.load_pathways(load_profile(folder)).check()
    assert [p.key for p in problems] == ["pathways.signposting.states.archived"]
    assert problems[0].message.startswith("warning:")


def test_asking_for_a_service_without_a_pathway_is_a_workflow_error(pathways):
    with pytest.raises(workflows.WorkflowError) as err:
        pathways.for_service("youth_offending")
    assert err.value.problems[0].key == "pathways.youth_offending"
