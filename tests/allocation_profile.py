"""A copy of the Leicestershire profile that balances Local Area Coordination within each
district, with small capacities, and a teams.yaml with a team of several instances (the
coordinators of Charnwood: the Loughborough East and Shepshed patches). Tests build it in
their tmp_path; the shipped profile is never changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from config.profile import PROFILES_DIR

# Charnwood's two coordinator patches (district charnwood) and a Melton one (alone in Melton).
LOUGHBOROUGH_EAST = "LE11 1AA"  # lac_patch loughborough-east
SHEPSHED = "LE12 9AA"  # lac_patch shepshed
MELTON = "LE13 0AB"  # lac_patch melton-north
CAPACITY = {"loughborough-east": 2, "shepshed": 3}  # every other patch: the service's 2
CHARNWOOD_TEAM = "local_area_coordination:charnwood"

ALLOCATION = """
# Test fixture: coordinators' new cases are balanced within each district.
allocation:
  service: local_area_coordination
  balance_within: district
"""

TEAMS = """\
teams:
  - id: local_area_coordination:charnwood
    name: Charnwood coordinators
    service: local_area_coordination
    unit: {district: charnwood}
  - id: early_help_hub:east
    name: Charnwood and Melton hubs
    service: early_help_hub
    instances: [charnwood-hub, melton-hub]
"""


def allocation_profile(folder: Path, *, teams: str | None = TEAMS,
                       allocation: str | None = ALLOCATION,
                       services: dict[str, str] | None = None) -> Path:
    """Copy the Leicestershire profile to `folder` with the allocation block, capacities and
    teams.yaml (each None: left out); `services` replaces text in services.yaml."""
    target = folder / "profile"
    shutil.copytree(PROFILES_DIR / "leicestershire", target)
    meta = (target / "profile.yaml").read_text(encoding="utf-8")
    if teams is not None:
        (target / "teams.yaml").write_text(teams, encoding="utf-8")
        meta = meta.replace("  matching: matching.yaml\n",
                            "  matching: matching.yaml\n  teams: teams.yaml\n")
    if allocation is not None:
        meta += allocation
    (target / "profile.yaml").write_text(meta, encoding="utf-8")
    text = (target / "services.yaml").read_text(encoding="utf-8")
    replaced = {
        "capacity: {people_per_coordinator: 60}":
            "capacity: {people_per_coordinator: 60, open_cases: 2}",
        "- {id: shepshed, name: Shepshed coordinator}":
            "- {id: shepshed, name: Shepshed coordinator, capacity: {open_cases: 3}}",
        **(services or {})}
    for old, new in replaced.items():
        assert old in text, old
        text = text.replace(old, new)
    (target / "services.yaml").write_text(text, encoding="utf-8")
    return target
