"""Loading a profile's decision graph into zen-engine and turning its result into a Decision."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import zen

from config.profile import Problem, Profile
from rules.errors import RuleError
from rules.facts import Facts

GRAPH_FILE = "decision-graph.json"
GRAPH_KEY = "decision-graph"


@dataclass(frozen=True)
class Route:
    service: str
    instance: str | None
    reason: str
    # Whether this route waits for the family's consent (its service and level say).
    consent_needed: bool = True


@dataclass(frozen=True)
class Reason:
    rule: str
    text: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    level_code: str
    level: int  # the level's number (rank) on the continuum, from the profile
    level_name: str
    safeguarding: dict[str, bool]
    urgent: bool
    routes: tuple[Route, ...]
    reasons: tuple[Reason, ...]
    ruleset_id: str
    ruleset_version: str
    needs_review: bool = False
    review_reasons: tuple[str, ...] = ()
    # The level codes the safeguarding rows that matched name as their threshold, if any.
    thresholds: tuple[str, ...] = ()
    evaluated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class RuleSet:
    """A profile's rules, compiled once; evaluate() is safe to call from many threads."""

    def __init__(self, profile: Profile, graph_text: str):
        self.profile = profile
        self.id = profile.id
        self.graph = json.loads(graph_text)
        checklist_text = (profile.path("checklist")).read_bytes()
        self.version = hashlib.sha256(graph_text.encode() + checklist_text).hexdigest()[:12]
        # Compiling here surfaces a broken expression at load, not at the first referral.
        zen.ZenEngine().create_decision(graph_text)
        # Evaluating by key through an engine with a static loader is about five times
        # faster than ZenDecision.evaluate in zen-engine 2.1.3 (measured by bench/rules.py;
        # see docs/decisions/0002-rules-engine.md).
        self._engine = zen.ZenEngine({"loader": {"type": "static",
                                                 "content": {GRAPH_KEY: self.graph}}})

    def _result(self, facts: Facts) -> dict[str, Any]:
        return self._engine.evaluate(GRAPH_KEY, facts.context)["result"]

    def evaluate(self, facts: Facts) -> Decision:
        return self._decision_from(self._result(facts), facts)

    def evaluate_many(self, many: Iterable[Facts]) -> list[Decision]:
        """Decide many referrals in this thread (simulate() spreads them over processes)."""
        return [self._decision_from(self._result(f), f) for f in many]

    def outcome(self, facts: Facts) -> tuple[str, tuple[str, ...]]:
        """Only the level code and the sorted 'service:instance' routes, as evaluate() decides
        them, without building reasons: what a simulation compares."""
        result = self._result(facts)
        return str(result["level"]["level"]), tuple(sorted(
            f"{row['service']}:{self._instance(row['service'], facts)}"
            for row in self._route_rows(result)))

    @staticmethod
    def _route_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
        """The routes table's rows, the first row per service (collect may repeat one)."""
        seen: set[str] = set()
        rows = []
        for row in result.get("routes") or []:
            if row["service"] not in seen:
                seen.add(row["service"])
                rows.append(row)
        return rows

    def _decision_from(self, result: dict[str, Any], facts: Facts) -> Decision:
        sg_rows = result.get("safeguarding") or []
        level_row = result["level"]
        level = self.profile.levels[str(level_row["level"])]
        reasons = [self._reason(row, facts) for row in sg_rows]
        reasons.append(self._reason(level_row, facts))
        routes, review = [], []
        for row in self._route_rows(result):
            service = self.profile.services[row["service"]]
            instance = self._instance(row["service"], facts)
            if instance is None:
                review.append(f"No {service.name} covers this postcode: a person must choose "
                              "where to send it.")
                text = row["text"]
            else:
                text = f"{row['text']} ({service.instances[instance].name})"
            route_level = str(row.get("level") or level.code)
            routes.append(Route(service=row["service"], instance=instance, reason=text,
                                consent_needed=consent_needed(self.profile, row["service"],
                                                              route_level)))
            reasons.append(self._reason(row, facts))
        thresholds = tuple(dict.fromkeys(str(r["threshold"]) for r in sg_rows
                                         if r.get("threshold")))
        return Decision(
            level_code=level.code,
            level=level.number,
            level_name=level.name,
            safeguarding={"child": any(r["flag"] == "child" for r in sg_rows),
                          "adult": any(r["flag"] == "adult" for r in sg_rows)},
            urgent=bool(level_row["urgent"]) if "urgent" in level_row else level.urgent,
            routes=tuple(routes),
            reasons=tuple(reasons),
            ruleset_id=self.id,
            ruleset_version=self.version,
            needs_review=bool(review),
            review_reasons=tuple(review),
            thresholds=thresholds,
        )

    def _reason(self, row: dict[str, Any], facts: Facts) -> Reason:
        because = row.get("because") or ""
        if because.startswith("@"):
            indicators = facts.groups.get(because, ())
        else:
            indicators = tuple(i for i in because.split(",") if i and i in facts.true_ids)
        return Reason(rule=row["rule"], text=row["text"], indicators=tuple(indicators))

    def _instance(self, service_id: str, facts: Facts) -> str | None:
        """The concrete instance for this household, or None when the place gives none."""
        if facts.place is None:
            return None
        service = self.profile.services[service_id]
        if service.family_support and facts.open_family_support_instance:
            instance = facts.open_family_support_instance
        elif service.instance_from:
            instance = facts.place.column(service.instance_from)
        else:
            instance = next(iter(service.instances))
        return instance if instance in service.instances else None


def consent_needed(profile: Profile, service_id: str, level_code: str | None) -> bool:
    """Whether a route waits for the family's consent: it goes ahead without it only when
    its service is statutory and its level says consent is not required (a child protection
    hand-off does not wait; early help alongside it, or Child in Need work, does)."""
    service = profile.services.get(service_id)
    level = profile.level(level_code)
    return not (service is not None and service.statutory
                and level is not None and not level.consent_needed)


def load(profile: Profile) -> RuleSet:
    path = profile.path("decision_graph")
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except FileNotFoundError:
        raise RuleError([Problem(path.name, "-", "file not found")]) from None
    except json.JSONDecodeError as exc:
        raise RuleError([Problem(path.name, f"line {exc.lineno}", "not valid JSON")]) from None
    from rules.checks import static_problems

    problems = static_problems(profile, json.loads(text), path.name)
    if problems:
        raise RuleError(problems)
    return RuleSet(profile, text)


def decision_as_dict(d: Decision) -> dict[str, Any]:
    return {
        "level": d.level,
        "level_code": d.level_code,
        "level_name": d.level_name,
        "safeguarding": dict(d.safeguarding),
        "thresholds": list(d.thresholds),
        "urgent": d.urgent,
        "routes": [{"service": r.service, "instance": r.instance, "reason": r.reason,
                    "consent_needed": r.consent_needed} for r in d.routes],
        "reasons": [{"rule": r.rule, "text": r.text, "indicators": list(r.indicators)}
                    for r in d.reasons],
        "ruleset": {"id": d.ruleset_id, "version": d.ruleset_version},
        "needs_review": d.needs_review,
        "review_reasons": list(d.review_reasons),
    }


def decision_from_dict(data: dict[str, Any]) -> Decision:
    """A stored decision body; one stored before level codes reads its number as its code."""
    return Decision(
        level_code=str(data.get("level_code", data["level"])), level=data["level"],
        level_name=data["level_name"],
        safeguarding=dict(data["safeguarding"]), urgent=data["urgent"],
        routes=tuple(Route(**r) for r in data["routes"]),
        reasons=tuple(Reason(r["rule"], r["text"], tuple(r["indicators"]))
                      for r in data["reasons"]),
        ruleset_id=data["ruleset"]["id"], ruleset_version=data["ruleset"]["version"],
        needs_review=data.get("needs_review", False),
        review_reasons=tuple(data.get("review_reasons", ())),
        thresholds=tuple(data.get("thresholds", ())),
    )
