"""Emailing notifications over SMTP when TRIAGE_SMTP_URL is set (otherwise they are only stored).

A notification is claimed (a conditional UPDATE) before it is sent and marked sent after, each
in its own short transaction, so the SMTP conversation never holds a database lock and two
senders never send the same row. Sending happens right after the outbox handler that wrote the
notification commits, and a periodic sweep sends whatever that left (server down, process
killed). A process killed between the server accepting a message and the row being marked can
send it once more: email is at least once.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Iterable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, update
from sqlmodel import select

from config.teams import Teams
from triage.models import Notification, User
from triage.models.base import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# A claim older than this is a sender that died (or a failed attempt): try again.
RETRY_AFTER = timedelta(minutes=5)
# Notifications stored while no SMTP server was configured are not emailed later.
SEND_WITHIN = timedelta(days=1)


class Mailer:
    """One SMTP connection for a batch of messages, from TRIAGE_SMTP_URL."""

    def __init__(self, url: str, *, sender: str, timeout: float):
        self.parts = urlsplit(url)
        self.sender = sender
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        p = self.parts
        context = ssl.create_default_context()
        if p.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(p.hostname, p.port or 465,
                                                  timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(p.hostname, p.port or 25, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif p.username:
                smtp.close()
                raise smtplib.SMTPException("the server offers no STARTTLS; refusing to send "
                                            "the password in clear (use smtps://)")
        if p.username:
            smtp.login(unquote(p.username), unquote(p.password or ""))
        self._smtp = smtp
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                self._smtp.close()

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        self._smtp.send_message(message)


def addresses(session, row: Notification, teams: Teams) -> list[str]:
    """Who a notification goes to by email: its own address, or every active member of the
    teams it is for (team:<service>:<instance> reaches every team covering that instance:
    its own, its service's, a team of several instances; team:<service> the service's)."""
    if row.email:
        return [row.email]
    if not row.recipient.startswith("team:"):
        return []
    team = row.recipient[len("team:"):]
    service, _, instance = team.partition(":")
    if instance:
        covering = teams.covering(service, instance)
    else:
        covering = (team,) + tuple(t.id for t in teams if t.service == service
                                   and t.whole_service and t.id != team)
    found = session.exec(select(User.email).where(User.active.is_(True),
                                                  User.team.in_(covering),
                                                  User.role != "partner")).all()
    return sorted(set(found))


def _claim(rt: Any, notification_id: int, now) -> bool:
    with rt.db.unit_of_work() as session:
        result = session.execute(
            update(Notification.__table__)
            .where(Notification.__table__.c.id == notification_id,
                   Notification.__table__.c.sent_at.is_(None),
                   Notification.__table__.c.email_attempts < MAX_ATTEMPTS,
                   or_(Notification.__table__.c.email_claimed_at.is_(None),
                       Notification.__table__.c.email_claimed_at < now - RETRY_AFTER))
            .values(email_claimed_at=now,
                    email_attempts=Notification.__table__.c.email_attempts + 1))
        return result.rowcount == 1


def _finish(rt: Any, notification_id: int, *, error: str | None,
            give_up: bool = False) -> None:
    with rt.db.unit_of_work() as session:
        values: dict[str, Any] = {"email_error": error}
        if error is None:
            values["sent_at"] = utcnow()
        if give_up:
            values["email_attempts"] = MAX_ATTEMPTS
        session.execute(update(Notification.__table__)
                        .where(Notification.__table__.c.id == notification_id).values(**values))


def unsent(rt: Any, *, outbox_ids: Iterable[int] | None = None, limit: int = 100) -> list[int]:
    now = utcnow()
    with rt.db.reader() as session:
        stmt = select(Notification.id).where(
            Notification.sent_at.is_(None), Notification.created_at >= now - SEND_WITHIN,
            Notification.email_attempts < MAX_ATTEMPTS,
            or_(Notification.email.is_not(None), Notification.recipient.startswith("team:")),
            or_(Notification.email_claimed_at.is_(None),
                Notification.email_claimed_at < now - RETRY_AFTER))
        if outbox_ids is not None:
            stmt = stmt.where(Notification.outbox_id.in_(list(outbox_ids)))
        return list(session.exec(stmt.order_by(Notification.id).limit(limit)).all())


def send_pending(rt: Any, *, outbox_ids: Iterable[int] | None = None) -> int:
    """Email the unsent notifications (of these outbox messages, or all recent ones); returns
    how many were sent. Does nothing without TRIAGE_SMTP_URL."""
    settings = rt.settings
    if not settings.smtp_url:
        return 0
    ids = unsent(rt, outbox_ids=outbox_ids)
    if not ids:
        return 0
    sent = 0
    try:
        with Mailer(settings.smtp_url, sender=settings.mail_from,
                    timeout=settings.smtp_timeout_seconds) as mailer:
            for notification_id in ids:
                now = utcnow()
                if not _claim(rt, notification_id, now):
                    continue
                with rt.db.reader() as session:
                    row = session.get(Notification, notification_id)
                    to = addresses(session, row, rt.profile.teams)
                    body = _body(rt, session, row)
                if not to or body is None:
                    _finish(rt, notification_id, error="no address" if not to else "ended",
                            give_up=True)
                    continue
                try:
                    for address in to:
                        mailer.send(address, row.subject, body)
                except (smtplib.SMTPException, OSError) as exc:
                    _finish(rt, notification_id, error=type(exc).__name__)
                    log.warning("mail.failed", extra={"count": 1, "error": type(exc).__name__})
                    continue
                _finish(rt, notification_id, error=None)
                sent += 1
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("mail.unavailable", extra={"error": type(exc).__name__})
    if sent:
        log.info("mail.sent", extra={"count": sent})
    return sent


# kind -> link(rt, session, notification): a link composed as the email is sent (a password
# reset's, whose token is never stored), or None when it no longer works (nothing is sent).
LINKS: dict[str, Callable[[Any, Any, Notification], str | None]] = {}


def link_for(kind: str) -> Callable:
    def register(fn: Callable[[Any, Any, Notification], str | None]) -> Callable:
        LINKS[kind] = fn
        return fn

    return register


def _body(rt: Any, session: Any, row: Notification) -> str | None:
    make_link = LINKS.get(row.kind)
    if make_link is None:
        return f"{row.body}\n\nSign in to see more: {rt.settings.base_url}\n"
    link = make_link(rt, session, row)
    return None if link is None else f"{row.body}\n\n{link}\n"
