"""The public self-referral: one thing per page, errors by the field, consent, a reference,
a per-address rate limit and a honeypot."""

from __future__ import annotations

import re

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
    from triage.services import rate_limits

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
    from triage.services import rate_limits

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
