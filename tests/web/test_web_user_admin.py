"""The administrators' account pages: only admins, CSRF on every form, GOV.UK errors naming
each field, deactivation that signs the person out at once, one-time passwords that must
be changed first, tokens shown once, and sign-ins without addresses."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.api.test_cases_email import smtp_sink  # noqa: F401  (a fixture)
from tests.web.conftest import PASSWORD, csrf_from, error_links
from triage.models import AuditEvent, User

ADMIN = "admin@demo.test"


def _id(rt, email):
    with rt.db.reader() as session:
        return session.exec(select(User.id).where(User.email == email)).one()


def _admin(web):
    assert web.sign_in(ADMIN).status_code == 302
    return web


def _admin_pages(uid: int) -> list[tuple[str, str]]:
    return [("GET", "/admin/users/"), ("GET", "/admin/users/new"), ("POST", "/admin/users/new"),
            ("GET", f"/admin/users/{uid}"), ("GET", f"/admin/users/{uid}/change"),
            ("POST", f"/admin/users/{uid}/change"), ("POST", f"/admin/users/{uid}/deactivate"),
            ("POST", f"/admin/users/{uid}/reactivate"), ("POST", f"/admin/users/{uid}/password"),
            ("POST", f"/admin/users/{uid}/tokens"),
            ("POST", f"/admin/users/{uid}/tokens/1/revoke"),
            ("POST", f"/admin/users/{uid}/unlock"), ("GET", "/admin/sign-ins")]


@pytest.mark.parametrize("email", ["frontdoor@demo.test", "manager@demo.test",
                                   "hub.charnwood@demo.test", "fcp@demo.test",
                                   "fire@demo.test"])
def test_only_administrators_reach_the_account_pages(web, rt, email):
    web.sign_in(email)
    csrf = csrf_from(web.get("/account/password").get_data(as_text=True))
    uid = _id(rt, "lac@demo.test")
    for method, path in _admin_pages(uid):
        response = (web.client.get(path) if method == "GET"
                    else web.client.post(path, data={"csrf_token": csrf}))
        assert response.status_code == 403, (method, path)
    with rt.db.reader() as session:
        refused = session.exec(select(AuditEvent).where(
            AuditEvent.action == "access.refused")).all()
    assert len(refused) == len(_admin_pages(uid))
    assert "Users" not in web.get("/account/password").get_data(as_text=True).split("<main")[0]


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/users/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_admin_form_needs_the_csrf_token(web, rt):
    _admin(web)
    uid = _id(rt, "lac@demo.test")
    for method, path in _admin_pages(uid):
        if method == "POST":
            assert web.client.post(path, data={"csrf_token": "forged"}).status_code == 400, path
    with rt.db.reader() as session:
        assert session.get(User, uid).active


def test_an_administrator_sees_users_in_the_menu_and_filters_the_list(web):
    _admin(web)
    page = web.get("/admin/users/?role=partner").get_data(as_text=True)
    assert 'href="/admin/users/"' in page.split("<main")[0]
    assert "fire@demo.test" in page and "police@demo.test" in page
    assert "lac@demo.test" not in page
    bad = web.get("/admin/users/?role=king&active=maybe")
    assert bad.status_code == 422
    assert set(error_links(web.last)) == {"role", "active"}


def test_creating_a_user_with_mistakes_names_each_field_and_saves_nothing(web, rt):
    _admin(web)
    response = web.post("/admin/users/new", {
        "name": "", "email": "not-an-email", "role": "partner", "team": "nowhere",
        "organisation": ""}, from_page="/admin/users/new")
    assert response.status_code == 422
    errors = error_links(web.last)
    assert set(errors) == {"name", "email", "team", "organisation"}
    assert errors["organisation"] == "A partner needs an organisation."
    with rt.db.reader() as session:
        assert session.exec(select(User).where(User.email == "not-an-email")).first() is None


def test_an_administrator_creates_a_staff_user_and_changes_their_team(web, rt):
    _admin(web)
    response = web.post("/admin/users/new", {
        "name": "Robin Hub", "email": "robin@council.example", "role": "hub_coordinator",
        "team": "early_help_hub:melton-hub", "organisation": ""}, from_page="/admin/users/new")
    assert response.status_code == 302
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "Account created" in page and "Melton" in page
    uid = _id(rt, "robin@council.example")
    response = web.post(f"/admin/users/{uid}/change", {
        "name": "Robin Hub", "role": "manager", "team": "early_help_hub",
        "organisation": ""}, from_page=f"/admin/users/{uid}/change")
    assert response.status_code == 302
    with rt.db.reader() as session:
        assert (session.get(User, uid).role, session.get(User, uid).team) == (
            "manager", "early_help_hub")


def test_deactivating_a_user_signs_them_out_at_once(web, make_web, rt):
    _admin(web)
    worker = make_web()
    worker.sign_in("lac@demo.test")
    assert worker.get("/cases/mine").status_code == 200
    uid = _id(rt, "lac@demo.test")
    response = web.post(f"/admin/users/{uid}/deactivate", from_page=f"/admin/users/{uid}")
    assert response.status_code == 302
    assert "Account deactivated" in web.get(response.headers["Location"]).get_data(as_text=True)
    refused = worker.get("/cases/mine")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert worker.sign_in("lac@demo.test").status_code == 401
    web.post(f"/admin/users/{uid}/reactivate", from_page=f"/admin/users/{uid}")
    assert worker.sign_in("lac@demo.test").status_code == 302


def test_the_last_administrator_cannot_deactivate_themselves(web, rt):
    _admin(web)
    uid = _id(rt, ADMIN)
    response = web.post(f"/admin/users/{uid}/deactivate", from_page=f"/admin/users/{uid}")
    assert response.status_code == 409
    assert "There must always be an active administrator" in error_links(web.last)["deactivate"]
    response = web.post(f"/admin/users/{uid}/change", {
        "name": "Ada Admin", "role": "manager", "team": "", "organisation": ""},
        from_page=f"/admin/users/{uid}/change")
    assert response.status_code == 422 and "role" in error_links(web.last)


def test_a_one_time_password_is_shown_once_and_must_be_changed_first(web, make_web, rt):
    _admin(web)
    uid = _id(rt, "fcp@demo.test")
    response = web.post(f"/admin/users/{uid}/password", {"method": "shown"},
                        from_page=f"/admin/users/{uid}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="one-time-password">([^<]+)<', web.last).group(1)
    worker = make_web()
    assert worker.sign_in("fcp@demo.test", PASSWORD).status_code == 401
    assert worker.sign_in("fcp@demo.test", password).status_code == 302
    forced = worker.get("/cases/mine")
    assert forced.status_code == 302 and forced.headers["Location"] == "/account/password"
    assert "Choose a new password" in worker.get("/account/password").get_data(as_text=True)
    worker.post("/account/password", {"current_password": password,
                                      "new_password": "my very own passphrase",
                                      "confirm_password": "my very own passphrase"})
    assert worker.get("/cases/mine").status_code == 200


def test_a_reset_without_a_choice_or_without_email_names_the_field(web, rt):
    _admin(web)
    uid = _id(rt, "fcp@demo.test")
    assert web.post(f"/admin/users/{uid}/password", {},
                    from_page=f"/admin/users/{uid}").status_code == 422
    assert set(error_links(web.last)) == {"method"}
    assert web.post(f"/admin/users/{uid}/password", {"method": "email"},
                    from_page=f"/admin/users/{uid}").status_code == 422
    assert "TRIAGE_SMTP_URL" in error_links(web.last)["method"]


def test_a_token_is_shown_once_listed_by_its_prefix_and_revoked(web, client, rt):
    _admin(web)
    uid = _id(rt, "fire@demo.test")
    response = web.post(f"/admin/users/{uid}/tokens", {"label": "case system"},
                        from_page=f"/admin/users/{uid}")
    assert response.status_code == 200
    token = re.search(r'id="api-token">([^<]+)<', web.last).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/partner/referrals", headers=headers).status_code != 401
    page = web.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert token[:12] in page and token not in page and "case system" in page
    revoke = re.search(rf'action="(/admin/users/{uid}/tokens/\d+/revoke)"', page).group(1)
    assert web.post(revoke).status_code == 302
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    too_long = web.post(f"/admin/users/{uid}/tokens", {"label": "x" * 101},
                        from_page=f"/admin/users/{uid}")
    assert too_long.status_code == 422 and set(error_links(web.last)) == {"label"}


def test_sign_ins_show_counts_and_lock_outs_and_an_admin_unlocks(web, make_web, rt):
    stranger = make_web()
    limit = rt.settings.signin_max_failures_per_source_per_hour
    for _ in range(limit):
        stranger.post("/login", {"email": "slf@demo.test", "password": "wrong-guess-123"},
                      from_page="/login", environ_base={"REMOTE_ADDR": "203.0.113.44"})
    _admin(web)
    overview = web.get("/admin/sign-ins").get_data(as_text=True)
    assert "Sam Families" in overview and "203.0.113.44" not in overview
    uid = _id(rt, "slf@demo.test")
    page = web.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert f"{limit} in the last hour" in page and "203.0.113.44" not in page
    assert web.post(f"/admin/users/{uid}/unlock").status_code == 302
    again = stranger.post("/login", {"email": "slf@demo.test", "password": PASSWORD},
                          from_page="/login", environ_base={"REMOTE_ADDR": "203.0.113.44"})
    assert again.status_code == 302


def test_an_emailed_link_lets_the_person_choose_a_password_once(web, make_web, rt,
                                                              smtp_sink):  # noqa: F811
    from dataclasses import replace
    from email import message_from_string
    from email.policy import default as email_policy

    rt.settings = replace(rt.settings,
                          smtp_url=f"smtp://127.0.0.1:{smtp_sink.server_address[1]}")
    _admin(web)
    uid = _id(rt, "lac@demo.test")
    response = web.post(f"/admin/users/{uid}/password", {"method": "email"},
                        from_page=f"/admin/users/{uid}")
    assert response.status_code == 302
    assert "being emailed" in web.get(response.headers["Location"]).get_data(as_text=True)
    [(to, raw)] = smtp_sink.messages
    assert to == ["lac@demo.test"]
    text = message_from_string(raw, policy=email_policy).get_content()
    link = re.search(r"http://127\.0\.0\.1:5000(/account/reset/\S+)", text).group(1)

    person = make_web()
    assert person.get(link).status_code == 200
    mismatch = person.post(link, {"new_password": "a fresh good passphrase",
                                  "confirm_password": "something else entirely"})
    assert mismatch.status_code == 422 and set(error_links(person.last)) == {"confirm_password"}
    weak = person.post(link, {"new_password": "password", "confirm_password": "password"})
    assert weak.status_code == 422 and set(error_links(person.last)) == {"new_password"}
    done = person.post(link, {"new_password": "a fresh good passphrase",
                              "confirm_password": "a fresh good passphrase"})
    assert done.status_code == 200 and "Password set" in person.last
    assert person.sign_in("lac@demo.test", "a fresh good passphrase").status_code == 302
    assert make_web().get(link).status_code == 404


def test_an_administrator_who_deactivates_themselves_is_signed_out(web, make_web, rt):
    from triage.services.accounts import users

    users.create_user(rt.db, email="deputy@council.example", role="admin")
    _admin(web)
    uid = _id(rt, ADMIN)
    response = web.post(f"/admin/users/{uid}/deactivate", from_page=f"/admin/users/{uid}")
    assert response.status_code == 302 and response.headers["Location"] == "/signed-out"
    again = web.get("/admin/users/")
    assert again.status_code == 302 and "/login" in again.headers["Location"]
    with rt.db.reader() as session:
        [event] = session.exec(select(AuditEvent).where(
            AuditEvent.action == "user.deactivate")).all()
    assert (event.actor_id, event.object_id) == (uid, str(uid))
    assert event.detail == {"sessions_ended": 1, "tokens_revoked": 0}


def test_unknown_accounts_and_tokens_are_not_found(web, rt):
    _admin(web)
    assert web.get("/admin/users/999999").status_code == 404
    assert web.get("/admin/users/2147483648").status_code == 404
    uid = _id(rt, "fire@demo.test")
    assert web.post(f"/admin/users/{uid}/tokens/999999/revoke",
                    from_page=f"/admin/users/{uid}").status_code == 404
    assert web.post("/admin/users/999999/deactivate",
                    from_page=f"/admin/users/{uid}").status_code == 404
    assert web.get("/admin/users/?page=99999999999999999999").status_code == 422
    assert web.get("/admin/users/?team=a%00b").status_code == 422


def test_forms_without_mistakes_show_no_field_in_error(web, rt):
    _admin(web)
    uid = _id(rt, "fire@demo.test")
    for path in ("/admin/users/", "/admin/users/new", f"/admin/users/{uid}",
                 f"/admin/users/{uid}/change"):
        page = web.get(path).get_data(as_text=True)
        assert "govuk-form-group--error" not in page, path
    web.post("/admin/users/new", {"name": "", "email": "x@council.example",
                                  "role": "manager"}, from_page="/admin/users/new")
    assert web.last.count("govuk-form-group--error") == 1
