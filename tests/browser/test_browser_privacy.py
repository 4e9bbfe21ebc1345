"""The privacy pages in a real browser with axe-core: a front-door worker corrects a name and
opens the printable subject-access export; a manager restricts a record; an admin opens the
retention schedule."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def _referred(rt, family_name: str) -> int:
    from sqlmodel import select

    from triage.models import Person, User
    from triage.services.referrals import intake

    with rt.db.reader() as session:
        staff = session.exec(select(User).where(User.email == "frontdoor@demo.test")).one()
    intake.submit_referral(rt, user=staff, body={
        "channel": "staff", "postcode": "LE11 2AB", "consent": "given",
        "people": [{"ref": "c1", "role": "subject", "given_name": "Rosa",
                    "family_name": family_name, "date_of_birth": "2013-03-03",
                    "contact": {"phone": "07700 900777", "safe_to_contact": False,
                                "safe_contact_notes": "Text only after 4pm"}},
                   {"ref": "m1", "role": "household", "relationship": "mother",
                    "given_name": "Mae", "family_name": family_name,
                    "date_of_birth": "1983-08-08"}],
        "answers": {"domestic_abuse": True}, "concerns": "Raised voices at night"})
    with rt.db.reader() as session:
        return session.exec(select(Person.id).where(Person.family_name == family_name,
                                                    Person.given_name == "Rosa")).one()


def test_correcting_a_name_then_the_printable_subject_access_export(page, live_server):
    person_id = _referred(live_server["rt"], "Quenby")
    sign_in(page, "frontdoor@demo.test")
    page.goto(f"{live_server['url']}/people/{person_id}")
    page.click("text=Correct these details")
    assert_accessible(page)  # the correction form
    page.fill("#family_name", "Quenbey")
    page.click("button:has-text('Save the corrections')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("reason")
    assert_accessible(page)  # the form with its errors
    page.fill("#family_name", "Quenbey")
    page.fill("#reason", "The mother spelt the family name for us.")
    page.click("button:has-text('Save the corrections')")
    expect(page.locator("h1")).to_have_text("Rosa Quenbey")
    expect(page.locator("table", has_text="Family name")).to_contain_text("Quenby")
    assert_accessible(page)  # the person page with the corrections
    page.click("text=Subject access export")
    expect(page.locator("h1")).to_contain_text("Everything held about Rosa Quenbey")
    expect(page.locator("body")).to_contain_text("Raised voices at night")
    expect(page.locator("body")).to_contain_text("Text only after 4pm")
    expect(page.locator("table", has_text="Who has seen")).to_contain_text("Person view")
    assert_accessible(page)  # the export


def test_a_manager_restricts_a_record_and_an_admin_opens_the_retention_schedule(
        page, live_server):
    person_id = _referred(live_server["rt"], "Ravensworth")
    sign_in(page, "manager@demo.test")
    page.goto(f"{live_server['url']}/people/{person_id}")
    page.click("text=Restrict who sees this record")
    assert_accessible(page)  # the restriction form
    page.fill("#users", "manager@demo.test")
    page.fill("#reason", "A member of staff's own family.")
    page.click("button:has-text('Restrict the record')")
    expect(page.locator(".govuk-inset-text")).to_contain_text("seen only by Mo Manager")
    page.click("nav >> text=Privacy")
    expect(page.locator("h1")).to_have_text("Restricted records")
    assert_accessible(page)  # the list of restrictions
    page.fill("[id^=reason-]", "No longer needed: the worker has moved team.")
    page.click("button:has-text('Lift restriction')")
    expect(page.locator("body")).to_contain_text("No records are restricted")
    page.context.clear_cookies()
    sign_in(page, "admin@demo.test")
    page.goto(f"{live_server['url']}/privacy/retention")
    expect(page.locator("h1")).to_have_text("Retention schedule")
    page.click("button:has-text('Check what is due now')")
    assert_accessible(page)  # the retention schedule
