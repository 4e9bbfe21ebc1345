"""A report page in a real browser with axe-core: a manager counts the figures, opens a report,
groups it by month and district, and reads the chart (SVG with a label on every bar) and the
table of the same numbers; the page with an error in the form is accessible too."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def test_a_manager_reads_a_report_as_chart_and_table(page, live_server):
    sign_in(page, "manager@demo.test")
    page.goto("/reports")
    expect(page.locator("h1")).to_have_text("Reports")
    page.click("button:has-text('Count the figures again now')")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Figures counted again")
    assert_accessible(page)
    page.click("a:has-text('Referrals received')")
    page.select_option("#by", "month")
    page.select_option("#dimension", "district")
    page.click("button:has-text('Show the report')")
    chart = page.locator("figure.app-chart svg")
    expect(chart).to_have_attribute("role", "graphics-document document")
    bars = page.locator("figure.app-chart [role='graphics-symbol'][aria-label]")
    assert bars.count() >= 1
    expect(page.locator("table.govuk-table tfoot")).to_contain_text("Total")
    assert_accessible(page)
    page.fill("#from", "2026-05-01")
    page.fill("#to", "2026-01-01")
    page.click("button:has-text('Show the report')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Must be on or after from")
    assert_accessible(page)
