"""Staff lists at scale: a page starts after the last row of the one before (`next`/`after`),
so paging on neither repeats nor skips a case when cases are added meanwhile; counts stop at
a cap and say "or more"; the meeting pack is printed a page of cases at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.api.cases_helpers import open_case
from triage.models import Case
from triage.models.base import utcnow
from triage.services import paging

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _due(rt, dues: dict[int, object]) -> None:
    with rt.db.unit_of_work() as session:
        for case_id, at in dues.items():
            session.execute(update(Case).where(Case.id == case_id).values(next_due_at=at))


def _walk(client, headers, query: str, limit: int, between=None) -> tuple[list[int], list]:
    """Every page of a worklist by its `next` cursors: the ids shown, the cursors given;
    `between(page_number)` runs after each page (a colleague adding cases meanwhile)."""
    shown, cursors, after, n = [], [], "", 0
    while True:
        body = client.get(f"/api/v1/cases?limit={limit}{query}{after}", headers=headers).json
        shown += [r["id"] for r in body["cases"]]
        cursors.append(body["next"])
        assert body["next_offset"] is None or not after
        n += 1
        if between:
            between(n)
        if body["next"] is None:
            return shown, cursors
        after = f"&after={body['next']}"


@both_databases
def test_paging_after_the_last_case_shown_neither_repeats_nor_skips_when_cases_are_added(
        client, auth, referral_body, rt):
    partner = auth("partner")
    ids = [open_case(client, partner, referral_body, "first_contact_plus")[1] for _ in range(6)]
    now = utcnow()
    # Two share a due moment (the id breaks the tie); two have nothing due (listed last).
    _due(rt, dict(zip(ids, [now + timedelta(days=3), None, now + timedelta(days=1),
                            now - timedelta(days=2), None, now + timedelta(days=1)],
                      strict=True)))
    soonest_first = [ids[3], ids[2], ids[5], ids[0], ids[1], ids[4]]
    worker = auth("practitioner", team="first_contact_plus")

    for limit in (1, 2, 4, 6):
        shown, cursors = _walk(client, worker, "", limit)
        assert shown == soonest_first, limit
        assert cursors[-1] is None and all(cursors[:-1])

    added = []

    def colleague_adds(page: int) -> None:
        if page == 1:  # one due before the page just read, one after it: only the later shows
            new = [open_case(client, partner, referral_body, "first_contact_plus")[1]
                   for _ in range(2)]
            _due(rt, {new[0]: now - timedelta(days=9), new[1]: now + timedelta(days=2)})
            added.extend(new)

    shown, _ = _walk(client, worker, "", 2, between=colleague_adds)
    assert shown == [ids[3], ids[2], ids[5], added[1], ids[0], ids[1], ids[4]]
    assert len(shown) == len(set(shown)), "no case twice"
    # The offset way still works for existing clients, from the start.
    first = client.get("/api/v1/cases?limit=2&offset=2", headers=worker).json
    assert first["next_offset"] == 4 and first["next"]


@both_databases
def test_a_next_cursor_carries_on_through_the_undated_cases_and_filters(
        client, auth, referral_body, rt):
    partner = auth("partner")
    ids = [open_case(client, partner, referral_body, "first_contact_plus")[1] for _ in range(4)]
    now = utcnow()
    _due(rt, dict(zip(ids, [None, now - timedelta(days=1), None, now + timedelta(days=4)],
                      strict=True)))
    worker = auth("practitioner", team="first_contact_plus")
    assert _walk(client, worker, "&overdue=0", 1)[0] == [ids[3], ids[0], ids[2]]
    assert _walk(client, worker, "&overdue=1", 1)[0] == [ids[1]]
    shown, cursors = _walk(client, worker, "", 3)
    assert shown == [ids[1], ids[3], ids[0], ids[2]] and cursors[0].startswith("none.")


@both_databases
def test_bad_cursors_are_refused_naming_after(client, auth, referral_body):
    open_case(client, auth("partner"), referral_body, "first_contact_plus")
    worker = auth("practitioner", team="first_contact_plus")
    for bad in ("x.1", "1.0", "none.", "99999999999999999.5", "5"):
        response = client.get(f"/api/v1/cases?after={bad}", headers=worker)
        assert response.status_code == 422 and "after" in response.json["errors"], bad
    both = client.get("/api/v1/cases?after=none.1&offset=1", headers=worker)
    assert both.status_code == 422 and "after" in both.json["errors"]
    referrals = client.get("/api/v1/referrals?after=none.1", headers=auth("front_door"))
    assert referrals.status_code == 422 and "after" in referrals.json["errors"]


@both_databases
def test_the_referral_list_pages_newest_first_after_its_next_cursor(
        client, auth, referral_body, rt):
    front_door = auth("front_door")
    refs = [client.post("/api/v1/referrals", json=referral_body(), headers=front_door)
            .json["reference"] for _ in range(3)]
    shown, after = [], ""
    while True:
        body = client.get(f"/api/v1/referrals?limit=2{after}", headers=front_door).json
        shown += [r["reference"] for r in body["referrals"]]
        if body["next"] is None:
            break
        if not after:  # sent while the first page was being read: newer, so not shown later
            client.post("/api/v1/referrals", json=referral_body(), headers=front_door)
        after = f"&after={body['next']}"
    assert shown == refs[::-1]


@both_databases
def test_counts_stop_at_the_cap_and_say_or_more(client, auth, referral_body, rt, monkeypatch):
    partner = auth("partner")
    for _ in range(3):
        open_case(client, partner, referral_body, "first_contact_plus")
    worker = auth("practitioner", team="first_contact_plus")
    exact = client.get("/api/v1/cases", headers=worker).json
    assert (exact["total"], exact["total_capped"]) == (3, False)
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    capped = client.get("/api/v1/cases?limit=1", headers=worker).json
    assert (capped["total"], capped["total_capped"]) == (2, True)
    assert len(_walk(client, worker, "", 1)[0]) == 3, "the cap counts; it does not hide cases"
    assert str(paging.Count(1000, True)) == "1,000 or more" and str(paging.Count(7)) == "7"


def test_the_openapi_document_describes_the_cursor_and_the_capped_total(client):
    document = client.get("/api/v1/openapi.json").json
    listed = document["components"]["schemas"]["CaseList"]["properties"]
    assert listed["next"]["type"] == "string" and listed["total_capped"]["type"] == "boolean"
    parameters = {p["name"] for p in document["paths"]["/api/v1/cases"]["get"]["parameters"]}
    assert {"after", "offset", "limit"} <= parameters
