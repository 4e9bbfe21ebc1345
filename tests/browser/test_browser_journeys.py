"""Whole journeys in a real browser, with axe-core on every page type they pass through."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.browser.conftest import assert_accessible, sign_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"EH-\d{4}-\d{6}")


def _unique_name() -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "".join(letters[int(c, 16) % 26] for c in uuid.uuid4().hex[:8]).capitalize()


def _user(rt, email):
    from sqlmodel import select

    from triage.models import User

    with rt.db.reader() as session:
        return session.exec(select(User).where(User.email == email)).one()


def test_a_front_door_referral_from_start_to_reference(page, live_server):
    sign_in(page, "frontdoor@demo.test")
    assert_accessible(page)  # worklists
    page.click("text=Start a new referral")
    assert_accessible(page)  # the empty form
    page.check("#answer-memory_concern")
    page.check("#answer-social_isolation")
    page.fill("#people-0-given_name", "Edith")
    page.fill("#people-0-family_name", _unique_name())
    page.fill("#people-0-dob-day", "12")
    page.fill("#people-0-dob-month", "4")
    page.fill("#people-0-dob-year", "1940")
    page.fill("#postcode", "")  # forgotten: the error is shown by the field
    page.check("#consent")
    page.click("button:has-text('Check the decision')")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert page.locator("#postcode-error").inner_text().strip().endswith(
        "Enter the postcode of the household")
    assert_accessible(page)  # the form with errors
    page.click(".govuk-error-summary a[href='#postcode']")
    page.fill("#postcode", "LE13 0AB")
    page.click("button:has-text('Check the decision')")
    panel = page.locator("#decision")
    expect(panel).to_contain_text("Level 2")
    expect(panel).to_contain_text("Local Area Coordination")
    assert_accessible(page)  # the form with the live decision
    panel.locator("button:has-text('Submit referral')").click()
    reference = page.locator("#reference").inner_text()
    assert REFERENCE.fullmatch(reference)
    assert_accessible(page)  # confirmation
    page.click("text=View the referral")
    expect(page.locator("h1")).to_contain_text(reference)
    assert_accessible(page)  # the referral page
    page.locator("main a[href^='/cases/']").first.click()
    expect(page.locator("h1")).to_contain_text("Case")
    assert_accessible(page)  # the case page


def test_a_hub_allocation_at_a_meeting(page, live_server):
    from triage.services.referrals import intake

    rt = live_server["rt"]
    family = _unique_name()
    _, created = intake.submit_referral(rt, user=_user(rt, "frontdoor@demo.test"), body={
        "channel": "staff", "postcode": "LE11 1AB", "consent": "given",
        "people": [{"ref": "c1", "role": "subject", "given_name": "Ruby", "family_name": family,
                    "date_of_birth": "2014-02-02"},
                   {"ref": "p1", "role": "household", "relationship": "father",
                    "given_name": "Jack", "family_name": family,
                    "date_of_birth": "1982-03-03"}],
        "answers": {"child_behaviour_concern": True, "parenting_support": True}})
    case_id = next(c["id"] for c in created["cases"] if c["service"] == "early_help_hub")

    sign_in(page, "hub.charnwood@demo.test")
    assert_accessible(page)  # hub queue
    page.click("text=Plan and run the meeting")
    page.check(f"#case-{case_id}")
    page.click("button:has-text('Add selected cases to the agenda')")
    assert_accessible(page)  # the meeting page
    page.click("text=Meeting pack (printable)")
    expect(page.locator("main")).to_contain_text(family)
    assert_accessible(page)  # the meeting pack
    page.click("text=Plan and run the meeting")
    page.goto(f"/hub/meeting/cases/{case_id}")
    page.check("#decision")  # Allocate to a lead agency
    expect(page.locator("#lead_professional")).to_be_visible()
    page.check("#lead_agency")  # family support
    page.fill("#lead_professional", "K. Lead, family support worker")
    assert_accessible(page)  # the decision form
    page.click("button:has-text('Record decision')")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Decision recorded for case {case_id}")
    page.goto(f"/cases/{case_id}")
    expect(page.locator("h1")).to_contain_text("Allocated")
    expect(page.locator("main")).to_contain_text("Allocated to a lead agency")

    # The loop closes: family support for the family's area has the linked case at once, and
    # one of its workers takes it and finds it in "My cases".
    from sqlmodel import select

    from triage.models import Case
    with rt.db.reader() as session:
        linked = session.exec(select(Case).where(Case.source_case_id == case_id)).one()
    assert linked.service == "supporting_leicestershire_families"
    page.context.clear_cookies()
    sign_in(page, "slf@demo.test")
    page.goto("/cases/")
    expect(page.locator("main")).to_contain_text(f"Case {linked.id}")
    assert_accessible(page)  # the team's list with the linked case
    page.goto(f"/cases/{linked.id}")
    expect(page.locator("#worker")).to_contain_text("Not assigned")
    page.goto(f"/cases/{linked.id}/events/assign")
    page.select_option("#worker", label="Sam Families")
    assert_accessible(page)  # the assign form
    page.locator("main form button.govuk-button").last.click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Case assigned to Sam Families")
    page.click("text=My cases")
    expect(page.locator("main")).to_contain_text(f"Case {linked.id}")
    assert_accessible(page)  # my cases


def test_a_partner_submits_and_sees_the_outcome(page, live_server):
    from triage.services.accounts import users
    from triage.services.cases import casework

    rt = live_server["rt"]
    sign_in(page, "fire@demo.test")
    assert_accessible(page)  # partner's referrals
    page.click("text=Make a referral")
    page.fill("#people-0-given_name", "Albert")
    page.fill("#people-0-family_name", _unique_name())
    page.fill("#people-0-dob-day", "3")
    page.fill("#people-0-dob-month", "11")
    page.fill("#people-0-dob-year", "1950")
    page.fill("#postcode", "LE13 1AA")
    page.check("#information_only")
    page.fill("#referrer-name", "Station Officer Hale")
    page.check("#consent")
    page.click("button:has-text('Check the decision')")
    expect(page.locator("#decision")).to_contain_text("Signposting")
    assert_accessible(page)  # partner form with the decision
    page.locator("#decision button:has-text('Submit referral')").click()
    reference = page.locator("#reference").inner_text()
    page.click("text=View the referral")
    expect(page.locator("main")).to_contain_text("Requested")
    assert_accessible(page)  # partner's referral page

    # The signposting team gives the advice; the partner sees the outcome.
    email = f"signposting-{uuid.uuid4().hex[:6]}@test.example"
    worker = users.create_user(rt.db, email=email, role="practitioner", team="signposting",
                                  password="signposting worker 2026")
    listing = casework.list_cases(rt, user=worker, args={"state": "requested", "limit": "200"})
    case_id = next(c["id"] for c in listing["cases"] if c["referral"] == reference)
    casework.fire_case_event(rt, user=worker, case_id=case_id,
                          body={"event": "give_advice", "advice": "Home safety leaflet"})
    page.click("text=Your referrals")
    row = page.locator("tr", has_text=reference)
    expect(row).to_contain_text("Advice given")


def _self_referral_answers(page, family: str) -> None:
    page.fill("#given_name", "Maya")
    page.fill("#family_name", family)
    page.fill("#dob-day", "9")
    page.fill("#dob-month", "10")
    page.fill("#dob-year", "1990")


def test_a_public_self_referral(page, live_server):
    page.goto("/")
    assert_accessible(page)  # start page
    page.click("text=Refer yourself or your family")
    assert_accessible(page)  # self-referral start
    page.click("button:has-text('Start now')")
    page.click("button:has-text('Continue')")  # nothing entered
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)  # a question page with errors
    _self_referral_answers(page, _unique_name())
    page.click("button:has-text('Continue')")
    page.fill("#postcode", "LE65 1AB")
    page.click("button:has-text('Continue')")
    page.fill("#household-0-given_name", "Leo")
    page.fill("#household-0-relationship", "son")
    page.fill("#household-0-dob-day", "1")
    page.fill("#household-0-dob-month", "6")
    page.fill("#household-0-dob-year", "2018")
    assert_accessible(page)  # household page
    page.click("button:has-text('Continue')")
    assert_accessible(page)  # safety page
    page.click("button:has-text('Continue')")
    page.check("#answer-parenting_support")
    page.check("#answer-social_isolation")
    assert_accessible(page)  # needs page
    page.click("button:has-text('Continue')")
    page.fill("#concerns", "Bedtimes are a battle and I don't know anyone here.")
    page.click("button:has-text('Continue')")
    page.fill("#phone", "07700 900123")
    page.click("button:has-text('Continue')")
    assert_accessible(page)  # consent page
    page.check("#consent")
    page.click("button:has-text('Continue')")
    expect(page.locator("h1")).to_contain_text("Check your answers")
    assert_accessible(page)  # check answers
    page.click("button:has-text('Send request')")
    assert REFERENCE.fullmatch(page.locator("#reference").inner_text())
    assert_accessible(page)  # confirmation


def _tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab (only the keyboard) until the element matching selector has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
    raise AssertionError(f"could not reach {selector} with the Tab key")


def _continue_to(page, url: str) -> None:
    """Press the page's main button from the keyboard and wait for the next page."""
    _tab_to(page, "main button")
    page.keyboard.press("Enter")
    page.wait_for_url(url)


def test_the_self_referral_form_can_be_completed_with_the_keyboard_alone(page, live_server):
    page.goto("/self-referral/")
    _tab_to(page, "button.govuk-button--start")
    page.keyboard.press("Enter")
    page.wait_for_url("**/about_you")
    _tab_to(page, "#given_name")
    page.keyboard.type("Keyla")
    page.keyboard.press("Tab")
    page.keyboard.type(_unique_name())
    page.keyboard.press("Tab")
    page.keyboard.type("21")
    page.keyboard.press("Tab")
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    page.keyboard.type("1979")
    page.keyboard.press("Enter")
    page.wait_for_url("**/postcode")
    _tab_to(page, "#postcode")
    page.keyboard.type("LE67 3AB")
    page.keyboard.press("Enter")
    page.wait_for_url("**/household")
    _continue_to(page, "**/safety")
    _continue_to(page, "**/needs")
    _tab_to(page, "#answer-financial_hardship")
    page.keyboard.press("Space")
    assert page.is_checked("#answer-financial_hardship")
    _continue_to(page, "**/more")
    _continue_to(page, "**/contact")
    _tab_to(page, "#email")
    page.keyboard.type("keyla@example.org")
    page.keyboard.press("Enter")
    page.wait_for_url("**/consent")
    _tab_to(page, "#consent")
    page.keyboard.press("Space")
    assert page.is_checked("#consent")
    _continue_to(page, "**/check")
    _continue_to(page, "**/done*")
    assert REFERENCE.fullmatch(page.locator("#reference").inner_text())
