"""Reading notifications: a team's notifications are shared, so marking one read (or all)
marks it for the reader only; unread ones come first; the unread count; and the managers'
overview of overdue and escalated cases by team. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.api.cases_helpers import open_case, team
from triage.models import Case
from triage.models.base import utcnow
from triage.services.notices import inbox

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
HUB = team("early_help_hub")


def listed(client, headers, **query) -> list[dict]:
    response = client.get("/api/v1/notifications", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["notifications"]


def unread(client, headers) -> int:
    return client.get("/api/v1/notifications/unread-count", headers=headers).json["unread"]


@pytest.fixture
def hub_team(client, auth, referral_body):
    """Two members of the Charnwood hub and three new cases for them."""
    partner = auth("partner")
    cases = [open_case(client, partner, referral_body, "early_help_hub") for _ in range(3)]
    return {"ann": auth("hub_coordinator", team=HUB), "bob": auth("practitioner", team=HUB),
            "cases": cases, "partner": partner}


@both_databases
def test_reading_a_team_notification_marks_it_for_the_reader_only(client, hub_team):
    ann, bob = hub_team["ann"], hub_team["bob"]
    shown = listed(client, ann)
    assert [n["kind"] for n in shown] == ["case.opened"] * 3
    assert unread(client, ann) == unread(client, bob) == 3
    newest = shown[0]["id"]
    marked = client.post(f"/api/v1/notifications/{newest}/read", headers=ann)
    assert marked.status_code == 200 and marked.json["id"] == newest
    again = client.post(f"/api/v1/notifications/{newest}/read", headers=ann)
    assert again.json["read_at"] == marked.json["read_at"]
    mine = listed(client, ann)
    # Unread first (newest first among them), then the read one.
    assert [n["id"] for n in mine] == [shown[1]["id"], shown[2]["id"], newest]
    assert [n["read_at"] is None for n in mine] == [True, True, False]
    assert [n["id"] for n in listed(client, ann, unread="true")] == [shown[1]["id"],
                                                                      shown[2]["id"]]
    assert unread(client, ann) == 2
    assert unread(client, bob) == 3
    assert all(n["read_at"] is None for n in listed(client, bob))


@both_databases
def test_mark_all_read_marks_every_one_of_the_callers_and_nobody_elses(client, hub_team):
    ann, bob, partner = hub_team["ann"], hub_team["bob"], hub_team["partner"]
    client.post(f"/api/v1/notifications/{listed(client, ann)[0]['id']}/read", headers=ann)
    response = client.post("/api/v1/notifications/read-all", headers=ann)
    assert response.status_code == 200 and response.json["marked"] == 2
    assert unread(client, ann) == 0
    assert client.post("/api/v1/notifications/read-all", headers=ann).json["marked"] == 0
    assert unread(client, bob) == 3
    assert unread(client, partner) == 3  # their own acknowledgements, untouched


def test_a_notification_that_is_not_yours_or_your_teams_is_a_404(client, hub_team, auth):
    theirs = listed(client, hub_team["ann"])[0]["id"]
    other_hub = auth("hub_coordinator", team="early_help_hub:melton-hub")
    for headers in (other_hub, hub_team["partner"]):
        assert client.post(f"/api/v1/notifications/{theirs}/read",
                           headers=headers).status_code == 404
    assert client.post("/api/v1/notifications/999999/read",
                       headers=hub_team["ann"]).status_code == 404
    assert client.post(f"/api/v1/notifications/{theirs}/read").status_code == 401
    assert unread(client, hub_team["ann"]) == 3


def test_the_unread_count_stops_counting_past_its_cap(client, hub_team, rt, monkeypatch):
    monkeypatch.setattr(inbox, "UNREAD_CAP", 1)
    assert unread(client, hub_team["ann"]) == 2  # "1+" in the menu


@both_databases
def test_the_overview_counts_overdue_and_escalated_cases_by_team(client, auth, rt,
                                                                 referral_body, make_user):
    partner = auth("partner")
    _, first = open_case(client, partner, referral_body, "early_help_hub")
    _, second = open_case(client, partner, referral_body, "early_help_hub")
    _, fcp = open_case(client, partner, referral_body, "first_contact_plus")
    _, later = open_case(client, partner, referral_body, "early_help_hub")
    past, now = utcnow() - timedelta(days=3), utcnow()
    told = {first: past + timedelta(hours=1), second: past - timedelta(days=1),
            fcp: past + timedelta(hours=2)}  # the second was escalated before this deadline
    with rt.db.unit_of_work() as session:
        for case_id, escalated_at in told.items():
            session.execute(update(Case).where(Case.id == case_id).values(
                next_due_at=past, overdue_since=past, escalated_at=escalated_at))
        session.execute(update(Case).where(Case.id == later)
                        .values(next_due_at=now + timedelta(days=3)))
    county = client.get("/api/v1/notifications/overview", headers=auth("manager")).json
    rows = {(t["service"], t["instance"]): (t["overdue"], t["escalated"]) for t in county["teams"]}
    assert rows == {("early_help_hub", "charnwood-hub"): (2, 1),
                    ("first_contact_plus", "countywide"): (1, 1)}
    assert (county["overdue"], county["escalated"]) == (3, 2)
    own = client.get("/api/v1/notifications/overview",
                     headers=auth("manager", team="first_contact_plus")).json
    assert [(t["service"], t["overdue"]) for t in own["teams"]] == [("first_contact_plus", 1)]
    assert client.get("/api/v1/notifications/overview",
                      headers=auth("admin")).json["overdue"] == 3
    for role in ("practitioner", "front_door", "partner"):
        assert client.get("/api/v1/notifications/overview",
                          headers=auth(role)).status_code == 403
