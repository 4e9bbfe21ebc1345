"""The one rule for text coming in, whatever the channel: no NUL and no lone surrogate.

PostgreSQL cannot store a NUL (U+0000) in a text or JSON column, and a lone surrogate
(U+D800 to U+DFFF without its pair, which JSON's "\\ud800" escape can carry) is not Unicode
text at all: neither can be written to the database or encoded as UTF-8. SQLite would
store either, so they are refused at the boundary, the same on both databases, with a
message naming the field (never quoting the value: it may be someone's details).

Every way text comes in uses this module: the JSON body reader walks the whole body
(triage/api/body.py), the CSV batch reader checks each cell (batch_csv.py), and a request
hook checks URL path values, query strings, form fields and the headers the service reads
(triage/boundary.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """What is wrong with this text, or None when it can be stored and shown."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return ("Must not contain a NUL character (U+0000), which cannot be stored; remove "
                "it (it is often left behind by copying from another system).")
    return (f"Must not contain U+{ord(char):04X}, half of a character pair without its other "
            "half, which is not valid Unicode text; send the text as valid UTF-8.")


def problems_in(value: Any) -> dict[str, list[str]]:
    """Every string in a parsed JSON value (object keys too), checked by text_problem, keyed
    by its field path as the schemas name fields: people.0.given_name. (A loop, not
    recursion: the JSON reader accepts bodies nested nearly as deep as Python's stack.)"""
    problems: dict[str, list[str]] = {}
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                problems[path or "_body"] = [problem]
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and text_problem(key):
                    problems.setdefault(path or "_body", []).append(
                        "A field name contains a character that cannot be stored (U+0000 or "
                        "an unpaired surrogate); remove it.")
                    continue
                pending.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(item, list | tuple):
            pending.extend((f"{path}.{i}" if path else str(i), child)
                           for i, child in enumerate(item))
    return dict(sorted(problems.items()))


def problems_in_pairs(pairs: Iterable[tuple[str, str]], *, names: str
                      ) -> dict[str, list[str]]:
    """Problems of named text values (query parameters, form fields, URL parts), keyed by
    their name; a name that is itself bad is reported under `names`."""
    problems: dict[str, list[str]] = {}
    for name, value in pairs:
        if text_problem(name):
            problems.setdefault(names, []).append(
                f"A {names} name contains a character that cannot be stored (U+0000 or an "
                "unpaired surrogate); remove it.")
            continue
        problem = text_problem(value) if isinstance(value, str) else None
        if problem and name not in problems:
            problems[name] = [problem]
    return problems
