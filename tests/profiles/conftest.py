"""The any-profile suite: the generic machinery (rules check, worked examples through the real
intake, consent per route, demo data, public pages, every pathway's machine) run against every
council profile (tests/profile_ids.py says which)."""

from __future__ import annotations

import pytest

from config.settings import Settings
from tests.profile_ids import selected_profiles


@pytest.fixture(params=selected_profiles())
def profile_id(request) -> str:
    return request.param


@pytest.fixture
def settings(tmp_path, database_url, profile_id) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32, profile=profile_id)
