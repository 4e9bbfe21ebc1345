"""The generic machinery on every council profile: the profile checks clean and its worked
examples pass (`triage rules check` / `rules test`, as a council's officer would run them),
the demo loads without a refused referral, and the public pages speak this council's words
and no other council's."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from config.profile import load_profile
from tests.profile_ids import shipped_profiles
from triage.cli import main as cli


@pytest.mark.parametrize("command", ["check", "test"])
def test_rules_check_and_worked_examples_pass(profile_id, command):
    result = CliRunner().invoke(cli, ["rules", command, "--profile", profile_id])
    assert result.exit_code == 0, result.output
    if command == "test":
        assert re.search(r"^(\d+) passed, 0 failed$", result.output, re.M), result.output


def test_the_demo_loads_every_referral_and_its_accounts_exist(rt):
    from triage.demo import load_demo

    summary = load_demo(rt, referrals=40, history=False)
    assert "0 refused by validation" in summary, summary


def _words_of(profile_id: str) -> set[str]:
    """What names a council's own things: its name and its services' names."""
    profile = load_profile(profile_id)
    return {profile.name, *(s.name for s in profile.services.values())}


@pytest.mark.parametrize("path", ["/", "/self-referral/", "/accessibility"])
def test_public_pages_speak_this_councils_words_only(client, rt, profile_id, path):
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    ours = _words_of(profile_id)
    others = set().union(*(_words_of(p) for p in shipped_profiles() if p != profile_id)) - ours
    leaked = sorted(w for w in others if w in page)
    assert not leaked, f"{path} on {profile_id} names another council's things: {leaked}"


def test_every_report_answers_on_the_demo_by_every_dimension(client, rt, auth):
    """Reports over the profile's own demo history: each report by each of its dimensions
    answers 200 with rows and a total, and the top locality unit is named as the profile
    names it."""
    from triage.demo import load_demo
    from triage.services.reports import refresh
    from triage.services.reports.catalogue import catalogue_for

    load_demo(rt, referrals=30)
    refresh.refresh(rt)
    manager = auth("manager")
    listed = client.get("/api/v1/reports", headers=manager)
    assert listed.status_code == 200, listed.json
    reports = catalogue_for(rt).reports
    assert sorted(r["id"] for r in listed.json["reports"]) == sorted(reports)
    for report in reports.values():
        for dimension in [None, *report.dimensions]:
            query = f"?dimension={dimension}" if dimension and not report.snapshot else (
                f"?by={dimension}" if dimension else "")
            got = client.get(f"/api/v1/reports/{report.id}{query}", headers=manager)
            assert got.status_code == 200, (report.id, dimension, got.json)
            assert "total" in got.json
    page = client.get("/api/v1/reports/referrals?dimension=district&format=csv",
                      headers=manager).get_data(as_text=True)
    assert page.splitlines()[0].split(",")[:2] == [
        "Month", rt.profile.localities.label(rt.profile.localities.top)]
