"""The public self-referral: one thing per page, errors by the field, consent, a reference,
a per-address rate limit and a honeypot."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.web.conftest import Browser, error_links

ANSWERS = [
    ("about_you", {"given_name": "Amira", "family_name": "Khan", "dob-day": "14",
                   "dob-month": "6", "dob-year": "1988"}),
    ("postcode", {"postcode": "le11 1aa"}),
    ("household", {"household-0-given_name": "Sami", "household-0-relationship": "son",
                   "household-0-dob-day": "2", "household-0-dob-month": "9",
                   "household-0-dob-year": "2016"}),
    ("safety", {}),
    ("needs", {"answers": ["school_attendance_concern", "financial_hardship"]}),
    ("more", {"concerns": "Money is tight and my son is missing school."}),
    ("contact", {"email": "amira@example.org"}),
    ("consent", {"consent": "given"}),
]


def start(web: Browser):
    web.get("/self-referral/")
    response = web.post("/self-referral/begin")
    assert response.status_code == 302
    return response


def fill_in(web: Browser, upto: str | None = None):
    start(web)
    for page, data in ANSWERS:
        web.get(f"/self-referral/{page}")
        response = web.post(f"/self-referral/{page}", data)
        assert response.status_code == 302, (page, error_links(web.last))
        if page == upto:
            return


def test_the_start_page_explains_what_happens_next_and_how_data_is_used(client):
    html = client.get("/self-referral/").get_data(as_text=True)
    assert "What happens next" in html and "How we use your information" in html
    assert "call 999" in html


def test_a_self_referral_from_start_to_reference(client, rt):
    from triage.models import Referral

    web = Browser(client)
    fill_in(web)
    web.get("/self-referral/check")
    assert "Check your answers" in web.last and "Amira Khan" in web.last
    response = web.post("/self-referral/check")
    assert response.status_code == 302
    web.get(response.headers["Location"])
    reference = re.search(r'id="reference">(EH-\d{4}-\d{6})<', web.last).group(1)
    with rt.db.reader() as session:
        referral = session.exec(select(Referral).where(Referral.reference == reference)).one()
    assert referral.channel == "self" and referral.consent == "given"
    assert referral.answers == {"school_attendance_concern": True, "financial_hardship": True}
    assert referral.postcode == "LE11 1AA" and referral.status == "routed"
    # The draft is gone: going back to the form starts again.
    assert web.get("/self-referral/check").status_code == 302


def test_each_page_shows_its_own_errors_by_the_field(client):
    web = Browser(client)
    start(web)
    web.get("/self-referral/about_you")
    response = web.post("/self-referral/about_you", {"given_name": "", "family_name": "Khan",
                                                     "dob-day": "40", "dob-month": "1",
                                                     "dob-year": "1988"})
    assert response.status_code == 422
    assert error_links(web.last) == {
        "given_name": "Enter your first name",
        "dob-day": "Your date of birth must be a real date, like 27 3 2007",
    }
    web.post("/self-referral/about_you", dict(ANSWERS[0][1]))
    web.get("/self-referral/postcode")
    web.post("/self-referral/postcode", {"postcode": "SW1"})
    assert error_links(web.last) == {"postcode": "Enter a full UK postcode, like LE13 0AB"}


def test_child_questions_are_asked_only_when_a_child_lives_there(client):
    web = Browser(client)
    start(web)
    web.post("/self-referral/about_you", dict(ANSWERS[0][1]), from_page="/self-referral/about_you")
    web.get("/self-referral/needs")
    assert 'value="school_attendance_concern"' not in web.last
    assert 'value="pregnancy_or_new_baby_support"' in web.last  # implies a child
    web.post("/self-referral/household", dict(ANSWERS[2][1]),
             from_page="/self-referral/household")
    web.get("/self-referral/needs")
    assert 'value="school_attendance_concern"' in web.last


def test_consent_must_be_answered(client):
    web = Browser(client)
    fill_in(web, upto="contact")
    web.get("/self-referral/consent")
    response = web.post("/self-referral/consent", {})
    assert response.status_code == 422
    assert list(error_links(web.last)) == ["consent"]


def test_the_check_page_sends_the_person_back_to_fix_a_problem(client):
    web = Browser(client)
    fill_in(web, upto="postcode")
    web.get("/self-referral/check")
    summary = web.last.split("govuk-error-summary", 1)[1]
    links = re.findall(r'<a href="(/self-referral/[^"]+)">', summary)
    assert any("contact?change=1#email" in link for link in links)


def test_a_filled_honeypot_sends_nothing(client, rt):
    from triage.models import Referral

    web = Browser(client)
    fill_in(web)
    response = web.post("/self-referral/check", {"website": "http://spam.example"},
                        from_page="/self-referral/check")
    assert response.status_code == 400
    with rt.db.reader() as session:
        assert not session.exec(select(Referral)).all()


def test_too_many_self_referrals_from_one_address_are_refused(client, rt):
    from triage.services.accounts import rate_limits

    limit = rt.settings.self_referral_per_ip_per_hour
    for _ in range(limit):
        assert rate_limits.allow(rt, bucket="self_referral", source="127.0.0.1", limit=limit)
    web = Browser(client)
    fill_in(web)
    response = web.post("/self-referral/check", from_page="/self-referral/check")
    assert response.status_code == 429
    assert "Too many attempts" in web.last
    # Another address is not affected.
    assert rate_limits.allow(rt, bucket="self_referral", source="10.0.0.9", limit=limit)


def test_rate_limit_counts_are_kept_without_addresses(rt):
    from triage.models import RateLimitHit
    from triage.services.accounts import rate_limits

    rate_limits.allow(rt, bucket="self_referral", source="192.0.2.44", limit=5)
    with rt.db.reader() as session:
        row = session.exec(select(RateLimitHit)).one()
    assert "192.0.2.44" not in row.key and len(row.key) == 64


def test_the_confirmation_link_cannot_be_forged(client):
    assert client.get("/self-referral/done?r=EH-2026-000001").status_code == 404


def test_a_page_without_a_draft_goes_back_to_the_start(client):
    response = client.get("/self-referral/postcode")
    assert response.status_code == 302 and "/self-referral/?expired=1" in response.headers[
        "Location"]


def _referrals(rt):
    from triage.models import Referral

    with rt.db.reader() as session:
        return session.exec(select(Referral)).all()


def _reference_on(web: Browser, response) -> str:
    assert response.status_code == 302 and "/self-referral/done" in response.headers["Location"]
    web.get(response.headers["Location"])
    return re.search(r'id="reference">(EH-\d{4}-\d{6})<', web.last).group(1)


def _twin(app, web: Browser) -> Browser:
    """A second request from the same browser: the same cookies and the same page."""
    other = Browser(app.test_client())
    for name in ("eh_draft", "eh_csrf"):
        other.client.set_cookie(name, web.client.get_cookie(name).value)
    other.last = web.last
    return other


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_double_submit_sends_one_referral_and_both_get_its_reference(app, client, rt,
                                                                       monkeypatch):
    """Two quick POSTs of the check page: the second arrives while the first is sending."""
    import threading

    from triage.web import public

    web = Browser(client)
    fill_in(web)
    web.get("/self-referral/check")
    second = _twin(app, web)
    sending, second_sent = threading.Event(), threading.Event()
    real_submit = public.intake.submit_referral

    def slow_submit(rt_, **kw):
        if not sending.is_set():
            sending.set()
            second_sent.wait(timeout=1)  # let the second request try to send too
        else:
            second_sent.set()
        return real_submit(rt_, **kw)

    monkeypatch.setattr(public.intake, "submit_referral", slow_submit)
    first: list = []
    thread = threading.Thread(target=lambda: first.append(web.post("/self-referral/check")))
    thread.start()
    assert sending.wait(timeout=10)
    response = second.post("/self-referral/check")
    thread.join(timeout=30)
    assert len(_referrals(rt)) == 1
    reference = _referrals(rt)[0].reference
    assert _reference_on(web, first[0]) == reference
    assert _reference_on(second, response) == reference
    # The draft's answers are gone once sent; only the reference is left, to show again.
    from triage.models import FormDraft

    with rt.db.reader() as session:
        assert [d.data for d in session.exec(select(FormDraft)).all()] == [
            {"reference": reference}]


def test_sending_again_after_it_was_sent_shows_the_reference_not_a_second_referral(app, client,
                                                                                   rt):
    web = Browser(client)
    fill_in(web)
    web.get("/self-referral/check")
    again = _twin(app, web)  # e.g. the back button and "Send" again with the old cookie
    reference = _reference_on(web, web.post("/self-referral/check"))
    assert _reference_on(again, again.post("/self-referral/check")) == reference
    assert len(_referrals(rt)) == 1


def test_a_refused_submission_keeps_the_answers_to_send_again(client, rt, monkeypatch):
    from triage.errors import ValidationFailed
    from triage.web import public

    web = Browser(client)
    fill_in(web)
    real_submit = public.intake.submit_referral

    def refuse(rt_, **kw):
        raise ValidationFailed({"postcode": ["Enter a real postcode"]})

    monkeypatch.setattr(public.intake, "submit_referral", refuse)
    response = web.post("/self-referral/check", from_page="/self-referral/check")
    assert response.status_code == 422 and "Amira Khan" in web.last
    monkeypatch.setattr(public.intake, "submit_referral", real_submit)
    web.get("/self-referral/postcode")  # still editable
    assert web.post("/self-referral/postcode", {"postcode": "LE11 1AA"}).status_code == 302
    _reference_on(web, web.post("/self-referral/check", from_page="/self-referral/check"))
    assert len(_referrals(rt)) == 1


def test_in_production_the_draft_cookie_is_deleted_with_its_secure_host_attributes(
        tmp_path, database_url):
    from config.settings import Settings
    from triage import create_app

    app = create_app(Settings(env="production", instance_path=tmp_path / "i",
                              database_url=database_url, secret_key="p" * 40),
                     background=False, synchronous_tasks=True)
    client = app.test_client()
    https = {"base_url": "https://localhost"}
    web = Browser(client)
    web.get("/self-referral/", **https)
    response = web.post("/self-referral/begin", **https)
    made = next(c for c in response.headers.getlist("Set-Cookie")
                if c.startswith("__Host-eh_draft="))
    for page, data in ANSWERS:
        web.get(f"/self-referral/{page}", **https)
        assert web.post(f"/self-referral/{page}", data, **https).status_code == 302, page
    web.get("/self-referral/check", **https)
    response = web.post("/self-referral/check", **https)
    assert response.status_code == 302, error_links(web.last)
    deleted = next(c for c in response.headers.getlist("Set-Cookie")
                   if c.startswith("__Host-eh_draft="))
    assert "Expires=Thu, 01 Jan 1970" in deleted or "Max-Age=0" in deleted
    for attribute in ("Secure", "Path=/", "HttpOnly", "SameSite=Lax"):
        assert attribute in made and attribute in deleted, attribute
    assert "Domain=" not in deleted
    app.extensions["triage"].db.dispose()


def test_the_periodic_sweep_deletes_drafts_past_their_lifetime(rt):
    from datetime import timedelta

    from triage.models.base import utcnow
    from triage.models.web import FormDraft
    from triage.services.referrals import drafts

    old = drafts.start(rt, kind="self_referral")
    fresh = drafts.start(rt, kind="self_referral")
    drafts.save(rt, token=old, data={"given_name": "Gwen"}, kind="self_referral")
    with rt.db.unit_of_work() as session:
        row = session.get(FormDraft, drafts._digest(old))
        row.updated_at = utcnow() - drafts.DRAFT_LIFETIME - timedelta(minutes=1)
    assert drafts.purge_expired(rt) == 1
    assert drafts.purge_expired(rt) == 0, "running it again changes nothing"
    assert drafts.load(rt, kind="self_referral", token=old) is None
    assert drafts.load(rt, kind="self_referral", token=fresh) == {}
    assert any(getattr(job, "__name__", "") == "purge_expired" for job in rt.relay.periodic)


def test_the_public_are_asked_in_plain_english_whether_it_is_safe_to_call(client, rt):
    from triage.models import Household, Person, Referral

    web = Browser(client)
    fill_in(web)
    web.get("/self-referral/contact")
    assert "Is it safe to call you? Can we leave a message?" in web.last
    web.post("/self-referral/contact", {"phone": "07700 900123", "preferred": "text",
                                        "safe_to_contact": "no",
                                        "safe_contact_notes": "Email only, please"})
    web.get("/self-referral/postcode")
    web.post("/self-referral/postcode", {"postcode": "LE11 1AA", "address-line1": "5 Park Row",
                                         "address-town": "Loughborough"})
    web.get("/self-referral/check")
    assert "Email only, please" in web.last and "5 Park Row" in web.last
    response = web.post("/self-referral/check")
    assert response.status_code == 302, web.last
    with rt.db.reader() as session:
        amira = session.exec(select(Person).where(Person.given_name == "Amira")).one()
        home = session.exec(select(Household)).one()
        referral = session.exec(select(Referral)).one()
    assert (amira.phone_key, amira.preferred_contact, amira.safe_to_contact) == (
        "07700900123", "text", False)
    assert amira.safe_contact_notes == "Email only, please"
    assert (home.address_line1, home.town) == ("5 Park Row", "Loughborough")
    assert referral.referrer_phone == "07700 900123"


def test_a_phone_number_that_is_not_one_is_named_on_the_contact_page(client):
    web = Browser(client)
    fill_in(web)
    web.get("/self-referral/contact")
    response = web.post("/self-referral/contact", {"phone": "123"})
    assert response.status_code == 422
    assert "UK phone number" in error_links(web.last)["phone"]
