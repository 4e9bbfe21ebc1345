"""The password policy: long enough, and not on the shipped list of common breached passwords.

common_passwords.txt is the 19,640-entry list that Django ships (django/contrib/auth,
BSD licence), compiled by Royce Williams from breach corpora; compared case-insensitively.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
_LIST = Path(__file__).resolve().parent / "common_passwords.txt"


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    with _LIST.open(encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def is_common(password: str) -> bool:
    return password.strip().lower() in _common()


def password_problems(password: str | None) -> list[str]:
    """What is wrong with a new password, in words the person can act on (empty: it is fine)."""
    if not password:
        return ["Enter a password."]
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"Password must be at most {MAX_PASSWORD_LENGTH} characters.")
    if is_common(password):
        problems.append("This password is on a list of passwords stolen in data breaches. "
                        "Choose a different one, for example three random words.")
    return problems
