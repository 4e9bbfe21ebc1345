"""Event payload fields (data-declared kinds) and checking a payload against what an event needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

FIELD_KINDS = ("text", "code", "connections", "date")
MAX_TEXT = 2000


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    label: str
    min: int = 0


def _json_friendly(value: Any, depth: int = 0) -> bool:
    if depth > 4:
        return False
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, list | tuple):
        return all(_json_friendly(v, depth + 1) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _json_friendly(v, depth + 1) for k, v in value.items())
    return False


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def check_field(spec: FieldSpec, value: Any, codes: Mapping[str, str] | None
                ) -> tuple[Any, str | None]:
    """Return (clean value, None) or (None, what is wrong, in words a worker can act on)."""
    if value is None or (isinstance(value, str | list | tuple | dict) and not value):
        if spec.kind == "connections":
            return None, f"is required: at least {max(spec.min, 1)} onward connection(s)"
        if codes is not None:
            return None, f"is required: one of {', '.join(codes)}"
        return None, "is required"
    if codes is not None:
        if not isinstance(value, str) or value not in codes:
            return None, f"{value!r} is not an allowed code; use one of {', '.join(codes)}"
        return value, None
    if spec.kind == "text":
        text = _text(value)
        if text is None:
            return None, "must be text"
        if len(text) > MAX_TEXT:
            return None, f"must be at most {MAX_TEXT} characters"
        return text, None
    if spec.kind == "date":
        if isinstance(value, datetime):
            return value.date().isoformat(), None
        if isinstance(value, date):
            return value.isoformat(), None
        try:
            return date.fromisoformat(str(value)).isoformat(), None
        except ValueError:
            return None, f"{value!r} is not a date like 2026-11-10"
    if spec.kind == "connections":
        if not isinstance(value, list | tuple):
            return None, "must be a list of {organisation, need}"
        clean = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                return None, f"item {i} must be a mapping with organisation and need"
            org, need = _text(item.get("organisation")), _text(item.get("need"))
            if org is None or need is None:
                missing = " and ".join(k for k, v in (("organisation", org), ("need", need))
                                       if v is None)
                return None, f"item {i} needs {missing}"
            picked = _text(item.get("service"))  # a directory service's id, when picked
            clean.append({"organisation": org, "need": need,
                          **({"service": picked} if picked else {})})
        if len(clean) < max(spec.min, 1):
            return None, f"needs at least {max(spec.min, 1)} onward connection(s)"
        return clean, None
    return None, f"has an unknown kind {spec.kind!r}"


def check_payload(payload: Mapping[str, Any], needs: tuple[str, ...],
                  fields: Mapping[str, FieldSpec], choices: Mapping[str, Mapping[str, str]]
                  ) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate the fields an event needs; keep other JSON-friendly keys as given."""
    if not isinstance(payload, Mapping):
        return {}, {"payload": "must be a mapping of field names to values"}
    clean: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key, value in payload.items():
        if not isinstance(key, str):
            problems[str(key)] = "field names must be text"
        elif key not in needs:
            if _json_friendly(value):
                clean[key] = list(value) if isinstance(value, tuple) else value
            else:
                problems[key] = "must be text, a number, a list or a mapping"
    for name in needs:
        value, problem = check_field(fields[name], payload.get(name), choices.get(name))
        if problem:
            problems[name] = f"{fields[name].label} {problem}"
        else:
            clean[name] = value
    return clean, problems
