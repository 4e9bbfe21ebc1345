"""Report pages: the list with when figures were counted and counting again, a report with
its form, chart (accessible SVG, no script) and table of the same numbers, CSV downloads,
errors by their field, and the menu item for managers and admins only."""

from __future__ import annotations

import re

from sqlmodel import select

from triage.models import AuditEvent


def _recount(web) -> str:
    page = web.get("/reports").get_data(as_text=True)
    assert "have not been counted yet" in page
    response = web.post("/reports/refresh", from_page="/reports")
    assert response.status_code == 303
    return web.get(response.headers["Location"]).get_data(as_text=True)


def test_a_manager_counts_the_figures_and_reads_a_report(web, rt):
    web.sign_in("manager@demo.test")
    page = _recount(web)
    assert "Figures counted again at" in page
    assert 'href="/reports/referrals"' in page
    response = web.get("/reports/referrals?by=month")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    svg = re.search(r"<svg[^>]*>", html).group(0)
    assert 'role="graphics-document document"' in svg and "aria-label=" in svg
    assert 'role="graphics-symbol"' in html  # each bar is labelled
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert html.index("<svg") < html.index('<table class="govuk-table"')
    assert ">Total<" in html and "Download for sharing" in html
    with rt.db.reader() as s:
        actions = {e.action for e in s.exec(select(AuditEvent).where(
            AuditEvent.object_type == "report"))}
    assert {"report.refresh", "report.view"} <= actions


def test_report_csv_download_from_the_page(web):
    web.sign_in("manager@demo.test")
    _recount(web)
    response = web.get("/reports/referrals?by=channel&format=csv&suppress=true")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "Channel,Referrals received,Advice only"
    assert lines[-1].startswith("Total,")


def test_bad_choices_are_shown_by_their_field(web):
    web.sign_in("manager@demo.test")
    response = web.get("/reports/referrals?from=2026-05-01&to=2026-01-01&by=district"
                       "&dimension=channel")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "govuk-error-summary" in html
    assert 'href="#to"' in html and 'href="#dimension"' in html
    assert "Must be on or after from." in html


def test_the_menu_offers_reports_to_managers_and_admins_only(web, make_web):
    web.sign_in("manager@demo.test")
    assert ">Reports<" in web.get("/reports").get_data(as_text=True)
    other = make_web()
    other.sign_in("frontdoor@demo.test")
    assert ">Reports<" not in other.get("/front-door/").get_data(as_text=True)
    assert other.get("/reports").status_code == 403
