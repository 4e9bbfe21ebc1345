"""The match weights and bands are profile data (matching.yaml), checked on load: a bad key or
an impossible weight stops the service with the file and key named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from config.profile import PROFILES_DIR, ProfileError, load_profile
from triage.cli import main


def _profile_with(tmp_path: Path, change) -> Path:
    folder = tmp_path / "profile"
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    path = folder / "matching.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


def _problems(folder: Path) -> set[tuple[str, str]]:
    with pytest.raises(ProfileError) as raised:
        load_profile(folder)
    return {(p.file, p.key) for p in raised.value.problems}


def test_leicestershire_weighs_a_shared_date_of_birth_above_a_shared_postcode_sector():
    matching = load_profile("leicestershire").matching
    assert matching.level("date_of_birth", "same").weight > \
        matching.level("postcode", "sector").weight > 0
    assert matching.level("given_name", "different").weight < 0
    assert list(matching.bands) == ["exact", "likely", "possible"]


def _break(data):
    data["colour"] = "red"
    data["bands"]["likely"] = 99
    data["fields"]["given_name"][0]["weight"] = 3
    data["fields"]["family_name"][0]["m"] = 0
    data["fields"]["postcode"][-1] = {"level": "different", "m": 0.9, "u": 0.1}
    del data["fields"]["email"]
    data["nicknames"].append(["Bill"])
    data["fields"]["phone"][0]["at_best"] = "exact"


def test_unknown_keys_and_impossible_weights_are_named(tmp_path):
    problems = _problems(_profile_with(tmp_path, _break))
    assert {("matching.yaml", "colour"), ("matching.yaml", "bands"),
            ("matching.yaml", "fields.given_name[0].weight"),
            ("matching.yaml", "fields.family_name[0]"), ("matching.yaml", "fields.postcode"),
            ("matching.yaml", "fields.email"), ("matching.yaml", "nicknames[37]"),
            ("matching.yaml", "fields.phone[0].at_best")} <= problems


def test_a_profile_where_the_same_person_could_never_be_exact_is_refused(tmp_path):
    def too_high(data):
        data["bands"]["exact"] = 60
    assert ("matching.yaml", "bands.exact") in _problems(_profile_with(tmp_path, too_high))


def test_rules_check_reports_a_bad_matching_file(tmp_path):
    folder = _profile_with(tmp_path, lambda data: data.pop("fields"))
    result = CliRunner().invoke(main, ["rules", "check", "--profile", str(folder)])
    assert result.exit_code == 1 and "matching.yaml: fields" in result.output


def test_blocking_limits_are_profile_data_and_checked(tmp_path):
    blocking = load_profile("leicestershire").matching.blocking
    assert blocking.limit == 25 and 0 < blocking.trigram_similarity < 1

    def bad(data):
        data["blocking"] = {"limit": 0, "trigram_similarity": 1.5, "order": "name"}

    assert {("matching.yaml", "blocking.limit"), ("matching.yaml", "blocking.trigram_similarity"),
            ("matching.yaml", "blocking.order")} <= _problems(_profile_with(tmp_path, bad))
