"""The second council in a real browser: Lancashire's front door records a Child in Need
referral for a family with an adult at risk, without consent. The Adult Social Care case
opens at once; Children's Social Care and targeted early help wait until consent is
recorded on the referral page. axe-core on each page type."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.browser.conftest import assert_accessible, sign_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"WPEHS-\d{4}-\d{6}")


def _family() -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "".join(letters[int(c, 16) % 26] for c in uuid.uuid4().hex[:8]).capitalize()


def _cases(page) -> list[str]:
    heading = page.locator("h2:has-text('Cases')")
    # A click on a link only starts the navigation, and all_inner_texts() does not wait:
    # wait for the referral page's case list before reading it.
    expect(heading.locator("xpath=following-sibling::ul[1]/li").first).to_be_visible()
    return [t.strip() for t in heading.locator("xpath=following-sibling::ul[1]/li")
            .all_inner_texts()]


def test_child_in_need_waits_for_consent_while_the_adult_at_risk_case_opens(lancashire_page):
    page = lancashire_page
    family = _family()
    sign_in(page, "frontdoor@demo.test")
    page.click("text=Start a new referral")
    page.check("#answer-child_needs_statutory_services")
    page.check("#answer-adult_at_risk")
    page.fill("#people-0-given_name", "Lily")
    page.fill("#people-0-family_name", family)
    page.fill("#people-0-dob-day", "6")
    page.fill("#people-0-dob-month", "6")
    page.fill("#people-0-dob-year", "2017")
    page.fill("#people-1-given_name", "Edna")
    page.fill("#people-1-family_name", family)
    page.fill("#people-1-relationship", "grandmother")
    page.fill("#people-1-dob-day", "11")
    page.fill("#people-1-dob-month", "2")
    page.fill("#people-1-dob-year", "1944")
    page.fill("#postcode", "PR2 3AB")
    page.check("#consent-3")  # not asked yet
    page.click("button:has-text('Check the decision')")
    panel = page.locator("#decision")
    expect(panel).to_contain_text("Level 4a: Statutory: child in need (s17)")
    text = panel.inner_text()
    assert "Adult Social Care" in text and "Preston North" in text
    assert_accessible(page)
    panel.locator("button:has-text('Submit referral')").click()
    reference = page.locator("#reference").inner_text()
    assert REFERENCE.fullmatch(reference)
    page.click("text=View the referral")
    expect(page.locator("h1")).to_contain_text(reference)
    expect(page.locator("main")).to_contain_text("Awaiting consent")
    opened = _cases(page)
    assert len(opened) == 1 and opened[0].startswith("Adult Social Care")
    assert_accessible(page)  # the referral page, waiting for consent

    page.check("#consent")  # yes, they agree
    page.click("button:has-text('Record consent')")
    expect(page.locator("main")).to_contain_text("Consent recorded")
    opened = _cases(page)
    assert len(opened) == 3
    assert any(c.startswith("Children's Social Care (MASH)") for c in opened)
    assert any("Preston North" in c for c in opened)
    assert_accessible(page)
