"""What a council's reports count by, from its profile (reports.yaml beside profile.yaml):
the suppression threshold, what counts as advice only, outcomes, step-ups and step-downs,
the timescales reported, time-to-close and age bands, and funders' indicator sets.

Read-only and checked at load: unknown keys and codes the profile does not have are named.
A profile without reports.yaml gets the defaults below (suppression at 5, no advice-only
rule, no indicator set)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from config.keys import unknown_keys
from config.profile import Problem

FILE = "reports.yaml"
TOP_KEYS = {"suppress_below", "advice_only", "outcomes", "step_ups", "step_downs",
            "declined_events", "onward_connections", "pathway_timeliness", "time_to_close",
            "age_bands", "indicator_sets"}


@dataclass(frozen=True)
class Band:
    id: str
    label: str
    limit: int | None  # months (time to close) or years (age): the band is below / within it


@dataclass(frozen=True)
class IndicatorSet:
    id: str
    title: str
    areas: tuple[str, ...]


@dataclass(frozen=True)
class ReportSettings:
    suppress_below: int = 5
    advice_information_only: bool = False
    advice_closures: tuple[str, ...] = ()
    advice_services: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    step_ups: tuple[str, ...] = ()
    step_downs: tuple[str, ...] = ()
    declined_events: tuple[str, ...] = ()
    connection_events: tuple[str, ...] = ()
    connection_field: str = "connections"
    timeliness_kinds: tuple[str, ...] = ()
    time_to_close: tuple[Band, ...] = ()
    age_bands: tuple[Band, ...] = ()
    indicator_sets: Mapping[str, IndicatorSet] = field(default_factory=dict)


def _codes(value: Any, key: str, error: Callable[[str, str], None]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        error(key, "must be a list of codes")
        return ()
    return tuple(value)


def _bands(value: Any, key: str, limit_key: str, error: Callable[[str, str], None]
           ) -> tuple[Band, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        error(key, f"must be a list of bands, each {{id, label, {limit_key}}}")
        return ()
    out, last = [], 0
    for i, band in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(band, dict) or not isinstance(band.get("id"), str):
            error(where, "must be a mapping with an id")
            continue
        unknown_keys(band, {"id", "label", limit_key}, where, error)
        limit = band.get(limit_key)
        final = i == len(value) - 1
        if final and limit is not None:
            error(f"{where}.{limit_key}", "the last band has no upper limit; leave it out")
        elif not final and (not isinstance(limit, int) or isinstance(limit, bool)
                            or limit <= last):
            error(f"{where}.{limit_key}", "must be a whole number above the band before's")
            continue
        last = limit if isinstance(limit, int) else last
        out.append(Band(id=band["id"], label=str(band.get("label") or band["id"]), limit=limit))
    return tuple(out)


def load_report_settings(data: Any, error: Callable[[str, str], None]) -> ReportSettings:
    """Settings from reports.yaml's parsed content; `error(key, message)` for each problem."""
    if data is None:
        return ReportSettings()
    if not isinstance(data, dict):
        error("reports", "must be a mapping")
        return ReportSettings()
    unknown_keys(data, TOP_KEYS, "", error)
    threshold = data.get("suppress_below", 5)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        error("suppress_below", "must be a whole number, 1 or more")
        threshold = 5
    advice = data.get("advice_only") or {}
    if not isinstance(advice, dict):
        error("advice_only", "must be a mapping")
        advice = {}
    unknown_keys(advice, {"information_only", "closures", "services"}, "advice_only", error)
    connections = data.get("onward_connections") or {}
    if not isinstance(connections, dict):
        error("onward_connections", "must be a mapping")
        connections = {}
    unknown_keys(connections, {"events", "field"}, "onward_connections", error)
    sets: dict[str, IndicatorSet] = {}
    raw_sets = data.get("indicator_sets") or {}
    if not isinstance(raw_sets, dict):
        error("indicator_sets", "must be a mapping of id to {title, areas}")
        raw_sets = {}
    for set_id, spec in raw_sets.items():
        if not isinstance(spec, dict):
            error(f"indicator_sets.{set_id}", "must be a mapping with title and areas")
            continue
        unknown_keys(spec, {"title", "areas"}, f"indicator_sets.{set_id}", error)
        sets[set_id] = IndicatorSet(id=set_id, title=str(spec.get("title") or set_id),
                                    areas=_codes(spec.get("areas"),
                                                 f"indicator_sets.{set_id}.areas", error))
    return ReportSettings(
        suppress_below=threshold,
        advice_information_only=bool(advice.get("information_only", False)),
        advice_closures=_codes(advice.get("closures"), "advice_only.closures", error),
        advice_services=_codes(advice.get("services"), "advice_only.services", error),
        outcomes=_codes(data.get("outcomes"), "outcomes", error),
        step_ups=_codes(data.get("step_ups"), "step_ups", error),
        step_downs=_codes(data.get("step_downs"), "step_downs", error),
        declined_events=_codes(data.get("declined_events"), "declined_events", error),
        connection_events=_codes(connections.get("events"), "onward_connections.events",
                                 error),
        connection_field=str(connections.get("field") or "connections"),
        timeliness_kinds=_codes(data.get("pathway_timeliness"), "pathway_timeliness", error),
        time_to_close=_bands(data.get("time_to_close"), "time_to_close", "months", error),
        age_bands=_bands(data.get("age_bands"), "age_bands", "below", error),
        indicator_sets=sets,
    )


def read_report_settings(folder: Path) -> tuple[ReportSettings, list[Problem]]:
    """The profile folder's reports.yaml (defaults when there is none) and its problems."""
    problems: list[Problem] = []
    path = folder / FILE
    if not path.exists():
        return ReportSettings(), problems
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return ReportSettings(), [Problem(FILE, "-", f"not valid YAML ({exc})")]
    settings = load_report_settings(
        data, lambda key, message: problems.append(Problem(FILE, key, message)))
    return settings, problems


def check_report_codes(settings: ReportSettings, *, closures: Iterable[str],
                       services: Iterable[str], outcomes: Iterable[str],
                       events: Iterable[str], timescale_kinds: Iterable[str],
                       headline_areas: Iterable[str]) -> list[Problem]:
    """Every code reports.yaml names must be one of the profile's own."""
    known = {"closures": set(closures), "services": set(services), "outcomes": set(outcomes),
             "events": set(events), "kinds": set(timescale_kinds),
             "areas": set(headline_areas)}
    wanted = [("advice_only.closures", settings.advice_closures, "closures",
               "a front_door closure"),
              ("advice_only.services", settings.advice_services, "services", "a service"),
              ("outcomes", settings.outcomes, "outcomes", "an outcome in pathways.yaml"),
              ("step_ups", settings.step_ups, "outcomes", "an outcome in pathways.yaml"),
              ("step_downs", settings.step_downs, "outcomes", "an outcome in pathways.yaml"),
              ("declined_events", settings.declined_events, "events",
               "an event of a pathway"),
              ("onward_connections.events", settings.connection_events, "events",
               "an event of a pathway"),
              ("pathway_timeliness", settings.timeliness_kinds, "kinds",
               "a timescale kind of a pathway")]
    wanted += [(f"indicator_sets.{s.id}.areas", s.areas, "areas",
                "a headline area of the checklist") for s in settings.indicator_sets.values()]
    return [Problem(FILE, key, f"{code!r} is not {what}")
            for key, codes, kind, what in wanted for code in codes if code not in known[kind]]
