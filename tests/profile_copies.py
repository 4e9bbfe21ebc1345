"""Copies of the shipped profile changed in one way, for tests of what follows the profile."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from config.profile import PROFILES_DIR


def leicestershire_without_meetings(folder: Path) -> Path:
    """Leicestershire with no pathway meeting: the hub pathway keeps its states and events
    but loses its `meeting:` block, its meeting dates (hub_meetings) and its meeting-timed
    timescale (now 20 working days)."""
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    path = folder / "pathways.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["hub_meetings"]
    for pathway in data["pathways"].values():
        pathway.pop("meeting", None)
        for ts in pathway.get("timescales") or []:
            if "hub_meeting" in ts["within"]:
                ts["within"] = {"working_days": 20}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


def with_texts(source: Path, folder: Path, texts: dict | None) -> Path:
    """A copy of the profile at `source` whose profile.yaml has these texts (None: none)."""
    shutil.copytree(source, folder)
    path = folder / "profile.yaml"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    if texts is None:
        meta.pop("texts", None)
    else:
        meta["texts"] = texts
    path.write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return folder
