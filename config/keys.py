"""The one rule for keys a profile file does not know: each is named as a problem (a typo must
never fall back to a default silently)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


def unknown_keys(data: Mapping[Any, Any], allowed: Iterable[str], key: str,
                 problem: Callable[[str, str], None]) -> None:
    """Report each key of `data` not in `allowed`, as `key.extra` (or `extra` at the top)."""
    for extra in sorted(set(map(str, data)) - set(allowed)):
        problem(f"{key}.{extra}" if key else extra, "unknown key")
