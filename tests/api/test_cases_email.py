"""Notifications by email when TRIAGE_SMTP_URL is set: the referrer and the team get their
messages once; a mail server that is down delays them, the mail sweep sends them later."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import replace
from email import message_from_string
from email.policy import default as email_policy

import pytest
from sqlmodel import select

from tests.api.cases_helpers import fire, open_case, team
from triage.models import Notification
from triage.services.notices import mail
from triage.services.referrals import intake


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (no TLS, no auth) to receive messages."""

    def handle(self) -> None:
        self.wfile.write(b"220 sink ESMTP\r\n")
        recipients: list[str] = []
        lines: list[str] | None = None
        while raw := self.rfile.readline():
            line = raw.decode().rstrip("\r\n")
            if lines is not None:
                if line == ".":
                    self.server.messages.append((recipients, "\n".join(lines)))
                    recipients, lines = [], None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line[1:] if line.startswith("..") else line)
                continue
            command = line.upper()
            if command.startswith("EHLO"):
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif command.startswith("RCPT TO:"):
                recipients.append(line[8:].strip(" <>"))
                self.wfile.write(b"250 ok\r\n")
            elif command == "DATA":
                lines = []
                self.wfile.write(b"354 go ahead\r\n")
            elif command == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # HELO, MAIL FROM, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_sink():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def mail_app(settings, smtp_sink):
    from triage import create_app

    url = f"smtp://127.0.0.1:{smtp_sink.server_address[1]}"
    app = create_app(replace(settings, smtp_url=url, mail_from="eh@council.example"),
                     background=False, synchronous_tasks=True)
    yield app
    app.extensions["triage"].relay.stop()
    app.extensions["triage"].db.dispose()


def _received(sink) -> list[tuple[str, str]]:
    return [(to, str(message_from_string(text, policy=email_policy)["Subject"]).strip())
            for rcpts, text in sink.messages
            for to in rcpts]


def test_the_referrer_and_the_team_are_emailed_once(mail_app, smtp_sink, referral_body):
    from triage.services.accounts import users

    rt = mail_app.extensions["triage"]
    client = mail_app.test_client()
    partner = users.create_user(rt.db, email="officer@fire.example", role="partner",
                                   organisation="Fire")
    worker = users.create_user(rt.db, email="coordinator@council.example",
                                  role="practitioner", team=team("local_area_coordination"))
    headers = {"Authorization": f"Bearer {users.create_token(rt.db, email=partner.email)}"}
    work = {"Authorization": f"Bearer {users.create_token(rt.db, email=worker.email)}"}
    _, case_id = open_case(client, headers, referral_body, "local_area_coordination")
    fire(client, work, case_id, "introduce")
    fire(client, work, case_id, "close", outcome="needs_met")
    received = _received(smtp_sink)
    assert ("officer@fire.example", "Referral EH-2026-000001 received") in received
    assert ("coordinator@council.example",
            "New case for Melton North coordinator: EH-2026-000001") in received
    assert [s for to, s in received if to == "officer@fire.example"][1:] == [
        "Referral EH-2026-000001: accepted by Melton North coordinator",
        "Referral EH-2026-000001: case closed by Melton North coordinator (Needs met)"]
    assert all("Gwen" not in text for _, text in smtp_sink.messages)
    assert mail.send_pending(rt) == 0, "nothing is sent twice"
    assert len(smtp_sink.messages) == 4
    with rt.db.reader() as session:
        assert all(n.sent_at is not None for n in session.exec(select(Notification)).all())


def test_a_referrer_without_an_account_is_emailed_at_the_address_they_gave(
        mail_app, smtp_sink, referral_body):
    rt = mail_app.extensions["triage"]
    body = referral_body(channel="self", referrer={"email": "me@home.example"})
    status, created = intake.submit_referral(rt, user=None, body=body)
    assert status == 201
    client = mail_app.test_client()
    from triage.services.accounts import users

    users.create_user(rt.db, email="lac@council.example", role="practitioner",
                         team="local_area_coordination")
    token = users.create_token(rt.db, email="lac@council.example")
    fire(client, {"Authorization": f"Bearer {token}"}, created["cases"][0]["id"], "decline",
         reason="outside_area")
    assert ("me@home.example", f"Referral {created['reference']}: declined by Melton North "
                               "coordinator") in _received(smtp_sink)


def test_a_mail_server_that_is_down_delays_the_email_and_the_sweep_sends_it(
        mail_app, smtp_sink, referral_body):
    from triage.services.accounts import users

    rt = mail_app.extensions["triage"]
    working = rt.settings
    rt.settings = replace(working, smtp_url="smtp://127.0.0.1:1")  # nothing listens there
    partner = users.create_user(rt.db, email="officer@police.example", role="partner",
                                   organisation="Police")
    token = users.create_token(rt.db, email=partner.email)
    open_case(mail_app.test_client(), {"Authorization": f"Bearer {token}"}, referral_body,
              "first_contact_plus")
    assert smtp_sink.messages == []
    with rt.db.reader() as session:
        waiting = session.exec(select(Notification).where(
            Notification.recipient == f"user:{partner.id}")).one()
    assert waiting.sent_at is None
    rt.settings = working
    rt.relay.tick()  # the embedded timer runs the mail sweep
    assert ("officer@police.example", "Referral EH-2026-000001 received") in _received(
        smtp_sink)
