"""The front door's referral journey, worklists and referral page; the partners' area."""

from __future__ import annotations

import re

from sqlmodel import func, select

from tests.web.conftest import error_links


def referral_form(**changes) -> dict:
    form = {
        "person_rows": "3",
        "people-0-given_name": "Gwen", "people-0-family_name": "Smith",
        "people-0-dob-day": "1", "people-0-dob-month": "3", "people-0-dob-year": "1932",
        "postcode": "LE13 0AB",
        "answer-memory_concern": "yes", "answer-social_isolation": "yes",
        "consent": "given", "action": "check",
    }
    form.update(changes)
    return form


def _count_referrals(rt) -> int:
    from triage.models import Referral

    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(Referral)).one()


def _key(html: str) -> str:
    return re.search(r'name="submission_key" value="([^"]+)"', html).group(1)


def test_the_form_asks_safety_first_then_the_domains_people_and_postcode(web, rt):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    html = web.last
    checklist = rt.profile.checklist
    positions = [html.index(f'id="answer-{q}"') for s in checklist.sections
                 for q in (qq.id for qq in s.questions)]
    assert positions == sorted(positions)  # in the checklist's order, safety first
    assert checklist.sections[0].domain == "safety"
    assert positions[-1] < html.index('id="people-0-given_name"') < html.index('id="postcode"')


def test_checking_shows_the_live_decision_with_reasons_and_stores_nothing(web, rt):
    web.sign_in("frontdoor@demo.test")
    before = _count_referrals(rt)
    response = web.post("/referrals/new", referral_form(), from_page="/referrals/new")
    assert response.status_code == 200
    assert "Level 2: Additional support needs" in web.last
    assert "Local Area Coordination" in web.last
    assert "An adult has memory problems or a dementia diagnosis." in web.last  # a reason
    assert 'value="submit"' in web.last
    assert _count_referrals(rt) == before


def test_errors_are_named_by_the_field_the_gov_uk_way(web):
    web.sign_in("frontdoor@demo.test")
    response = web.post("/referrals/new", referral_form(**{
        "people-0-dob-day": "31", "people-0-dob-month": "2", "postcode": "not a postcode",
        "consent": ""}), from_page="/referrals/new")
    assert response.status_code == 422
    links = error_links(web.last)
    assert links == {
        "people-0-dob-day": "The date of birth of the person being referred must be a real "
                            "date, like 27 3 2007",
        "postcode": "Enter a full UK postcode, like LE13 0AB",
        "consent": "Select whether they agree to the referral and to information being shared",
    }
    assert web.last.count("govuk-error-message") >= 3  # each message also by its field
    assert "<title>Error: New referral" in web.last
    assert 'value="Gwen"' in web.last  # what was typed is kept


def test_a_child_need_without_a_child_is_refused_naming_the_question(web):
    web.sign_in("frontdoor@demo.test")
    web.post("/referrals/new", referral_form(**{"answer-school_exclusion": "yes"}),
             from_page="/referrals/new")
    links = error_links(web.last)
    assert list(links) == ["answer-school_exclusion"]
    assert "no child under 18 is listed" in links["answer-school_exclusion"]


def test_submitting_records_through_intake_and_ends_on_the_reference(web, rt):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    form = referral_form(action="submit", submission_key=_key(web.last))
    response = web.post("/referrals/new", form)
    assert response.status_code == 302
    web.get(response.headers["Location"])
    reference = re.search(r'id="reference">(EH-\d{4}-\d{6})<', web.last).group(1)
    assert "Local Area Coordination" in web.last
    # A double submit (same form) is answered from the first: no second referral.
    count = _count_referrals(rt)
    again = web.post("/referrals/new", form, from_page="/referrals/new")
    assert again.headers["Location"].endswith(f"/referrals/{reference}/confirmation")
    assert _count_referrals(rt) == count


def test_known_people_and_their_open_cases_are_shown_before_sending(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    web.post("/referrals/new", referral_form(action="submit", submission_key=_key(web.last)))
    web.post("/referrals/new", referral_form(), from_page="/referrals/new")
    assert "Already known" in web.last
    assert "Open case" in web.last and "Melton North coordinator" in web.last


def test_add_another_person_adds_a_row_without_losing_answers(web):
    web.sign_in("frontdoor@demo.test")
    web.post("/referrals/new", referral_form(action="add_person"), from_page="/referrals/new")
    assert 'id="people-3-given_name"' in web.last
    assert 'value="Gwen"' in web.last


def test_consent_is_recorded_from_the_referral_page_and_opens_the_cases(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(
        action="submit", consent="not_asked", submission_key=_key(web.last)))
    reference = response.headers["Location"].split("/")[2]
    web.get(f"/referrals/{reference}")
    assert "Record consent" in web.last
    web.post(f"/referrals/{reference}/consent", {"consent": "given"})
    web.get(f"/referrals/{reference}")
    assert "Routed" in web.last and "/cases/" in web.last


def test_worklists_show_counts_and_due_dates(web, rt):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    web.post("/referrals/new", referral_form(action="submit", consent="not_asked",
                                             submission_key=_key(web.last)))
    web.get("/front-door/")
    assert "Awaiting consent" in web.last and "Needs review" in web.last
    web.get("/front-door/worklists/awaiting_consent")
    assert "1 in this list" in web.last and "Decision due" in web.last
    for name in ("new_today", "needs_review", "overdue"):
        assert web.get(f"/front-door/worklists/{name}").status_code == 200
    assert web.get("/front-door/worklists/nonsense").status_code == 404


def test_the_decision_due_date_follows_the_profile_s_front_door_timescale(
        web, rt, demo_users, settings, tmp_path):
    import shutil
    from dataclasses import replace
    from datetime import UTC, datetime

    from sqlalchemy import update

    from config.profile import PROFILES_DIR
    from triage import create_app
    from triage.models import Referral
    from triage.services.referrals import intake
    from triage.services.referrals.front_door import referral_rows

    folder = tmp_path / "three-days"
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    meta = folder / "profile.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace(
        "decision_within_working_days: 1", "decision_within_working_days: 3"), encoding="utf-8")
    front_door = demo_users["frontdoor@demo.test"]
    _, created = intake.submit_referral(rt, user=front_door, body={
        "channel": "staff", "postcode": "LE13 0AB", "consent": "not_asked",
        "people": [{"ref": "p1", "role": "subject", "given_name": "Gwen",
                    "family_name": "Smith", "date_of_birth": "1932-03-01"}],
        "answers": {"memory_concern": True, "social_isolation": True}})
    friday = datetime(2026, 11, 27, 10, tzinfo=UTC)
    with rt.db.unit_of_work() as session:
        session.execute(update(Referral).where(Referral.reference == created["reference"])
                        .values(received_at=friday))
    slower = create_app(replace(settings, profile=str(folder)), background=False)
    try:
        def due_in(runtime):
            rows = referral_rows(runtime, user=front_door, name="awaiting_consent",
                                 now=friday).rows
            (row,) = rows
            return row.due

        assert str(due_in(rt)) == "2026-11-30"  # one working day: the Monday
        assert str(due_in(slower.extensions["triage"])) == "2026-12-02"  # three: Wednesday
    finally:
        slower.extensions["triage"].relay.stop()
        slower.extensions["triage"].db.dispose()
    web.sign_in("frontdoor@demo.test")
    web.get("/front-door/worklists/awaiting_consent")
    assert "30 November 2026" in web.last  # the page shows the profile's date too


def test_an_out_of_area_referral_waits_in_needs_review(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    web.post("/referrals/new", referral_form(action="submit", postcode="NG1 5AA",
                                             submission_key=_key(web.last)))
    web.get("/front-door/worklists/needs_review")
    assert "1 in this list" in web.last


def test_a_partner_submits_and_sees_only_their_own_referrals(make_web, demo_users):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    fire.get("/partner/referrals/new")
    assert "Leicestershire Fire and Rescue Service" in fire.last
    response = fire.post("/partner/referrals/new", referral_form(
        action="submit", submission_key=_key(fire.last), **{"referrer-name": "A. Officer"}))
    assert response.status_code == 302
    fire.get(response.headers["Location"])
    reference = re.search(r'id="reference">(EH-\d{4}-\d{6})<', fire.last).group(1)
    fire.get("/partner/")
    assert reference in fire.last and "Local Area Coordination" in fire.last
    police = make_web()
    police.sign_in("police@demo.test")
    police.get("/partner/")
    assert reference not in police.last
    assert police.get(f"/partner/referrals/{reference}").status_code == 404
    assert police.get(f"/referrals/{reference}").status_code == 403  # staff pages: no


def test_unknown_pages_get_a_helpful_html_404_and_the_api_keeps_json(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
    assert "text/html" in page.content_type
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.is_json


def test_an_unexpected_failure_gets_a_helpful_500_page_with_an_error_reference(app):
    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/boom", view_func=boom)
    response = app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html
    assert re.search(r"quote the error reference\s+<strong>[0-9a-f]{12}</strong>", html)


def test_the_front_door_closes_a_referral_without_a_service_from_its_page(web, rt,
                                                                         demo_users):
    from triage.services.referrals import intake

    _, sent = intake.submit_referral(rt, user=demo_users["fire@demo.test"], body={
        "channel": "partner", "referrer": {"organisation": "Fire"}, "postcode": "NG1 5AA",
        "people": [{"ref": "p1", "role": "subject", "given_name": "Ida", "family_name": "Frost",
                    "date_of_birth": "1940-01-01"}],
        "answers": {"social_isolation": True}, "consent": "given"})
    assert sent["status"] == "needs_review"
    page = f"/referrals/{sent['reference']}"
    web.sign_in("frontdoor@demo.test")
    web.get(page)
    assert "Close without a service" in web.last
    response = web.post(f"{page}/close", {"closure": "", "note": ""}, from_page=page)
    assert response.status_code == 422
    assert set(error_links(web.last)) == {"close-closure", "close-note"}
    # What was chosen and typed is kept when the page comes back with an error.
    web.post(f"{page}/close", {"closure": "duplicate", "note": "Dup of"}, from_page=page)
    assert set(error_links(web.last)) == {"close-note"}
    assert re.search(r'value="duplicate" checked', web.last)
    assert ">Dup of</textarea>" in web.last
    response = web.post(f"{page}/close", {
        "closure": "already_supported",
        "note": "Already has a carer's assessment booked with adult social care."},
        from_page=page)
    assert response.status_code == 302
    web.get(page)
    assert "Closed at the front door" in web.last
    assert "The family is already getting the right support" in web.last
    assert "Close without a service" not in web.last
    fire = web.__class__(web.client.application.test_client())
    fire.sign_in("fire@demo.test")
    fire.get(f"/partner/referrals/{sent['reference']}")
    assert "The family is already getting the right support" in fire.last
    assert "carer&#39;s assessment" not in fire.last and "carer's assessment" not in fire.last


def test_an_override_from_the_referral_page_needs_a_reason_and_keeps_the_original(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(
        action="submit", submission_key=_key(web.last)))
    reference = response.headers["Location"].split("/")[2]
    page = f"/referrals/{reference}"
    response = web.post(f"{page}/override", {"level": "3", "reason": ""}, from_page=page)
    assert response.status_code == 422 and "override-reason" in error_links(web.last)
    response = web.post(f"{page}/override", {
        "level": "3", "reason": "Known to the hub already; needs the hub meeting."},
        from_page=page)
    assert response.status_code == 302
    web.get(page)
    assert "Decision (changed by staff)" in web.last
    assert "The rules&#39; original decision" in web.last or \
        "The rules' original decision" in web.last


def test_recording_consent_is_confirmed_and_the_routes_are_recommended_until_then(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(
        action="submit", consent="not_asked", submission_key=_key(web.last)))
    reference = response.headers["Location"].split("/")[2]
    web.get(f"/referrals/{reference}")
    # Waiting for consent nothing is routed yet: the page says what the rules recommend.
    assert "Recommended (no case is open yet)" in web.last and "Routed to" not in web.last
    assert "govuk-notification-banner--success" not in web.last
    response = web.post(f"/referrals/{reference}/consent", {"consent": "given"})
    assert response.status_code == 302
    web.get(response.headers["Location"])
    assert "govuk-notification-banner--success" in web.last
    assert "Consent recorded: routed" in web.last
    assert "Routed to" in web.last and "Recommended (no case" not in web.last


def test_an_override_s_reason_is_shown_once_and_confirmed(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(
        action="submit", submission_key=_key(web.last)))
    reference = response.headers["Location"].split("/")[2]
    page = f"/referrals/{reference}"
    reason = "Known to the hub already; needs the hub meeting."
    response = web.post(f"{page}/override", {"level": "3", "reason": reason}, from_page=page)
    web.get(response.headers["Location"])
    assert "Decision changed" in web.last
    assert web.last.count(reason) == 1


def test_review_reasons_are_a_list_not_joined_with_a_stop_and_a_semicolon(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(
        action="submit", postcode="NG1 5AA", submission_key=_key(web.last)))
    web.get(f"/referrals/{response.headers['Location'].split('/')[2]}")
    assert "Needs a person to review it" in web.last
    assert ".;" not in web.last


def test_districts_and_teams_are_named_as_people_say_them(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(
        action="submit", postcode="LE67 3AB", submission_key=_key(web.last)))
    web.get(f"/referrals/{response.headers['Location'].split('/')[2]}")
    assert "North West Leicestershire" in web.last
    assert "North-west-leicestershire" not in web.last
    assert "front_door" not in web.last and "Staff: Front door" in web.last
