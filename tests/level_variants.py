"""Copies of the Leicestershire profile changed in one way, for tests of levels as data.

`copy_profile` copies the folder to a temporary place; the edit functions change one file of
the copy. `split_statutory_level` makes a profile shaped like Lancashire's statutory levels:
level "4a" (Child in Need: statutory, consent required) for child safeguarding, and level
"adult" (adult safeguarding: consent not required) for the adult route, so one referral can
have a route that waits for consent and one that does not.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from config.profile import PROFILES_DIR


def copy_profile(tmp_path: Path, name: str = "profile") -> Path:
    folder = tmp_path / name
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    return folder


def edit_yaml(folder: Path, file: str, change: Callable[[Any], Any]) -> None:
    path = folder / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data = change(data) or data
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def edit_graph(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / "decision-graph.json"
    graph = json.loads(path.read_text(encoding="utf-8"))
    change(graph)
    path.write_text(json.dumps(graph, indent=1), encoding="utf-8")


def table(graph: dict[str, Any], output_path: str) -> dict[str, Any]:
    return next(n["content"] for n in graph["nodes"]
                if n.get("content", {}).get("outputPath") == output_path)


def row(content: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in content["rules"] if r["_id"] == rule_id)


def level(code: str, number: int, name: str, **more: Any) -> dict[str, Any]:
    return {"code": code, "number": number, "name": name, "description": more.pop(
        "description", f"{name}."), "statutory": more.pop("statutory", False),
        "urgent": more.pop("urgent", False), "consent": more.pop("consent", "required"),
        **more}


def split_statutory_level(folder: Path) -> Path:
    """Level 4 becomes "4a" (consent required) for child safeguarding and "adult" (consent not
    required) for the adult route; step-ups go in at "4a"."""

    def levels(meta):
        meta["levels"] = [lv for lv in meta["levels"] if lv["code"] != "4"] + [
            level("4a", 4, "Statutory: child in need", statutory=True, consent="required",
                  description="Statutory child in need work, with the family's agreement."),
            level("adult", 4, "Adult safeguarding", statutory=True, urgent=True,
                  consent="not_required",
                  description="Adult safeguarding goes ahead without waiting for consent.")]
        meta["step_up_level"] = "4a"

    def kinds(checklist):
        checklist["kinds"]["safeguarding"]["sets_level"] = "4a"

    def graph(g):
        level_table = table(g, "level")
        row(level_table, "L4-statutory")["level_o0"] = "'4a'"
        routes = table(g, "routes")
        routes["outputs"].append({"id": "routes_o4", "name": "level", "field": "level"})
        for r in routes["rules"]:
            if r["routes_i0"] == "'4'":
                r["routes_i0"] = "'4a'"
            r["routes_o4"] = "'adult'" if r["_id"] == "R-statutory-adult" else ""

    edit_yaml(folder, "profile.yaml", levels)
    edit_yaml(folder, "checklist.yaml", kinds)
    edit_graph(folder, graph)
    edit_yaml(folder, "examples.yaml", lambda data: {"examples": [
        e for e in data["examples"] if str(e["expected"].get("level")) != "4"]})
    return folder
