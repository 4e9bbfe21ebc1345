"""The transactional outbox: messages written with the change, delivered exactly once after commit.

The database, not the broker, is the source of truth. A message is `pending` until a relay
hands it to Celery (`dispatched`), and `done` only when its handler's effects and the status
change commit together. The sweeper re-sends whatever sits pending or dispatched too long, so
a lost Redis message, a killed worker or a broker outage delays work but never loses it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, select

from triage.models import OutboxMessage, OutboxStatus
from triage.models.base import utcnow
from triage.statements import BySize, Row, in_list, new_row

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20

# topic -> handler(session, runtime, payload, message_id). Handlers only flush.
HANDLERS: dict[str, Callable[..., None]] = {}


def handler(topic: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def register(fn: Callable[..., None]) -> Callable[..., None]:
        HANDLERS[topic] = fn
        return fn

    return register


def enqueue(session: Session, *, topic: str, payload: dict[str, Any],
            key: int | None = None) -> Row:
    """Add a message to the caller's transaction; it exists only if the transaction commits.
    `key`: its id, taken beforehand with statements.next_keys, so the row waits to go in with
    the transaction's other writes (Prepared.later) instead of being inserted now for it."""
    values = {"id": key} if key is not None else {}
    message = new_row(session, OutboxMessage, topic=topic, payload=payload, **values)
    session.info.setdefault("outbox", []).append(message)
    return message


def committed_ids(session: Session) -> list[int]:
    """Ids of the messages this session enqueued (read after flush or commit)."""
    return [m.id for m in session.info.get("outbox", [])]


def before_done(session: Session, work: Callable[[Session], None]) -> None:
    """Run `work(session)` once, after the transaction's handlers and before its messages are
    marked done (e.g. write every notification of a batch in one multi-row insert)."""
    hooks: list = session.info.setdefault("before_done", [])
    if work not in hooks:
        hooks.append(work)


def _finish_handlers(session: Session) -> None:
    for work in session.info.pop("before_done", []):
        work(session)


def after_commit(session: Session, work: Callable[[Any], None]) -> None:
    """Run `work(rt)` once the handler's transaction has committed (e.g. send the emails of the
    notifications it wrote). Best effort: whatever it leaves undone, a periodic sweep does."""
    session.info.setdefault("after_commit", []).append(work)


def _followed_up(rt: Any, session: Session) -> None:
    """After a handler's transaction commits: hand on the messages it enqueued (a linked
    referral's own messages), then run its after-commit work."""
    ids = committed_ids(session)
    if ids and getattr(rt, "relay", None) is not None:
        rt.relay.after_commit(ids)
    for work in session.info.get("after_commit", []):
        try:
            work(rt)
        except Exception as exc:  # noqa: BLE001 - the periodic sweeps finish it
            log.warning("outbox.after_commit_failed", extra={"error": type(exc).__name__})


def deliver(rt: Any, message_id: int) -> str:
    """Run a message's handler once. Safe to call any number of times for the same id."""
    with rt.db.unit_of_work() as session:
        message = session.get(OutboxMessage, message_id, with_for_update=not rt.db.is_sqlite)
        if message is None:
            return "missing"
        if message.status in (OutboxStatus.done, OutboxStatus.failed):
            return "already-done"
        fn = HANDLERS.get(message.topic)
        if fn is None:
            message.status = OutboxStatus.failed
            message.last_error = f"no handler for topic {message.topic}"
            return "failed"
        fn(session, rt, dict(message.payload), message.id)
        _finish_handlers(session)
        message.status = OutboxStatus.done
        message.completed_at = utcnow()
    log.info("outbox.delivered", extra={"outbox_id": message_id, "topic": message.topic})
    _followed_up(rt, session)
    return "done"


def deliver_batch(rt: Any, message_ids: list[int]) -> int:
    """Deliver many messages in one transaction (cheaper under load); if any handler fails,
    nothing of the batch commits and each message is then delivered on its own."""
    try:
        with rt.db.unit_of_work() as session:
            size, params = in_list("m", message_ids)
            messages = _CLAIM[size].records(session, params)
            for message in messages:
                HANDLERS[message.topic](session, rt, dict(message.payload), message.id)
            _finish_handlers(session)
            if messages:
                size, params = in_list("m", [m.id for m in messages])
                _MARK_DONE[size].rows(session, {**params, "now": utcnow()})
        _followed_up(rt, session)
        return len(messages)
    except Exception:  # noqa: BLE001 - retried one by one so one bad message blocks no other
        done = 0
        for message_id in message_ids:
            try:
                done += deliver(rt, message_id) == "done"
            except Exception as exc:  # noqa: BLE001
                record_failure(rt, message_id, exc)
        return done


_OUTBOX = OutboxMessage.__table__
_WAITING = (OutboxStatus.pending, OutboxStatus.dispatched)


def _among(n: int):
    return _OUTBOX.c.id.in_([bindparam(f"m{i}") for i in range(n)])


# The batch's messages still waiting, locked; on PostgreSQL those another deliverer holds
# are skipped (it delivers them), SQLite's write transaction already excludes others.
_CLAIM = BySize(lambda n: select(_OUTBOX.c.id, _OUTBOX.c.topic, _OUTBOX.c.payload)
                .where(_among(n), _OUTBOX.c.status.in_([bindparam(f"w{i}", status)
                                                        for i, status in enumerate(_WAITING)]))
                .order_by(_OUTBOX.c.id).with_for_update(skip_locked=True))
_MARK_DONE = BySize(lambda n: update(_OUTBOX).where(_among(n))
                    .values(status=OutboxStatus.done, completed_at=bindparam("now")))


def record_failure(rt: Any, message_id: int, error: BaseException) -> None:
    with rt.db.unit_of_work() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None or message.status == OutboxStatus.done:
            return
        message.attempts += 1
        message.last_error = f"{type(error).__name__}"[:500]
        message.available_at = utcnow() + timedelta(seconds=min(600, 2 ** message.attempts))
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.failed


def mark_dispatched(rt: Any, ids: list[int]) -> None:
    """Record a hand-over to the broker. A re-sent stuck message gets a fresh dispatched_at,
    so the sweep waits `outbox_stuck_after_seconds` again instead of re-sending it every tick."""
    if not ids:
        return
    with rt.db.unit_of_work() as session:
        session.exec(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids),
                   OutboxMessage.status.in_([OutboxStatus.pending, OutboxStatus.dispatched]))
            .values(status=OutboxStatus.dispatched, dispatched_at=utcnow())
        )


def due_for_sweep(rt: Any, *, limit: int = 500) -> list[int]:
    """Messages that should have been delivered by now: pending, or dispatched and stuck."""
    now = utcnow()
    stuck_before = now - timedelta(seconds=rt.settings.outbox_stuck_after_seconds)
    grace = now - timedelta(seconds=2)
    with rt.db.reader() as session:
        rows = session.exec(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.available_at <= now,
                or_(
                    (OutboxMessage.status == OutboxStatus.pending)
                    & (OutboxMessage.created_at <= grace),
                    (OutboxMessage.status == OutboxStatus.dispatched)
                    & (OutboxMessage.dispatched_at <= stuck_before),
                ),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    return list(rows)


def counts(rt: Any) -> dict[str, int]:
    from sqlalchemy import func

    with rt.db.reader() as session:
        rows = session.exec(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    return {status: n for status, n in rows}
