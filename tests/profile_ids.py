"""Which council profiles the generic suite runs against: every profile shipped under
config/profiles/, or those named in TRIAGE_TEST_PROFILES (comma-separated) or by
`pytest --profile ID` (repeatable)."""

from __future__ import annotations

import os

from config.profile import PROFILES_DIR


def shipped_profiles() -> list[str]:
    return sorted(p.name for p in PROFILES_DIR.iterdir() if (p / "profile.yaml").is_file())


def selected_profiles() -> list[str]:
    named = [p.strip() for p in os.environ.get("TRIAGE_TEST_PROFILES", "").split(",")
             if p.strip()]
    unknown = sorted(set(named) - set(shipped_profiles()))
    if unknown:
        raise ValueError(f"TRIAGE_TEST_PROFILES names no shipped profile: {', '.join(unknown)} "
                         f"(shipped: {', '.join(shipped_profiles())})")
    return named or shipped_profiles()
