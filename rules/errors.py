"""Errors of the rules engine: a rule set that cannot be loaded or evaluated."""

from __future__ import annotations

from collections.abc import Iterable

from config.profile import Problem


class RuleError(Exception):
    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))
