"""`triage rules simulate --candidate PATH`: stored referrals re-decided with changed rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.profile import load_profile
from triage.cli import main

PROFILE = load_profile("leicestershire")

ADULT = {"ref": "a1", "role": "subject", "date_of_birth": "1980-01-01"}
THREE_NAMES = {"given_name": "Tia", "family_name": "Three"}
TWO_NAMES = {"given_name": "Tom", "family_name": "Two"}
CHILD = {"ref": "c1", "role": "household", "date_of_birth": "2014-01-01"}
# Needs in three headline areas (ED, HE, FS) for a family: level 3 today.
THREE_AREAS = {"school_attendance_concern": True, "child_emotional_health": True,
               "financial_hardship": True}
TWO_AREAS = {"school_attendance_concern": True, "child_emotional_health": True}


@pytest.fixture
def stored(client, auth, referral_body) -> dict[str, str]:
    """Four referrals through the API: name -> reference."""
    headers = auth("front_door")
    bodies = {
        # Two families (other names): neither is matched to the other's household.
        "three areas": referral_body(people=[{**ADULT, **THREE_NAMES}, CHILD],
                                     answers=THREE_AREAS, postcode="LE11 2AB"),
        "two areas": referral_body(people=[{**ADULT, **TWO_NAMES}, CHILD], answers=TWO_AREAS,
                                   postcode="LE11 2AB"),
        "older woman": referral_body(),
        "no needs": referral_body(answers={}, information_only=True),
    }
    references = {}
    for name, body in bodies.items():
        response = client.post("/api/v1/referrals", json=body, headers=headers)
        assert response.status_code == 201, response.json
        references[name] = response.json["reference"]
    return references


@pytest.fixture
def run(settings):
    """run(candidate) -> click Result of `triage rules simulate` against the test database."""
    env = {"TRIAGE_ENV": "test", "TRIAGE_DATABASE_URL": settings.database_url,
           "TRIAGE_SECRET_KEY": settings.secret_key,
           "TRIAGE_INSTANCE_PATH": str(settings.instance_path), "TRIAGE_LOG_LEVEL": "WARNING"}

    def invoke(candidate: Path, *extra: str):
        return CliRunner().invoke(main, ["rules", "simulate", "--candidate", str(candidate),
                                         *extra], env=env, catch_exceptions=False)

    return invoke


def candidate_copy(tmp_path: Path) -> tuple[Path, dict]:
    folder = tmp_path / "candidate"
    shutil.copytree(PROFILE.folder, folder)
    graph = json.loads((folder / "decision-graph.json").read_text())
    return folder, graph


def level_row(graph: dict, rule_id: str) -> dict:
    table = next(n for n in graph["nodes"] if n.get("content", {}).get("outputPath") == "level")
    return next(r for r in table["content"]["rules"] if r["_id"] == rule_id)


def test_raising_the_headline_area_threshold_lists_the_family_that_moves(
        tmp_path, stored, run):
    folder, graph = candidate_copy(tmp_path)
    level_row(graph, "L3-three-headline-areas")["level_i3"] = ">= 4"
    (folder / "decision-graph.json").write_text(json.dumps(graph))

    result = run(folder)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "re-decided 4 referrals: 1 would change"
    assert "  level 3 -> 2: 1" in lines
    moved = [line for line in lines if line.startswith(f"  {stored['three areas']}:")]
    assert moved == [f"  {stored['three areas']}: level 3 -> 2; "
                     "early_help_hub:charnwood-hub, first_contact_plus:countywide -> "
                     "early_help_hub:charnwood-hub, first_contact_plus:countywide"]
    for unchanged in ("two areas", "older woman", "no needs"):
        assert stored[unchanged] not in result.output


def test_a_candidate_graph_file_alone_is_simulated_with_the_current_profile(
        tmp_path, stored, run):
    """A route change: isolated adults in a patch go to First Contact Plus instead."""
    _, graph = candidate_copy(tmp_path)
    routes = next(n for n in graph["nodes"]
                  if n.get("content", {}).get("outputPath") == "routes")
    for row in routes["content"]["rules"]:
        if row["_id"] == "R-adult-coordination":
            row["routes_o0"] = "'first_contact_plus'"
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(graph))

    result = run(path)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "re-decided 4 referrals: 1 would change"
    assert "  gain first_contact_plus:countywide: 1" in result.output
    assert "  lose local_area_coordination:melton-north: 1" in result.output
    assert (f"  {stored['older woman']}: level 2 -> 2; local_area_coordination:melton-north"
            " -> first_contact_plus:countywide") in result.output


def test_the_same_rules_change_nothing(stored, run):
    result = run(PROFILE.folder)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["re-decided 4 referrals: 0 would change"]


def test_a_candidate_naming_an_unknown_indicator_is_refused_clearly(tmp_path, stored, run):
    folder, graph = candidate_copy(tmp_path)
    text = json.dumps(graph).replace("a.social_isolation", "a.loneliness")
    (folder / "decision-graph.json").write_text(text)

    result = run(folder)

    assert result.exit_code != 0
    assert "unknown indicator 'loneliness'" in result.output
    assert "Traceback" not in result.output


def test_a_candidate_that_is_not_json_is_refused_clearly(tmp_path, stored, run):
    path = tmp_path / "graph.json"
    path.write_text('{"nodes": [')

    result = run(path)

    assert result.exit_code != 0
    assert "not valid JSON" in result.output
    assert "Traceback" not in result.output


def test_a_candidate_folder_with_a_broken_profile_is_refused_clearly(tmp_path, stored, run):
    folder, _ = candidate_copy(tmp_path)
    (folder / "services.yaml").write_text("services: nope\n")

    result = run(folder)

    assert result.exit_code != 0
    assert "services.yaml" in result.output and "must be a list of services" in result.output
