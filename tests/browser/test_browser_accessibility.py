"""axe-core on every page type the journeys do not pass through (no serious or critical
violations), and the main pages' screenshots for the README (TRIAGE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

PAGES = [
    (None, "/login"),
    (None, "/no-such-page"),
    (None, "/accessibility"),
    (None, "/self-referral/privacy"),
    ("frontdoor@demo.test", "/front-door/worklists/awaiting_consent"),
    ("frontdoor@demo.test", "/front-door/worklists/overdue"),
    ("frontdoor@demo.test", "/cases/?team=first_contact_plus"),
    ("frontdoor@demo.test", "/sign-out"),
    ("frontdoor@demo.test", "/account/password"),
    ("manager@demo.test", "/hub/?hub=charnwood-hub"),
    ("fire@demo.test", "/partner/referrals/new"),
    ("fire@demo.test", "/front-door/"),  # 403
]


@pytest.mark.parametrize(("email", "path"), PAGES)
def test_page_has_no_serious_accessibility_violations(page, email, path):
    if email:
        sign_in(page, email)
    page.goto(path)
    assert_accessible(page)


def test_sign_in_errors_are_accessible(page, live_server):
    page.goto("/login")
    page.click("button:has-text('Sign in')")
    # The click only starts the form's POST: wait for the answer page before counting.
    page.locator(".govuk-error-summary").first.wait_for()
    assert page.locator(".govuk-error-summary").count() == 1
    assert_accessible(page)


def test_a_case_event_form_is_accessible(page, live_server):
    sign_in(page, "lac@demo.test")
    page.goto("/cases/")
    page.locator("main a[href^='/cases/']").first.click()
    page.locator("main a.govuk-button").first.click()
    assert_accessible(page)
    page.locator("main form button.govuk-button").last.click()
    assert_accessible(page)  # the event form with errors, or the case page after it


@pytest.mark.skipif(not os.environ.get("TRIAGE_SCREENSHOTS"),
                    reason="set TRIAGE_SCREENSHOTS=1 to refresh docs/screenshots")
def test_take_screenshots_of_the_main_pages(page, live_server):
    from tests.browser.test_browser_journeys import _unique_name

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 900})

    def shot(name: str, full: bool = False) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full)

    page.goto("/")
    shot("start")
    page.goto("/self-referral/")
    shot("self-referral-start")
    page.click("button:has-text('Start now')")
    page.click("button:has-text('Continue')")
    shot("self-referral-errors")
    sign_in(page, "frontdoor@demo.test")
    shot("front-door-worklists")
    page.goto("/referrals/new")
    page.check("#answer-memory_concern")
    page.check("#answer-social_isolation")
    page.check("#answer-falls_risk")
    page.fill("#people-0-given_name", "Gwen")
    page.fill("#people-0-family_name", _unique_name())
    for field, value in (("day", "1"), ("month", "3"), ("year", "1932")):
        page.fill(f"#people-0-dob-{field}", value)
    page.fill("#postcode", "LE13 0AB")
    page.check("#consent")
    page.click("button:has-text('Check the decision')")
    page.locator("#decision").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    shot("front-door-decision")
    page.locator("#decision button").click()
    shot("front-door-confirmation")
    page.click("text=View the referral")
    page.locator("main a[href^='/cases/']").first.click()
    shot("case-page", full=True)
    page.click("text=Sign out")
    page.click("main button:has-text('Sign out')")
    sign_in(page, "hub.charnwood@demo.test")
    page.goto("/hub/meeting")
    boxes = page.locator("input[name='cases']")
    for i in range(min(2, boxes.count())):
        boxes.nth(i).check()
    if boxes.count():
        page.click("button:has-text('Add selected cases to the agenda')")
    shot("hub-meeting")
    page.goto("/hub/meeting/pack")
    shot("hub-meeting-pack")
    page.goto("/sign-out")
    page.click("main button:has-text('Sign out')")
    sign_in(page, "fire@demo.test")
    shot("partner-referrals")


def test_pages_run_under_the_content_security_policy_without_violations(browser, live_server):
    """Without bypass_csp: GOV.UK Frontend's scripts load, the one inline script is allowed
    by its hash, and the browser reports no violation."""
    context = browser.new_context(base_url=live_server["url"])
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda message: problems.append(message.text)
           if message.type == "error" else None)
    for path in ("/", "/self-referral/", "/login"):
        tab.goto(path)
        tab.wait_for_load_state("networkidle")
        classes = tab.evaluate("document.body.className")
        assert "js-enabled" in classes and "govuk-frontend-supported" in classes
    context.close()
    assert not problems, problems


def test_a_partner_batch_upload_with_problems_then_without_in_a_real_browser(
        page, live_server, tmp_path):
    """The file input, the problems table and the result page, in Chromium."""
    heading = "postcode,consent,subject_given_name,subject_family_name,subject_date_of_birth," \
              "school_attendance_concern,child_behaviour_concern\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(heading + "LE11 1AB,given,Cy,Lowe,30/02/2014,maybe,yes\n")
    good = tmp_path / "good.csv"
    good.write_text(heading + "LE11 1AB,given,Cy,Lowe,28/02/2014,yes,yes\n"
                              "LE13 0AB,refused,Di,Moss,2013-03-03,yes,no\n")
    sign_in(page, "police@demo.test")
    page.goto("/partner/batches/new")
    assert_accessible(page)
    page.set_input_files("input#file", str(bad))
    page.click("button:has-text('Check and send the batch')")
    page.locator("#problems").wait_for()
    assert page.locator("#problems tbody tr").count() == 2
    assert page.locator(".govuk-error-summary").count() == 1
    assert_accessible(page)
    page.set_input_files("input#file", str(good))
    page.click("button:has-text('Check and send the batch')")
    page.locator("#sent").wait_for()
    assert page.locator("#sent tbody tr").count() == 2
    assert_accessible(page)
