"""Reading pathways.yaml into checked pathway specs: states, the transition table, timescales."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from config.profile import Problem, Profile
from workflows.calendar import WEEKDAYS
from workflows.guards import GUARDS
from workflows.payload import FIELD_KINDS, FieldSpec
from workflows.specs import (
    Anchor,
    MeetingRule,
    MeetingSpec,
    PathwaysData,
    PathwaySpec,
    TimescaleSpec,
    TransitionSpec,
)
from workflows.states import STATE_NAME, StateSpec, TaskStatus

HELD_FROM = "@held_from"
EVENT_KEYS = {"label", "from", "to", "needs", "choices", "guards", "effects", "outcome",
              "transitions"}
TRANSITION_KEYS = EVENT_KEYS - {"transitions", "label"}
WITHIN_UNITS = ("working_days", "days", "months", "hub_meeting")
MEETING_KEYS = {"new", "agenda", "discussed", "listed", "add_to_agenda", "record_discussion",
                "decisions", "date_field"}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class _Reader:
    def __init__(self, file: str, data: Mapping[str, Any], profile: Profile):
        self.file = file
        self.data = data
        self.profile = profile
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(Problem(self.file, key, f"warning: {message}"))

    def unknown_keys(self, data: Mapping[str, Any], allowed: set[str], key: str) -> None:
        for extra in sorted(set(data) - allowed):
            self.error(f"{key}.{extra}" if key else extra, "unknown key")

    # -- shared vocabulary -------------------------------------------------------------
    def code_lists(self, outcomes: Mapping[str, str]) -> dict[str, dict[str, str]]:
        lists: dict[str, dict[str, str]] = {}
        for name, spec in (self.data.get("code_lists") or {}).items():
            key = f"code_lists.{name}"
            if isinstance(spec, Mapping):
                codes = {str(c): str(label) for c, label in spec.items()}
            elif isinstance(spec, list):
                codes = {str(c): outcomes.get(str(c), str(c)) for c in spec}
            else:
                self.error(key, "must be a list of codes or a mapping of code to label")
                continue
            if not codes:
                self.error(key, "has no codes")
            for code in codes:
                if not STATE_NAME.match(code):
                    self.error(f"{key}.{code}", "codes must be snake_case")
            lists[name] = codes
        return lists

    def fields(self) -> dict[str, FieldSpec]:
        out: dict[str, FieldSpec] = {}
        for name, spec in (self.data.get("fields") or {}).items():
            key = f"fields.{name}"
            if not isinstance(spec, Mapping) or spec.get("kind") not in FIELD_KINDS:
                self.error(f"{key}.kind", f"must be one of {', '.join(FIELD_KINDS)}")
                continue
            self.unknown_keys(spec, {"kind", "label", "min"}, key)
            out[name] = FieldSpec(name=name, kind=spec["kind"],
                                  label=str(spec.get("label", name)),
                                  min=int(spec.get("min", 0) or 0))
        return out

    def meeting_rule(self, spec: Any, key: str) -> MeetingRule | None:
        if not isinstance(spec, Mapping):
            self.error(key, "must be a mapping with weekday, nth and papers_working_days")
            return None
        self.unknown_keys(spec, {"weekday", "nth", "papers_working_days"}, key)
        weekday = str(spec.get("weekday", "")).lower()
        if weekday not in WEEKDAYS[:5]:
            self.error(f"{key}.weekday", f"must be one of {', '.join(WEEKDAYS[:5])}")
            return None
        nth = spec.get("nth")
        if nth not in (1, 2, 3, 4, -1):
            self.error(f"{key}.nth", "must be 1, 2, 3, 4 or -1 (the last)")
            return None
        papers = spec.get("papers_working_days", 0)
        if not isinstance(papers, int) or papers < 0:
            self.error(f"{key}.papers_working_days", "must be a whole number of days, 0 or more")
            return None
        return MeetingRule(WEEKDAYS.index(weekday), nth, papers)

    # -- one pathway -------------------------------------------------------------------
    def states(self, spec: Mapping[str, Any], key: str) -> dict[str, StateSpec]:
        states: dict[str, StateSpec] = {}
        raw = spec.get("states")
        if not isinstance(raw, Mapping) or not raw:
            self.error(f"{key}.states", "must be a mapping of state names")
            return states
        for name, s in raw.items():
            skey = f"{key}.states.{name}"
            if not STATE_NAME.match(str(name)):
                self.error(skey, "state names must be snake_case")
                continue
            s = s or {}
            self.unknown_keys(s, {"status", "closed"}, skey)
            try:
                status = TaskStatus(s.get("status"))
            except ValueError:
                self.error(f"{skey}.status",
                           f"must be a FHIR task status: {', '.join(t.value for t in TaskStatus)}")
                continue
            states[name] = StateSpec(name=name, status=status, closed=bool(s.get("closed")))
        return states

    def event_rows(self, pathway: str, name: str, spec: Mapping[str, Any],
                   common: Mapping[str, Any]) -> list[dict[str, Any]]:
        key = f"pathways.{pathway}.events.{name}"
        base = dict(common.get(name) or {})
        merged = {**base, **(spec or {})}
        self.unknown_keys(merged, EVENT_KEYS, key)
        rows = merged.pop("transitions", None)
        label = str(merged.pop("label", name.replace("_", " ").capitalize()))
        if rows is None:
            rows = [{}]
        elif not isinstance(rows, list) or not rows:
            self.error(f"{key}.transitions", "must be a list of {from, to}")
            return []
        out = []
        for i, row in enumerate(rows):
            row = dict(row or {})
            self.unknown_keys(row, TRANSITION_KEYS, f"{key}.transitions[{i}]")
            out.append({"label": label, **merged, **row})
        return out

    def pathway(self, service: str, spec: Any, common: Mapping[str, Any],
                lists: Mapping[str, Mapping[str, str]], fields: Mapping[str, FieldSpec],
                outcomes: Mapping[str, str], effects: Mapping[str, str]) -> PathwaySpec | None:
        key = f"pathways.{service}"
        if not isinstance(spec, Mapping):
            self.error(key, "must be a mapping with initial, states, events")
            return None
        self.unknown_keys(spec, {"initial", "states", "events", "timescales", "meeting"}, key)
        states = self.states(spec, key)
        initial = spec.get("initial")
        if initial not in states:
            self.error(f"{key}.initial", f"unknown state {initial!r}")
        elif states[initial].closed:
            self.error(f"{key}.initial", f"the initial state {initial!r} must not be closed")
        table: list[TransitionSpec] = []
        merged_events = {name: {**(common.get(name) or {}), **(ev or {})}
                         for name, ev in (spec.get("events") or {}).items()}
        for name, ev in (spec.get("events") or {}).items():
            ekey = f"{key}.events.{name}"
            if not STATE_NAME.match(str(name)):
                self.error(ekey, "event names must be snake_case")
                continue
            for row in self.event_rows(service, name, ev, common):
                table.extend(self.transition_rows(ekey, name, row, states, lists, fields,
                                                  outcomes, effects, merged_events))
        self.check_table(key, initial, states, table)
        timescales = self.timescales(key, spec.get("timescales") or [], states, table)
        meeting = None
        if spec.get("meeting") is not None:
            meeting = self.meeting(f"{key}.meeting", spec["meeting"], states, table, fields)
        for i, ts in enumerate(timescales):
            if ts.unit == "hub_meeting" and spec.get("meeting") is None:
                self.error(f"{key}.timescales[{i}].within.hub_meeting",
                           "this pathway has no meeting (declare its meeting: block)")
        if initial not in states:
            return None
        return PathwaySpec(service=service, initial=initial, states=states,
                           transitions=tuple(table), timescales=timescales, meeting=meeting)

    def meeting(self, key: str, raw: Any, states: Mapping[str, StateSpec],
                table: list[TransitionSpec], fields: Mapping[str, FieldSpec]
                ) -> MeetingSpec | None:
        """A pathway's `meeting:` block: its states and events, each checked against the
        pathway's own table (the agenda event leads from new to agenda, and so on)."""
        if not isinstance(raw, Mapping):
            self.error(key, "must be a mapping with new, agenda, discussed, add_to_agenda, "
                            "record_discussion, decisions and date_field")
            return None
        self.unknown_keys(raw, MEETING_KEYS, key)
        before = len(self.problems)
        missing = sorted(k for k in MEETING_KEYS - {"listed"} if not raw.get(k))
        for name in missing:
            self.error(f"{key}.{name}", "is required")
        if missing:
            return None
        listed = [str(s) for s in _as_list(raw.get("listed"))]
        for name in ("new", "agenda", "discussed"):
            state = str(raw[name])
            if state not in states:
                self.error(f"{key}.{name}", f"unknown state {state!r}")
            elif states[state].closed:
                self.error(f"{key}.{name}", f"{state!r} is a closed state")
        for state in listed:
            if state not in states:
                self.error(f"{key}.listed", f"unknown state {state!r}")
        decisions = [str(e) for e in _as_list(raw["decisions"])]
        moves = {(t.event, t.source): t for t in table}

        def leads(event_key: str, event: str, source: str, dest: str | None) -> None:
            row = moves.get((event, source))
            if not any(t.event == event for t in table):
                self.error(f"{key}.{event_key}", f"unknown event {event!r}")
            elif row is None:
                self.error(f"{key}.{event_key}", f"{event!r} does not lead from {source!r}")
            elif dest is not None and row.dest != dest:
                self.error(f"{key}.{event_key}", f"{event!r} leads from {source!r} to "
                                                 f"{row.dest!r}, not to {dest!r}")

        new, agenda, discussed = str(raw["new"]), str(raw["agenda"]), str(raw["discussed"])
        if len(self.problems) == before:
            leads("add_to_agenda", str(raw["add_to_agenda"]), new, agenda)
            leads("record_discussion", str(raw["record_discussion"]), agenda, discussed)
            for event in decisions:
                leads("decisions", event, discussed, None)
                row = moves.get((event, discussed))
                for name in row.needs if row is not None else ():
                    if fields[name].kind not in ("text", "code", "date"):
                        self.error(f"{key}.decisions", f"{event!r} needs {name!r}, a "
                                                       f"{fields[name].kind} field: the meeting "
                                                       "records text, code and date fields")
        date_field = str(raw["date_field"])
        if date_field not in fields or fields[date_field].kind != "date":
            self.error(f"{key}.date_field", f"{date_field!r} is not a date field (declare it "
                                            "under fields with kind: date)")
        else:
            discussion = moves.get((str(raw["record_discussion"]), agenda))
            if discussion is not None and date_field not in discussion.needs:
                self.error(f"{key}.date_field", f"{raw['record_discussion']!r} does not need "
                                                f"{date_field!r}")
        if len(self.problems) > before:
            return None
        return MeetingSpec(new=new, agenda=agenda, discussed=discussed,
                           add_to_agenda=str(raw["add_to_agenda"]),
                           record_discussion=str(raw["record_discussion"]),
                           decisions=tuple(decisions), date_field=date_field,
                           listed=tuple(listed))

    def transition_rows(self, key: str, event: str, row: Mapping[str, Any],
                        states: Mapping[str, StateSpec], lists: Mapping[str, Mapping[str, str]],
                        fields: Mapping[str, FieldSpec], outcomes: Mapping[str, str],
                        effects: Mapping[str, str], events: Mapping[str, Any]
                        ) -> list[TransitionSpec]:
        sources = [str(s) for s in _as_list(row.get("from"))]
        dest = row.get("to")
        ok = True
        if not sources:
            self.error(f"{key}.from", "is required: the states this event leaves")
            ok = False
        for s in sources:
            if s not in states:
                self.error(f"{key}.from", f"unknown state {s!r}")
                ok = False
        if not dest:
            self.error(f"{key}.to", "is required: the state this event leads to")
            ok = False
        elif dest != HELD_FROM and dest not in states:
            self.error(f"{key}.to", f"unknown state {dest!r}")
            ok = False
        needs = tuple(str(n) for n in _as_list(row.get("needs")))
        for n in needs:
            if n not in fields:
                self.error(f"{key}.needs", f"unknown field {n!r} (declare it under fields)")
                ok = False
        choices: dict[str, Mapping[str, str]] = {}
        for fname, list_name in (row.get("choices") or {}).items():
            if fname not in needs:
                self.error(f"{key}.choices.{fname}", "is not a field this event needs")
                ok = False
            elif list_name not in lists:
                self.error(f"{key}.choices.{fname}", f"unknown code list {list_name!r}")
                ok = False
            else:
                choices[fname] = lists[list_name]
        for n in needs:
            if n in fields and fields[n].kind == "code" and n not in choices:
                self.error(f"{key}.choices", f"field {n!r} is a code: name its code list")
                ok = False
        if "outcome" in choices:
            for code in choices["outcome"]:
                if code not in outcomes:
                    self.error(f"{key}.choices.outcome", f"{code!r} is not one of the outcomes")
                    ok = False
        guards = tuple(str(g) for g in _as_list(row.get("guards")))
        for g in guards:
            if g not in GUARDS:
                self.error(f"{key}.guards", f"unknown guard {g!r}; known: {', '.join(GUARDS)}")
                ok = False
        effs = tuple(str(e) for e in _as_list(row.get("effects")))
        for e in effs:
            if e not in effects:
                self.error(f"{key}.effects", f"unknown effect {e!r} (declare it under effects)")
                ok = False
        outcome = row.get("outcome")
        if outcome is not None and outcome not in outcomes:
            self.error(f"{key}.outcome", f"unknown outcome {outcome!r}")
            ok = False
        if outcome is not None and "outcome" in needs:
            self.error(f"{key}.outcome", "an event either fixes the outcome or needs one, not both")
            ok = False
        if not ok:
            return []
        if dest == HELD_FROM:
            held = self.hold_sources(key, sources, states, events)
            if "is_held_from_this_state" not in guards:
                guards = (*guards, "is_held_from_this_state")
            pairs = [(s, h) for s in sources for h in held]
        else:
            pairs = [(s, dest) for s in sources]
        for _source, target in pairs:
            if states[target].closed and outcome is None and "outcome" not in needs:
                self.error(f"{key}", f"closes the case in {target!r} without an outcome: "
                                     "fix one (outcome:) or need one (needs: [outcome])")
                return []
        return [TransitionSpec(event=event, label=str(row["label"]), source=s, dest=d,
                               needs=needs, choices=choices, guards=guards, effects=effs,
                               outcome=outcome) for s, d in pairs]

    def hold_sources(self, key: str, sources: list[str], states: Mapping[str, StateSpec],
                     events: Mapping[str, Any]) -> list[str]:
        """For `to: "@held_from"`: every state an event leads from into the hold states."""
        held: list[str] = []
        for ev in events.values():
            ev = ev or {}
            rows = ev.get("transitions") or [ev]
            for row in rows:
                if row.get("to") in sources:
                    held += [s for s in _as_list(row.get("from")) if s not in held]
        if not held:
            self.error(f"{key}.to", f"no event leads into {', '.join(sources)} to resume from")
        for s in sources:
            if not states[s].on_hold:
                self.error(f"{key}.from", f"{s!r} is not an on-hold state")
        return [h for h in held if h in states]

    def check_table(self, key: str, initial: Any, states: Mapping[str, StateSpec],
                    table: list[TransitionSpec]) -> None:
        seen: set[tuple[str, str]] = set()
        for t in table:
            if (t.event, t.source) in seen and "is_held_from_this_state" not in t.guards:
                self.error(f"{key}.events.{t.event}",
                           f"two transitions from {t.source!r}: the event would be ambiguous")
            seen.add((t.event, t.source))
        reachable: set[str] = set()
        frontier = [initial] if initial in states else []
        while frontier:
            s = frontier.pop()
            if s not in reachable:
                reachable.add(s)
                frontier += [t.dest for t in table if t.source == s]
        for name, spec in states.items():
            if reachable and name not in reachable:
                self.warn(f"{key}.states.{name}", "cannot be reached from the initial state")
            if not spec.closed and not any(t.source == name for t in table):
                self.error(f"{key}.states.{name}", "is open but no event leaves it")
            if spec.on_hold and not any(t.source == name and "is_held_from_this_state"
                                        in t.guards for t in table):
                self.error(f"{key}.states.{name}",
                           'is on hold but no event resumes from it (to: "@held_from")')

    def moments(self, key: str, raw: Mapping, states: Mapping[str, StateSpec],
                events: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The states entered and events taken that a clock starts or stops on, each checked
        against the pathway."""
        entered = tuple(str(s) for s in _as_list(raw.get("entered")))
        taken = tuple(str(e) for e in _as_list(raw.get("events")))
        for s in entered:
            if s not in states:
                self.error(f"{key}.entered", f"unknown state {s!r}")
        for e in taken:
            if e not in events:
                self.error(f"{key}.events", f"unknown event {e!r}")
        return entered, taken

    def anchor(self, key: str, raw: Any, states: Mapping[str, StateSpec],
               events: set[str]) -> Anchor | None:
        if raw == "opened":
            return Anchor(opened=True)
        if not isinstance(raw, Mapping):
            self.error(key, "must be 'opened' or {entered: [...], events: [...], pick: ...}")
            return None
        self.unknown_keys(raw, {"entered", "events", "pick"}, key)
        entered, evs = self.moments(key, raw, states, events)
        if not entered and not evs:
            self.error(key, "names no state or event to start the clock")
        pick = raw.get("pick", "latest")
        if pick not in ("first", "latest"):
            self.error(f"{key}.pick", "must be first or latest")
        return Anchor(entered=entered, events=evs, pick=pick)

    def timescales(self, key: str, raw: Any, states: Mapping[str, StateSpec],
                   table: list[TransitionSpec]) -> tuple[TimescaleSpec, ...]:
        out: list[TimescaleSpec] = []
        events = {t.event for t in table}
        if not isinstance(raw, list):
            self.error(f"{key}.timescales", "must be a list")
            return ()
        for i, t in enumerate(raw):
            tkey = f"{key}.timescales[{i}]"
            if not isinstance(t, Mapping):
                self.error(tkey, "must be a mapping")
                continue
            self.unknown_keys(t, {"kind", "label", "from", "within", "done_when", "escalate"},
                              tkey)
            anchor = self.anchor(f"{tkey}.from", t.get("from"), states, events)
            within = t.get("within") or {}
            if not isinstance(within, Mapping) or len(within) != 1 \
                    or next(iter(within)) not in WITHIN_UNITS:
                self.error(f"{tkey}.within", f"must be one of {', '.join(WITHIN_UNITS)}")
                continue
            unit, amount = next(iter(within.items()))
            if unit == "hub_meeting":
                if amount != "next":
                    self.error(f"{tkey}.within.hub_meeting", "must be next")
                amount = 0
            elif not isinstance(amount, int) or amount < 0:
                self.error(f"{tkey}.within.{unit}", "must be a whole number, 0 or more")
                continue
            done = t.get("done_when") or {}
            self.unknown_keys(done, {"entered", "events"}, f"{tkey}.done_when")
            done_entered, done_events = self.moments(f"{tkey}.done_when", done, states, events)
            if not t.get("kind"):
                self.error(f"{tkey}.kind", "is required")
            if anchor is None:
                continue
            out.append(TimescaleSpec(kind=str(t.get("kind")), label=str(t.get("label", "")),
                                     anchor=anchor, unit=unit, amount=amount,
                                     done_entered=done_entered, done_events=done_events,
                                     escalate=bool(t.get("escalate", False))))
        return tuple(out)


def read_pathways(profile: Profile) -> tuple[PathwaysData | None, list[Problem]]:
    """Read and check the profile's pathways file; return (data, problems)."""
    file = profile.files.get("pathways", "pathways.yaml")
    path: Path = profile.folder / file
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [Problem(file, "-", "file not found")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, "-", f"not valid YAML: {exc}")]
    if not isinstance(data, Mapping):
        return None, [Problem(file, "-", "must be a mapping")]
    # A section of the wrong shape (a list where a mapping goes) is named, not a traceback.
    shapes = [Problem(file, key, f"must be a mapping (got {type(data[key]).__name__})")
              for key in ("outcomes", "code_lists", "fields", "effects", "hub_meetings",
                          "common_events", "pathways", "lead_agency_services")
              if data.get(key) is not None and not isinstance(data[key], Mapping)]
    if shapes:
        return None, shapes
    r = _Reader(file, data, profile)
    r.unknown_keys(data, {"version", "reopen_within_months", "outcomes", "code_lists", "fields",
                          "effects", "hub_meetings", "common_events", "pathways",
                          "lead_agency_services"}, "")
    outcomes = {str(k): str(v) for k, v in (data.get("outcomes") or {}).items()}
    lists = r.code_lists(outcomes)
    fields = r.fields()
    effects = {str(k): str(v) for k, v in (data.get("effects") or {}).items()}
    months = data.get("reopen_within_months", 12)
    if not isinstance(months, int) or months < 0:
        r.error("reopen_within_months", "must be a whole number of months")
        months = 0
    common = data.get("common_events") or {}
    pathways: dict[str, PathwaySpec] = {}
    for service, spec in (data.get("pathways") or {}).items():
        if service not in profile.services:
            r.error(f"pathways.{service}", "not a service in services.yaml")
        built = r.pathway(service, spec, common, lists, fields, outcomes, effects)
        if built is not None:
            pathways[service] = built
    declared = [str(service) for service, spec in (data.get("pathways") or {}).items()
                if isinstance(spec, Mapping) and spec.get("meeting") is not None]
    if len(declared) > 1:
        r.error(f"pathways.{declared[1]}.meeting",
                f"only one pathway may have a meeting ({declared[0]} has one)")
    # When meetings are held: required when a pathway has a meeting, otherwise not read.
    meetings = data.get("hub_meetings")
    default, by_instance = None, {}
    if declared:
        if not isinstance(meetings, Mapping):
            r.error("hub_meetings", f"is required: when {declared[0]}'s meetings are held "
                                    "(default: {weekday, nth, papers_working_days})")
        else:
            r.unknown_keys(meetings, {"default", "instances"}, "hub_meetings")
            default = r.meeting_rule(meetings.get("default"), "hub_meetings.default")
            instances = profile.services[declared[0]].instances \
                if declared[0] in profile.services else {}
            for inst, rule in (meetings.get("instances") or {}).items():
                if inst not in instances:
                    r.error(f"hub_meetings.instances.{inst}",
                            f"is not a service instance of {declared[0]} in services.yaml")
                parsed = r.meeting_rule(rule, f"hub_meetings.instances.{inst}")
                if parsed:
                    by_instance[inst] = parsed
    elif meetings is not None:
        r.warn("hub_meetings", "no pathway has a meeting: these dates are not used")
    for service in profile.services:
        if service not in (data.get("pathways") or {}):
            r.error(f"pathways.{service}", f"service {service} has no pathway")
    lead_agency_services = {}
    for code, service in (data.get("lead_agency_services") or {}).items():
        if str(code) not in (lists.get("lead_agencies") or {}):
            r.error(f"lead_agency_services.{code}", "is not a code of code_lists.lead_agencies")
        elif str(service) not in profile.services:
            r.error(f"lead_agency_services.{code}", f"{service!r} is not a service in "
                                                    "services.yaml")
        else:
            lead_agency_services[str(code)] = str(service)
    if r.problems:
        return None, r.problems
    return PathwaysData(file=file, reopen_within_months=months, outcomes=outcomes, fields=fields,
                        effects=effects, meetings_default=default,
                        meetings_by_instance=by_instance, pathways=pathways,
                        warnings=tuple(r.warnings),
                        lead_agency_services=lead_agency_services), []
