"""A front-door worker finds a caller by a misspelt name, opens the family page and sees the
chronology, in a real browser with axe-core on each page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def test_a_caller_found_by_a_misspelt_name_and_the_family_chronology(page, live_server):
    from sqlmodel import select

    from triage.models import User
    from triage.services.referrals import intake

    rt = live_server["rt"]
    with rt.db.reader() as session:
        staff = session.exec(select(User).where(User.email == "frontdoor@demo.test")).one()
    _, created = intake.submit_referral(rt, user=staff, body={
        "channel": "staff", "postcode": "LE11 2AB", "consent": "given",
        "people": [{"ref": "c1", "role": "subject", "given_name": "Ellie",
                    "family_name": "Thorneycroft", "date_of_birth": "2014-09-09"},
                   {"ref": "m1", "role": "household", "relationship": "mother",
                    "given_name": "Dawn", "family_name": "Thorneycroft",
                    "date_of_birth": "1984-04-04"}],
        "answers": {"domestic_abuse": True}})
    sign_in(page, "frontdoor@demo.test")
    page.click("nav >> text=Search")
    assert_accessible(page)  # the empty search page
    page.fill("#q", "Elly Thornicroft")
    page.click("button:has-text('Search')")
    row = page.locator("tr", has_text="Ellie Thorneycroft")
    expect(row).to_contain_text("family name very similar (0.94)")
    assert_accessible(page)  # the results
    row.get_by_role("link", name="Family", exact=True).click()
    expect(page.locator("h1")).to_have_text("Family at LE11 2AB")
    expect(page.locator("table", has_text="Referral received")).to_contain_text(
        created["reference"])
    assert_accessible(page)  # the family page with its chronology
    page.check("#kind-received")
    page.click("button:has-text('Filter')")
    expect(page.locator("text=Decided: level")).to_have_count(0)
    expect(page.locator("text=Referral received (staff)")).to_have_count(1)
