"""Administering accounts through the services, on SQLite and PostgreSQL: creating and
changing users against the profile, deactivation that ends sessions and tokens at once in
every process, the last active administrator kept, password resets (a one-time link stored
only hashed, or a one-time password), tokens, sign-in lock-outs, and the audit trail."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import timedelta
from email import message_from_string
from email.policy import default as email_policy

import pytest
from sqlmodel import select

from tests.api.test_cases_email import smtp_sink  # noqa: F401  (a fixture)
from triage.errors import Conflict, Forbidden, ValidationFailed
from triage.models import ApiToken, AuditEvent, Notification, PasswordReset, User, WebSession
from triage.models.base import utcnow
from triage.services.accounts import access, admin, resets, signin, users

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
PASSWORD = "a-long-enough-passphrase-42"


@pytest.fixture
def boss(rt):
    return users.create_user(rt.db, email="boss@council.example", role="admin", name="Boss")


@pytest.fixture
def other_process(settings):
    """A second web process on the same database: its own engine and token cache."""
    from triage import create_app

    app = create_app(settings, background=False, synchronous_tasks=True)
    yield app
    app.extensions["triage"].relay.stop()
    app.extensions["triage"].db.dispose()


def _audit(rt, action):
    with rt.db.reader() as session:
        return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _status_soon(client, token, expected, seconds=2.0):
    """The status of GET /api/v1/cases with this token once it is `expected`, or the last
    one after `seconds`. Another process hears of an account change from PostgreSQL a few
    milliseconds after it commits (triage.account_changes); far sooner than its token cache
    would expire (10 s), so `expected` within the wait is the notification's doing. SQLite
    processes read the account on every request: the first answer is the one."""
    deadline = time.monotonic() + seconds
    while True:
        status = client.get("/api/v1/cases", headers=_bearer(token)).status_code
        if status == expected or time.monotonic() > deadline:
            return status
        time.sleep(0.01)


@both_databases
def test_a_deactivated_account_is_refused_at_once_in_a_process_that_remembered_its_token(
        rt, boss, client, other_process):
    worker, token = _worker_with_token(rt)
    elsewhere = other_process.test_client()
    assert elsewhere.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    signed = signin.sign_in(rt, email=worker.email, password=PASSWORD)

    counts = admin.deactivate(rt, admin=boss, user_id=worker.id)

    # This process forgot the token at once; the other, which remembered it a moment ago, as
    # soon as it hears of the change.
    assert client.get("/api/v1/cases", headers=_bearer(token)).status_code == 401
    assert _status_soon(elsewhere, token, 401) == 401
    assert signin.session_for(rt, signed.token).user is None
    assert counts == {"sessions_ended": 1, "tokens_revoked": 1}
    with rt.db.reader() as session:
        assert session.exec(select(WebSession).where(WebSession.user_id == worker.id)).all() == []
        assert all(t.revoked_at is not None for t in session.exec(
            select(ApiToken).where(ApiToken.user_id == worker.id)).all())
    # Reactivated, the account signs in again, but its old tokens stay revoked.
    admin.reactivate(rt, admin=boss, user_id=worker.id)
    assert elsewhere.get("/api/v1/cases", headers=_bearer(token)).status_code == 401
    assert signin.sign_in(rt, email=worker.email, password=PASSWORD).user.id == worker.id


@both_databases
def test_a_token_revoked_in_one_process_is_refused_at_once_in_another(
        rt, boss, other_process):
    worker, token = _worker_with_token(rt)
    elsewhere = other_process.test_client()
    assert elsewhere.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    token_id = access.tokens_of(rt, admin=boss, user_id=worker.id)[0].id

    access.revoke(rt, admin=boss, user_id=worker.id, token_id=token_id)

    assert _status_soon(elsewhere, token, 401) == 401
    # The command line revokes from a process of its own: heard everywhere too.
    second = users.create_token(rt.db, email=worker.email)
    assert elsewhere.get("/api/v1/cases", headers=_bearer(second)).status_code == 200
    users.revoke_token(rt.db, prefix=second[:12])
    assert _status_soon(elsewhere, second, 401) == 401


@both_databases
def test_a_changed_role_applies_at_once_to_a_remembered_token(rt, boss, other_process):
    worker, token = _worker_with_token(rt)
    elsewhere = other_process.extensions["triage"].db
    assert users.user_for_token(elsewhere, token).role == "practitioner"
    admin.change_user(rt, admin=boss, user_id=worker.id, body={
        "name": "Pat Worker", "role": "manager", "team": "first_contact_plus"})
    deadline = time.monotonic() + 2
    while (users.user_for_token(elsewhere, token).role != "manager"
           and time.monotonic() < deadline):
        time.sleep(0.01)
    assert users.user_for_token(elsewhere, token).role == "manager"
    [change] = _audit(rt, "user.change")
    assert change.actor_id == boss.id and change.object_id == str(worker.id)
    assert change.detail == {"fields": ["role"], "role_from": "practitioner",
                             "role_to": "manager"}


@both_databases
def test_a_token_in_use_shows_when_it_was_last_used(rt, boss, client):
    worker, token = _worker_with_token(rt)
    assert access.tokens_of(rt, admin=boss, user_id=worker.id)[0].last_used_at is None
    client.get("/api/v1/cases", headers=_bearer(token))
    assert access.tokens_of(rt, admin=boss, user_id=worker.id)[0].last_used_at is not None


@both_databases
def test_new_accounts_are_checked_against_the_roles_and_the_profiles_teams(rt, boss):
    with pytest.raises(ValidationFailed) as refused:
        admin.create_user(rt, admin=boss, body={
            "name": "", "email": "not-an-email", "role": "boss",
            "team": "no_such_service", "organisation": "Fire"})
    assert set(refused.value.errors) == {"name", "email", "role", "team"}
    assert refused.value.errors["team"] == [
        'no team "no_such_service" in this council\'s profile']

    with pytest.raises(ValidationFailed) as partner:
        admin.create_user(rt, admin=boss, body={
            "name": "Fire Officer", "email": "officer@fire.example", "role": "partner"})
    assert partner.value.errors == {"organisation": ["A partner needs an organisation."]}

    with pytest.raises(ValidationFailed) as nul:
        admin.create_user(rt, admin=boss, body={
            "name": "Nul\x00Name", "email": "nul@council.example", "role": "practitioner"})
    assert list(nul.value.errors) == ["name"]

    made = admin.create_user(rt, admin=boss, body={
        "name": "Hub Worker", "email": "Hub.Worker@Council.example",
        "role": "hub_coordinator", "team": "early_help_hub:melton-hub"})
    assert (made.email, made.team, made.password_hash) == (
        "hub.worker@council.example", "early_help_hub:melton-hub", None)
    partner_account = admin.create_user(rt, admin=boss, body={
        "name": "Fire Officer", "email": "officer@fire.example", "role": "partner",
        "organisation": "Leicestershire Fire and Rescue Service"})
    assert partner_account.organisation == "Leicestershire Fire and Rescue Service"
    with pytest.raises(ValidationFailed) as again:
        admin.create_user(rt, admin=boss, body={
            "name": "Again", "email": "hub.worker@council.example", "role": "manager"})
    assert list(again.value.errors) == ["email"]
    created = _audit(rt, "user.create")
    assert [(a.actor_id, a.detail["role"]) for a in created] == [
        (None, "admin"), (boss.id, "hub_coordinator"), (boss.id, "partner")]
    # Ids and codes only: no names or email addresses in the audit trail.
    assert not any("Hub Worker" in str(a.detail) or "@" in str(a.detail) for a in created)


@both_databases
def test_the_last_active_administrator_cannot_be_demoted_or_deactivated(rt, boss):
    keep = {"name": "Boss", "role": "practitioner", "team": None}
    with pytest.raises(ValidationFailed) as demoted:
        admin.change_user(rt, admin=boss, user_id=boss.id, body=keep)
    assert list(demoted.value.errors) == ["role"]
    with pytest.raises(Conflict):
        admin.deactivate(rt, admin=boss, user_id=boss.id)
    second = users.create_user(rt.db, email="deputy@council.example", role="admin")
    admin.deactivate(rt, admin=boss, user_id=second.id)
    with pytest.raises(Conflict):  # the deputy is gone: boss is the last one again
        admin.deactivate(rt, admin=boss, user_id=boss.id)
    admin.reactivate(rt, admin=boss, user_id=second.id)
    admin.change_user(rt, admin=boss, user_id=boss.id, body=keep)  # now allowed
    with rt.db.reader() as session:
        assert session.get(User, boss.id).role == "practitioner"


@both_databases
def test_only_administrators_may_administer_accounts(rt, boss):
    manager = users.create_user(rt.db, email="m@council.example", role="manager")
    with pytest.raises(Forbidden):
        admin.deactivate(rt, admin=manager, user_id=boss.id)
    with pytest.raises(Forbidden):
        access.issue_token(rt, admin=manager, user_id=manager.id, body={})
    with pytest.raises(Forbidden):
        resets.issue(rt, admin=manager, user_id=boss.id, body={"method": "shown"})


@pytest.fixture
def mail_rt(rt, smtp_sink):  # noqa: F811
    rt.settings = replace(rt.settings, smtp_url=f"smtp://127.0.0.1:{smtp_sink.server_address[1]}")
    return rt


def _link_in(sink) -> str:
    [(_to, raw)] = sink.messages
    text = message_from_string(raw, policy=email_policy).get_content()
    found = re.search(r"http://[^\s]+/account/reset/(\S+)", text)
    assert found, text
    return found.group(1)


@both_databases
def test_an_emailed_reset_link_works_once_and_is_never_stored(mail_rt, boss, smtp_sink):  # noqa: F811
    rt = mail_rt
    worker, _ = _worker_with_token(rt)
    issued = resets.issue(rt, admin=boss, user_id=worker.id, body={"method": "email"})
    assert issued.password is None
    [(to, _text)] = smtp_sink.messages
    assert to == [worker.email]
    token = _link_in(smtp_sink)
    with rt.db.reader() as session:
        assert all(token not in n.body for n in session.exec(select(Notification)).all())
        [row] = session.exec(select(PasswordReset)).all()
        assert token not in (row.token_hash, row.nonce) and row.ended_at is None
        assert all(token not in str(a.detail) for a in session.exec(select(AuditEvent)).all())
    signed = signin.sign_in(rt, email=worker.email, password=PASSWORD)  # still works until used

    resets.use_link(rt, token=token, body={"new_password": "three random words here",
                                           "confirm_password": "three random words here"})

    assert signin.session_for(rt, signed.token).user is None, "every session ended"
    assert signin.sign_in(rt, email=worker.email, password="three random words here")
    with pytest.raises(resets.ResetLinkInvalid):
        resets.use_link(rt, token=token, body={"new_password": "another good passphrase",
                                               "confirm_password": "another good passphrase"})
    assert [a.detail["method"] for a in _audit(rt, "password.reset_issued")] == ["email"]
    assert len(_audit(rt, "password.reset_used")) == 1


@both_databases
def test_a_reset_link_stops_working_when_it_expires_or_a_newer_one_is_sent(
        mail_rt, boss, smtp_sink):  # noqa: F811
    rt = mail_rt
    worker, _ = _worker_with_token(rt)
    resets.issue(rt, admin=boss, user_id=worker.id, body={"method": "email"})
    first = _link_in(smtp_sink)
    smtp_sink.messages.clear()
    resets.issue(rt, admin=boss, user_id=worker.id, body={"method": "email"})
    second = _link_in(smtp_sink)
    with pytest.raises(resets.ResetLinkInvalid):
        resets.check_link(rt, token=first)
    resets.check_link(rt, token=second)
    with rt.db.unit_of_work() as session:
        for row in session.exec(select(PasswordReset)).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(resets.ResetLinkInvalid):
        resets.check_link(rt, token=second)
    for forged in ("", "1", "1.abc", "99999999999." + "0" * 64, second[:-1] + "0"):
        with pytest.raises(resets.ResetLinkInvalid):
            resets.check_link(rt, token=forged)


@both_databases
def test_an_emailed_reset_is_refused_without_a_mail_server(rt, boss):
    worker, _ = _worker_with_token(rt)
    with pytest.raises(ValidationFailed) as refused:
        resets.issue(rt, admin=boss, user_id=worker.id, body={"method": "email"})
    assert "TRIAGE_SMTP_URL" in refused.value.errors["method"][0]
    with pytest.raises(ValidationFailed) as nothing:
        resets.issue(rt, admin=boss, user_id=worker.id, body={"method": "post"})
    assert list(nothing.value.errors) == ["method"]


@both_databases
def test_a_one_time_password_replaces_the_password_and_must_be_changed(rt, boss):
    worker, _ = _worker_with_token(rt)
    signed = signin.sign_in(rt, email=worker.email, password=PASSWORD)
    issued = resets.issue(rt, admin=boss, user_id=worker.id, body={"method": "shown"})
    assert signin.session_for(rt, signed.token).user is None
    with pytest.raises(signin.SignInRefused):
        signin.sign_in(rt, email=worker.email, password=PASSWORD)
    fresh = signin.sign_in(rt, email=worker.email, password=issued.password)
    assert fresh.user.must_change_password
    with pytest.raises(ValidationFailed):  # the same one again is not a new password
        signin.change_password(rt, user=fresh.user, current=issued.password,
                               new=issued.password, confirm=issued.password)
    signin.change_password(rt, user=fresh.user, current=issued.password,
                           new="my own good passphrase", confirm="my own good passphrase")
    assert not signin.sign_in(rt, email=worker.email,
                              password="my own good passphrase").user.must_change_password
    assert all(issued.password not in str(a.detail) for a in _audit(rt, "password.reset_issued"))


@both_databases
def test_an_administrator_issues_and_revokes_tokens_and_the_token_is_shown_once(
        rt, boss, client):
    worker, _ = _worker_with_token(rt)
    with pytest.raises(ValidationFailed):
        access.issue_token(rt, admin=boss, user_id=worker.id, body={"label": "x" * 101})
    token = access.issue_token(rt, admin=boss, user_id=worker.id, body={"label": "batch"})
    assert client.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    listed = access.tokens_of(rt, admin=boss, user_id=worker.id)
    assert [t.label for t in listed] == ["batch", None]
    assert listed[0].prefix == token[:12] and token not in str(listed[0])
    access.revoke(rt, admin=boss, user_id=worker.id, token_id=listed[0].id)
    assert client.get("/api/v1/cases", headers=_bearer(token)).status_code == 401
    with pytest.raises(Conflict):
        access.revoke(rt, admin=boss, user_id=worker.id, token_id=listed[0].id)
    assert [a.detail for a in _audit(rt, "token.create")][-1] == {"user_id": worker.id}


@both_databases
def test_a_locked_out_account_is_shown_and_unlocked_without_any_address(rt, boss):
    worker, _ = _worker_with_token(rt)
    limit = rt.settings.signin_max_failures_per_source_per_hour
    for _ in range(limit):
        with pytest.raises(signin.SignInRefused):
            signin.sign_in(rt, email=worker.email, password="wrong-password-x",
                           source="198.51.100.7")
    with pytest.raises(signin.SignInRefused):  # that address is now refused
        signin.sign_in(rt, email=worker.email, password=PASSWORD, source="198.51.100.7")
    state = access.sign_in_state(rt, admin=boss, user_id=worker.id)
    assert (state.failures_counted, state.sources_locked, state.locked) == (limit + 1, 1, False)
    overview = access.overview(rt, admin=boss)
    assert [(a.user.id, a.failures) for a in overview.accounts] == [(worker.id, limit + 1)]
    assert "198.51.100.7" not in repr(state) + repr(overview)

    assert access.unlock(rt, admin=boss, user_id=worker.id) == limit + 1
    assert signin.sign_in(rt, email=worker.email, password=PASSWORD, source="198.51.100.7")
    assert access.sign_in_state(rt, admin=boss, user_id=worker.id).sources_locked == 0
    [event] = _audit(rt, "signin.unlock")
    assert event.detail == {"failures": limit + 1} and event.actor_id == boss.id


@both_databases
def test_users_are_listed_by_role_team_and_status(rt, boss):
    _worker_with_token(rt)
    hub = users.create_user(rt.db, email="hub@council.example", role="hub_coordinator",
                            team="early_help_hub:melton-hub", name="Hub")
    gone = users.create_user(rt.db, email="gone@council.example", role="hub_coordinator",
                             team="early_help_hub:charnwood-hub", name="Gone")
    admin.deactivate(rt, admin=boss, user_id=gone.id)
    found = admin.list_users(rt, admin=boss, args={"team": "early_help_hub"})
    assert [u.id for u in found.users] == [hub.id]
    found = admin.list_users(rt, admin=boss, args={"team": "early_help_hub", "active": ""})
    assert {u.id for u in found.users} == {hub.id, gone.id}
    found = admin.list_users(rt, admin=boss, args={"role": "admin"})
    assert [u.id for u in found.users] == [boss.id]
    with pytest.raises(ValidationFailed) as bad:
        admin.list_users(rt, admin=boss, args={"role": "king", "page": "0"})
    assert set(bad.value.errors) == {"role", "page"}


def _worker_with_token(rt):
    worker = users.create_user(rt.db, email="worker@council.example", role="practitioner",
                               team="first_contact_plus", name="Pat Worker", password=PASSWORD)
    return worker, users.create_token(rt.db, email=worker.email)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_remembered_token_after_a_database_restart_answers_503_then_works(
        rt, client, database_url):
    from tests.conftest import kill_connections

    _, token = _worker_with_token(rt)
    assert client.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    assert kill_connections(database_url) >= 1
    statuses = [client.get("/api/v1/cases", headers=_bearer(token)).status_code
                for _ in range(3)]
    assert statuses[0] in (200, 503) and 500 not in statuses
    assert statuses[-1] == 200


@both_databases
def test_an_account_locked_everywhere_is_listed_first_until_unlocked(rt, boss):
    from triage.models import SignInAttempt

    worker, _ = _worker_with_token(rt)
    with pytest.raises(signin.SignInRefused):  # one refused attempt on the boss's account
        signin.sign_in(rt, email=boss.email, password="wrong-password-x")
    with rt.db.unit_of_work() as session:
        for _ in range(rt.settings.signin_max_failures_per_hour):
            session.add(SignInAttempt(user_id=worker.id, at=utcnow(), succeeded=False))
    overview = access.overview(rt, admin=boss)
    assert [(a.user.id, a.locked) for a in overview.accounts] == [
        (worker.id, True), (boss.id, False)]
    with pytest.raises(signin.SignInRefused):
        signin.sign_in(rt, email=worker.email, password=PASSWORD)
    access.unlock(rt, admin=boss, user_id=worker.id)
    assert [(a.user.id, a.locked) for a in access.overview(rt, admin=boss).accounts] == [
        (worker.id, False), (boss.id, False)]
    assert signin.sign_in(rt, email=worker.email, password=PASSWORD)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_process_that_is_not_listening_reads_the_account_on_every_request(
        rt, boss, other_process):
    """Until its listener connects (or while it reconnects) a process cannot hear of a
    change, so it re-reads the account before trusting a remembered token: refused at once."""
    worker, token = _worker_with_token(rt)
    elsewhere = other_process.test_client()
    changes = other_process.extensions["triage"].db.account_changes
    changes.stop()
    deadline = time.monotonic() + 10
    while changes.trusted() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not changes.trusted()
    assert elsewhere.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    token_id = access.tokens_of(rt, admin=boss, user_id=worker.id)[0].id
    access.revoke(rt, admin=boss, user_id=worker.id, token_id=token_id)
    assert elsewhere.get("/api/v1/cases", headers=_bearer(token)).status_code == 401


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_change_made_by_hand_in_sql_is_heard_and_a_racing_read_is_not_remembered(
        rt, other_process):
    """The triggers of migration 0026 announce any change to an account, however made; and
    a token read while a change is heard is used but not remembered."""
    from sqlalchemy import text

    worker, token = _worker_with_token(rt)
    db = other_process.extensions["triage"].db
    elsewhere = other_process.test_client()
    deadline = time.monotonic() + 5
    while not db.account_changes.trusted() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert elsewhere.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    heard = db.account_changes.heard
    with rt.db.engine.begin() as conn:  # a DBA disables the account
        conn.execute(text("UPDATE user_account SET active = false WHERE id = :id"),
                     {"id": worker.id})
    assert _status_soon(elsewhere, token, 401) == 401
    assert db.account_changes.heard > heard

    # A change heard while a token's account is being read: the answer is used once, and
    # the next request reads again rather than trusting it.
    with rt.db.engine.begin() as conn:
        conn.execute(text("UPDATE user_account SET active = true WHERE id = :id"),
                     {"id": worker.id})
    second = users.create_token(rt.db, email=worker.email)
    original = db.reader

    def reader_hearing_a_change():
        db.account_changes._heard += 1  # as the listener does on hearing one
        return original()

    db.reader = reader_hearing_a_change
    try:
        assert users.user_for_token(db, second).id == worker.id
    finally:
        db.reader = original
    assert db.token_cache.get(users.token_digest(second)) is None
