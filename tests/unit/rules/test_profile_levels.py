"""Levels are profile data: an ordered list of codes with their number on the continuum, what
they need (consent) and mean (statutory, urgent), read by the rules, the checks and the
override schema. A profile broken in any of these ways gets a named problem and exit status 1
from `triage rules check`, never a traceback."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

import rules
from config.profile import load_levels, load_profile
from tests.level_variants import (
    copy_profile,
    edit_graph,
    edit_yaml,
    level,
    row,
    split_statutory_level,
    table,
)
from triage.cli_rules import rules_group
from triage.schemas.decisions import override_schema_for

LEICESTERSHIRE = load_profile("leicestershire")


def check(folder) -> tuple[int, str]:
    result = CliRunner().invoke(rules_group, ["check", "--profile", str(folder)])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.output


def _levels(change):
    def edit(meta):
        change(meta["levels"])
    return edit


def _level_row_output(value):
    def edit(graph):
        row(table(graph, "level"), "L3-complex-need")["level_o0"] = value
    return edit


BROKEN = {
    "the level table outputs a code the profile does not have": (
        "graph", _level_row_output("'3b'"),
        "rules[1] (L3-complex-need): outputs level \"'3b'\", which is not a quoted level code"),
    "the level table outputs a bare number": (
        "graph", _level_row_output("3"),
        "outputs level '3', which is not a quoted level code"),
    "a routes row tests a level code the profile does not have": (
        "graph", lambda g: row(table(g, "routes"), "R-signposting").update(routes_i0="'0'"),
        "R-signposting): tests level '0', which is not a level code"),
    "a worked example expects an unknown level": (
        "examples.yaml", lambda data: data["examples"][0]["expected"].update(level="2b"),
        "expects level '2b', which is not a level code (one of 1, 2, 3, 4)"),
    "two levels share a code": (
        "profile.yaml", _levels(lambda levels: levels[1].update(code="1")),
        "profile.yaml: levels[1].code: duplicate level code '1'"),
    "a level has no consent": (
        "profile.yaml", _levels(lambda levels: levels[2].pop("consent")),
        "profile.yaml: levels[2].consent: is required"),
    "a level's consent is neither required nor not_required": (
        "profile.yaml", _levels(lambda levels: levels[3].update(consent="sometimes")),
        "levels[3].consent: must be one of required, not_required (got 'sometimes')"),
    "a level's number is not a number": (
        "profile.yaml", _levels(lambda levels: levels[0].update(number="one")),
        "levels[0].number: must be a whole number from 0 to 99 (got 'one')"),
    "levels in the old mapping shape": (
        "profile.yaml", lambda meta: meta.update(levels={1: {"name": "Universal"}}),
        "profile.yaml: levels: must be a list of levels"),
    "the step-up level is not a level": (
        "profile.yaml", lambda meta: meta.update(step_up_level="5"),
        "profile.yaml: step_up_level: '5' is not a level code; one of 1, 2, 3, 4"),
    "a checklist kind sets an unknown level": (
        "checklist.yaml", lambda c: c["kinds"]["complex"].update(sets_level="3c"),
        "checklist.yaml: kinds.complex.sets_level: '3c' is not a level code"),
    "a level row reads a fact nobody defines": (
        "graph", lambda g: table(g, "level")["inputs"].__setitem__(
            1, {"id": "level_i1", "name": "Complex needs", "field": "kinds.child_in_need"}),
        "reads a fact the check does not know: 'kinds.child_in_need'"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_levels_section_is_a_named_problem_and_exit_status_1(tmp_path, case):
    where, change, expected = BROKEN[case]
    folder = copy_profile(tmp_path)
    if where == "graph":
        edit_graph(folder, change)
    else:
        edit_yaml(folder, where, change)
    status, output = check(folder)
    assert status == 1, output
    assert expected in output
    assert "Traceback" not in output


def test_the_leicestershire_profile_checks_clean_with_its_levels_as_codes():
    status, output = check("leicestershire")
    assert status == 0, output
    assert list(LEICESTERSHIRE.levels) == ["1", "2", "3", "4"]
    four = LEICESTERSHIRE.level("4")
    assert (four.number, four.statutory, four.consent_needed) == (4, True, False)
    assert LEICESTERSHIRE.step_up_level == "4"
    kinds = LEICESTERSHIRE.checklist.kinds
    assert kinds["safeguarding"].statutory and kinds["safeguarding"].sets_level == "4"
    assert LEICESTERSHIRE.checklist.kinds_dropped_on_step_down() == {"safeguarding"}


def test_a_level_row_reading_information_only_is_explored_not_called_dead(tmp_path):
    """Lancashire's level 0 is "no need and information only": the check tries both values
    of the fact the row reads, so the row fires and L1 still covers the rest."""
    folder = copy_profile(tmp_path)
    edit_yaml(folder, "profile.yaml", lambda meta: meta["levels"].insert(
        0, level("0", 0, "Universal: information only")))

    def add_row(graph):
        content = table(graph, "level")
        content["inputs"].append({"id": "level_i6", "name": "Information only",
                                  "field": "information_only"})
        for r in content["rules"]:
            r["level_i6"] = ""
        l1 = row(content, "L1-no-needs")
        content["rules"].insert(len(content["rules"]) - 1, {
            **l1, "_id": "L0-information", "level_i6": "true", "level_o0": "'0'",
            "level_o1": "'L0-information'", "level_o2": "'Information only.'"})
    edit_graph(folder, add_row)
    status, output = check(folder)
    assert status == 0, output
    assert "can never fire" not in output
    profile = load_profile(folder)
    facts = rules.derive_facts(profile.checklist, answers={}, people=[],
                               referral_date=date(2026, 11, 2),
                               place=profile.place_for("LE13 1AB"), information_only=True,
                               units=profile.localities.columns)
    decision = rules.load(profile).evaluate(facts)
    assert (decision.level_code, decision.level, decision.level_name) == (
        "0", 0, "Universal: information only")


def test_a_row_that_really_cannot_fire_is_still_reported(tmp_path):
    folder = copy_profile(tmp_path)

    def shadow(graph):
        content = table(graph, "level")
        content["rules"].insert(2, {**row(content, "L3-complex-need"), "_id": "L3-again"})
    edit_graph(folder, shadow)
    status, output = check(folder)
    assert status == 1
    assert "rules[2] (L3-again): can never fire" in output


def test_decisions_carry_the_level_code_and_its_number(tmp_path):
    profile = load_profile(split_statutory_level(copy_profile(tmp_path)))
    ruleset = rules.load(profile)
    facts = rules.derive_facts(
        profile.checklist, answers={"child_at_risk_of_harm": True, "adult_at_risk": True},
        people=[rules.Person("subject", date(2016, 5, 4)),
                rules.Person("household", date(1960, 1, 1))],
        referral_date=date(2026, 11, 2), place=profile.place_for("LE11 2AB"),
        units=profile.localities.columns)
    decision = ruleset.evaluate(facts)
    assert (decision.level_code, decision.level) == ("4a", 4)
    assert decision.level_name == "Statutory: child in need"
    by_service = {r.service: r.consent_needed for r in decision.routes}
    assert by_service == {"first_response": True, "adult_social_care": False}
    body = rules.decision_as_dict(decision)
    assert body["level_code"] == "4a" and body["level"] == 4
    assert [r["consent_needed"] for r in body["routes"]] == [True, False]
    again = rules.decision_from_dict(body)
    assert (again.level_code, again.level, again.routes) == ("4a", 4, decision.routes)
    assert ruleset.outcome(facts)[0] == "4a"


def test_a_stored_body_from_before_level_codes_reads_its_number_as_its_code():
    old = {"level": 3, "level_name": "Complex support needs", "safeguarding": {},
           "urgent": False, "routes": [{"service": "early_help_hub", "instance": "melton-hub",
                                        "reason": "x"}],
           "reasons": [], "ruleset": {"id": "leicestershire", "version": "v"}}
    decision = rules.decision_from_dict(old)
    assert (decision.level_code, decision.level) == ("3", 3)
    assert decision.routes[0].consent_needed


def test_consent_follows_the_route_s_service_and_level():
    assert not rules.consent_needed(LEICESTERSHIRE, "first_response", "4")
    assert rules.consent_needed(LEICESTERSHIRE, "early_help_hub", "4"), "voluntary service"
    assert rules.consent_needed(LEICESTERSHIRE, "first_response", "3"), "below the threshold"


def test_overrides_take_a_code_or_a_number_that_names_exactly_one_level(tmp_path):
    schema = override_schema_for(LEICESTERSHIRE)
    reason = "Talked to the family again today."
    assert schema.load({"level_code": "3", "reason": reason})["level_code"] == "3"
    assert schema.load({"level": 3, "reason": reason})["level_code"] == "3"
    with pytest.raises(ValidationError) as refused:
        schema.load({"level_code": "5", "reason": reason})
    assert "Choose one of the levels: 1, 2, 3, 4." in str(refused.value)
    split = load_profile(split_statutory_level(copy_profile(tmp_path)))
    with pytest.raises(ValidationError) as ambiguous:
        override_schema_for(split).load({"level": 4, "reason": reason})
    assert "give level_code" in str(ambiguous.value).lower()
    assert override_schema_for(split).load({"level_code": "adult", "reason": reason}) == {
        "level_code": "adult", "routes": None, "reason": reason}


_CODES = st.from_regex(r"[0-9a-z][0-9a-z_-]{0,5}", fullmatch=True)
_LEVELS = st.lists(st.tuples(_CODES, st.integers(0, 9), st.sampled_from(
    ["required", "not_required"]), st.booleans()), min_size=1, max_size=8,
    unique_by=lambda t: t[0])


@settings(max_examples=60, deadline=None)
@given(_LEVELS)
def test_level_codes_and_numbers_round_trip(specs):
    """Whatever codes and numbers a council uses: the profile keeps its order, finds each
    level by its code, says which codes share a number, and an override by code (or by a
    number that names one level) decides that level."""
    problems = []
    data = [level(code, number, f"Level {code}", consent=consent, statutory=statutory)
            for code, number, consent, statutory in specs]
    levels = load_levels(data, problems)
    assert problems == []
    assert list(levels) == [code for code, *_ in specs]
    profile = dataclasses.replace(LEICESTERSHIRE, levels=levels, step_up_level=specs[0][0])
    schema = override_schema_for(profile)
    for code, number, consent, _ in specs:
        assert profile.level(code).number == number
        assert profile.level(code).consent_needed == (consent == "required")
        assert code in profile.codes_numbered(number)
        assert schema.load({"level_code": code, "reason": "x" * 10})["level_code"] == code
        if len(profile.codes_numbered(number)) == 1:
            assert schema.load({"level": number, "reason": "x" * 10})["level_code"] == code
        else:
            with pytest.raises(ValidationError):
                schema.load({"level": number, "reason": "x" * 10})


def _thresholds(graph, code_for_harm="'4b'"):
    """Each safeguarding row names its threshold; the level table reads which were met."""
    safeguarding = table(graph, "safeguarding")
    safeguarding["outputs"].append({"id": "safeguarding_o4", "name": "threshold",
                                    "field": "threshold"})
    for r in safeguarding["rules"]:
        r["safeguarding_o4"] = code_for_harm if r["_id"] == "L4-child-at-risk-of-harm" \
            else "'4'"
    content = table(graph, "level")
    content["inputs"].append({"id": "level_i6", "name": "Child protection threshold",
                              "field": "some(safeguarding, #.threshold == '4b')"})
    for r in content["rules"]:
        r["level_i6"] = ""
    l4 = row(content, "L4-statutory")
    content["rules"].insert(0, {**l4, "_id": "L4b-child-protection", "level_i6": "true",
                                "level_o0": "'4b'", "level_o1": "'L4b-child-protection'"})
    for r in table(graph, "routes")["rules"]:
        if r["routes_i0"] == "'4'":
            r["routes_i0"] = "'4', '4b'"


def test_safeguarding_rows_name_their_threshold_and_the_level_table_reads_it(tmp_path):
    folder = copy_profile(tmp_path)
    edit_yaml(folder, "profile.yaml", lambda meta: meta["levels"].append(
        level("4b", 4, "Child protection", statutory=True, urgent=True,
              consent="not_required")))
    edit_graph(folder, _thresholds)
    status, output = check(folder)
    assert status == 0, output
    assert "can never fire" not in output
    profile = load_profile(folder)
    facts = rules.derive_facts(
        profile.checklist, answers={"child_at_risk_of_harm": True, "adult_at_risk": True},
        people=[rules.Person("subject", date(2016, 5, 4))], referral_date=date(2026, 11, 2),
        place=profile.place_for("LE11 2AB"), units=profile.localities.columns)
    decision = rules.load(profile).evaluate(facts)
    assert (decision.level_code, decision.level) == ("4b", 4)
    assert decision.thresholds == ("4b", "4")
    assert rules.decision_as_dict(decision)["thresholds"] == ["4b", "4"]

    edit_graph(folder, lambda g: row(table(g, "safeguarding"), "L4-adult-at-risk").update(
        safeguarding_o4="'4z'"))
    status, output = check(folder)
    assert status == 1
    assert "L4-adult-at-risk): outputs threshold \"'4z'\", which is not a quoted level code" \
        in output


def test_rules_test_names_an_unknown_level_code_instead_of_crashing(tmp_path):
    folder = copy_profile(tmp_path)
    edit_graph(folder, _level_row_output("'3b'"))
    result = CliRunner().invoke(rules_group, ["test", "--profile", str(folder)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "which is not a quoted level code" in result.output
