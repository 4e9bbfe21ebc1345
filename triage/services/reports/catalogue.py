"""The reports there are: each a declared definition (id, title, description, measures, the
dimensions it may be grouped by), built from the council profile and its reports.yaml, and
the profile's rules the recount applies (advice only, bands, headline areas, timescales).

Nothing council-specific lives here: every name, code and band comes from the profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from config.reports import ReportSettings, check_report_codes, read_report_settings
from triage.models import Household, ReferralStatus
from triage.runtime import Runtime
from workflows.specs import TimescaleSpec

ALL = "all"  # the dimension (and its one member) of a report not grouped by anything
NONE = "not_recorded"  # a dimension member for records that do not say
PERIODS = ("month", "quarter", "year")
SUBJECT_ROLE = "subject"
REFERRAL_DIMENSIONS = ("district", "service", "channel", "organisation", "level")
DIMENSION_TITLES = {
    "district": "District", "service": "Service", "channel": "Channel",
    "organisation": "Referrer organisation", "level": "Level", "team": "Team",
    "worker": "Worker", "headline_area": "Headline area", "connected_to": "Connected to",
    "need": "Need", "age_band": "Age band", "sex": "Sex", "ethnicity": "Ethnicity",
}


def dimension_titles(profile: Any) -> dict[str, str]:
    """What pages and CSV headings call each dimension: `district` is the profile's top
    locality unit (a district, say, or a footprint)."""
    return {**DIMENSION_TITLES, "district": profile.localities.label(profile.localities.top)}


CHANNEL_NAMES = {"staff": "Staff", "self": "Self-referral", "partner": "Partner"}
SEX_NAMES = {"female": "Female", "male": "Male", "other": "Other",
             "not_stated": "Prefer not to say"}


def top_unit_column() -> Any:
    """The column holding a family's place in the profile's top locality unit (the household's
    district today): the one place reports read it, so a change of localities changes this."""
    return Household.__table__.c.district


def month_of(day: date) -> date:
    return date(day.year, day.month, 1)


@dataclass(frozen=True)
class Measure:
    """One column of a report. `count` sums a fact; `share` is fact / `of` (a fraction,
    0 to 1); `median` is the median bucket of a bucketed fact; `capacity` is the profile's
    number for the row's team or service."""

    id: str
    label: str
    kind: str = "count"
    fact: str = ""
    of: str | None = None


@dataclass(frozen=True)
class Report:
    id: str
    title: str
    description: str
    measures: tuple[Measure, ...]
    dimensions: tuple[str, ...]
    snapshot: bool = False  # counted as at the last recount, not over a period
    chart: str = ""  # the measure drawn (the first count when empty)

    @property
    def chart_measure(self) -> Measure:
        return next((m for m in self.measures if m.id == self.chart),
                    next(m for m in self.measures if m.kind == "count"))

    @property
    def facts(self) -> tuple[str, ...]:
        out: list[str] = []
        for m in self.measures:
            for f in (m.fact, m.of):
                if f and f not in out:
                    out.append(f)
        return tuple(out)


@dataclass
class Catalogue:
    """The profile's reports and the rules their figures are counted by."""

    rt: Runtime
    settings: ReportSettings
    problems: list[Any] = field(default_factory=list)

    @property
    def profile(self):
        return self.rt.profile

    @property
    def front_door_days(self) -> int:
        return self.profile.front_door.decision_within_working_days

    undecided_statuses = frozenset({ReferralStatus.received, ReferralStatus.needs_review})
    subject_role = SUBJECT_ROLE

    # -- the profile's rules ------------------------------------------------------------
    def timescale(self, service: str, kind: str) -> TimescaleSpec | None:
        return self._timescales.get((service, kind))

    @cached_property
    def _timescales(self) -> dict[tuple[str, str], TimescaleSpec]:
        return {(service, ts.kind): ts
                for service, spec in self.rt.pathways.data.pathways.items()
                for ts in spec.timescales}

    def repeating_timescales(self) -> dict[str, TimescaleSpec]:
        """service -> its reported timescale that restarts at each event (plan reviews)."""
        return {service: ts for (service, kind), ts in self._timescales.items()
                if kind in self.settings.timeliness_kinds
                and ts.anchor.pick == "latest" and not ts.anchor.opened}

    @cached_property
    def _area_of_question(self) -> dict[str, str]:
        areas = {a for s in self.settings.indicator_sets.values() for a in s.areas}
        return {q.id: q.area for q in self.profile.checklist.questions.values()
                if getattr(q, "area", None) in areas}

    def areas_of(self, answers: Mapping[str, Any] | None) -> frozenset[str]:
        """The indicator sets' headline areas a referral's true answers raise."""
        if not answers:
            return frozenset()
        lookup = self._area_of_question
        return frozenset(lookup[q] for q, v in answers.items() if v is True and q in lookup)

    def age_band(self, born: date | None, on: date) -> str:
        bands = self.settings.age_bands
        if born is None or not bands:
            return NONE
        age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        for band in bands[:-1]:
            if age < band.limit:
                return band.id
        return bands[-1].id

    # -- names --------------------------------------------------------------------------
    def member_name(self, dimension: str, member: str, workers: Mapping[str, str]) -> str:
        if member == NONE:
            return "Unassigned" if dimension == "worker" else "Not recorded"
        p = self.profile
        if dimension == "district":
            return p.top_name(member)
        if dimension == "service":
            service = p.services.get(member)
            return service.name if service else member
        if dimension == "team":
            return p.team_name(member)
        if dimension == "level":
            name = p.level_name(member)
            return f"{member}: {name}" if name else member
        if dimension == "channel":
            return CHANNEL_NAMES.get(member, member)
        if dimension == "headline_area":
            return p.checklist.headline_areas.get(member, member)
        if dimension == "ethnicity":
            return p.ethnicity.get(member, member)
        if dimension == "sex":
            return SEX_NAMES.get(member, member)
        if dimension == "age_band":
            return next((b.label for b in self.settings.age_bands if b.id == member), member)
        if dimension == "worker":
            return workers.get(member, f"User {member}")
        return member

    def capacity(self, dimension: str, member: str) -> int | None:
        """The profile's open-case capacity of a team (services.yaml `capacity: {open_cases:
        N}` per team), or of a service (N for each of its teams); None where none is given."""
        if dimension == "team":
            service = self.profile.services.get(member.partition(":")[0])
            n = service.capacity.get("open_cases") if service else None
            return n if isinstance(n, int) else None
        if dimension == "service":
            service = self.profile.services.get(member)
            n = service.capacity.get("open_cases") if service else None
            return n * max(1, len(service.instances)) if isinstance(n, int) else None
        return None

    # -- the reports ----------------------------------------------------------------------
    @cached_property
    def reports(self) -> dict[str, Report]:
        s, p = self.settings, self.profile
        outcomes = self.rt.pathways.data.outcomes
        dims = REFERRAL_DIMENSIONS
        out = [
            Report("referrals", "Referrals received",
                   "Referrals received in each period, and the contacts that were advice only "
                   "(marked information only, closed at the front door with advice, or routed "
                   "only to information and advice).",
                   (Measure("received", "Referrals received", fact="received"),
                    Measure("advice_only", "Advice only", fact="advice_only")), dims),
            Report("decided_on_time", "Front door decisions on time",
                   f"Referrals decided by the front door, the share decided within "
                   f"{self.front_door_days} working day(s) of being received (the profile's "
                   "timescale), and the median time to decide in whole hours; by the month "
                   "received.",
                   (Measure("decided", "Decided", fact="decided"),
                    Measure("decided_on_time", "Decided on time", fact="decided_on_time"),
                    Measure("share_on_time", "Share on time", "share", "decided_on_time",
                            "decided"),
                    Measure("median_hours_to_decide", "Median hours to decide", "median",
                            "decide_hours")), dims, chart="share_on_time"),
            Report("conversion", "From referral to outcome",
                   "Of the referrals received in each period: how many were routed to a "
                   "service, had a case accepted, and reached an outcome.",
                   (Measure("received", "Received", fact="received"),
                    Measure("routed", "Routed", fact="routed"),
                    Measure("accepted", "Case accepted", fact="accepted"),
                    Measure("outcome", "Outcome reached", fact="outcome"),
                    Measure("share_with_outcome", "Share reaching an outcome", "share",
                            "outcome", "received")), dims),
            Report("re_referrals", "Re-referrals within "
                   f"{p.front_door.re_referral_months} months",
                   "Referrals for a family with a case closed within the profile's window "
                   "before the referral was received.",
                   (Measure("received", "Received", fact="received"),
                    Measure("re_referrals", "Re-referrals", fact="re_referral"),
                    Measure("share_re_referred", "Share re-referred", "share", "re_referral",
                            "received")), dims, chart="re_referrals"),
            Report("steps", "Step-ups and step-downs",
                   "Cases closed by a step-up to statutory services or a step-down to early "
                   "help, by the month closed.",
                   (Measure("step_ups", "Step-ups", fact="step_up"),
                    Measure("step_downs", "Step-downs", fact="step_down")), dims),
            Report("declined", "Declined by a service",
                   "Cases a service declined and returned for re-triage, and why, by the "
                   "month declined.",
                   (Measure("declined", "Declined", fact="declined"),
                    *(Measure(f"reason_{code}", label, fact=f"declined:{code}")
                      for code, label in self._decline_reasons().items())), dims),
            Report("pathway_timeliness", "Pathway timescales met",
                   "For each timescale of the services' pathways: how many fell due in the "
                   "period (met, or overdue and not met) and the share met on time.",
                   tuple(m for kind, label in self._timeliness_labels().items() for m in (
                       Measure(f"{kind}_due", f"{label}: due", fact=f"due:{kind}"),
                       Measure(f"{kind}_on_time", f"{label}: on time", fact=f"on_time:{kind}"),
                       Measure(f"{kind}_share", f"{label}: share on time", "share",
                               f"on_time:{kind}", f"due:{kind}"))), dims),
            Report("outcomes", "Outcomes at closure",
                   "Cases closed with an outcome, by outcome, by the month closed; by headline "
                   "area, a case counts under each area its referral raised.",
                   (Measure("closed", "Closed with an outcome", fact="closed"),
                    *(Measure(f"outcome_{code}", outcomes.get(code, code),
                              fact=f"outcome:{code}") for code in s.outcomes)),
                   (*dims, "headline_area")),
            Report("time_to_close", "Time to close",
                   "Cases closed with an outcome, by how long they were open, by the month "
                   "closed.",
                   tuple(Measure(f"closed_{b.id}", b.label, fact=f"close_band:{b.id}")
                         for b in s.time_to_close), dims),
            Report("onward_connections", "Onward connections",
                   "Onward connections recorded (by a service that connects people onward), by the "
                   "organisation connected to and the need, by the month recorded.",
                   (Measure("connections", "Connections", fact="connection"),),
                   ("connected_to", "need", "district")),
            Report("caseload", "Caseload against capacity",
                   "Open cases and overdue cases now (as at the last count) per team, worker, "
                   "service or district, against the team's capacity where the profile gives "
                   "one.",
                   (Measure("open_cases", "Open cases", fact="open_cases"),
                    Measure("overdue_now", "Overdue now", fact="overdue_now"),
                    Measure("capacity", "Capacity", "capacity")),
                   ("team", "worker", "service", "district"), snapshot=True),
            Report("who_is_referred", "Who is referred",
                   "The people referred (the subject of each referral) by age band on the day "
                   "received, sex and ethnicity where recorded (equality monitoring).",
                   (Measure("people", "People referred", fact="people_referred"),),
                   ("age_band", "sex", "ethnicity", "district", "channel")),
        ]
        if not s.time_to_close:
            out = [r for r in out if r.id != "time_to_close"]
        if not s.timeliness_kinds:
            out = [r for r in out if r.id != "pathway_timeliness"]
        return {r.id: r for r in out}

    def _decline_reasons(self) -> dict[str, str]:
        reasons: dict[str, str] = {}
        for spec in self.rt.pathways.data.pathways.values():
            for t in spec.transitions:
                if t.event in self.settings.declined_events:
                    reasons.update(t.choices.get("reason") or {})
        return reasons

    def _timeliness_labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        for kind in self.settings.timeliness_kinds:
            found = [ts.label for (_, k), ts in self._timescales.items() if k == kind]
            labels[kind] = found[0] if len(set(found)) == 1 else kind.replace("_", " ").capitalize()
        return labels


def check_reports(profile, pathways_data) -> list[Any]:
    """reports.yaml's problems, and every code in it the profile does not have."""
    settings, problems = read_report_settings(profile.folder)
    return problems + check_report_codes(
        settings, closures=profile.front_door.closures, services=profile.services,
        outcomes=pathways_data.outcomes,
        events={t.event for spec in pathways_data.pathways.values() for t in spec.transitions},
        timescale_kinds={ts.kind for spec in pathways_data.pathways.values()
                         for ts in spec.timescales},
        headline_areas=profile.checklist.headline_areas)


def catalogue_for(rt: Runtime) -> Catalogue:
    """The profile's catalogue, built once per runtime."""
    found = rt.extras.get("report_catalogue")
    if found is None:
        settings, problems = read_report_settings(rt.profile.folder)
        found = rt.extras["report_catalogue"] = Catalogue(rt=rt, settings=settings,
                                                          problems=problems)
    return found
