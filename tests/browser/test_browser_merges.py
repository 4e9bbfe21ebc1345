"""Merging two records and the check-who-this-is worklist in a real browser with axe-core:
a front-door worker finds the record to keep, compares the two side by side, merges, sees the
merge in the history, and answers a pair on the worklist."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def _referred(rt, given: str, family: str, postcode: str) -> int:
    from sqlmodel import select

    from triage.models import Person, User
    from triage.services.referrals import intake

    with rt.db.reader() as session:
        staff = session.exec(select(User).where(User.email == "frontdoor@demo.test")).one()
    intake.submit_referral(rt, user=staff, body={
        "channel": "staff", "postcode": postcode, "consent": "given",
        "people": [{"ref": "c1", "role": "subject", "given_name": given,
                    "family_name": family, "date_of_birth": "2014-04-04"}],
        "answers": {"parenting_support": True}})
    with rt.db.reader() as session:
        return session.exec(select(Person.id).where(Person.family_name == family,
                                                    Person.given_name == given)).one()


def test_merging_two_records_of_one_child_and_checking_a_pair(page, live_server):
    from sqlalchemy import delete

    from triage.models import MatchReview

    rt = live_server["rt"]
    known = _referred(rt, "Ivy", "Marston", "LE13 1AB")
    newer = _referred(rt, "Ivy", "Marsten", "LE11 2AB")
    other = _referred(rt, "Ivy", "Marstone", "LE11 2AB")
    with rt.db.unit_of_work() as session:
        # the worklist holds just this pair (not the ones intake queued itself)
        session.execute(delete(MatchReview))
        session.add(MatchReview(person_id=known, other_person_id=other, source="intake",
                                score=9.5, band="possible", comparisons=[
                                    {"field": "date_of_birth", "level": "same", "weight": 9.0,
                                     "reason": "same date of birth"}]))
    sign_in(page, "frontdoor@demo.test")
    page.goto(f"{live_server['url']}/people/{newer}")
    page.click("text=Merge with another record")
    page.fill("#q", "Ivy Marston")
    page.click("button:has-text('Search')")
    assert_accessible(page)  # choosing the record to keep
    page.click(f"a[href$='?into={known}']")
    expect(page.locator("h1")).to_have_text("Check the records before merging")
    page.click("button:has-text('Merge the records')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("reason")
    assert_accessible(page)  # the side-by-side comparison with its error
    page.fill("#reason", "The school confirmed the spelling of the name.")
    page.click("button:has-text('Merge the records')")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("merged into this one")
    expect(page.locator("#merges ~ .govuk-summary-card")).to_contain_text(
        "The school confirmed the spelling of the name.")
    assert_accessible(page)  # the person page with its merge history
    page.goto(f"{live_server['url']}/front-door/check")
    expect(page.locator("body")).to_contain_text("same date of birth")
    assert_accessible(page)  # the worklist
    page.check("text=No, different people")
    page.fill("textarea[name=reason]", "Different schools and different mothers.")
    page.click("button:has-text('Save the answer')")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("kept apart")
    expect(page.locator("body")).to_contain_text("Nothing to check.")
