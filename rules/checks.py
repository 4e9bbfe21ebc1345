"""Checks zen-engine does not make: unknown indicators and services, gaps, overlaps, dead rows."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import zen

from config.profile import Problem, Profile

REQUIRED_TABLES = {"safeguarding": {"rule", "flag", "text", "because"},
                   "level": {"level", "rule", "text", "because", "urgent"},
                   "routes": {"service", "rule", "text", "because"}}
_INDICATOR = re.compile(r"\ba\.([a-z][a-z0-9_]*)")
_STRING = re.compile(r"^'([^']*)'$")

# The finite space the level table is checked over (each derived fact's meaningful values).
LEVEL_SPACE = {"safeguarding": (0, 1), "complex": (0, 1), "children": (False, True),
               "areas": range(0, 5), "domains": range(0, 6), "needs": range(0, 4)}


def _tables(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n.get("content", {}).get("outputPath"): n for n in graph.get("nodes", [])
            if n.get("type") == "decisionTableNode"}


def static_problems(profile: Profile, graph: dict[str, Any], file: str) -> list[Problem]:
    problems: list[Problem] = []
    tables = _tables(graph)
    for name, outputs in REQUIRED_TABLES.items():
        node = tables.get(name)
        if node is None:
            problems.append(Problem(file, name, f"no decision table with outputPath '{name}'"))
            continue
        have = {o["field"] for o in node["content"].get("outputs", [])}
        for missing in sorted(outputs - have):
            problems.append(Problem(file, f"{node['name']}.outputs", f"missing output {missing!r}"))
    for name, node in tables.items():
        content = node["content"]
        texts = [i.get("field", "") for i in content.get("inputs", [])]
        for i, row in enumerate(content.get("rules", [])):
            key = f"{node['name']}.rules[{i}] ({row.get('_id')})"
            texts += [str(v) for k, v in row.items() if not k.startswith("_")]
            if name == "routes":
                service = _literal(row, content, "service")
                if service not in profile.services:
                    problems.append(Problem(file, key, f"routes to unknown service {service!r}"))
            for out in content.get("outputs", []):
                value = str(row.get(out["id"], ""))
                if out["field"] in ("text", "rule") and not _STRING.match(value):
                    problems.append(Problem(file, key, f"{out['field']} must be a plain quoted "
                                            "string without apostrophes (use ’)"))
        for text in texts:
            for indicator in _INDICATOR.findall(text):
                if indicator not in profile.checklist.questions:
                    problems.append(Problem(file, node["name"],
                                            f"refers to unknown indicator {indicator!r}"))
    return sorted(set(problems), key=str)


def _literal(row: dict[str, Any], content: dict[str, Any], field: str) -> str | None:
    for out in content.get("outputs", []):
        if out["field"] == field:
            match = _STRING.match(str(row.get(out["id"], "")))
            return match.group(1) if match else None
    return None


def _single_row_decision(graph: dict[str, Any], node: dict[str, Any], row: dict[str, Any]):
    one = json.loads(json.dumps(node))
    one["content"]["rules"] = [row]
    one["content"]["hitPolicy"] = "first"
    one["content"]["passThrough"] = False
    return zen.ZenEngine().create_decision(json.dumps({
        "nodes": [{"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
                  one,
                  {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}}],
        "edges": [{"id": "a", "sourceId": "in", "targetId": one["id"], "type": "edge"},
                  {"id": "b", "sourceId": one["id"], "targetId": "out", "type": "edge"}]}))


def level_table_problems(graph: dict[str, Any], file: str) -> list[Problem]:
    """Enumerate the level table's input space: gaps, rows that never fire, overlaps."""
    node = _tables(graph).get("level")
    if node is None:
        return []
    rows = node["content"]["rules"]
    deciders = [_single_row_decision(graph, node, row) for row in rows]
    fired = [0] * len(rows)
    overlaps: dict[tuple[int, int], int] = {}
    gaps = []
    for values in itertools.product(*LEVEL_SPACE.values()):
        f = dict(zip(LEVEL_SPACE, values, strict=True))
        context = {"safeguarding": [{}] * f["safeguarding"],
                   "kinds": {"complex": f["complex"], "safeguarding": f["safeguarding"]},
                   "children": f["children"], "areas": f["areas"], "domains": f["domains"],
                   "needs": f["needs"]}
        matching = [i for i, d in enumerate(deciders)
                    if d.evaluate(context)["result"].get("level") is not None]
        if not matching:
            gaps.append(f)
            continue
        fired[matching[0]] += 1
        for later in matching[1:]:
            overlaps[(matching[0], later)] = overlaps.get((matching[0], later), 0) + 1
    problems = []
    name = node["name"]
    for i, count in enumerate(fired):
        if count == 0:
            problems.append(Problem(file, f"{name}.rules[{i}] ({rows[i].get('_id')})",
                                    "can never fire: earlier rows match every input it matches"))
    if gaps:
        problems.append(Problem(file, name, f"{len(gaps)} input combinations match no row, "
                                            f"for example {gaps[0]}"))
    for (first, later), count in sorted(overlaps.items()):
        if fired[later] and rows[later].get("_id") != rows[-1].get("_id"):
            problems.append(Problem(file, f"{name}.rules[{later}] ({rows[later].get('_id')})",
                                    f"warning: overlaps rules[{first}] on {count} inputs; "
                                    "the earlier row wins (first hit)"))
    return problems


def check(profile: Profile) -> list[Problem]:
    path = profile.path("decision_graph")
    try:
        graph = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        return [Problem(path.name, "-", f"cannot read: {type(exc).__name__}")]
    problems = static_problems(profile, graph, path.name)
    if not problems:
        problems += level_table_problems(graph, path.name)
    return problems
