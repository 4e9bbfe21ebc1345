"""The administrators' account pages in a real browser: axe-core finds no serious or
critical violations on any of them (with and without errors), and the whole journey works
with JavaScript switched off."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.browser.conftest import assert_accessible, sign_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


@pytest.fixture
def no_js_page(browser, live_server):
    context = browser.new_context(base_url=live_server["url"], java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def test_an_administrator_manages_an_account_without_javascript(no_js_page, page):
    admin = no_js_page
    sign_in(admin, "admin@demo.test")
    admin.click("nav >> text=Users")
    expect(admin.locator("h1")).to_have_text("Users")
    admin.click("text=Create a user")
    admin.click("button:has-text('Create user')")
    expect(admin.locator(".govuk-error-summary")).to_have_count(1)  # waits for the answer
    email = f"robin.{uuid.uuid4().hex[:8]}@council.example"
    admin.fill("#name", "Robin Tester")
    admin.fill("#email", email)
    admin.check("input[name=role][value=practitioner]")
    admin.select_option("#team", "first_contact_plus")
    admin.click("button:has-text('Create user')")
    expect(admin.locator(".govuk-notification-banner")).to_contain_text("Account created")

    admin.check("input[name=method][value=shown]")
    admin.click("button:has-text('Reset password')")
    password = admin.locator("#one-time-password").inner_text().strip()
    admin.click("text=Back to Robin Tester")
    admin.fill("#label", "case system")
    admin.click("button:has-text('Create a token')")
    assert admin.locator("#api-token").inner_text().startswith("eht_")
    admin.click("text=Back to Robin Tester")
    admin.click("button:has-text('Revoke')")
    expect(admin.locator(".govuk-notification-banner")).to_contain_text("Token revoked")

    # The person signs in with the one-time password and must choose their own first.
    sign_in(page, email, password)
    expect(page.locator("h1")).to_have_text("Choose a new password")
    assert_accessible(page)
    page.goto("/cases/mine")
    assert page.url.endswith("/account/password")

    admin.click("button:has-text('Deactivate Robin Tester')")
    expect(admin.locator(".govuk-notification-banner")).to_contain_text("Account deactivated")
    page.goto("/cases/mine")
    assert "/login" in page.url, "deactivation ended their session at once"


def test_the_account_pages_are_accessible(page, live_server):
    sign_in(page, "admin@demo.test")
    page.goto("/admin/users/")
    assert_accessible(page)
    page.goto("/admin/users/?role=king")  # the filter's error summary
    assert_accessible(page)
    page.goto("/admin/users/new")
    assert_accessible(page)
    page.click("button:has-text('Create user')")
    page.locator(".govuk-error-summary").first.wait_for()
    assert_accessible(page)
    page.goto("/admin/sign-ins")
    assert_accessible(page)

    page.goto("/admin/users/?role=partner")
    page.click("main a:has-text('Fire Officer')")
    page.wait_for_url(re.compile(r"/admin/users/\d+$"))
    assert_accessible(page)
    user_page = page.url
    page.click("button:has-text('Reset password')")  # no choice made: an error by the field
    page.locator(".govuk-error-summary").first.wait_for()
    assert_accessible(page)
    page.goto(user_page)
    page.click("button:has-text('Create a token')")
    page.locator("#api-token").wait_for()
    assert_accessible(page)
    page.goto(user_page)
    page.click("text=Change")
    page.wait_for_url(re.compile(r"/admin/users/\d+/change$"))
    assert_accessible(page)


def test_a_reset_link_that_does_not_work_says_so_accessibly(page, live_server):
    response = page.goto("/account/reset/1." + "0" * 64)
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("This link does not work")
    assert_accessible(page)
