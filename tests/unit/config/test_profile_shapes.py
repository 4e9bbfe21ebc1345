"""A wrongly shaped profile file (a list where a mapping is expected, a number where a list
is) is a named problem and exit status 1 from `triage rules check`, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from config.profile import ProfileError, load_profile
from tests.level_variants import copy_profile, edit_yaml
from triage.cli_rules import rules_group


def _set(*path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


SHAPES = {
    "bank holidays as a list": (
        "profile.yaml", _set("bank_holidays", value=["GB"]),
        "profile.yaml: bank_holidays: must be a mapping with country and subdivision (got list)"),
    "services holding a name, not a mapping": (
        "services.yaml", _set("services", 0, value="first_contact_plus"),
        "services.yaml: services[0]: must be a mapping (services), not str"),
    "a service's instances as a number": (
        "services.yaml", _set("services", 0, "instances", value=3),
        "services.yaml: services[0].instances: must be a list of instances with id and name "
        "(got int)"),
    "an instance as a string": (
        "services.yaml", _set("services", 0, "instances", value=["countywide"]),
        "services.yaml: services[0].instances[0]: must be a mapping"),
    "a service's ages as a list": (
        "services.yaml", _set("services", 0, "ages", value=[0, 18]),
        "services.yaml: services[0].ages: must be a mapping (got list)"),
    "a service's id as a list": (
        "services.yaml", _set("services", 0, "id", value=["a"]),
        "services.yaml: services[0].id: is required: the service's id"),
    "instance_from as a list": (
        "services.yaml", _set("services", 1, "instance_from", value=["lac_patch"]),
        "services.yaml: services[1].instance_from: must be a column name"),
    "domains as a list": (
        "checklist.yaml", _set("domains", value=["safety"]),
        "checklist.yaml: domains: must be a mapping of domain id: title and side (got list)"),
    "headline areas as a number": (
        "checklist.yaml", _set("headline_areas", value=3),
        "checklist.yaml: headline_areas: must be a mapping of area id: its title (got int)"),
    "sections as a mapping": (
        "checklist.yaml", _set("sections", value={"a": 1}),
        "checklist.yaml: sections: must be a list of sections"),
    "a question as a string": (
        "checklist.yaml", _set("sections", 0, "questions", value=["child_at_risk"]),
        "checklist.yaml: sections[0].questions[0]: must be a mapping"),
    "a section's domain as a list": (
        "checklist.yaml", _set("sections", 0, "domain", value=["safety"]),
        "checklist.yaml: sections[0].domain: unknown domain ['safety']"),
}


@pytest.mark.parametrize("case", SHAPES)
def test_a_wrongly_shaped_file_is_a_named_problem(tmp_path, case):
    file, change, expected = SHAPES[case]
    folder = copy_profile(tmp_path)
    edit_yaml(folder, file, change)
    with pytest.raises(ProfileError) as raised:
        load_profile(folder)
    assert any(str(p).startswith(expected) for p in raised.value.problems), \
        raised.value.problems
    result = CliRunner().invoke(rules_group, ["check", "--profile", str(folder)])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert f"error: {expected}" in result.output


@pytest.mark.parametrize("section", ["outcomes", "code_lists", "fields", "pathways"])
def test_a_pathways_section_of_the_wrong_shape_is_a_named_problem(tmp_path, section):
    folder = copy_profile(tmp_path)
    edit_yaml(folder, "pathways.yaml", _set(section, value=["x"]))
    result = CliRunner().invoke(rules_group, ["check", "--profile", str(folder)])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert f"error: pathways.yaml: {section}: must be a mapping (got list)" in result.output


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: ["x"], "examples.yaml: -: must be a mapping with examples"),
    (_set("examples", value=3), "examples.yaml: examples: must be a list of worked examples"),
    (_set("examples", 0, value="x"), "examples.yaml: examples[0]: must be a mapping"),
    (_set("examples", 0, value={"a": 1}), "examples.yaml: examples[0].name: must be a str"),
    (_set("examples", 0, "people", 0, "date_of_birth", value="soon"),
     "examples.yaml: examples[0].people[0].date_of_birth: 'soon' is not a date"),
])
def test_a_wrongly_shaped_examples_file_is_named_by_check_and_test(tmp_path, change, expected):
    folder = copy_profile(tmp_path)
    edit_yaml(folder, "examples.yaml", change)
    for command in ("check", "test"):
        result = CliRunner().invoke(rules_group, [command, "--profile", str(folder)])
        assert isinstance(result.exception, SystemExit) and result.exit_code == 1, command
        assert f"error: {expected}" in result.output, (command, result.output)
