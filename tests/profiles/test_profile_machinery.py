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
