"""Every profile shipped under config/profiles/ passes `triage rules check` and `triage rules
test`, and a broken demo file fails the check with the file and key named."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from click.testing import CliRunner

import rules
from config.profile import PROFILES_DIR, load_profile
from rules.examples import _facts
from triage.cli_rules import rules_group

SHIPPED = sorted(p.name for p in PROFILES_DIR.iterdir() if (p / "profile.yaml").exists())


def test_both_councils_ship():
    assert {"leicestershire", "lancashire"} <= set(SHIPPED)


@pytest.mark.parametrize("profile", SHIPPED)
def test_a_shipped_profile_passes_rules_check_and_every_worked_example(profile):
    checked = CliRunner().invoke(rules_group, ["check", "--profile", profile])
    assert checked.exit_code == 0, checked.output
    assert f"profile {profile}:" in checked.output and "no errors" in checked.output
    tested = CliRunner().invoke(rules_group, ["test", "--profile", profile])
    assert tested.exit_code == 0, tested.output
    assert " 0 failed" in tested.output and "FAIL" not in tested.output


def test_a_broken_demo_file_is_a_named_problem(tmp_path):
    folder = tmp_path / "lancashire"
    shutil.copytree(PROFILES_DIR / "lancashire", folder)
    demo = folder / "demo.yaml"
    demo.write_text(demo.read_text(encoding="utf-8").replace(
        'team: "wpehs_targeted:preston-east"', 'team: "wpehs_targeted:preston-middle"'),
        encoding="utf-8")
    result = CliRunner().invoke(rules_group, ["check", "--profile", str(folder)])
    assert result.exit_code == 1
    assert ('error: demo.yaml: users[2].team: no team "wpehs_targeted:preston-middle" in this '
            "council's profile") in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("profile", SHIPPED)
def test_every_row_of_the_decision_graph_fires_in_some_worked_example(profile):
    """The worked examples cover the whole rule set: each safeguarding, level and route row
    is the reason for at least one example's decision."""
    loaded = load_profile(profile)
    ruleset = rules.load(loaded)
    fired = set()
    for example in yaml.safe_load(loaded.path("examples").read_text(encoding="utf-8"))[
            "examples"]:
        fired |= {r.rule for r in ruleset.evaluate(_facts(loaded, example)).reasons}
    graph = json.loads(loaded.path("decision_graph").read_text(encoding="utf-8"))
    rows = {row["_id"] for node in graph["nodes"] if "content" in node
            for row in node["content"]["rules"]}
    assert rows - fired == set()
