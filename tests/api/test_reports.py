"""Reports (contract 5.5) against a hand-counted world (tests/reports_world.py), on SQLite and
PostgreSQL: every report, every grouping, suppression, CSV, who may see them, bad parameters
named, and each look audited."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from tests.reports_world import NOW, SLF_TEAM, build
from triage.models import AuditEvent, Referral
from triage.services.reports.refresh import refresh

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
Q1 = {"from": "2026-01-01", "to": "2026-03-31"}


@pytest.fixture
def world(rt, make_user, auth):
    worker, _ = make_user("practitioner", team=SLF_TEAM, name="Wendy Worker")
    build(rt, worker_id=worker.id, health_question="child_emotional_health")
    refresh(rt, now=NOW)
    return {"worker": worker, "headers": auth("manager")}


def get(client, world, report: str, **params):
    response = client.get(f"/api/v1/reports/{report}", headers=world["headers"],
                          query_string={**Q1, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def rows(client, world, report: str, keys: tuple[str, ...], **params) -> list[dict]:
    body = get(client, world, report, **params)
    return [{k: row[k] for k in keys if k in row} for row in body["rows"]]


def by_member(client, world, report: str, by: str, measure: str, **params) -> dict:
    body = get(client, world, report, by=by, **params)
    return {row[by]: row[measure] for row in body["rows"]}


@both_databases
def test_referrals_received_by_every_grouping(client, world):
    keys = ("month", "quarter", "year", "received", "advice_only")
    assert rows(client, world, "referrals", keys) == [
        {"month": "2026-01", "received": 2, "advice_only": 0},
        {"month": "2026-02", "received": 1, "advice_only": 1},
        {"month": "2026-03", "received": 2, "advice_only": 0}]
    assert rows(client, world, "referrals", keys, by="quarter") == [
        {"quarter": "2026-Q1", "received": 5, "advice_only": 1}]
    assert rows(client, world, "referrals", keys, by="year") == [
        {"year": "2026", "received": 5, "advice_only": 1}]
    assert by_member(client, world, "referrals", "district", "received") == {
        "charnwood": 3, "melton": 2}
    assert by_member(client, world, "referrals", "channel", "received") == {
        "partner": 2, "staff": 2, "self": 1}
    assert by_member(client, world, "referrals", "organisation", "received") == {
        "not_recorded": 3, "Fire and Rescue Service": 1, "Police": 1}
    assert by_member(client, world, "referrals", "level", "received") == {
        "1": 1, "2": 1, "3": 1, "4": 1, "not_recorded": 1}
    # A referral routed to two services counts under each; advice and undecided under none.
    assert by_member(client, world, "referrals", "service", "received") == {
        "first_contact_plus": 1, "supporting_leicestershire_families": 1,
        "first_response": 1, "early_help_hub": 1, "not_recorded": 2}
    assert rows(client, world, "referrals", ("month", "channel", "received"), by="month",
                dimension="channel") == [
        {"month": "2026-01", "channel": "partner", "received": 1},
        {"month": "2026-01", "channel": "staff", "received": 1},
        {"month": "2026-02", "channel": "self", "received": 1},
        {"month": "2026-03", "channel": "partner", "received": 1},
        {"month": "2026-03", "channel": "staff", "received": 1}]
    body = get(client, world, "referrals", by="district")
    assert body["labels"]["district"] == {"charnwood": "Charnwood", "melton": "Melton"}
    assert body["total"] == {"received": 5, "advice_only": 1}
    assert (body["from"], body["to"], body["suppressed"]) == ("2026-01-01", "2026-03-31", False)


@both_databases
def test_front_door_decisions_on_time_and_median_hours(client, world):
    body = get(client, world, "decided_on_time")
    # R1 and R4 at once, R3 in two hours, R2 on the Monday after a Friday deadline (98 h).
    assert body["total"] == {"decided": 4, "decided_on_time": 3, "share_on_time": 0.75,
                             "median_hours_to_decide": 1}
    assert [(r["month"], r["decided"], r["share_on_time"], r["median_hours_to_decide"])
            for r in body["rows"]] == [("2026-01", 2, 0.5, 49), ("2026-02", 1, 1.0, 2),
                                       ("2026-03", 1, 1.0, 0)]
    assert by_member(client, world, "decided_on_time", "channel", "share_on_time") == {
        "partner": 1.0, "staff": 0.0, "self": 1.0}


@both_databases
def test_conversion_from_received_to_outcome(client, world):
    body = get(client, world, "conversion", by="quarter")
    assert body["rows"] == [{"quarter": "2026-Q1", "received": 5, "routed": 3, "accepted": 2,
                             "outcome": 2, "share_with_outcome": 0.4}]
    partner = get(client, world, "conversion", by="channel")["rows"][0]
    assert partner == {"channel": "partner", "received": 2, "routed": 2, "accepted": 1,
                       "outcome": 2, "share_with_outcome": 1.0}


@both_databases
def test_re_referrals_steps_and_declines(client, world):
    assert get(client, world, "re_referrals", by="year")["rows"] == [
        {"year": "2026", "received": 5, "re_referrals": 1, "share_re_referred": 0.2}]
    assert by_member(client, world, "re_referrals", "district", "share_re_referred") == {
        "charnwood": 0.0, "melton": 0.5}
    steps = get(client, world, "steps")
    assert [(r["month"], r["step_ups"], r["step_downs"]) for r in steps["rows"]] == [
        ("2026-01", 0, 0), ("2026-02", 0, 0), ("2026-03", 0, 1)]
    assert by_member(client, world, "steps", "service", "step_downs") == {"first_response": 1}
    declined = get(client, world, "declined", by="service")
    assert declined["rows"] == [{"service": "early_help_hub", "declined": 1,
                                 "reason_not_eligible": 1, "reason_outside_area": 0,
                                 "reason_needs_met_elsewhere": 0,
                                 "reason_insufficient_information": 0, "reason_no_consent": 0,
                                 "reason_wrong_service": 0}]
    assert by_member(client, world, "declined", "district", "declined") == {"charnwood": 1}


@both_databases
def test_pathway_timescales_met_by_the_month_due(client, world):
    body = get(client, world, "pathway_timeliness", by="quarter")
    row = body["rows"][0]
    assert (row["first_contact_due"], row["first_contact_on_time"],
            row["first_contact_share"]) == (2, 2, 1.0)
    assert (row["plan_due"], row["plan_on_time"], row["review_due"],
            row["hub_meeting_due"]) == (1, 1, 0, 0)
    assert by_member(client, world, "pathway_timeliness", "service", "first_contact_due") == {
        "first_contact_plus": 1, "supporting_leicestershire_families": 1}
    # To June: the second First Contact Plus case is overdue since 8 April (missed), and the
    # plan agreed on 10 February was reviewed on 1 March, within its three months (due May).
    months = {r["month"]: r for r in get(client, world, "pathway_timeliness",
                                         to="2026-06-30")["rows"]}
    assert (months["2026-04"]["first_contact_due"], months["2026-04"]["first_contact_on_time"]
            ) == (1, 0)
    assert (months["2026-05"]["review_due"], months["2026-05"]["review_on_time"]) == (1, 1)
    assert months["2026-06"]["review_due"] == 0  # the review of 1 March is not due yet


@both_databases
def test_outcomes_time_to_close_and_onward_connections(client, world):
    outcomes = get(client, world, "outcomes", by="quarter")["rows"][0]
    assert (outcomes["closed"], outcomes["outcome_needs_met"],
            outcomes["outcome_stepped_down"], outcomes["outcome_partly_met"]) == (2, 1, 1, 0)
    areas = get(client, world, "outcomes", by="headline_area")
    assert [(r["headline_area"], r["closed"], r["outcome_needs_met"]) for r in areas["rows"]
            ] == [("HE", 1, 1)]
    assert areas["labels"]["headline_area"]["HE"] == "Improved mental and physical health"
    closing = get(client, world, "time_to_close", by="year")["rows"][0]
    assert closing == {"year": "2026", "closed_up_to_1_month": 2, "closed_1_to_3_months": 0,
                       "closed_3_to_6_months": 0, "closed_over_6_months": 0}
    assert by_member(client, world, "onward_connections", "connected_to", "connections") == {
        "Age UK": 1, "Citizens Advice": 1}
    assert by_member(client, world, "onward_connections", "need", "connections") == {
        "loneliness": 1, "debt": 1}


@both_databases
def test_caseload_per_team_and_worker_against_capacity(client, world, rt, monkeypatch):
    monkeypatch.setitem(rt.profile.services["first_contact_plus"].capacity, "open_cases", 40)
    teams = get(client, world, "caseload", by="team")
    assert {r["team"]: (r["open_cases"], r["overdue_now"], r["capacity"])
            for r in teams["rows"]} == {SLF_TEAM: (1, 1, None),
                                        "first_contact_plus:countywide": (1, 0, 40)}
    assert teams["labels"]["team"][SLF_TEAM] == "SLF North West"
    assert teams["snapshot"] is True
    workers = get(client, world, "caseload", by="worker")
    assert {workers["labels"]["worker"][r["worker"]]: r["open_cases"] for r in workers["rows"]
            } == {"Wendy Worker": 1, "Unassigned": 1}


@both_databases
def test_who_is_referred_by_age_sex_and_ethnicity(client, world):
    assert by_member(client, world, "who_is_referred", "age_band", "people") == {
        "5-10": 2, "65+": 2, "11-15": 1}
    assert by_member(client, world, "who_is_referred", "sex", "people") == {
        "female": 2, "male": 2, "not_stated": 1}
    assert by_member(client, world, "who_is_referred", "ethnicity", "people") == {
        "white_british": 2, "not_recorded": 3}


@both_databases
def test_counts_below_the_threshold_are_hidden_when_shared(client, world):
    body = get(client, world, "referrals", by="channel", suppress="true")
    assert body["suppressed"] is True
    assert body["rows"][0] == {"channel": "partner", "received": None, "advice_only": 0}
    assert body["total"]["received"] == 5  # not below the threshold
    response = client.get("/api/v1/reports/referrals", headers=world["headers"],
                          query_string={**Q1, "by": "channel", "suppress": "true",
                                        "format": "csv"})
    assert response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[0] == ["Channel", "Referrals received", "Advice only"]
    assert lines[1] == ["Partner", "fewer than 5", "0"]
    assert lines[-1] == ["Total", "5", "fewer than 5"]
    assert "referrals-2026-01-01-2026-03-31-channel-shared.csv" in \
        response.headers["Content-Disposition"]


def test_csv_by_accept_header_and_formula_cells_neutralised(client, world, rt):
    with rt.db.unit_of_work() as s:
        r = s.exec(select(Referral).where(Referral.referrer_organisation == "Police")).one()
        r.referrer_organisation = "=HYPERLINK(\"http://x\")"
    refresh(rt, now=NOW)
    response = client.get("/api/v1/reports/referrals",
                          headers={**world["headers"], "Accept": "text/csv"},
                          query_string={**Q1, "by": "organisation"})
    text = response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


def test_list_of_reports_and_who_may_see_them(client, world, auth):
    listed = client.get("/api/v1/reports", headers=world["headers"]).get_json()["reports"]
    ids = [r["id"] for r in listed]
    assert {"referrals", "decided_on_time", "caseload", "who_is_referred"} <= set(ids)
    assert all(r["title"] and r["description"] for r in listed)
    assert client.get("/api/v1/reports", headers=auth("admin")).status_code == 200
    for role in ("front_door", "practitioner", "hub_coordinator", "partner"):
        assert client.get("/api/v1/reports/referrals",
                          headers=auth(role)).status_code == 403, role
    assert client.get("/api/v1/reports").status_code == 401
    assert client.get("/api/v1/reports/nothing", headers=world["headers"]).status_code == 404


@pytest.mark.parametrize(("params", "named"), [
    ({"by": "week"}, {"by"}),
    ({"by": "district", "dimension": "channel"}, {"dimension"}),
    ({"dimension": "headline_area"}, {"dimension"}),
    ({"from": "2026-02-30"}, {"from"}),
    ({"from": "2026-03-01", "to": "2026-01-01"}, {"to"}),
    ({"from": "2000-01-01", "to": "2026-01-01"}, {"to"}),
    ({"suppress": "maybe", "colour": "red", "by": "x y"}, {"suppress", "colour", "by"}),
    ({"format": "xml"}, {"format"}),
])
def test_every_bad_parameter_is_named(client, world, params, named):
    response = client.get("/api/v1/reports/referrals", headers=world["headers"],
                          query_string=params)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == named


def test_a_snapshot_report_is_grouped_by_a_dimension_only(client, world):
    response = client.get("/api/v1/reports/caseload?by=month", headers=world["headers"])
    assert response.status_code == 422
    assert "team" in response.get_json()["errors"]["by"][0]


def test_each_look_is_audited_without_personal_data(client, world, rt):
    get(client, world, "who_is_referred", by="ethnicity")
    with rt.db.reader() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "report.view")).one()
    assert (event.object_type, event.object_id) == ("report", "who_is_referred")
    assert event.detail == {"by": "ethnicity", "dimension": None,
                            "period": ["2026-01-01", "2026-03-31"], "format": "json",
                            "suppress": False}


def test_refresh_replaces_the_tallies_and_is_recorded(client, world, rt):
    first = get(client, world, "referrals", by="year")
    again = refresh(rt, now=NOW)
    assert get(client, world, "referrals", by="year")["rows"] == first["rows"]
    assert get(client, world, "referrals")["refreshed_at"].startswith(
        again.refreshed_at.isoformat()[:19])


@both_databases
def test_the_sweep_skips_a_recount_that_is_fresh_or_running_elsewhere(client, world, rt):
    """Every web process without a broker runs the sweep as it starts: only one recount an
    interval is done, and none while another process is recounting."""
    from datetime import timedelta

    from sqlalchemy import text

    from triage.models import ReportRefresh
    from triage.services.reports.refresh import FRESH_SECONDS, RECOUNT_LOCK, refresh_job

    def recounts() -> int:
        with rt.db.reader() as s:
            return len(s.exec(select(ReportRefresh)).all())

    before = recounts()
    soon = NOW + timedelta(seconds=FRESH_SECONDS - 60)
    assert refresh_job(rt, now=soon) == -1 and recounts() == before  # fresh: skipped
    later = NOW + timedelta(seconds=FRESH_SECONDS + 60)
    if not rt.db.is_sqlite:  # another process holds the recount's lock: skipped
        with rt.db.engine.connect() as other:
            other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": RECOUNT_LOCK})
            assert refresh_job(rt, now=later) == -1 and recounts() == before
            other.rollback()
    written = refresh_job(rt, now=later)
    assert written > 0 and recounts() == before + 1
    assert get(client, world, "referrals")["refreshed_at"].startswith(later.isoformat()[:16])
    assert refresh_job(rt, now=later + timedelta(seconds=1)) == -1  # and now fresh again
    # A recount dated in the future (a clock set wrong) is not taken as fresh.
    assert refresh_job(rt, now=NOW) > 0 and recounts() == before + 2


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_sweeps_lock_is_let_go_after_a_recount_and_after_one_that_fails(
        client, world, rt, monkeypatch):
    from datetime import timedelta

    from sqlalchemy import text

    from triage.services.reports import refresh as refresh_module

    def free() -> bool:
        with rt.db.engine.connect() as other:
            got = other.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                {"k": refresh_module.RECOUNT_LOCK}).scalar()
            other.rollback()
            return got

    later = NOW + timedelta(seconds=refresh_module.FRESH_SECONDS + 60)
    assert refresh_module.refresh_job(rt, now=later) > 0
    assert free()

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away mid-recount")

    monkeypatch.setattr(refresh_module, "refresh", broken)
    with pytest.raises(RuntimeError):
        refresh_module.refresh_job(rt, now=later + timedelta(days=1))
    assert free()
