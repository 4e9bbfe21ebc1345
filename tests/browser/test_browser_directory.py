"""The service directory in a real browser: axe-core finds no serious or critical violation on
its pages; a manager marks a team full and the front door's live decision warns about it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import delete

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser
FEED = Path(__file__).resolve().parents[1] / "fixtures" / "oruk-import" / "partner-3.0.json"


@pytest.fixture(scope="module")
def partners(live_server):
    from triage.services.directory import importer

    importer.load(live_server["rt"], FEED)


def test_the_directory_pages_are_accessible(page, live_server, partners):
    page.goto("/")
    page.click("main a:has-text('service directory')")
    expect(page.locator("h1")).to_have_text("Find a service")
    assert_accessible(page)  # browse
    page.fill("#search", "food")
    page.click("button:has-text('Search')")
    expect(page.locator("main h2").first).to_contain_text("2 services found")
    assert_accessible(page)  # search results, with a stale service's tag
    page.click("a:has-text('Money and debt advice')")
    expect(page.locator(".govuk-warning-text")).to_contain_text("not been checked for over 90")
    assert_accessible(page)  # an imported, stale service
    page.goto("/services?postcode=LE13 1AB")
    expect(page.locator("main")).to_contain_text("Melton Children and Family Wellbeing Centre")
    assert_accessible(page)  # near a postcode
    page.goto("/services?postcode=nowhere")
    expect(page.locator("#postcode-error")).to_be_visible()
    assert_accessible(page)  # a postcode error
    page.goto("/services")
    page.click("a:has-text('Early Help Hub')")
    expect(page.locator("main")).to_contain_text("Monday to Thursday, 08:30 to 17:00")
    assert_accessible(page)  # a council service: who, where, when, how to contact


def test_a_full_team_is_shown_beside_its_route_before_the_front_door_sends(browser,
                                                                         live_server):
    from triage.models import CapacityStatus

    rt = live_server["rt"]
    manager = browser.new_context(base_url=live_server["url"], bypass_csp=True)
    front = browser.new_context(base_url=live_server["url"], bypass_csp=True)
    try:
        page = manager.new_page()
        sign_in(page, "manager@demo.test")
        page.goto("/capacity")
        assert_accessible(page)
        page.click("a:has-text('Change status of Melton North coordinator')")
        page.click("button:has-text('Save status')")  # nothing chosen
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        assert_accessible(page)  # the form with its error
        page.check("#code-2")  # no-capacity
        page.fill("#notes", "Taking new people again in January")
        page.click("button:has-text('Save status')")
        expect(page.locator(".govuk-notification-banner")).to_contain_text("saved")

        desk = front.new_page()
        sign_in(desk, "frontdoor@demo.test")
        desk.click("text=Start a new referral")
        desk.check("#answer-memory_concern")
        desk.check("#answer-social_isolation")
        desk.fill("#people-0-given_name", "Edith")
        desk.fill("#people-0-family_name", "Capacity")
        desk.fill("#people-0-dob-day", "12")
        desk.fill("#people-0-dob-month", "4")
        desk.fill("#people-0-dob-year", "1940")
        desk.fill("#postcode", "LE13 0AB")
        desk.check("#consent")
        desk.click("button:has-text('Check the decision')")
        panel = desk.locator("#decision")
        expect(panel).to_contain_text("Local Area Coordination")
        expect(panel.locator(".govuk-tag.app-capacity-warning")).to_have_text(
            "No capacity: not taking new people just now")
        expect(panel.locator(".govuk-warning-text")).to_contain_text(
            "Melton North coordinator: no capacity")
        expect(panel.locator("button:has-text('Submit referral')")).to_be_visible()
        assert_accessible(desk)
    finally:
        manager.close()
        front.close()
        with rt.db.unit_of_work() as session:
            session.exec(delete(CapacityStatus))
