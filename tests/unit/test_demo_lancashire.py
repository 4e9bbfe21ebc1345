"""The demo runs on the Lancashire profile from its own demo data (demo.yaml), and a broken
demo file is named problem by problem."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml
from sqlalchemy import func
from sqlmodel import select

from config.demo import load_demo_data
from config.profile import load_profile
from config.settings import Settings
from triage.demo import demo_data, load_demo
from triage.models import Case, Decision, Referral
from triage.models.account import Role


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32, profile="lancashire")


def test_lancashire_demo_loads_its_own_teams_partners_and_levels(rt):
    assert rt.profile.id == "lancashire"
    summary = load_demo(rt, referrals=150)
    assert "0 refused by validation" in summary
    for spec in demo_data(rt.profile).users:
        assert spec.email in summary
    # Team names as people say them, from Lancashire's services; no Leicestershire team.
    assert "Preston East" in summary and "Children's Social Care (MASH)" in summary
    assert "wpehs_targeted:" not in summary and "Charnwood" not in summary
    with rt.db.reader() as session:
        levels = Counter(session.exec(select(Decision.level_code)
                                      .where(Decision.kind == "engine")).all())
        services = set(session.exec(select(Case.service)).all())
        organisations = set(session.exec(select(Referral.referrer_organisation)).all())
        review = session.exec(select(func.count()).select_from(Referral)
                              .where(Referral.status == "needs_review")).one()
    # The scenarios reach Lancashire's own levels, not just "no needs".
    assert {"0", "2", "3", "4a", "4b", "adult"} <= set(levels), levels
    assert levels["1"] < 150 / 3, levels
    assert {"wpehs_universal", "wpehs_targeted", "adult_wellbeing",
            "childrens_social_care", "adult_social_care"} <= services
    assert "Lancashire Constabulary" in organisations
    assert review > 0  # Blackpool and Blackburn postcodes wait for a person


def _problems(data, profile):
    found = []
    demo = load_demo_data(data, "demo.yaml", profile, lambda k, m: found.append((k, m)),
                          roles=list(Role.__members__))
    return demo, found


def test_every_problem_in_a_demo_file_is_named():
    profile = load_profile("lancashire")
    data = yaml.safe_load(profile.path("demo").read_text(encoding="utf-8"))
    demo, found = _problems(data, profile)
    assert demo is not None and found == []

    broken = {**data, "colour": "blue", "out_of_area": ["PR1 1AB", "nowhere"],
              "users": [*data["users"],
                        {"email": "x@demo.test", "role": "wizard", "name": "X",
                         "team": "wpehs_targetted:nelson-brierfield"},
                        {"email": "y@demo.test", "role": "practitioner", "name": "Y",
                         "team": "wpehs_targeted:nelson"},
                        {"email": "z@demo.test", "role": "partner", "name": "Z"},
                        {"email": "admin@demo.test", "role": "admin", "name": "Again"}],
              "scenarios": [{"weight": 0, "household": "castle",
                             "needs": ["memory_concern"], "always": ["school_attendance"]}]}
    demo, found = _problems(broken, profile)
    assert demo is None
    named = {k: m for k, m in found}
    assert named["colour"] == "unknown key"
    assert "not out of the area" in named["out_of_area[0]"]
    assert "is not a postcode" in named["out_of_area[1]"]
    n = len(data["users"])
    assert "wizard" in named[f"users[{n}].role"]
    assert 'no team "wpehs_targetted:nelson-brierfield"' in named[f"users[{n}].team"]
    assert 'no team "wpehs_targeted:nelson"' in \
        named[f"users[{n + 1}].team"]
    assert "organisation" in named[f"users[{n + 2}].organisation"]
    assert "duplicate" in named[f"users[{n + 3}].email"]
    assert "1 or more" in named["scenarios[0].weight"]
    assert "castle" in named["scenarios[0].household"]
    assert "'memory_concern' is not a question on checklist lancs-eh-checklist" in \
        named["scenarios[0].needs"]

    without_manager = {**data, "users": [u for u in data["users"] if u["role"] != "manager"]}
    _, found = _problems(without_manager, profile)
    assert ("users", "needs at least one manager account (the demo sends and moves referrals "
                     "as them)") in found
