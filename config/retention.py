"""The retention schedule in a council profile (retention.yaml): for each kind of record, how
long it is kept after which moment, and whether it is then anonymised or erased. Read-only,
validated at load: unknown keys and impossible combinations are named problems."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from config.keys import unknown_keys

# Which moment each kind of record is kept from, and what may happen to it then.
# family: a household with cases, its people, referrals and cases (kept for reports, without
#   names, contact details or free text); referral: one that never became a case;
#   audit: the audit log's own rows (erased: they hold ids and codes only).
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "family": ("last_closed", ("anonymise",)),
    "referral": ("received", ("anonymise",)),
    "audit": ("recorded", ("erase",)),
}
RULE_KEYS = {"id", "records", "after", "keep_years", "action", "description"}


@dataclass(frozen=True)
class RetentionRule:
    id: str
    records: str
    after: str
    keep_years: int
    action: str
    description: str


@dataclass(frozen=True)
class RetentionSchedule:
    rules: tuple[RetentionRule, ...]

    def rule(self, rule_id: str) -> RetentionRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def load_retention(data: Any, file: str, problem) -> RetentionSchedule | None:
    """Validate a retention.yaml mapping; call `problem(key, message)` for each problem."""
    if not isinstance(data, dict):
        problem("-", "must be a mapping with `rules`")
        return None
    unknown_keys(data, {"rules"}, "", problem)
    rules_data = data.get("rules")
    if not isinstance(rules_data, list) or not rules_data:
        problem("rules", "must be a list of rules")
        return None
    rules: list[RetentionRule] = []
    for i, spec in enumerate(rules_data):
        key = f"rules[{i}]"
        if not isinstance(spec, dict):
            problem(key, "must be a mapping")
            continue
        found = len(rules)
        unknown_keys(spec, RULE_KEYS, key, problem)
        rule_id, records = spec.get("id"), spec.get("records")
        if not (isinstance(rule_id, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,31}", rule_id)):
            problem(f"{key}.id", "must be a lower_case id of at most 32 characters")
        elif any(r.id == rule_id for r in rules):
            problem(f"{key}.id", f"duplicate rule id {rule_id!r}")
        if records not in KINDS:
            problem(f"{key}.records", f"must be one of {', '.join(KINDS)}")
            continue
        after, actions = KINDS[records]
        if spec.get("after") != after:
            problem(f"{key}.after", f"{records} records are kept from `{after}`")
        if spec.get("action") not in actions:
            problem(f"{key}.action", f"{records} records may be {' or '.join(actions)}d")
        years = spec.get("keep_years")
        if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 100:
            problem(f"{key}.keep_years", "must be a whole number of years, 1 to 100")
        if not isinstance(spec.get("description"), str) or not spec["description"].strip():
            problem(f"{key}.description", "say what the rule keeps and why")
        if len(rules) == found and isinstance(rule_id, str):
            rules.append(RetentionRule(id=rule_id, records=records, after=str(spec.get("after")),
                                       keep_years=years if isinstance(years, int) else 0,
                                       action=str(spec.get("action")),
                                       description=str(spec.get("description", "")).strip()))
    return RetentionSchedule(rules=tuple(rules))
