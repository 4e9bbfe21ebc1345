"""Partners' batches: many referrals in one request, recorded all together or not at all.

Fire and Rescue, Police and other partners keep lists (a vulnerable persons register, a
week of safe and well visits) and send them in one go, by the API or as a CSV file from a
spreadsheet. Every referral of a batch is validated first and every problem of every one is
named; if there is any, nothing is recorded, so a partner fixes the file and sends it again
without working out which rows went in. A valid batch is recorded in one transaction, each
referral exactly as if it had been sent alone (matching, decision, routing, audit, outbox),
and an Idempotency-Key makes sending the same batch again safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session

from triage.errors import ValidationFailed
from triage.models import User
from triage.policy import SUBMIT_REFERRALS, require
from triage.runtime import Runtime
from triage.schemas import batch_csv
from triage.schemas.output import referral_out_for
from triage.services.referrals import intake

log = logging.getLogger(__name__)


def submit_csv(rt: Runtime, *, user: User, data: bytes, idempotency_key: str | None = None
               ) -> tuple[int, dict[str, Any]]:
    """Record a batch sent as a CSV file (see triage.schemas.batch_csv); as submit_batch,
    with each problem keyed `rows.<row>.<column>` and each referral answered with its
    `row`."""
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
                        problems=batch.problems, rows=batch.rows)


def submit_batch(rt: Runtime, *, user: User, body: Any, idempotency_key: str | None = None,
                 where: Callable[[int, str], str] | None = None,
                 problems: Mapping[int, Mapping[str, list[str]]] | None = None,
                 rows: list[int] | None = None) -> tuple[int, dict[str, Any]]:
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
            parsed.append(intake.parse_referral(rt, _for_partner(referral, user)))
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

    def record(session: Session) -> dict[str, Any]:
        out = referral_out_for(user)
        recorded = [
            out.dump(intake.record_referral(rt, session, user=user, data=data, body=raw))
            for data, raw in zip(parsed, bodies, strict=True)]
        if rows is not None:
            recorded = [{"row": row, **referral}
                        for row, referral in zip(rows, recorded, strict=True)]
        return {"count": len(recorded), "referrals": recorded}

    status, response = intake.store_once(rt, user=user, key=key, body=fingerprint,
                                         record=record)
    log.info("referral_batch.created", extra={
        "count": response["count"], "reference": response["referrals"][0]["reference"]})
    return status, response


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
