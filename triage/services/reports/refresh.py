"""Recounting the report tallies from the records: the periodic sweep's job (and
`triage reports refresh`).

A recount reads every referral and case once, as a few ordered streams the database joins
(referrals with their family's place and current decision; cases with the moments their
history reached each state that matters; the events reports count one by one; the people
referred), adds each to the tallies of the months and dimension members it belongs to, and
replaces every tally in one transaction with the time of the recount. Reports then read a few
hundred tally rows, whatever the number of referrals. The tallies hold counts only: no
names, references or free text.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, null, or_, select, text

from triage.models import (
    Case,
    CaseEvent,
    Decision,
    Household,
    Person,
    Referral,
    ReferralPerson,
    ReportRefresh,
    ReportTally,
    User,
)
from triage.models.base import utcnow
from triage.policy import VIEW_REPORTS, require
from triage.runtime import Runtime
from triage.services import audit
from triage.services.reports.catalogue import (
    ALL,
    NONE,
    Catalogue,
    catalogue_for,
    month_of,
    top_unit_column,
)
from workflows.calendar import add_months_dt
from workflows.timescales import deadline

log = logging.getLogger(__name__)

STREAM_ROWS = 5_000
WRITE_ROWS = 5_000
# Whole hours to decide are counted up to this; slower decisions share the last bucket.
DECIDE_HOURS_CAP = 24 * 90

R = Referral.__table__.c
C = Case.__table__.c
E = CaseEvent.__table__.c
D = Decision.__table__.c
H = Household.__table__.c
P = Person.__table__.c
RP = ReferralPerson.__table__.c


@dataclass(frozen=True)
class RefreshResult:
    refreshed_at: datetime
    took_ms: int
    tallies: int


class Tally:
    """Counts keyed (fact, month, dimension, member, bucket); each add counts once under the
    `all` dimension and once under each member of each dimension given (a referral routed to
    two services counts once under each service).

    Adds are kept per combination of members first (one increment per record and fact) and
    spread over the dimensions once, at the end: a million referrals share a few thousand
    combinations."""

    def __init__(self) -> None:
        self.combos: Counter[tuple[str, date, tuple, int]] = Counter()

    def add(self, fact: str, month: date, dims: dict[str, Any], *, bucket: int = 0,
            n: int = 1) -> None:
        self.combos[(fact, month, tuple(dims.items()), bucket)] += n

    def counts(self) -> Counter[tuple[str, date, str, str, int]]:
        counts: Counter[tuple[str, date, str, str, int]] = Counter()
        for (fact, month, dims, bucket), n in self.combos.items():
            counts[(fact, month, ALL, ALL, bucket)] += n
            for dimension, value in dims:
                if isinstance(value, frozenset):
                    for member in value:
                        counts[(fact, month, dimension, member, bucket)] += n
                else:
                    counts[(fact, month, dimension, value, bucket)] += n
        return counts

    def rows(self) -> Iterator[dict[str, Any]]:
        for (fact, month, dimension, member, bucket), n in self.counts().items():
            yield {"fact": fact, "month": month, "dimension": dimension,
                   "member": str(member)[:200], "bucket": bucket, "n": n}


def _stream(conn, statement) -> Iterator[Any]:
    result = conn.execution_options(stream_results=True, yield_per=STREAM_ROWS).execute(
        statement)
    yield from result


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class Recount:
    """One recount: the catalogue's rules applied to every record, into a Tally."""

    def __init__(self, rt: Runtime, now: datetime):
        self.rt = rt
        self.now = now
        self.cat: Catalogue = catalogue_for(rt)
        self.calendar = rt.pathways.calendar
        self.data = rt.pathways.data
        self.tally = Tally()
        self.today = self.calendar.local_date(now)
        self.snapshot_month = month_of(self.today)
        self._due_days: dict[date, date] = {}
        self._deadlines: dict[tuple, date] = {}

    # -- referrals and their cases ------------------------------------------------------
    def _referrals(self):
        decision = (select(D.referral_id, D.level_code, D.decided_at)
                    .where(D.current.is_(True)).subquery())
        return (select(R.id, R.received_at, R.channel, R.referrer_organisation,
                       R.information_only, R.status, R.closure, R.closed_at,
                       R.re_referral_of_case_id, R.answers, top_unit_column().label("place"),
                       decision.c.level_code, decision.c.decided_at)
                .select_from(Referral.__table__)
                .outerjoin(Household.__table__, H.id == R.household_id)
                .outerjoin(decision, decision.c.referral_id == R.id)
                .order_by(R.id))

    def _state_moment(self, pairs: Iterable[tuple[str, Iterable[str]]]):
        """min(at) of the events entering one of a service's states, over (service, states)."""
        conditions = [and_(C.service == service, E.to_state.in_(sorted(states)))
                      for service, states in pairs if states]
        if not conditions:
            return null()
        return func.min(case((and_(E.from_state.is_not(None), or_(*conditions)), E.at),
                             else_=None))

    def _cases(self):
        accepted = [(service, [s.name for s in spec.states.values() if s.accepted])
                    for service, spec in self.data.pathways.items()]
        columns = [self._state_moment(accepted).label("accepted_at")]
        for kind in self.cat.settings.timeliness_kinds:
            starts, dones = [], []
            for service, spec in self.data.pathways.items():
                for ts in spec.timescales:
                    repeating = ts.anchor.pick == "latest" and not ts.anchor.opened
                    if ts.kind != kind or repeating:
                        continue
                    if not ts.anchor.opened:
                        starts.append((service, ts.anchor.entered))
                    dones.append((service, ts.done_entered))
            columns.append(self._state_moment(starts).label(f"start_{kind}"))
            columns.append(self._state_moment(dones).label(f"done_{kind}"))
        moments = (select(E.case_id, *columns).select_from(CaseEvent.__table__)
                   .join(Case.__table__, C.id == E.case_id).group_by(E.case_id).subquery())
        return (select(C.id, C.referral_id, C.service, C.instance, C.state, C.opened_at,
                       C.closed_at, C.outcome, C.worker_id, C.next_due_at,
                       top_unit_column().label("place"), *moments.c[1:])
                .select_from(Case.__table__)
                .outerjoin(Household.__table__, H.id == C.household_id)
                .outerjoin(moments, moments.c.case_id == C.id)
                .order_by(C.referral_id, C.id))

    def referrals_and_cases(self, conn_referrals, conn_cases) -> None:
        cases = _stream(conn_cases, self._cases())
        pending = next(cases, None)
        for r in _stream(conn_referrals, self._referrals()):
            mine = []
            while pending is not None and pending.referral_id <= r.id:
                if pending.referral_id == r.id:
                    mine.append(pending)
                pending = next(cases, None)
            self.referral(r, mine)

    def referral_dims(self, r, services: frozenset[str]) -> dict[str, Any]:
        return {"district": r.place or NONE, "channel": r.channel or NONE,
                "organisation": (r.referrer_organisation or "").strip() or NONE,
                "level": r.level_code or NONE, "service": services or frozenset({NONE})}

    def _decision_due(self, received_day: date) -> date:
        due = self._due_days.get(received_day)
        if due is None:
            due = self._due_days[received_day] = self.calendar.add_working_days(
                received_day, self.cat.front_door_days)
        return due

    def referral(self, r, cases: list[Any]) -> None:
        s = self.cat.settings
        received = _aware(r.received_at)
        received_day = self.calendar.local_date(received)
        month = month_of(received_day)
        services = frozenset(c.service for c in cases)
        dims = self.referral_dims(r, services)
        add = self.tally.add
        add("received", month, dims)
        advice = ((s.advice_information_only and r.information_only)
                  or (r.closure is not None and r.closure in s.advice_closures)
                  or (bool(services) and services <= set(s.advice_services)))
        if advice:
            add("advice_only", month, dims)
        if r.re_referral_of_case_id is not None:
            add("re_referral", month, dims)
        decided = self._decided_at(r)
        if decided is not None:
            add("decided", month, dims)
            if self.calendar.local_date(decided) <= self._decision_due(received_day):
                add("decided_on_time", month, dims)
            hours = max(0, int((decided - received).total_seconds() // 3600))
            add("decide_hours", month, dims, bucket=min(hours, DECIDE_HOURS_CAP))
        if cases:
            add("routed", month, dims)
        if any(c.accepted_at is not None for c in cases):
            add("accepted", month, dims)
        if any(c.closed_at is not None and c.outcome in s.outcomes for c in cases):
            add("outcome", month, dims)
        areas = self.cat.areas_of(r.answers)
        for c in cases:
            self.case(c, dims, areas)

    def _decided_at(self, r) -> datetime | None:
        """When the front door decided: closed without a service, or the current decision of
        a referral no longer waiting for one (received or needing review)."""
        if r.closure is not None and r.closed_at is not None:
            return _aware(r.closed_at)
        if r.status in self.cat.undecided_statuses or r.decided_at is None:
            return None
        return _aware(r.decided_at)

    def case(self, c, referral_dims: dict[str, Any], areas: frozenset[str]) -> None:
        s = self.cat.settings
        add = self.tally.add
        dims = {**referral_dims, "service": c.service, "district": c.place or NONE}
        closed = _aware(c.closed_at)
        opened = _aware(c.opened_at)
        if closed is None:
            team = f"{c.service}:{c.instance}"
            snap = {"team": team, "worker": str(c.worker_id) if c.worker_id else NONE,
                    "service": c.service, "district": c.place or NONE}
            add("open_cases", self.snapshot_month, snap)
            due = _aware(c.next_due_at)
            if due is not None and due <= self.now:
                add("overdue_now", self.snapshot_month, snap)
        else:
            closed_month = month_of(self.calendar.local_date(closed))
            if c.outcome in s.step_ups:
                add("step_up", closed_month, dims)
            if c.outcome in s.step_downs:
                add("step_down", closed_month, dims)
            if c.outcome in s.outcomes:
                add("closed", closed_month, {**dims, "headline_area": areas})
                add(f"outcome:{c.outcome}", closed_month, {**dims, "headline_area": areas})
                add(f"close_band:{self._band(opened, closed)}", closed_month, dims)
        for kind in s.timeliness_kinds:
            self._timescale(c, kind, dims, opened, closed)

    def _deadline(self, spec: Any, instance: str, start: date) -> date:
        """A timescale's due day from its start day (kept: many cases share a start day)."""
        key = (spec, instance, start)
        due = self._deadlines.get(key)
        if due is None:
            rule = self.data.meetings_by_instance.get(instance, self.data.meetings_default)
            due = self._deadlines[key] = deadline(spec, start, self.calendar, rule)
        return due

    def _band(self, opened: datetime, closed: datetime) -> str:
        bands = self.cat.settings.time_to_close
        for band in bands[:-1]:
            if closed <= add_months_dt(opened, band.limit):
                return band.id
        return bands[-1].id

    def _timescale(self, c, kind: str, dims: dict[str, Any], opened: datetime,
                   closed: datetime | None) -> None:
        spec = self.cat.timescale(c.service, kind)
        if spec is None or (spec.anchor.pick == "latest" and not spec.anchor.opened):
            return  # repeating timescales (reviews) are counted from their events
        start = opened if spec.anchor.opened else _aware(getattr(c, f"start_{kind}"))
        if start is None:
            return
        if spec.done_entered or spec.done_events:
            done = _aware(getattr(c, f"done_{kind}"))
        else:
            done = closed  # a timescale with nothing marking it done is met by closing
        due = self._deadline(spec, c.instance, self.calendar.local_date(start))
        if done is not None:
            on_time = self.calendar.local_date(done) <= due
        elif closed is None and self.today > due:
            on_time = False
        else:
            return  # not due yet, or closed before it was done: not counted
        month = month_of(due)
        self.tally.add(f"due:{kind}", month, dims)
        if on_time:
            self.tally.add(f"on_time:{kind}", month, dims)

    # -- events counted one by one ------------------------------------------------------
    def events(self, conn) -> None:
        s = self.cat.settings
        repeating = self.cat.repeating_timescales()
        anchor_events = {e for ts in repeating.values() for e in ts.anchor.events}
        anchor_states = {st for ts in repeating.values() for st in ts.anchor.entered}
        wanted = set(s.declined_events) | set(s.connection_events) | anchor_events
        if not wanted and not anchor_states:
            return
        decision = (select(D.referral_id, D.level_code).where(D.current.is_(True)).subquery())
        statement = (
            select(E.case_id, E.event, E.from_state, E.to_state, E.at, E.reason, E.payload,
                   C.service, C.instance, C.closed_at, R.channel, R.referrer_organisation,
                   decision.c.level_code, top_unit_column().label("place"))
            .select_from(CaseEvent.__table__)
            .join(Case.__table__, C.id == E.case_id)
            .join(Referral.__table__, R.id == C.referral_id)
            .outerjoin(Household.__table__, H.id == C.household_id)
            .outerjoin(decision, decision.c.referral_id == R.id)
            .where(or_(E.event.in_(sorted(wanted)), E.to_state.in_(sorted(anchor_states))))
            .order_by(E.case_id, E.at, E.id))
        anchors: list[datetime] = []
        current: Any = None
        current_dims: dict[str, Any] = {}
        for e in _stream(conn, statement):
            dims = {"district": e.place or NONE, "channel": e.channel or NONE,
                    "organisation": (e.referrer_organisation or "").strip() or NONE,
                    "level": e.level_code or NONE, "service": e.service}
            if current is not None and e.case_id != current.case_id:
                self._reviews(current, anchors, repeating, current_dims)
                anchors = []
            current, current_dims = e, dims
            month = month_of(self.calendar.local_date(_aware(e.at)))
            if e.event in s.declined_events:
                self.tally.add("declined", month, dims)
                self.tally.add(f"declined:{e.reason or NONE}", month, dims)
            if e.event in s.connection_events:
                for item in (e.payload or {}).get(s.connection_field) or []:
                    if isinstance(item, dict):
                        self.tally.add("connection", month, {
                            "connected_to": str(item.get("organisation") or NONE).strip(),
                            "need": str(item.get("need") or NONE).strip(),
                            "district": dims["district"]})
            ts = repeating.get(e.service)
            if ts is not None and e.from_state is not None and (
                    e.to_state in ts.anchor.entered or e.event in ts.anchor.events):
                anchors.append(_aware(e.at))
        if current is not None:
            self._reviews(current, anchors, repeating, current_dims)

    def _reviews(self, e, anchors: list[datetime], repeating, dims: dict[str, Any]) -> None:
        """A repeating timescale (plan reviews): each anchor is due again within the
        timescale; the next anchor meets it, or it is missed once overdue on an open case."""
        ts = repeating.get(e.service)
        if ts is None or not anchors:
            return
        for i, start in enumerate(anchors):
            due = self._deadline(ts, e.instance, self.calendar.local_date(start))
            if i + 1 < len(anchors):
                on_time = self.calendar.local_date(anchors[i + 1]) <= due
            elif e.closed_at is None and self.today > due:
                on_time = False
            else:
                continue
            self.tally.add(f"due:{ts.kind}", month_of(due), dims)
            if on_time:
                self.tally.add(f"on_time:{ts.kind}", month_of(due), dims)

    # -- who is referred ----------------------------------------------------------------
    def people(self, conn) -> None:
        statement = (
            select(R.received_at, R.channel, top_unit_column().label("place"),
                   P.date_of_birth, P.sex, P.ethnicity)
            .select_from(ReferralPerson.__table__)
            .join(Referral.__table__, R.id == RP.referral_id)
            .join(Person.__table__, P.id == RP.person_id)
            .outerjoin(Household.__table__, H.id == R.household_id)
            .where(RP.role == self.cat.subject_role))
        for row in _stream(conn, statement):
            day = self.calendar.local_date(_aware(row.received_at))
            self.tally.add("people_referred", month_of(day), {
                "age_band": self.cat.age_band(row.date_of_birth, day),
                "sex": row.sex or NONE, "ethnicity": row.ethnicity or NONE,
                "district": row.place or NONE, "channel": row.channel or NONE})


def refresh(rt: Runtime, *, now: datetime | None = None) -> RefreshResult:
    """Recount every tally from the records and replace them in one transaction."""
    now = now or utcnow()
    started = time.perf_counter()
    recount = Recount(rt, now)
    engine = rt.db.engine
    with engine.connect() as referrals, engine.connect() as cases:
        recount.referrals_and_cases(referrals, cases)
    with engine.connect() as conn:
        recount.events(conn)
        recount.people(conn)
    rows = list(recount.tally.rows())
    with rt.db.unit_of_work() as session:
        if not rt.db.is_sqlite:
            # Two recounts at once (the sweep and a manager's button) would both delete the
            # old rows and both insert: the second waits for the first here instead.
            session.execute(text("LOCK TABLE report_tally IN EXCLUSIVE MODE"))
        session.execute(delete(ReportTally.__table__))
        for i in range(0, len(rows), WRITE_ROWS):
            session.execute(insert(ReportTally.__table__), rows[i:i + WRITE_ROWS])
        took = int((time.perf_counter() - started) * 1000)
        session.execute(insert(ReportRefresh.__table__).values(
            refreshed_at=now, took_ms=took, tallies=len(rows)))
    if not rt.db.is_sqlite:
        # Fresh statistics, so reports plan their read on the index's every column.
        with engine.connect() as conn:
            conn.execute(text("ANALYZE report_tally"))
            conn.commit()
    log.info("reports.refreshed", extra={"took_ms": took, "tallies": len(rows)})
    return RefreshResult(refreshed_at=now, took_ms=took, tallies=len(rows))


def refresh_now(rt: Runtime, *, user: User) -> RefreshResult:
    """A manager's or admin's "count again now" (the sweep does the same on its own)."""
    require(user, VIEW_REPORTS, "count the reports again")
    result = refresh(rt)
    with rt.db.unit_of_work() as session:
        audit.record(session, actor=user, action="report.refresh", object_type="report",
                     object_id="*", took_ms=result.took_ms)
    return result


# The sweep runs hourly (Celery beat, or each web process's embedded timer): a recount that
# any process started less than this long ago is fresh enough, so the next one is skipped.
FRESH_SECONDS = 30 * 60
# The transaction-scoped advisory lock a sweep's recount holds on PostgreSQL while it runs.
RECOUNT_LOCK = 0x7265706F727473  # "reports"


def refresh_job(rt: Runtime, *, now: datetime | None = None) -> int:
    """The periodic sweep's entry: recount, and say how many tally rows were written (-1:
    skipped). Every web process without a broker runs the sweep itself, each as it starts:
    a recount reads every referral and case (a minute or more of a core at a million
    referrals), so it is skipped when another sweep is recounting now or any recount started
    less than FRESH_SECONDS ago. On PostgreSQL the sweep holds an advisory lock in an open
    transaction on a connection of its own (which a transaction-mode pooler keeps on one
    server connection; keep `idle_in_transaction_session_timeout` off or longer than a
    recount). A recount dated in the future (a clock set wrong, a restored database) is not
    taken as fresh."""
    now = now or utcnow()
    with rt.db.engine.connect() as claim:
        if not rt.db.is_sqlite and not claim.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RECOUNT_LOCK}).scalar():
            log.info("reports.refresh_skipped", extra={"why": "recounting elsewhere"})
            return -1
        with rt.db.reader() as session:  # read and let go, so nothing else is held
            last = _aware(session.execute(
                select(func.max(ReportRefresh.__table__.c.refreshed_at))).scalar())
        age = (now - last).total_seconds() if last is not None else None
        if age is not None and 0 <= age < FRESH_SECONDS:
            log.info("reports.refresh_skipped", extra={"why": "fresh", "age_s": int(age)})
            return -1
        tallies = refresh(rt, now=now).tallies
    # Closing the claim's connection ends its transaction, which releases the lock.
    return tallies


def last_refresh(rt: Runtime) -> ReportRefresh | None:
    with rt.db.reader() as session:
        return session.execute(select(ReportRefresh).order_by(
            ReportRefresh.refreshed_at.desc(), ReportRefresh.id.desc()).limit(1)).scalars().first()
