"""A NUL (U+0000) typed or pasted into any form, search box or address is refused with a
GOV.UK error naming the field, on SQLite and PostgreSQL alike: never a 500, nothing saved."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from tests.web.conftest import Browser, error_links
from tests.web.test_web_public import ANSWERS, start
from tests.web.test_web_referrals import referral_form
from triage.models import FormDraft, Referral

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def count(rt, model) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(model)).one()


@both_databases
def test_a_nul_in_the_self_referral_is_named_by_the_field_and_not_saved(client, rt):
    web = Browser(client)
    start(web)
    web.post("/self-referral/about_you", dict(ANSWERS[0][1]),
             from_page="/self-referral/about_you")
    web.get("/self-referral/more")
    response = web.post("/self-referral/more", {"concerns": "Money is tight\x00"},
                        headers={"Referer": "http://localhost/self-referral/more"})
    assert response.status_code == 422
    links = error_links(web.last)
    assert list(links) == ["concerns"] and "U+0000" in links["concerns"]
    assert 'href="/self-referral/more#concerns"' in web.last
    with rt.db.reader() as session:
        draft = session.exec(select(FormDraft)).one()
    assert "Money is tight" not in str(draft.data)


@both_databases
def test_a_nul_in_a_staff_referral_name_is_refused_naming_it(web, rt):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(**{
        "people-0-given_name": "Gw\x00en", "action": "submit"}))
    assert response.status_code == 422
    assert list(error_links(web.last)) == ["people-0-given_name"]
    assert count(rt, Referral) == 0


@both_databases
def test_a_nul_in_a_search_or_a_reference_in_the_address_is_refused(web):
    web.sign_in("frontdoor@demo.test")
    response = web.get("/search?q=Sm%00ith")
    assert response.status_code == 422 and list(error_links(web.last)) == ["q"]
    response = web.get("/referrals/EH-2026-0%00001")
    assert response.status_code == 422 and list(error_links(web.last)) == ["reference"]


@both_databases
def test_a_nul_in_the_sign_in_form_is_refused_not_a_server_error(client, demo_users):
    web = Browser(client)
    response = web.post("/login", {"email": "frontdoor@demo.test\x00", "password": "x"},
                        from_page="/login")
    assert response.status_code == 422 and list(error_links(web.last)) == ["email"]


def test_a_csrf_token_or_cookie_with_letters_beyond_ascii_is_refused_not_a_server_error(
        client, demo_users):
    web = Browser(client)
    response = web.post("/login", {"email": "frontdoor@demo.test", "password": "x",
                                   "csrf_token": "é.é"}, from_page="/login")
    assert response.status_code == 400
    client.set_cookie("eh_csrf", "ab\u00e9.\u00e9")
    assert client.get("/login").status_code == 200
    web.sign_in("frontdoor@demo.test")
    response = client.post("/referrals/new", data={"csrf_token": "é"})
    assert response.status_code == 400
