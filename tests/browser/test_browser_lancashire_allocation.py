"""Lancashire's caseload allocation in a real browser: with Preston North's targeted early
help team full, the front door's live decision and the recorded referral both send a new
targeted case to the planning area of the Preston footprint with the most spare capacity,
saying why with the figures; the manager's capacity page shows Preston North full."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, func
from sqlmodel import select

from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_browser_lancashire import REFERENCE, _cases, _family
from triage.models import Case, Referral

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

SERVICE, HOME = "wpehs_targeted", "preston-north"


@pytest.fixture
def preston_north_full(lancashire_server):
    """Preston North's team at its capacity in open cases (rows of a real demo referral, taken
    away afterwards so the other journeys see the county as the demo left it)."""
    rt = lancashire_server["rt"]
    capacity = rt.profile.services[SERVICE].instances[HOME].capacity["open_cases"]
    with rt.db.unit_of_work() as session:
        referral_id = session.exec(select(Referral.id).limit(1)).one()
        already = session.exec(select(func.count()).select_from(Case).where(
            Case.service == SERVICE, Case.instance == HOME, Case.closed_at.is_(None))).one()
        added = [Case(referral_id=referral_id, service=SERVICE, instance=HOME,
                      state="requested") for _ in range(capacity - already)]
        session.add_all(added)
    ids = [c.id for c in added]
    yield capacity
    with rt.db.unit_of_work() as session:
        session.execute(delete(Case).where(Case.id.in_(ids)))


def test_a_targeted_case_goes_to_the_emptiest_planning_area_when_its_own_is_full(
        lancashire_page, lancashire_server, preston_north_full):
    page, capacity = lancashire_page, preston_north_full
    family = _family()
    sign_in(page, "frontdoor@demo.test")
    page.click("text=Start a new referral")
    page.check("#answer-parenting_capacity")
    page.fill("#people-0-given_name", "Ava")
    page.fill("#people-0-family_name", family)
    page.fill("#people-0-dob-day", "3")
    page.fill("#people-0-dob-month", "3")
    page.fill("#people-0-dob-year", "2017")
    page.fill("#postcode", "PR2 3AB")
    page.check("#consent")  # they agree
    page.click("button:has-text('Check the decision')")
    panel = page.locator("#decision")
    expect(panel).to_contain_text("Level 3")
    text = panel.inner_text()
    full = re.search(rf"Preston North is full \({capacity} of {capacity} open cases\); "
                     r"allocated to (Preston \w+) \((\d+) of (\d+)\)", text)
    assert full, text
    chosen = full.group(1)
    assert_accessible(page)

    panel.locator("button:has-text('Submit referral')").click()
    reference = page.locator("#reference").inner_text()
    assert REFERENCE.fullmatch(reference)
    page.click("text=View the referral")
    opened = _cases(page)
    assert len(opened) == 1 and chosen in opened[0], opened
    assert "Preston North" not in opened[0]

    page.context.clear_cookies()
    sign_in(page, "manager@demo.test")
    page.goto("/cases/capacity")
    row = page.locator("tr", has_text="Preston North")
    expect(row).to_contain_text(f"{capacity}")
    expect(row).to_contain_text("Full")
    assert_accessible(page)
