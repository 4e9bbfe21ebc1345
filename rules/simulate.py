"""Re-deciding many referrals with a candidate rule set: who moves between levels and routes."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from config.profile import load_profile
from rules.engine import RuleSet, load
from rules.facts import Facts

_worker_rules: tuple[RuleSet, RuleSet] | None = None


@dataclass
class SimulationReport:
    total: int = 0
    changed: int = 0
    level_moves: Counter = field(default_factory=Counter)  # (from, to) -> n
    route_changes: Counter = field(default_factory=Counter)  # "+service" / "-service" -> n
    changed_references: list[tuple[str, str, str]] = field(default_factory=list)


def _compare(current: RuleSet, candidate: RuleSet, facts: Facts) -> tuple[Any, ...] | None:
    before_level, before_routes = current.outcome(facts)
    after_level, after_routes = candidate.outcome(facts)
    if before_level == after_level and before_routes == after_routes:
        return None
    return (before_level, after_level, before_routes, after_routes)


def _init(current_folder: str, candidate_folder: str) -> None:
    # Each worker compiles its own engines: zen-engine objects are not carried across fork.
    global _worker_rules
    _worker_rules = (load(load_profile(current_folder)), load(load_profile(candidate_folder)))


def _work(chunk: list[tuple[str, Facts]]) -> list[tuple[str, Any]]:
    current, candidate = _worker_rules
    return [(ref, _compare(current, candidate, facts)) for ref, facts in chunk]


def _chunks(items: Iterable[tuple[str, Facts]], size: int):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def simulate(current: RuleSet, candidate: RuleSet, items: Iterable[tuple[str, Facts]],
             workers: int = 2, chunk_size: int = 2000) -> SimulationReport:
    """Batch re-evaluation over all items, spread over `workers` processes."""
    report = SimulationReport()
    if workers > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_init, initargs=(
                str(current.profile.folder), str(candidate.profile.folder))) as pool:
            results = (r for batch in pool.imap(_work, _chunks(items, chunk_size))
                       for r in batch)
            _tally(report, results)
    else:
        _tally(report, ((ref, _compare(current, candidate, f)) for ref, f in items))
    return report


def _tally(report: SimulationReport, results: Iterable[tuple[str, Any]]) -> None:
    for reference, change in results:
        report.total += 1
        if change is None:
            continue
        before_level, after_level, before_routes, after_routes = change
        report.changed += 1
        report.level_moves[(before_level, after_level)] += before_level != after_level
        for route in set(after_routes) - set(before_routes):
            report.route_changes[f"+{route}"] += 1
        for route in set(before_routes) - set(after_routes):
            report.route_changes[f"-{route}"] += 1
        report.changed_references.append(
            (reference, f"level {before_level} -> {after_level}",
             f"{', '.join(before_routes) or 'none'} -> {', '.join(after_routes) or 'none'}"))


def format_simulation(report: SimulationReport, *, list_limit: int = 200) -> str:
    lines = [f"re-decided {report.total} referrals: {report.changed} would change"]
    for (a, b), n in sorted(report.level_moves.items()):
        if n:
            lines.append(f"  level {a} -> {b}: {n}")
    for route, n in sorted(report.route_changes.items()):
        lines.append(f"  {'gain' if route[0] == '+' else 'lose'} {route[1:]}: {n}")
    for ref, level, routes in report.changed_references[:list_limit]:
        lines.append(f"  {ref}: {level}; {routes}")
    if len(report.changed_references) > list_limit:
        lines.append(f"  ... and {len(report.changed_references) - list_limit} more")
    return "\n".join(lines)
