"""The public directory data in a profile's services.yaml: every problem named with its key; a
profile without any still publishes valid Open Referral UK services from generic fields."""

from __future__ import annotations

import shutil

import pytest
import yaml

from config.profile import PROFILES_DIR, ProfileError, load_profile
from tests.api.test_oruk_feed import SERVICE, _empty_fields, _problems
from triage.services.directory import catalogue


def _copy(tmp_path, change) -> str:
    folder = tmp_path / "council"
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    path = folder / "services.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(folder)


def test_bad_directory_data_is_named_by_file_and_key(tmp_path):
    def spoil(data):
        data["directory"]["organisation"].pop("description")
        data["directory"]["postcode_districts"]["LE11"] = [52.7]
        fcp = data["services"][0]["directory"]
        fcp["needs"].append("happiness")
        fcp["contacts"].append({"name": "Staff member", "phone": "call me maybe"})
        fcp["schedules"][0]["days"] = ["Monday"]
        fcp["schedules"][1]["closes_at"] = "07:00"
        fcp["capacity_now"] = 3
        data["services"][0]["instances"][0]["directory"]["location"]["postal_code"] = "County"

    with pytest.raises(ProfileError) as raised:
        load_profile(_copy(tmp_path, spoil))
    found = {(p.file, p.key) for p in raised.value.problems}
    assert found == {
        ("services.yaml", "directory.organisation.description"),
        ("services.yaml", "directory.postcode_districts.LE11"),
        ("services.yaml", "services[0].directory.needs"),
        ("services.yaml", "services[0].directory.contacts[2].phone"),
        ("services.yaml", "services[0].directory.schedules[0].days"),
        ("services.yaml", "services[0].directory.schedules[1].closes_at"),
        ("services.yaml", "services[0].directory.capacity_now"),
        ("services.yaml", "services[0].instances[0].directory.location.postal_code")}
    messages = " ".join(p.message for p in raised.value.problems)
    assert "'happiness' is not a checklist domain or headline area" in messages


def test_a_profile_without_directory_data_still_publishes_valid_services(tmp_path):
    def strip(data):
        data.pop("directory")
        for service in data["services"]:
            service.pop("directory", None)
            for instance in service["instances"]:
                instance.pop("directory", None)

    profile = load_profile(_copy(tmp_path, strip))
    assert profile.directory.services == {} and profile.directory.organisation is None
    for service in profile.services.values():
        doc = catalogue.profile_service(profile, service, {})
        assert not _problems(SERVICE, doc), service.id
        assert not _empty_fields(doc), service.id
        assert doc["organization"]["name"] == profile.name
        assert "capacity" not in str(doc)  # planning figures are never published
