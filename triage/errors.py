"""The service's error tree, and the one place that maps errors to HTTP responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TriageError(Exception):
    """Base of every error the service raises on purpose; `status` is its HTTP status."""

    status = 400

    def __init__(self, message: str, **extra: Any):
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.extra}


class ValidationFailed(TriageError):
    """Bad input: every problem, keyed by its field path (people.0.date_of_birth)."""

    status = 422

    def __init__(self, errors: Mapping[str, list[str]], message: str | None = None):
        self.errors = {k: list(v) for k, v in errors.items()}
        count = sum(len(v) for v in self.errors.values())
        super().__init__(
            message or f"The request has {count} problem{'s' if count != 1 else ''}; "
            "see errors for each field.",
        )

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "errors": self.errors}


class NotAuthenticated(TriageError):
    status = 401


class Forbidden(TriageError):
    status = 403


class NotFound(TriageError):
    status = 404


class Conflict(TriageError):
    status = 409


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error dict into {"people.0.date_of_birth": [...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = str(key) if not prefix else f"{prefix}.{key}"
            if key == "_schema":
                path = prefix or "_schema"
            for sub_path, msgs in flatten_errors(value, path).items():
                flat.setdefault(sub_path, []).extend(msgs)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            flat[prefix or "_schema"] = list(messages)
        else:
            for item in messages:
                for sub_path, msgs in flatten_errors(item, prefix).items():
                    flat.setdefault(sub_path, []).extend(msgs)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat
