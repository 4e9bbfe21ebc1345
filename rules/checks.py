"""Checks zen-engine does not make: unknown indicators and services, gaps, overlaps, dead rows."""

from __future__ import annotations

import itertools
import json
import re
from datetime import date
from typing import Any

import zen

from config.profile import Problem, Profile

REQUIRED_TABLES = {"safeguarding": {"rule", "flag", "text", "because"},
                   "level": {"level", "rule", "text", "because"},
                   "routes": {"service", "rule", "text", "because"}}
# Outputs that name a level code, by table: each row's value must be one of the profile's.
LEVEL_OUTPUTS = {"safeguarding": "threshold", "level": "level", "routes": "level"}
_INDICATOR = re.compile(r"\ba\.([a-z][a-z0-9_]*)")
_WITHIN = re.compile(r"(?<![\w.])within\.([A-Za-z_][A-Za-z0-9_]*)")
_STRING = re.compile(r"^'([^']*)'$")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NAME = re.compile(r"(?<![\w.#$])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(\s*\()?")
_NUMBER = re.compile(r"\d+")
# Words of the expression language, never facts.
_WORDS = {"true", "false", "null", "and", "or", "not", "in", "if", "then", "else"}

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
            problems += _level_code_problems(profile, name, content, row, key, file)
        for text in texts:
            for indicator in _INDICATOR.findall(text):
                if indicator not in profile.checklist.questions:
                    problems.append(Problem(file, node["name"],
                                            f"refers to unknown indicator {indicator!r}"))
            for unit in _WITHIN.findall(_QUOTED.sub("''", text)):
                if unit not in profile.localities.columns:
                    problems.append(Problem(file, node["name"], f"reads within.{unit}, but "
                                            f"{unit!r} is not a locality column in profile.yaml "
                                            f"({', '.join(profile.localities.columns)})"))
    return sorted(set(problems), key=str)


def _level_code_problems(profile: Profile, table: str, content: dict[str, Any],
                         row: dict[str, Any], key: str, file: str) -> list[Problem]:
    """A row's level-code output must be a quoted code the profile has (the level table's
    always; a safeguarding row's `threshold` and a route's `level` when the table has them),
    and a routes row's test on `level.level` must name codes the profile has."""
    codes = ", ".join(profile.levels)
    problems = []
    field = LEVEL_OUTPUTS.get(table)
    out = next((o for o in content.get("outputs", []) if o["field"] == field), None)
    value = str(row.get(out["id"], "")) if out is not None else ""
    if out is not None and (value.strip() or table == "level"):
        match = _STRING.match(value.strip())
        if match is None or match.group(1) not in profile.levels:
            problems.append(Problem(file, key, f"outputs {field} {value!r}, which is not a "
                                               f"quoted level code from profile.yaml (one of "
                                               f"{codes})"))
    if table == "routes":
        for i in content.get("inputs", []):
            if i.get("field", "").replace(" ", "") != "level.level":
                continue
            cell = str(row.get(i["id"], "")).strip()
            named = [q.strip("'\"") for q in _QUOTED.findall(cell)]
            bare = _QUOTED.sub("", cell).replace(",", " ").split()
            for code in named:
                if code not in profile.levels:
                    problems.append(Problem(file, key, f"tests level {code!r}, which is not a "
                                                       f"level code (one of {codes})"))
            if bare and not named:
                problems.append(Problem(file, key, f"tests level {cell!r}: level codes are "
                                                   f"quoted strings (one of {codes})"))
    return problems


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


def _base_context(profile: Profile) -> dict[str, Any]:
    """The facts for a referral with nothing answered: every fact the rules may read, at
    its "none" value (worked out by rules.facts, so a new fact is known here at once)."""
    from rules.facts import derive_facts

    return derive_facts(profile.checklist, answers={}, people=[],
                        referral_date=date(2026, 1, 1), place=None,
                        units=profile.localities.columns).context


def _reads(node: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(where, fact path, largest number its column compares with) for every name the
    table's inputs and cells read."""
    content = node["content"]
    found = []
    for column in content.get("inputs", []):
        cells = [str(row.get(column["id"], "")) for row in content.get("rules", [])]
        top = max((int(n) for text in cells for n in _NUMBER.findall(text)), default=1)
        texts = [(f"inputs ({column.get('name')})", column.get("field", ""))]
        texts += [(f"rules[{i}] ({row.get('_id')})", cell)
                  for i, (row, cell) in enumerate(zip(content.get("rules", []), cells,
                                                      strict=True))]
        for where, text in texts:
            for match in _NAME.finditer(_QUOTED.sub("''", text)):
                name, call = match.group(1), match.group(2)
                if not call and name not in _WORDS:
                    found.append((where, name, top))
    return found


def _fact_space(profile: Profile, graph: dict[str, Any], node: dict[str, Any], file: str
                ) -> tuple[dict[str, tuple[Any, ...]], dict[str, Any], list[Problem]]:
    """The values worth trying for each fact the level table reads, the base context, and a
    problem for every fact it reads that the check does not know."""
    base = _base_context(profile)
    earlier = {name: t for name, t in _tables(graph).items() if name not in ("level", "routes")}
    row_fields = set(re.findall(r"#\.([A-Za-z_][A-Za-z0-9_]*)",
                                json.dumps(node["content"])))
    space: dict[str, tuple[Any, ...]] = {}
    problems = []
    for where, path, top in _reads(node):
        root, _, rest = path.partition(".")
        counts = tuple(range(0, top + 2))
        if root in earlier:
            rows = _row_outputs(earlier[root], row_fields)
            space[root] = ((),) + tuple((outputs,) for outputs in rows)
            continue
        value = base.get(root)
        if isinstance(value, dict) and rest:
            sub = rest.split(".")[0]
            if root == "a" or sub in value:
                space[f"{root}.{sub}"] = ((None, True) if root == "a" else (False, True)
                                          if isinstance(value[sub], bool) else counts)
                continue
        elif root in base and not rest:
            space[root] = (False, True) if isinstance(base[root], bool) else counts
            continue
        problems.append(Problem(file, f"{node['name']}.{where}",
                                f"reads a fact the check does not know: {path!r}"))
    return space, base, problems


def _row_outputs(node: dict[str, Any], fields: set[str]) -> list[dict[str, Any]]:
    """The distinct outputs (only the fields the level table reads) of an earlier table's
    rows: what a matching row puts in the list the level table reads."""
    content, seen, rows = node["content"], set(), []
    for row in content.get("rules", []):
        outputs = {}
        for out in content.get("outputs", []):
            if out["field"] in fields:
                match = _STRING.match(str(row.get(out["id"], "")).strip())
                outputs[out["field"]] = match.group(1) if match else row.get(out["id"])
        frozen = json.dumps(outputs, sort_keys=True, default=str)
        if frozen not in seen:
            seen.add(frozen)
            rows.append(outputs)
    return rows


def _context(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    context = dict(base)
    for path, value in values.items():
        root, _, sub = path.partition(".")
        if not sub:
            context[root] = list(value) if isinstance(value, tuple) else value
            continue
        context[root] = inner = dict(context[root])
        if value is None:
            inner.pop(sub, None)
        else:
            inner[sub] = value
    return context


def level_table_problems(profile: Profile, graph: dict[str, Any], file: str) -> list[Problem]:
    """Enumerate the level table's input space (the facts it reads, each over the values worth
    trying): gaps, rows that never fire, overlaps."""
    node = _tables(graph).get("level")
    if node is None:
        return []
    space, base, problems = _fact_space(profile, graph, node, file)
    if problems:
        return problems
    rows = node["content"]["rules"]
    deciders = [_single_row_decision(graph, node, row) for row in rows]
    fired = [0] * len(rows)
    overlaps: dict[tuple[int, int], int] = {}
    gaps = []
    for values in itertools.product(*space.values()):
        f = dict(zip(space, values, strict=True))
        context = _context(base, f)
        matching = [i for i, d in enumerate(deciders)
                    if d.evaluate(context)["result"].get("level") is not None]
        if not matching:
            gaps.append(f)
            continue
        fired[matching[0]] += 1
        for later in matching[1:]:
            overlaps[(matching[0], later)] = overlaps.get((matching[0], later), 0) + 1
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
    from rules.examples import example_problems

    problems = static_problems(profile, graph, path.name)
    if not problems:
        problems += level_table_problems(profile, graph, path.name)
    return problems + example_problems(profile)
