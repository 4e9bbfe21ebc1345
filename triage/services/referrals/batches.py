"""Partners' batches: many referrals in one request, recorded all together or not at all.

Fire and Rescue, Police and other partners keep lists (a vulnerable persons register, a
week of safe and well visits) and send them in one go, by the API or as a CSV file from a
spreadsheet. Every referral of a batch is validated first and every problem of every one is
named; if there is any, nothing is recorded, so a partner fixes the file and sends it again
without working out which rows went in. A valid batch is recorded in one transaction, each
referral exactly as if it had been sent alone (matching, decision, routing, audit, outbox),
and an Idempotency-Key makes sending the same batch again safe.

A CSV file identical to one the same organisation (or, without one, the same user) sent in
the last 30 days is refused with a 409 naming when it went, unless the sender confirms it
means to record every row again: a file sent twice by mistake would record each row twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from triage.errors import Conflict, ValidationFailed
from triage.models import BatchFingerprint, User
from triage.models.base import utcnow
from triage.policy import SUBMIT_REFERRALS, require
from triage.runtime import Runtime
from triage.schemas import batch_csv
from triage.schemas.output import referral_out_for
from triage.services.people import identity
from triage.services.referrals import intake

log = logging.getLogger(__name__)

# How long a CSV file's fingerprint is looked for: the same file again within it is a 409.
DUPLICATE_WINDOW = timedelta(days=30)
_LONDON = ZoneInfo("Europe/London")


class DuplicateFile(Conflict):
    """The same CSV file was already recorded for this sender: `duplicate_of` says when."""

    def __init__(self, sent_at: datetime, count: int, references: list[str]):
        self.sent_at, self.count, self.references = sent_at, count, references
        first = f", first reference {references[0]}" if references else ""
        super().__init__(
            f"This file was already sent on {_when(sent_at)} ({count} "
            f"referral{'' if count == 1 else 's'}{first}). Send it again only if you "
            "mean to record every row again: add ?confirm=duplicate.",
            duplicate_of={"sent_at": sent_at.isoformat(), "count": count,
                          "references": references})


def file_fingerprint(data: bytes) -> str:
    """SHA-256 of a file's bytes without a UTF-8 BOM and with \r\n and \r read as \n: the
    same spreadsheet saved again on another computer has the same fingerprint."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return hashlib.sha256(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")).hexdigest()


def submit_csv(rt: Runtime, *, user: User, data: bytes, idempotency_key: str | None = None,
               confirm_duplicate: bool = False) -> tuple[int, dict[str, Any]]:
    """Record a batch sent as a CSV file (see triage.schemas.batch_csv); as submit_batch,
    with each problem keyed `rows.<row>.<column>` and each referral answered with its
    `row`. The same file as one this sender's organisation (or the user, without one) sent
    in the last 30 days raises DuplicateFile (409) and records nothing, unless
    `confirm_duplicate`; a retry with the first one's Idempotency-Key is replayed as ever."""
    require(user, SUBMIT_REFERRALS, "submit referrals")
    try:
        batch = batch_csv.read(rt.profile, data,
                               channel="partner" if user.role == "partner" else "staff",
                               max_rows=rt.settings.max_batch_referrals)
    except batch_csv.FileProblem as exc:
        raise ValidationFailed(exc.errors, message=(
            "The file cannot be read as a batch of referrals: " + str(exc) +
            " Nothing was recorded.")) from None
    return submit_batch(rt, user=user, body={"referrals": batch.bodies},
                        idempotency_key=idempotency_key, where=batch.where,
                        problems=batch.problems, rows=batch.rows,
                        file=file_fingerprint(data), confirm_duplicate=confirm_duplicate)


def submit_batch(rt: Runtime, *, user: User, body: Any, idempotency_key: str | None = None,
                 where: Callable[[int, str], str] | None = None,
                 problems: Mapping[int, Mapping[str, list[str]]] | None = None,
                 rows: list[int] | None = None, file: str | None = None,
                 confirm_duplicate: bool = False) -> tuple[int, dict[str, Any]]:
    """Record a batch `{"referrals": [referral, ...]}`; returns (201, {"count", "referrals":
    [referral as POST /referrals answers, in the batch's order]}).

    422 names every problem as `referrals.<i>.<field path>` (or, with `where`, the key it
    gives for referral i and field path: a CSV's row and column), with `problems` already
    found in the batch's source (by referral index), and records nothing."""
    require(user, SUBMIT_REFERRALS, "submit referrals")
    bodies = _referrals_of(rt, body)
    # What an Idempotency-Key is checked against: the batch, and for a file the row each
    # referral came from (the answer names them).
    fingerprint = body if rows is None else {**body, "rows": rows}
    key, replay = intake.idempotency(rt, user, idempotency_key, fingerprint)
    if replay is not None:
        return replay
    where = where or _path
    problems = problems or {}
    parsed, errors, bad = [], {}, set(problems)
    for i, referral in enumerate(bodies):
        found = problems.get(i, {})
        for place, messages in found.items():
            errors.setdefault(place, []).extend(messages)
        try:
            data = intake.parse_referral(rt, _for_partner(referral, user))
            if data.identity:  # a batch is never linked on a guess, nor on an answer
                raise ValidationFailed({"identity": [identity.BATCH_NOT_ALLOWED]})
            parsed.append(data)
        except ValidationFailed as exc:
            bad.add(i)
            for path, messages in exc.errors.items():
                place = where(i, path)
                if place not in found:  # a bad cell is left out: not "missing" as well
                    errors.setdefault(place, []).extend(messages)
    if errors:
        bad = len(bad)
        raise ValidationFailed(errors, message=(
            f"{bad} of the {len(bodies)} referrals in this batch "
            f"{'has' if bad == 1 else 'have'} problems, named in errors. Nothing was "
            "recorded: correct them and send the whole batch again."))
    if file is not None and not confirm_duplicate:
        _refuse_if_sent_before(rt, user, file)

    def record(session: Session) -> dict[str, Any]:
        out = referral_out_for(user)
        recorded = [
            out.dump(intake.record_referral(rt, session, user=user, data=data, body=raw))
            for data, raw in zip(parsed, bodies, strict=True)]
        if rows is not None:
            recorded = [{"row": row, **referral}
                        for row, referral in zip(rows, recorded, strict=True)]
        if file is not None:  # in the batch's transaction: both recorded, or neither
            session.add(BatchFingerprint(
                sender=_sender(user), user_id=user.id, fingerprint=file,
                count=len(recorded), references=[r["reference"] for r in recorded]))
        return {"count": len(recorded), "referrals": recorded}

    status, response = intake.store_once(rt, user=user, key=key, body=fingerprint,
                                         record=record)
    log.info("referral_batch.created", extra={
        "count": response["count"], "reference": response["referrals"][0]["reference"]})
    return status, response


def _sender(user: User) -> str:
    return f"organisation:{user.organisation}" if user.organisation else f"user:{user.id}"


def _refuse_if_sent_before(rt: Runtime, user: User, file: str) -> None:
    """DuplicateFile for the latest batch of this file from this sender within
    DUPLICATE_WINDOW, if there is one."""
    with rt.db.reader() as session:
        earlier = session.exec(select(BatchFingerprint).where(
            BatchFingerprint.sender == _sender(user), BatchFingerprint.fingerprint == file,
            BatchFingerprint.sent_at >= utcnow() - DUPLICATE_WINDOW,
        ).order_by(BatchFingerprint.sent_at.desc(), BatchFingerprint.id.desc())).first()
        if earlier is not None:
            raise DuplicateFile(earlier.sent_at, earlier.count, list(earlier.references))


def _when(moment: datetime) -> str:
    """5 January 2026 at 2:05pm, London time."""
    local = moment.astimezone(_LONDON)
    hour = local.hour % 12 or 12
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def _referrals_of(rt: Runtime, body: Any) -> list[Any]:
    if not isinstance(body, dict) or set(body) != {"referrals"}:
        raise ValidationFailed({"_schema": [
            'The body must be a JSON object {"referrals": [referral, ...]} and nothing else.']})
    bodies = body["referrals"]
    limit = rt.settings.max_batch_referrals
    if not isinstance(bodies, list) or not bodies:
        raise ValidationFailed({"referrals": ["Send a list of at least one referral."]})
    if len(bodies) > limit:
        raise ValidationFailed({"referrals": [
            f"A batch holds at most {limit} referrals; this one has {len(bodies)}. "
            "Send it in parts."]})
    return bodies


def _for_partner(referral: Any, user: User) -> Any:
    """A partner's rows need not repeat what its account says: the partner channel and its
    organisation, which replace whatever a row says (as for a single referral)."""
    if user.role != "partner" or not isinstance(referral, dict):
        return referral
    referrer = referral.get("referrer", {})
    if not isinstance(referrer, dict):
        return referral
    return {**referral, "channel": "partner",
            "referrer": {**referrer, "organisation": user.organisation}}


def _path(i: int, path: str) -> str:
    return f"referrals.{i}" if path == "_schema" else f"referrals.{i}.{path}"
