"""Property: whatever the referrals and cases, the by-month rows of every report add up to the
report's figures for the whole period (and so do its quarters, years, and the members of a
dimension each record has one of), and the whole period counts every referral in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from triage.models import (
    AuditEvent,
    Case,
    CaseEvent,
    Decision,
    Household,
    Referral,
    ReportRefresh,
    ReportTally,
)
from triage.services.reports.catalogue import catalogue_for
from triage.services.reports.figures import figures
from triage.services.reports.refresh import refresh

START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 1, 10, 12, tzinfo=UTC)
PERIOD = {"from": "2025-01-01", "to": "2026-12-31"}
SINGLE_VALUED = ("district", "channel", "organisation", "level")

referral_specs = st.lists(st.fixed_dictionaries({
    "day": st.integers(0, 729),
    "hour": st.integers(0, 23),
    "channel": st.sampled_from(["staff", "self", "partner"]),
    "district": st.sampled_from(["charnwood", "melton", None]),
    "organisation": st.sampled_from([None, "Police", "School"]),
    "level": st.sampled_from(["1", "2", "3", "4"]),
    "decided_after_hours": st.one_of(st.none(), st.integers(0, 200)),
    "case_open_days": st.one_of(st.none(), st.integers(0, 400)),
    "re_referral": st.booleans(),
}), min_size=1, max_size=12)


def _write(rt, specs) -> None:
    with rt.db.unit_of_work() as s:
        for table in (CaseEvent, Case, Decision, Referral, Household, ReportTally,
                      ReportRefresh, AuditEvent):
            s.execute(delete(table))
        homes = {}
        for district in ("charnwood", "melton"):
            homes[district] = Household(postcode="LE11 1AA", sector="LE11 1", district=district,
                                        profile_id=rt.profile.id)
            s.add(homes[district])
        homes[None] = Household(postcode="ZZ1 1ZZ", sector="ZZ1 1", profile_id=rt.profile.id)
        s.add(homes[None])
        s.flush()
        for spec in specs:
            received = START + timedelta(days=spec["day"], hours=spec["hour"])
            decided = spec["decided_after_hours"]
            r = Referral(received_at=received, profile_id="leicestershire", checklist_id="eha",
                         checklist_version="1", channel=spec["channel"],
                         referrer_organisation=spec["organisation"], postcode="LE11 1AA",
                         household_id=homes[spec["district"]].id, consent="given",
                         status="received" if decided is None else "routed", answers={},
                         raw_body={}, re_referral_of_case_id=1 if spec["re_referral"] else None)
            s.add(r)
            s.flush()
            if decided is not None:
                s.add(Decision(referral_id=r.id, kind="engine", level=int(spec["level"]),
                               level_code=spec["level"], body={}, inputs={},
                               ruleset_id="leicestershire", ruleset_version="t",
                               decided_at=received + timedelta(hours=decided), current=True))
            days = spec["case_open_days"]
            if decided is not None and days is not None:
                closed = received + timedelta(days=days)
                c = Case(referral_id=r.id, household_id=r.household_id,
                         service="first_contact_plus", instance="countywide",
                         state="completed" if closed < NOW else "contacted", opened_at=received,
                         closed_at=closed if closed < NOW else None,
                         outcome="needs_met" if closed < NOW else None)
                s.add(c)
                s.flush()
                s.add(CaseEvent(case_id=c.id, from_state="requested", to_state="contacted",
                                event="contact", by_label="w", at=received + timedelta(days=1)))


@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=referral_specs)
def test_months_add_up_to_the_whole_period(rt, make_user, specs):
    manager, _ = make_user("manager")
    _write(rt, specs)
    refresh(rt, now=NOW)
    reports = [r for r in catalogue_for(rt).reports.values() if not r.snapshot]
    for report in reports:
        counts = [m.id for m in report.measures if m.kind == "count"]
        for by in ("month", "quarter", "year"):
            found = figures(rt, user=manager, report_id=report.id, args={**PERIOD, "by": by})
            for measure in counts:
                assert sum(row[measure] for row in found.rows) == found.total[measure], (
                    report.id, by, measure)
            if by == "month":
                assert len(found.rows) == 24
        if report.id in ("referrals", "decided_on_time", "conversion", "re_referrals"):
            for dimension in SINGLE_VALUED:
                found = figures(rt, user=manager, report_id=report.id,
                                args={**PERIOD, "by": dimension})
                for measure in counts:
                    assert sum(row[measure] for row in found.rows) == found.total[measure]
    whole = figures(rt, user=manager, report_id="referrals", args={**PERIOD, "by": "year"})
    assert whole.total["received"] == len(specs)
    decided = figures(rt, user=manager, report_id="decided_on_time", args=PERIOD)
    assert decided.total["decided"] == sum(s["decided_after_hours"] is not None for s in specs)
