"""The front door's timescale is profile data: profile.yaml's front_door mapping, checked on
load so a bad value stops the service with the file and key named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from config.profile import PROFILES_DIR, ProfileError, load_profile


def _profile_with(tmp_path: Path, front_door) -> Path:
    folder = tmp_path / "profile"
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    path = folder / "profile.yaml"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    if front_door is None:
        del meta["front_door"]
    else:
        meta["front_door"] = front_door
    path.write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return folder


def test_the_leicestershire_front_door_decides_within_one_working_day():
    assert load_profile("leicestershire").front_door.decision_within_working_days == 1


def test_the_front_door_s_reasons_to_close_are_profile_data(tmp_path):
    closures = load_profile("leicestershire").front_door.closures
    assert closures["duplicate"] == "A duplicate of another referral"
    folder = _profile_with(tmp_path, {"decision_within_working_days": 1})
    assert load_profile(folder).front_door.closures == {}  # none: the front door cannot


def test_the_profile_sets_the_front_door_decision_timescale(tmp_path):
    folder = _profile_with(tmp_path, {"decision_within_working_days": 3})
    assert load_profile(folder).front_door.decision_within_working_days == 3


def test_the_re_referral_window_is_profile_data(tmp_path):
    assert load_profile("leicestershire").front_door.re_referral_months == 12
    folder = _profile_with(tmp_path, {"decision_within_working_days": 1,
                                      "re_referral_months": 6})
    assert load_profile(folder).front_door.re_referral_months == 6
    folder = _profile_with(tmp_path / "none", {"decision_within_working_days": 1})
    assert load_profile(folder).front_door.re_referral_months is None  # not flagged


@pytest.mark.parametrize(("front_door", "key", "message"), [
    ({"decision_within_working_days": "one"}, "front_door.decision_within_working_days",
     "must be a whole number of working days, 0 or more (got 'one')"),
    ({"decision_within_working_days": -1}, "front_door.decision_within_working_days",
     "must be a whole number of working days, 0 or more (got -1)"),
    ({"decision_within_working_days": 1.5}, "front_door.decision_within_working_days",
     "must be a whole number"),
    ({"decision_within_working_days": True}, "front_door.decision_within_working_days",
     "must be a whole number"),
    ({}, "front_door.decision_within_working_days", "(got None)"),
    ({"decision_within_working_days": 1, "decision_within_hours": 4},
     "front_door.decision_within_hours", "unknown key"),
    (None, "front_door", "is required"),
    ({"decision_within_working_days": 1, "closures": ["advice_given"]},
     "front_door.closures", "must be a mapping"),
    ({"decision_within_working_days": 1, "closures": {"Advice Given": "Advice given"}},
     "front_door.closures.Advice Given", "lower_case code"),
    ({"decision_within_working_days": 1, "closures": {"advice_given": ""}},
     "front_door.closures.advice_given", "with a description"),
    ({"decision_within_working_days": 1, "re_referral_months": "twelve"},
     "front_door.re_referral_months", "must be a whole number of months, 1 to 120"),
    ({"decision_within_working_days": 1, "re_referral_months": 0},
     "front_door.re_referral_months", "(got 0)"),
    ({"decision_within_working_days": 1, "re_referral_months": True},
     "front_door.re_referral_months", "must be a whole number of months"),
])
def test_a_bad_front_door_timescale_is_refused_naming_the_file_and_key(
        tmp_path, front_door, key, message):
    with pytest.raises(ProfileError) as refused:
        load_profile(_profile_with(tmp_path, front_door))
    (problem,) = refused.value.problems
    assert (problem.file, problem.key) == ("profile.yaml", key)
    assert message in problem.message
    assert f"profile.yaml: {key}: " in str(refused.value)
