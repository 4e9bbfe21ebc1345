"""The audit viewer (GET /api/v1/audit): managers and admins see who viewed or changed which
record, when and from which page; each filter narrows it; pages are stable while new events
are written; the look is audited; a restricted person's events are hidden from anyone the
restriction does not name. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.api.cases_helpers import CHILD, MUM, open_case, team
from triage.models import AuditEvent
from triage.models.base import utcnow
from triage.services import audit

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def trail(client, make_user, referral_body):
    """Two families' hub referrals, read by the front door, the hub and a manager."""
    users = {name: make_user(role, **extra) for name, role, extra in (
        ("manager", "manager", {}), ("admin", "admin", {}), ("fd", "front_door", {}),
        ("hub", "hub_coordinator", {"team": team("early_help_hub")}),
        ("partner", "partner", {}), ("named", "front_door", {}))}
    h = {k: bearer(t) for k, (_, t) in users.items()}
    reed_ref, reed_case = open_case(client, h["partner"], referral_body, "early_help_hub")
    other = client.post("/api/v1/referrals", headers=h["partner"], json=referral_body(
        postcode="LE11 2AB", answers={"domestic_abuse": True},
        people=[{**MUM, "family_name": "Lowe"}, {**CHILD, "family_name": "Lowe"}])).json
    lowe_ref, lowe_case = other["reference"], other["cases"][0]["id"]
    assert client.get(f"/api/v1/referrals/{reed_ref}", headers=h["fd"]).status_code == 200
    assert client.get(f"/api/v1/cases/{reed_case}", headers=h["hub"]).status_code == 200
    assert client.get(f"/api/v1/cases/{lowe_case}", headers=h["hub"]).status_code == 200
    found = client.get("/api/v1/people", query_string={"q": "Tom Reed"}, headers=h["fd"]).json
    tom = found["results"][0]["person"]["id"]
    assert client.get(f"/api/v1/people/{tom}", headers=h["fd"]).status_code == 200
    return {"users": users, "h": h, "reed": (reed_ref, reed_case), "lowe": (lowe_ref, lowe_case),
            "tom": tom}


def events(client, headers, **query) -> list[dict]:
    response = client.get("/api/v1/audit", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["events"]


def ids_of(client, trail, **query) -> set[tuple[str, str, str]]:
    return {(e["action"], e["object_type"], e["object_id"])
            for e in events(client, trail["h"]["manager"], limit=200, **query)
            if e["action"] != "audit.view"}


@both_databases
def test_each_filter_narrows_the_trail_to_what_it_names(client, trail, rt):
    h, users = trail["h"], trail["users"]
    reed_ref, reed_case = trail["reed"]
    lowe_ref, lowe_case = trail["lowe"]
    everything = events(client, h["manager"], limit=200)
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)

    by_hub = events(client, h["manager"], user=users["hub"][0].id)
    assert {(e["action"], e["object_id"]) for e in by_hub} == {
        ("token.create", str(_token_id(rt, users["hub"][0].id))),
        ("case.view", str(reed_case)), ("case.view", str(lowe_case))}
    assert {e["user"]["name"] for e in by_hub} == {users["hub"][0].email}
    assert {e["user"]["role"] for e in by_hub} == {"hub_coordinator"}

    on_case = ids_of(client, trail, object_type="case", object_id=str(reed_case))
    assert on_case and {o for _, _, o in on_case} == {str(reed_case)}
    by_reference = events(client, h["manager"], object_type="referral", object_id=reed_ref)
    assert by_reference and {e["reference"] for e in by_reference} == {reed_ref}
    assert {e["action"] for e in by_reference} >= {"referral.create", "referral.view"}

    views = events(client, h["manager"], action="case.view")
    assert len(views) == 2 and {e["action"] for e in views} == {"case.view"}

    tom = ids_of(client, trail, person=trail["tom"])
    assert ("person.view", "person", str(trail["tom"])) in tom
    assert ("case.view", "case", str(reed_case)) in tom
    assert ("referral.view", "referral", str(_referral_id(client, h, reed_ref))) in tom
    assert not [t for t in tom if t[2] in (str(lowe_case), str(_referral_id(client, h, lowe_ref)))
                and t[1] in ("case", "referral")]

    today = utcnow().date()
    assert events(client, h["manager"], **{"from": str(today + timedelta(days=1))}) == []
    assert events(client, h["manager"], to=str(today - timedelta(days=1))) == []
    within = ids_of(client, trail, **{"from": str(today), "to": str(today)})
    assert within == ids_of(client, trail)


def _token_id(rt, user_id: int) -> int:
    from triage.models import ApiToken

    with rt.db.reader() as session:
        return session.exec(select(ApiToken.id).where(ApiToken.user_id == user_id)).one()


def _referral_id(client, h, reference: str) -> int:
    found = events(client, h["manager"], object_type="referral", object_id=reference)
    return int(found[0]["object_id"])


@both_databases
def test_pages_follow_on_without_gaps_or_repeats_while_new_events_are_written(
        client, trail, rt):
    h = trail["h"]
    with rt.db.unit_of_work() as session:
        for n in range(7):
            audit.record(session, actor=trail["users"]["fd"][0], action="case.view",
                         object_type="case", object_id=trail["reed"][1], n=n)
    expected = [e["id"] for e in events(client, h["manager"], action="case.view", limit=200)]
    assert len(expected) == 9
    seen, before = [], None
    while True:
        query = {"action": "case.view", "limit": 2, **({"before": before} if before else {})}
        page = client.get("/api/v1/audit", query_string=query, headers=h["manager"]).json
        seen += [e["id"] for e in page["events"]]
        # Someone reads the case between pages: newer than every page, it moves none of them.
        client.get(f"/api/v1/cases/{trail['reed'][1]}", headers=h["hub"])
        before = page["next_before"]
        if before is None:
            break
    assert seen == expected


@both_databases
def test_looking_is_audited_with_the_filters_and_the_page_it_came_from(client, trail, rt):
    h, users = trail["h"], trail["users"]
    events(client, h["manager"], user=users["hub"][0].id, action="case.view")
    events(client, h["admin"], person=trail["tom"])
    with rt.db.reader() as session:
        looks = session.exec(select(AuditEvent).where(AuditEvent.action == "audit.view")
                             .order_by(AuditEvent.id)).all()
        case_read = session.exec(select(AuditEvent).where(
            AuditEvent.action == "case.view").order_by(AuditEvent.id)).first()
    assert [(e.actor_id, e.object_type, e.route) for e in looks] == [
        (users["manager"][0].id, "audit", "/api/v1/audit"),
        (users["admin"][0].id, "person", "/api/v1/audit")]
    assert looks[0].detail["filters"] == {"user": users["hub"][0].id, "action": "case.view"}
    assert looks[1].object_id == str(trail["tom"])
    assert looks[1].detail["filters"] == {"person": trail["tom"]}
    assert case_read.route == "/api/v1/cases/<int:case_id>"
    # The viewer's own use shows in the viewer.
    mine = events(client, h["admin"], action="audit.view")
    assert mine[0]["route"] == "/api/v1/audit" and mine[0]["user"]["id"] == users["admin"][0].id


def test_an_event_outside_any_request_names_no_page(rt, trail):
    with rt.db.unit_of_work() as session:
        audit.record(session, actor=None, action="case.escalated", object_type="case",
                     object_id=trail["reed"][1])
    with rt.db.reader() as session:
        row = session.exec(select(AuditEvent).where(AuditEvent.action == "case.escalated")).one()
    assert row.route is None


@pytest.mark.parametrize("role", ["partner", "practitioner", "hub_coordinator", "front_door"])
def test_only_managers_and_admins_may_see_the_trail(client, auth, role):
    assert client.get("/api/v1/audit", headers=auth(role)).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401


@both_databases
def test_a_restricted_persons_events_are_hidden_from_everyone_it_does_not_name(
        client, trail, rt):
    h, users = trail["h"], trail["users"]
    reed_ref, reed_case = trail["reed"]
    restricted = client.post(f"/api/v1/people/{trail['tom']}/restriction", headers=h["manager"],
                             json={"users": [users["named"][0].id],
                                   "reason": "A member of staff's own family"})
    assert restricted.status_code == 201, restricted.json
    for who in ("manager", "admin"):
        shown = events(client, h[who], limit=200)
        assert not [e for e in shown if (e["object_type"], e["object_id"]) in {
            ("case", str(reed_case)), ("person", str(trail["tom"]))}], who
        assert not [e for e in shown if e["reference"] == reed_ref], who
        assert client.get("/api/v1/audit", query_string={"person": trail["tom"]},
                          headers=h[who]).status_code == 404
        assert events(client, h[who], object_type="case", object_id=str(reed_case)) == []
        # The other family's events are still there.
        assert events(client, h[who], object_type="case", object_id=str(trail["lowe"][1]))
    named = bearer(_token_for_named_manager(client, rt, users))
    assert events(client, named, object_type="case", object_id=str(reed_case))


def _token_for_named_manager(client, rt, users) -> str:
    """The named user is front door (who may not use the viewer): promote them to manager."""
    from triage.models import User
    from triage.services.accounts import users as accounts

    with rt.db.unit_of_work() as session:
        session.get(User, users["named"][0].id).role = "manager"
    return accounts.create_token(rt.db, email=users["named"][0].email)


def test_bad_filters_are_a_422_naming_each(client, trail):
    h = trail["h"]["manager"]
    cases = {
        "object_id=4": "object_type", "object_type=case": "object_id",
        "from=2026-05-02&to=2026-05-01": "to", "before=yesterday": "before",
        "person=0": "person", "user=x": "user", "action=Case+View": "action",
        "colour=red": "colour", "limit=1000": "limit", "user=999999": "user",
        "object_type=referral&object_id=EH-2026-99999": "object_id"}
    for query, field in cases.items():
        response = client.get(f"/api/v1/audit?{query}", headers=h)
        assert response.status_code == 422, query
        assert field in response.json["errors"], (query, response.json)


@both_databases
def test_the_csv_download_has_every_matching_event_with_formula_cells_neutralised(
        client, trail, rt):
    with rt.db.unit_of_work() as session:
        audit.record(session, actor=trail["users"]["fd"][0], action="case.view",
                     object_type="endpoint", object_id="=HYPERLINK(1)")
    response = client.get(f"/api/v1/audit?format=csv&user={trail['users']['fd'][0].id}",
                          headers=trail["h"]["manager"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["at", "user_id", "user", "role", "action", "record_type", "record_id",
                       "reference", "route"]
    assert rows[1][6] == "'=HYPERLINK(1)"
    assert {r[4] for r in rows[1:]} == {"token.create", "case.view", "referral.view",
                                        "person.view", "person.search"}
    assert len(rows) - 1 == len(events(client, trail["h"]["manager"], limit=200,
                                       user=trail["users"]["fd"][0].id))
    same = client.get("/api/v1/audit", headers={**trail["h"]["manager"], "Accept": "text/csv"})
    assert same.mimetype == "text/csv"
