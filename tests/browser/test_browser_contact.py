"""In a real browser: a worker opens a case whose subject is not safe to call and sees the
warning first, with the contact details; axe-core finds nothing on the page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_browser_journeys import _unique_name, _user

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def test_a_worker_sees_not_safe_to_call_and_the_contact_details_on_the_case(page,
                                                                           live_server):
    from triage.services.referrals import intake

    rt = live_server["rt"]
    family = _unique_name()
    _, created = intake.submit_referral(rt, user=_user(rt, "frontdoor@demo.test"), body={
        "channel": "staff", "postcode": "LE11 1AB", "consent": "given",
        "address": {"line1": "9 Station Road", "town": "Loughborough"},
        "people": [{"ref": "c1", "role": "subject", "given_name": "Ruby", "family_name": family,
                    "date_of_birth": "2014-02-02"},
                   {"ref": "p1", "role": "household", "relationship": "mother",
                    "given_name": "Jade", "family_name": family, "date_of_birth": "1988-08-08",
                    "contact": {"phone": "07700 900456", "email": "jade@example.org",
                                "preferred": "email", "safe_to_contact": False,
                                "safe_contact_notes": "Ex-partner reads her texts"}}],
        "answers": {"school_attendance_concern": True, "child_behaviour_concern": True},
    })
    case_id = next(c["id"] for c in created["cases"] if c["service"] == "early_help_hub")
    sign_in(page, "hub.charnwood@demo.test")
    page.goto(f"{live_server['url']}/cases/{case_id}")
    warning = page.locator(".app-not-safe")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(f"Not safe to contact: do not call or text Jade {family}")
    expect(warning).to_contain_text("Ex-partner reads her texts")
    contact = page.locator("section.app-contact")
    expect(contact).to_contain_text("07700 900456")
    expect(contact).to_contain_text("jade@example.org")
    expect(contact).to_contain_text("9 Station Road, Loughborough, LE11 1AB")
    assert_accessible(page)
