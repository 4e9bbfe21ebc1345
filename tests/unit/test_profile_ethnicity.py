"""Ethnicity codes for equality monitoring are profile data (profile.yaml `ethnicity`),
checked on load so a bad code stops the service with the key named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from config.profile import PROFILES_DIR, ProfileError, load_profile


def _profile_with(tmp_path: Path, ethnicity) -> Path:
    folder = tmp_path / "profile"
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    path = folder / "profile.yaml"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    if ethnicity is None:
        del meta["ethnicity"]
    else:
        meta["ethnicity"] = ethnicity
    path.write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return folder


def test_leicestershire_uses_the_ons_2021_categories_and_not_stated():
    codes = load_profile("leicestershire").ethnicity
    assert len(codes) == 20 and list(codes)[-1] == "not_stated"
    assert codes["white_gypsy_traveller"] == "White: Gypsy or Irish Traveller"
    assert codes["other_arab"] == "Other ethnic group: Arab"


def test_a_profile_without_ethnicity_codes_takes_none(tmp_path):
    assert load_profile(_profile_with(tmp_path, None)).ethnicity == {}


@pytest.mark.parametrize("ethnicity, key", [
    ({"White British": "White"}, "ethnicity.White British"),
    ({"white": ""}, "ethnicity.white"),
    (["white"], "ethnicity"),
])
def test_a_bad_ethnicity_list_is_named(tmp_path, ethnicity, key):
    with pytest.raises(ProfileError) as raised:
        load_profile(_profile_with(tmp_path, ethnicity))
    assert key in str(raised.value)
