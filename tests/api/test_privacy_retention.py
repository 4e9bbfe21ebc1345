"""The retention schedule: the periodic job reports what is due (ids in a review row, nothing
changed), an admin confirms, and exactly what was reported and is still due is anonymised
(names, contact, free text gone; levels, services, dates and outcomes kept for reports) or
erased (old audit rows). On SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select, update

from config.profile import PROFILES_DIR, ProfileError, load_profile
from triage.models import (
    AuditEvent,
    Case,
    CaseNote,
    Decision,
    Household,
    Person,
    Referral,
    RetentionReview,
)
from triage.models.base import utcnow
from triage.services.cases import case_notes
from triage.services.privacy import retention

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
REASON = "Reviewed against the retention schedule: due."


def family(name: str, dob: str) -> list[dict]:
    return [{"ref": "c1", "role": "subject", "given_name": "Kit", "family_name": name,
             "date_of_birth": dob, "contact": {"phone": "07700 900456"}},
            {"ref": "m1", "role": "household", "relationship": "mother", "given_name": "Ada",
             "family_name": name, "date_of_birth": "1985-03-03"}]


def refer(client, headers, referral_body, people, postcode, **changes) -> dict:
    changes.setdefault("answers", {"domestic_abuse": True})
    body = referral_body(people=people, postcode=postcode, concerns="Dad drinks at night",
                         **changes)
    response = client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def age(rt, reference: str, years: float, *, close_cases: bool = True) -> None:
    """Make a referral (and its cases, closed) look `years` old."""
    then = utcnow() - timedelta(days=365.25 * years)
    with rt.db.unit_of_work() as session:
        referral_id = session.exec(select(Referral.id).where(
            Referral.reference == reference)).one()
        session.exec(update(Referral).where(Referral.id == referral_id).values(
            received_at=then))
        session.exec(update(Referral).where(Referral.id == referral_id,
                                            Referral.closed_at.is_not(None))
                     .values(closed_at=then))
        if close_cases:
            session.exec(update(Case).where(Case.referral_id == referral_id).values(
                closed_at=then, state="closed", outcome="completed", opened_at=then))


def snapshot(rt) -> dict:
    """What reports count: referrals by level and channel, cases by service and outcome."""
    with rt.db.reader() as session:
        return {
            "levels": sorted(session.exec(select(Decision.level, func.count()).group_by(
                Decision.level)).all()),
            "channels": sorted(session.exec(select(Referral.channel, func.count()).group_by(
                Referral.channel)).all()),
            "cases": sorted(session.exec(select(Case.service, Case.outcome, func.count())
                                         .group_by(Case.service, Case.outcome)).all()),
            "people": session.exec(select(func.count(Person.id))).one(),
            "households": session.exec(select(func.count(Household.id))).one(),
        }


@pytest.fixture
def records(client, auth, make_user, referral_body, rt):
    """The Olds (a case closed seven years ago: due), the Recents (closed five years ago: not
    due), a referral closed at the front door three years ago (due), old audit rows."""
    admin, token = make_user("admin")
    headers = auth("front_door")
    olds = refer(client, headers, referral_body, family("Old", "2010-01-01"), "LE11 2AB")
    hub, _ = make_user("hub_coordinator", team=f"early_help_hub:{olds['cases'][0]['instance']}")
    case_notes.add_note(rt, user=hub, case_id=olds["cases"][0]["id"], text="Dad was shouting.")
    recents = refer(client, headers, referral_body, family("Recent", "2011-01-01"), "LE13 0AB")
    closed = refer(client, headers, referral_body,
                   [{"ref": "a1", "role": "subject", "given_name": "Lone", "family_name": "Caller",
                     "date_of_birth": "1970-07-07"}], "LE12 9ZZ", consent="not_asked",
                   answers={})
    shut = client.post(f"/api/v1/referrals/{closed['reference']}/close",
                       json={"closure": "advice_given", "note": "Told them about the food bank."},
                       headers=headers)
    assert shut.status_code == 200, shut.json
    age(rt, olds["reference"], 7)
    age(rt, recents["reference"], 5)
    age(rt, closed["reference"], 3)
    with rt.db.unit_of_work() as session:
        first = session.exec(select(func.min(AuditEvent.id))).one()
        session.exec(update(AuditEvent).where(AuditEvent.id < first + 3).values(
            at=utcnow() - timedelta(days=365 * 8)))
    return {"admin": {"Authorization": f"Bearer {token}"}, "front_door": headers,
            "olds": olds, "recents": recents, "closed": closed, "admin_user": admin}


def person(rt, family_name=None, given_name=None):
    with rt.db.reader() as session:
        return session.exec(select(Person).where(
            (Person.family_name == family_name) if family_name else
            (Person.given_name == given_name))).all()


@both_databases
def test_the_report_changes_nothing_and_confirming_anonymises_exactly_what_is_due(
        client, records, rt):
    before = snapshot(rt)
    response = client.post("/api/v1/retention/reviews", headers=records["admin"])
    assert response.status_code == 201, response.json
    review = response.json["review"]
    counts = {r["id"]: r["count"] for r in review["rules"]}
    assert counts == {"closed_early_help": 1, "referral_without_case": 1, "audit_log": 3}
    assert review["status"] == "reported"
    assert len(person(rt, "Old")) == 2  # nothing is changed by a report
    # Running the job again finds the same: the same review waits, no new row.
    assert retention.report_due(rt) == review["id"]
    with rt.db.reader() as session:
        assert session.exec(select(func.count(RetentionReview.id))).one() == 1
    listed = client.get("/api/v1/retention/reviews", headers=records["admin"]).json
    assert listed["reviews"][0]["id"] == review["id"]

    url = f"/api/v1/retention/reviews/{review['id']}/confirm"
    assert client.post(url, json={"reason": "x"}, headers=records["admin"]).status_code == 422
    done = client.post(url, json={"reason": REASON}, headers=records["admin"])
    assert done.status_code == 200, done.json
    assert done.json["result"] == {
        "closed_early_help": {"done": 1, "no_longer_due": 0},
        "referral_without_case": {"done": 1, "no_longer_due": 0},
        "audit_log": {"done": 3, "no_longer_due": 0}}
    # The Olds and the lone caller have no names, contact or free text left...
    assert person(rt, "Old") == [] and person(rt, given_name="Lone") == []
    with rt.db.reader() as session:
        old = session.exec(select(Referral).where(
            Referral.reference == records["olds"]["reference"])).one()
        household = session.get(Household, old.household_id)
        notes = session.exec(select(CaseNote)).all()
        anonymised = session.exec(select(Person).where(Person.anonymised_at.is_not(None))).all()
        recent = session.exec(select(Referral).where(
            Referral.reference == records["recents"]["reference"])).one()
        audits = session.exec(select(AuditEvent.action)).all()
    assert old.concerns is None and old.referrer_name is None and old.raw_body == {}
    assert old.answers == {"domestic_abuse": True} and old.postcode == "LE11 2"
    assert household.address_line1 is None and household.postcode == "LE11 2"
    assert notes == []
    assert sorted(p.date_of_birth.isoformat() for p in anonymised) == [
        "1970-01-01", "1985-01-01", "2010-01-01"]
    assert all(p.phone is None and p.given_name_key is None for p in anonymised)
    # ...the Recents are untouched, and every count a report makes is the same.
    assert recent.concerns == "Dad drinks at night" and len(person(rt, "Recent")) == 2
    assert snapshot(rt) == before
    assert {"retention.reported", "retention.anonymised", "retention.confirmed"} <= set(audits)
    # The same review cannot be confirmed twice, and nothing is due any more.
    again = client.post(url, json={"reason": REASON}, headers=records["admin"])
    assert again.status_code == 409
    after = client.post("/api/v1/retention/reviews", headers=records["admin"])
    assert after.status_code == 200 and after.json["review"] is None


@both_databases
def test_a_family_referred_again_after_the_report_is_no_longer_due(
        client, records, rt, referral_body):
    review = client.post("/api/v1/retention/reviews", headers=records["admin"]).json["review"]
    refer(client, records["front_door"], referral_body, family("Old", "2010-01-01"), "LE11 2AB")
    done = client.post(f"/api/v1/retention/reviews/{review['id']}/confirm",
                       json={"reason": REASON}, headers=records["admin"])
    assert done.status_code == 200
    assert done.json["result"]["closed_early_help"] == {"done": 0, "no_longer_due": 1}
    assert len(person(rt, "Old")) == 2
    with rt.db.reader() as session:
        old = session.exec(select(Referral).where(
            Referral.reference == records["olds"]["reference"])).one()
    assert old.concerns == "Dad drinks at night"


def test_a_newer_report_supersedes_the_waiting_one(client, records, rt, referral_body):
    first = client.post("/api/v1/retention/reviews", headers=records["admin"]).json["review"]
    closed = refer(client, records["front_door"], referral_body, family("Gone", "2009-09-09"),
                   "LE12 9ZZ", consent="not_asked", answers={})
    client.post(f"/api/v1/referrals/{closed['reference']}/close",
                json={"closure": "withdrawn", "note": "The family moved away."},
                headers=records["front_door"])
    age(rt, closed["reference"], 3)
    second = retention.report_due(rt)
    assert second != first["id"]
    stale = client.post(f"/api/v1/retention/reviews/{first['id']}/confirm",
                        json={"reason": REASON}, headers=records["admin"])
    assert stale.status_code == 409 and "superseded" in stale.json["message"]
    assert len(person(rt, "Old")) == 2


@pytest.mark.parametrize("role", ["front_door", "manager", "hub_coordinator", "partner"])
def test_only_admins_see_and_confirm_retention(client, auth, role):
    headers = auth(role)
    assert client.get("/api/v1/retention/reviews", headers=headers).status_code == 403
    assert client.post("/api/v1/retention/reviews", headers=headers).status_code == 403
    assert client.post("/api/v1/retention/reviews/1/confirm", json={"reason": REASON},
                       headers=headers).status_code == 403


def test_the_job_runs_in_the_embedded_timers_and_in_celery_beat(app, rt):
    import triage.tasks as tasks

    jobs = [getattr(job, "job", job) for job in rt.relay.periodic]
    assert retention.report_due in jobs
    beat = app.extensions["celery"].conf.beat_schedule
    assert beat["retention-report"]["task"] == "triage.retention.report"
    assert "triage.retention.report" in app.extensions["celery"].tasks
    with app.app_context():
        assert tasks.retention_report() is None  # an empty database: nothing due


def test_a_retention_schedule_with_an_unknown_key_or_bad_rule_is_refused(tmp_path):
    folder = tmp_path / "council"
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    data = yaml.safe_load((folder / "retention.yaml").read_text())
    data["rules"][0]["keep_for"] = 6
    data["rules"][1]["action"] = "erase"
    data["rules"][2]["keep_years"] = True
    data["every"] = "day"
    (folder / "retention.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ProfileError) as raised:
        load_profile(folder)
    problems = {(p.file, p.key) for p in raised.value.problems}
    assert {("retention.yaml", "every"), ("retention.yaml", "rules[0].keep_for"),
            ("retention.yaml", "rules[1].action"),
            ("retention.yaml", "rules[2].keep_years")} <= problems


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=5))
def test_anonymising_is_idempotent_and_keeps_every_count(client, auth, referral_body, rt,
                                                         picks):
    # Hypothesis reuses the test's database: the families are referred on the first example.
    with rt.db.reader() as session:
        households = list(session.exec(select(Household.id).order_by(Household.id)))
    if not households:
        headers = auth("front_door")
        for i, postcode in enumerate(("LE11 2AB", "LE13 0AB", "LE13 1AB")):
            refer(client, headers, referral_body, family(f"Fam{i}", "2012-02-02"), postcode)
        with rt.db.reader() as session:
            households = list(session.exec(select(Household.id).order_by(Household.id)))
    before = snapshot(rt)
    now = utcnow()
    for pick in picks:
        with rt.db.unit_of_work() as session:
            retention.anonymise_family(session, households[pick], now)
    once = snapshot(rt)
    with rt.db.reader() as session:
        rows = [p.model_dump() for p in session.exec(select(Person).order_by(Person.id))]
    for pick in picks:
        with rt.db.unit_of_work() as session:
            retention.anonymise_family(session, households[pick], now)
    with rt.db.reader() as session:
        again = [p.model_dump() for p in session.exec(select(Person).order_by(Person.id))]
    assert once == before and snapshot(rt) == before
    assert again == rows
