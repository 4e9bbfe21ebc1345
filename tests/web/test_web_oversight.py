"""The audit trail page and the notifications pages as staff use them: filtering, links to
the records, older pages, the CSV download and the look audited; reading notifications (one,
all) for oneself only, with the unread count in the menu; the managers' overdue overview."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.web.conftest import Browser, error_links
from triage.models import AuditEvent, Case, Notification, User
from triage.models.base import utcnow
from triage.services import audit
from triage.services.referrals import intake

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _user(rt, email: str) -> User:
    with rt.db.reader() as session:
        return session.exec(select(User).where(User.email == email)).one()


def _refer(rt, family_name: str) -> dict:
    """A Charnwood hub referral sent by the front door: the hub team is told of its case."""
    return intake.submit_referral(rt, user=_user(rt, "frontdoor@demo.test"), body={
        "channel": "staff", "postcode": "LE11 2AB", "consent": "given",
        "people": [{"ref": "c1", "role": "subject", "given_name": "Rosa",
                    "family_name": family_name, "date_of_birth": "2013-03-03"},
                   {"ref": "m1", "role": "household", "relationship": "mother",
                    "given_name": "Mae", "family_name": family_name,
                    "date_of_birth": "1983-08-08"}],
        "answers": {"domestic_abuse": True}})[1]


def _signed_in(app, email: str) -> Browser:
    browser = Browser(app.test_client())
    browser.sign_in(email)
    return browser


def _nav(html: str) -> str:
    return html.split('class="govuk-service-navigation', 1)[1].split("</nav>", 1)[0]


@both_databases
def test_a_manager_filters_the_audit_trail_and_opens_the_records(app, rt, demo_users):
    first = _refer(rt, "Quenby")
    _refer(rt, "Lowe")
    case_id = next(c["id"] for c in first["cases"] if c["service"] == "early_help_hub")
    hub = _signed_in(app, "hub.charnwood@demo.test")
    assert hub.get(f"/cases/{case_id}").status_code == 200
    manager = _signed_in(app, "manager@demo.test")
    assert 'href="/audit"' in _nav(manager.get("/notifications/").get_data(as_text=True))
    page = manager.get(f"/audit?user={_user(rt, 'hub.charnwood@demo.test').id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Harper Hub" in html and "case.view" in html
    assert f'href="/cases/{case_id}"' in html
    assert "/cases/&lt;int:case_id&gt;" in html  # the page it was read from
    by_reference = manager.get(f"/audit?object_type=referral&object_id={first['reference']}")
    assert f'href="/referrals/{first["reference"]}"' in by_reference.get_data(as_text=True)
    with rt.db.reader() as session:
        look = session.exec(select(AuditEvent).where(AuditEvent.action == "audit.view")
                            .order_by(AuditEvent.id.desc())).first()
    assert (look.object_type, look.route) == ("referral", "/audit")


def test_older_pages_and_the_csv_download_follow_the_filters(app, rt, demo_users):
    fd = _user(rt, "frontdoor@demo.test")
    with rt.db.unit_of_work() as session:
        for n in range(60):
            audit.record(session, actor=fd, action="referral.view", object_type="referral",
                         object_id=1000 + n)
    manager = _signed_in(app, "manager@demo.test")
    html = manager.get("/audit?action=referral.view").get_data(as_text=True)
    assert html.count("<code>referral.view</code>") == 50
    older = re.search(r'href="(/audit\?[^"]*before=[^"]+)"[^>]*rel="next"', html).group(1)
    older_html = manager.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert older_html.count("<code>referral.view</code>") == 10
    assert "Newest events" in older_html and 'rel="next"' not in older_html
    download = manager.get("/audit?action=referral.view&format=csv")
    assert download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert len(rows) == 61 and {r[4] for r in rows[1:]} == {"referral.view"}


def test_a_bad_filter_is_named_on_the_page(app, rt, demo_users):
    manager = _signed_in(app, "manager@demo.test")
    page = manager.get("/audit?object_id=12&from=2026-05-02&to=2026-05-01")
    assert page.status_code == 422
    assert set(error_links(page.get_data(as_text=True))) == {"object_type", "to"}
    missing = manager.get("/audit?person=999999")
    assert missing.status_code == 422 and "person" in error_links(missing.get_data(as_text=True))


@pytest.mark.parametrize("email", ["hub.charnwood@demo.test", "fire@demo.test",
                                   "frontdoor@demo.test"])
def test_only_managers_and_admins_have_the_audit_trail(app, demo_users, email):
    browser = _signed_in(app, email)
    assert browser.get("/audit").status_code == 403
    assert 'href="/audit"' not in _nav(browser.get("/notifications/").get_data(as_text=True))


@both_databases
def test_reading_notifications_on_the_page_is_for_the_reader_only(app, rt, demo_users):
    from triage.services.accounts import users

    for name in ("Quenby", "Lowe", "Marsh"):
        _refer(rt, name)
    users.create_user(rt.db, email="second.hub@demo.test", role="practitioner",
                      team="early_help_hub:charnwood-hub", password="early-help-demo-2026")
    harper = _signed_in(app, "hub.charnwood@demo.test")
    html = harper.get("/notifications/").get_data(as_text=True)
    assert "Notifications (3 unread)" in _nav(html)
    assert html.count("Mark as read") == 3 and "Unread (3)" in html
    with rt.db.reader() as session:
        newest = session.exec(select(Notification.id).where(
            Notification.recipient == "team:early_help_hub:charnwood-hub")
            .order_by(Notification.id.desc())).first()
    done = harper.post(f"/notifications/{newest}/read", from_page="/notifications/",
                       follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "Marked as read" in html and "Unread (2)" in html
    assert "Notifications (2 unread)" in _nav(html)
    harper.post("/notifications/read-all", from_page="/notifications/")
    html = harper.get("/notifications/").get_data(as_text=True)
    assert "You have no unread notifications" in html and "Mark as read" not in html
    assert "Notifications</a>" in _nav(html) or ">Notifications<" in _nav(html)
    colleague = _signed_in(app, "second.hub@demo.test")
    assert "Unread (3)" in colleague.get("/notifications/").get_data(as_text=True)
    other_hub = _signed_in(app, "hub.melton@demo.test")
    assert other_hub.post(f"/notifications/{newest}/read",
                          from_page="/sign-out").status_code == 404


@both_databases
def test_the_managers_overview_counts_overdue_cases_by_team_with_links(app, rt, demo_users):
    cases = [c["id"] for name in ("Quenby", "Lowe") for c in _refer(rt, name)["cases"]
             if c["service"] == "early_help_hub"]
    past = utcnow() - timedelta(days=2)
    with rt.db.unit_of_work() as session:
        session.execute(update(Case).where(Case.id.in_(cases)).values(next_due_at=past))
        session.execute(update(Case).where(Case.id == cases[0])
                        .values(escalated_at=past + timedelta(hours=1)))
    manager = _signed_in(app, "manager@demo.test")
    inbox = manager.get("/notifications/").get_data(as_text=True)
    assert "<strong>2</strong> overdue cases, 1 escalated" in inbox
    html = manager.get("/notifications/overview").get_data(as_text=True)
    row = html.split("Charnwood", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"numeric\">(\d+)<", row) == ["2", "1"]
    assert 'href="/cases/?team=early_help_hub:charnwood-hub&amp;overdue=1"' in row
    hub = _signed_in(app, "hub.charnwood@demo.test")
    assert hub.get("/notifications/overview").status_code == 403
    assert "overdue cases," not in hub.get("/notifications/").get_data(as_text=True)
