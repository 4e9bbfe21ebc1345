"""The audit trail and the notifications pages in a real browser with axe-core: a manager
filters the audit trail, pages back and opens a record; a hub coordinator reads one
notification and then all of them; the manager opens the overdue overview."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_accessible, sign_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def test_a_manager_filters_the_audit_trail_and_opens_a_case(page, live_server):
    sign_in(page, "hub.charnwood@demo.test")
    page.goto("/cases/?team=early_help_hub:charnwood-hub")
    page.locator("table a[href^='/cases/']").first.click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))  # the click only starts the navigation
    case_path = page.url.removeprefix(live_server["url"])
    page.context.clear_cookies()
    sign_in(page, "manager@demo.test")
    page.goto("/audit")
    expect(page.locator("h1")).to_have_text("Audit trail")
    expect(page.locator("table")).to_contain_text("Latest events")
    assert_accessible(page)  # the unfiltered trail
    page.select_option("#user", label="Harper Hub (Hub coordinator)")
    page.fill("#action", "case.view")
    page.click("button:has-text('Filter')")
    expect(page.locator("tbody tr").first).to_contain_text("Harper Hub")
    expect(page.locator("tbody")).to_contain_text("/cases/<int:case_id>")
    assert_accessible(page)  # filtered
    page.fill("#from", "2026-05-02")
    page.fill("#to", "2026-05-01")
    page.click("button:has-text('Filter')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("after the from date")
    assert_accessible(page)  # the filters with an error
    page.goto(f"/audit?object_type=case&object_id={case_path.rsplit('/', 1)[-1]}")
    page.locator(f"tbody a[href='{case_path}']").first.click()
    expect(page).to_have_url(f"{live_server['url']}{case_path}")


def _charnwood_referral(rt, family_name: str) -> None:
    from sqlmodel import select

    from triage.models import User
    from triage.services.referrals import intake

    with rt.db.reader() as session:
        staff = session.exec(select(User).where(User.email == "frontdoor@demo.test")).one()
    intake.submit_referral(rt, user=staff, body={
        "channel": "staff", "postcode": "LE11 2AB", "consent": "given",
        "people": [{"ref": "c1", "role": "subject", "given_name": "Ned",
                    "family_name": family_name, "date_of_birth": "2014-04-04"}],
        "answers": {"domestic_abuse": True}})


def test_reading_notifications_and_the_overdue_overview(page, live_server):
    for name in ("Ashby", "Brook"):  # two new cases: the hub is told of each
        _charnwood_referral(live_server["rt"], name)
    sign_in(page, "hub.charnwood@demo.test")
    page.goto("/notifications/")
    expect(page.locator("h1")).to_have_text("Notifications")
    unread = page.locator("button:has-text('Mark as read')")
    before = unread.count()
    assert before >= 2
    expect(page.locator(".govuk-service-navigation")).to_contain_text("unread")
    assert_accessible(page)  # unread notifications
    unread.first.click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Marked as read")
    assert page.locator("button:has-text('Mark as read')").count() == before - 1
    assert_accessible(page)  # after one is read
    page.click("button:has-text('Mark all as read')")
    expect(page.locator("body")).to_contain_text("You have no unread notifications")
    assert_accessible(page)  # all read
    page.context.clear_cookies()
    sign_in(page, "manager@demo.test")
    page.goto("/notifications/")
    page.click("text=Overdue and escalated cases by team")
    expect(page.locator("h1")).to_have_text("Overdue and escalated cases")
    assert_accessible(page)  # the overview
