"""Staff pages that stay fast with a million referrals, as a user sees them: a long list has a
Next link that carries on after the last row shown (and a way back to the first page),
counts beyond the cap read "or more", and the meeting pack comes a page of cases at a
time and says so."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.web.test_web_cases import family_referral
from triage.models import Case
from triage.models.base import utcnow
from triage.services import paging
from triage.services.hub import meetings
from triage.services.referrals import front_door, intake, partner_view

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _hub_cases(rt, demo_users, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        _, created = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                            body=family_referral())
        ids.append(next(c["id"] for c in created["cases"] if c["service"] == "early_help_hub"))
    return ids


def _next_link(html: str) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@both_databases
def test_the_overdue_list_pages_on_after_the_last_case_and_counts_or_more(
        web, rt, demo_users, monkeypatch):
    ids = _hub_cases(rt, demo_users, 3)
    now = utcnow()
    with rt.db.unit_of_work() as session:  # overdue by 3, 2 and 1 days
        for days, case_id in zip((3, 2, 1), ids, strict=True):
            session.execute(update(Case).where(Case.id == case_id).values(
                next_due_at=now - timedelta(days=days)))
    monkeypatch.setattr(front_door, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    web.sign_in("frontdoor@demo.test")
    web.get("/front-door/")
    assert '<span class="app-count">2 or more</span>' in web.last
    web.get("/front-door/worklists/overdue")
    assert "2 or more in this list" in web.last
    assert f"Case {ids[0]}<" in web.last and f"Case {ids[1]}<" in web.last
    assert f"Case {ids[2]}<" not in web.last and "Showing 1 to 2" in web.last
    web.get(_next_link(web.last))
    assert f"Case {ids[2]}<" in web.last and f"Case {ids[0]}<" not in web.last
    assert "Showing 3 to 3" in web.last and _next_link(web.last) is None
    assert 'rel="first"' in web.last
    # A next-page link mangled by hand: the list from its start, not an error.
    response = web.get("/front-door/worklists/overdue?after=nonsense.1")
    assert response.status_code == 302


@both_databases
def test_a_partner_s_list_pages_newest_first_without_repeats(web, rt, demo_users,
                                                              monkeypatch):
    fire = demo_users["fire@demo.test"]
    body = {**family_referral(), "channel": "partner",
            "referrer": {"organisation": fire.organisation, "name": fire.name}}
    refs = [intake.submit_referral(rt, user=fire, body=body)[1]["reference"]
            for _ in range(3)]
    monkeypatch.setattr(partner_view, "PAGE_SIZE", 2)
    web.sign_in("fire@demo.test")
    web.get("/partner/")
    assert "3 referrals sent by you" in web.last
    assert refs[2] in web.last and refs[1] in web.last and refs[0] not in web.last
    following = _next_link(web.last)
    intake.submit_referral(rt, user=fire, body=body)  # newer: on the first page, not the next
    web.get(following)
    assert refs[0] in web.last and refs[1] not in web.last and refs[2] not in web.last
    assert _next_link(web.last) is None


@both_databases
def test_the_meeting_pack_comes_a_page_of_cases_at_a_time_and_says_so(
        web, rt, demo_users, monkeypatch):
    ids = _hub_cases(rt, demo_users, 3)
    meetings.add_to_agenda(rt, user=demo_users["hub.charnwood@demo.test"], case_ids=ids)
    monkeypatch.setattr(meetings, "PACK_PAGE", 2)
    web.sign_in("hub.charnwood@demo.test")
    web.get("/hub/meeting/pack")
    assert "3 cases are on the agenda: this pack holds 2 at a time" in web.last
    assert web.last.count('class="app-pack-case"') == 2
    assert "print the next page of the pack too" in web.last
    shown = set(re.findall(r'id="case-(\d+)"', web.last))
    web.get(_next_link(web.last))
    assert web.last.count('class="app-pack-case"') == 1 and "the last page of the pack" in web.last
    assert re.search(r">3\. Case \d+", web.last), "numbered on from the first page"
    shown |= set(re.findall(r'id="case-(\d+)"', web.last))
    assert shown == {str(i) for i in ids}


def test_a_short_meeting_pack_is_one_page(web, rt, demo_users):
    ids = _hub_cases(rt, demo_users, 2)
    meetings.add_to_agenda(rt, user=demo_users["hub.charnwood@demo.test"], case_ids=ids)
    web.sign_in("hub.charnwood@demo.test")
    web.get("/hub/meeting/pack")
    assert web.last.count('class="app-pack-case"') == 2
    assert "this pack holds" not in web.last and _next_link(web.last) is None
