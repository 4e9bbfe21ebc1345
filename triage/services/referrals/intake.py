"""Intake: validate a referral, record it with its people and household, decide, route, tell.

One unit of work per referral: the referral, its people, its decision, its cases, the audit
row, the idempotency record and the outbox messages commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from triage.errors import NotFound, ValidationFailed, flatten_errors
from triage.models import (
    Case,
    Decision,
    Household,
    IdempotencyRecord,
    OutboxMessage,
    Person,
    Referral,
    ReferralPerson,
    User,
)
from triage.models.account import Role
from triage.models.base import utcnow
from triage.policy import (
    CHECK_KNOWN_PEOPLE,
    PREVIEW_DECISIONS,
    SUBMIT_REFERRALS,
    can_view_referral,
    may,
    require,
)
from triage.runtime import Runtime
from triage.schemas.output import referral_out_for
from triage.schemas.referral import ReferralInput, referral_schema_for
from triage.services import audit
from triage.services.notices import notify, outbox
from triage.services.people import identity
from triage.services.people.matching import (
    add_members,
    create_household,
    create_people,
    match_people,
    update_address,
)
from triage.services.privacy import visibility
from triage.services.referrals import allocation, re_referral, routing
from triage.services.referrals.known_family import known_family
from triage.statements import Row, new_row, new_rows, next_keys

log = logging.getLogger(__name__)


@dataclass
class ReferralRecord:
    """A referral with everything shown beside it; what ReferralOutSchema dumps."""

    referral: Referral | Row
    people: list[tuple[ReferralPerson | Row, Person | Row]]
    decision: Decision | Row | None
    override: Decision | None
    cases: list[Case | Row]
    place: dict[str, Any] | None = None
    linked_referral: str | None = None
    household: Household | Row | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    re_referral: re_referral.ReReferral | None = None


def parse_referral(rt: Runtime, body: Any) -> ReferralInput:
    """Validate a referral body against the profile's checklist; name every problem."""
    if not isinstance(body, dict):
        raise ValidationFailed({"_schema": ["The body must be a JSON object (a referral)."]})
    try:
        return referral_schema_for(rt.profile).load(body)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None


def _request_hash(body: Any) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def preview(rt: Runtime, *, user: User, body: Any) -> dict[str, Any]:
    """The decision a referral would get now; nothing is stored. For staff the family is
    matched with the same read steps recording uses, so a known family's open family-support
    case counts (the live decision equals the recorded one), and each person not matched
    exactly is given the known people who may be them (`candidates`, by person ref; the
    views are audited, ids only); any `identity` answers are checked and applied as
    recording would. A partner's preview decides as if the family were unknown, so it never
    reveals whether it is."""
    require(user, PREVIEW_DECISIONS, "preview triage decisions")
    data = parse_referral(rt, body)
    identity.refuse_identity(user, data)
    if user.role == Role.partner:
        decision = routing.decide(rt, data, referral_date=date.today(),
                                  open_family_support=None)
        body = routing.decision_body(decision)
        if rt.profile.allocation:
            # Where it would go now (teams' loads, never whether the family is known).
            with rt.db.reader() as session:
                body["routes"] = allocation.allocate_routes(rt, session, body["routes"],
                                                            household_id=None)
        return body
    shown: dict[str, list[dict[str, Any]]] = {}
    with rt.db.reader() as session:
        found = match_people(session, data.people, profile_id=rt.profile.id)
        if may(user, CHECK_KNOWN_PEOPLE):
            candidates = identity.visible_to(session, user, identity.offered(
                session, rt.profile, data, found), rt.profile.teams)
            found = identity.resolve(data, found, candidates)
            shown = identity.shown(session, candidates)
        now = utcnow()
        family = known_family(session, postcode=data.postcode, found=found, now=now,
                              re_referral_months=None,
                              services=rt.profile.family_support_services)
        decided = routing.decide_new(rt, session, data,
                                     household_id=family.household.id if family.household
                                     else None,
                                     known_household=family.household is not None,
                                     received_at=now,
                                     open_family_support=family.open_family_support)
    if shown:
        ids = sorted({c["person"]["id"] for found in shown.values() for c in found})
        with rt.db.unit_of_work() as session:
            # As a search: a subject access export finds the view by detail.person_ids.
            audit.record(session, actor=user, action="person.candidates_view",
                         object_type="person", object_id="candidates", person_ids=ids,
                         count=len(ids))
    if not may(user, CHECK_KNOWN_PEOPLE):
        return decided.body
    return {**decided.body, "candidates": shown}


def submit_referral(rt: Runtime, *, user: User | None, body: Any,
                    idempotency_key: str | None = None) -> tuple[int, dict[str, Any]]:
    """Record a referral; returns (HTTP status, referral body). Retries with the same
    Idempotency-Key and body return the first response and create nothing."""
    if user is not None:
        require(user, SUBMIT_REFERRALS, "submit referrals")
    key, replay = idempotency(rt, user, idempotency_key, body)
    if replay is not None:
        return replay  # a retry: the first answer, nothing created
    data = _for_submitter(parse_referral(rt, body), user)

    def record(session: Session) -> dict[str, Any]:
        return referral_out_for(user).dump(
            record_referral(rt, session, user=user, data=data, body=body))

    status, response = store_once(rt, user=user, key=key, body=body, record=record)
    log.info("referral.created", extra={"reference": response["reference"],
                                        "status": response["status"]})
    return status, response


def idempotency(rt: Runtime, user: User | None, key: str | None, body: Any
                ) -> tuple[str | None, tuple[int, dict] | None]:
    """(the Idempotency-Key checked, or None; the first response as (status, body) when the
    key was used before with this body). The same key with another body is a 422."""
    if key is None:
        return None, None
    key = key.strip()
    if not 1 <= len(key) <= 255:
        raise ValidationFailed({"Idempotency-Key": ["Must be 1-255 characters."]})
    if user is None:
        raise ValidationFailed({"Idempotency-Key": ["Needs an authenticated caller."]})
    return key, _replay(rt, user, key, body)


def store_once(rt: Runtime, *, user: User | None, key: str | None, body: Any,
               record: Callable[[Session], dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """Run `record` in one transaction with the Idempotency-Key's record, so a key answers
    with what was stored or nothing was; then hand the outbox to the relay."""
    try:
        with rt.db.unit_of_work() as session:
            response = record(session)
            if key is not None:
                # Goes in with the referral's own rows (one statement on PostgreSQL).
                new_rows(session, IdempotencyRecord, [{
                    "user_id": user.id, "key": key, "request_hash": _request_hash(body),
                    "status_code": 201, "response_body": response}], ids=False)
            ids = outbox.committed_ids(session)
    except IntegrityError:
        # Two retries with one key raced; the other committed first: answer as it did.
        if key is not None:
            replay = _replay(rt, user, key, body)
            if replay is not None:
                return replay
        raise
    rt.relay.after_commit(ids)
    return 201, response


def _for_submitter(data: ReferralInput, user: User | None) -> ReferralInput:
    """A partner's referral always carries its own organisation and the partner channel;
    only staff on the staff channel may say who its people are (`identity`)."""
    from dataclasses import replace

    identity.refuse_identity(user, data)
    if user is None or user.role != "partner":
        return data
    if not data.information_only:
        # A partner's body naming another channel still needs the subject's names.
        missing = {f"people.{i}.{name}": ["Required for the subject (unless information_only "
                                          "is true)."]
                   for i, p in enumerate(data.people) if p.role == "subject"
                   for name in ("given_name", "family_name") if not getattr(p, name)}
        if missing:
            raise ValidationFailed(missing)
    return replace(data, channel="partner",
                   referrer={**data.referrer, "organisation": user.organisation})


def _replay(rt: Runtime, user: User, key: str, body: Any) -> tuple[int, dict] | None:
    with rt.db.reader() as session:
        found = session.exec(select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key)).first()
    if found is None:
        return None
    if found.request_hash != _request_hash(body):
        raise ValidationFailed({"Idempotency-Key": [
            "This key was already used with a different body. Use a new key for a new referral."
        ]})
    return found.status_code, found.response_body


def record_referral(rt: Runtime, session: Session, *, user: User | None,
                    data: ReferralInput, body: Any) -> ReferralRecord:
    """Match, decide, route and write one validated referral in the caller's transaction."""
    profile = rt.profile
    place = profile.place_for(data.postcode)
    # Read first (who and which household are known, and what the engine decides), then
    # take every new row's key at once, so every row is written once, complete, and on
    # PostgreSQL they all go in with one statement (see statements.Prepared.later).
    found = match_people(session, data.people, profile_id=profile.id)
    # One candidate lookup per person not matched exactly: checked against the worker's
    # answers (the staff journey), queued for the front door otherwise.
    identity.refuse_identity(user, data)
    candidates = identity.offered(session, profile, data, found)
    if data.identity:
        found = identity.resolve(data, found, identity.visible_to(session, user, candidates,
                                                                         rt.profile.teams))
    received_at = utcnow()
    # Known people only (a new family costs no read): their household here, a case closed
    # within the re-referral window and the household's open family-support case, at once.
    family = known_family(session, postcode=data.postcode, found=found, now=received_at,
                          re_referral_months=profile.front_door.re_referral_months,
                          services=profile.family_support_services)
    household, members, again = family.household, family.members, family.again
    decided = routing.decide_new(rt, session, data,
                                 household_id=household.id if household else None,
                                 known_household=household is not None,
                                 received_at=received_at, lock=True,
                                 open_family_support=family.open_family_support)
    keys = next_keys(session, {
        Person: sum(1 for p in found if p is None),
        Household: 0 if household else 1,
        Referral: 1,
        Case: decided.cases_to_open,
        OutboxMessage: 1,
    })
    matched = create_people(session, data.people, found, keys[Person], now=received_at,
                            profile_id=profile.id)
    if household is None:
        household = create_household(session, key=keys[Household][0],
                                     postcode=data.postcode, place=place,
                                     profile_id=profile.id, address=data.address)
    else:
        update_address(session, household, data.address)
    add_members(session, household, matched, members)
    referral_id = keys[Referral][0]
    referral = new_row(
        session, Referral,
        id=referral_id,
        reference=profile.reference_for(received_at, referral_id),
        status=decided.outcome.status,
        urgent=decided.result.urgent,
        received_at=received_at,
        profile_id=profile.id,
        checklist_id=profile.checklist.id,
        checklist_version=profile.checklist.version,
        channel=data.channel,
        referrer_organisation=data.referrer.get("organisation"),
        # What the referrer typed; the account (submitted_by) when they gave no name.
        referrer_name=data.referrer.get("name") or (user.name if user else None),
        referrer_email=data.referrer.get("email"),
        referrer_phone=data.referrer.get("phone"),
        submitted_by_id=user.id if user else None,
        postcode=data.postcode,
        household_id=household.id,
        consent=data.consent,
        information_only=data.information_only,
        step_down=data.step_down,
        concerns=data.concerns,
        answers={k: v for k, v in data.answers.items() if v is not None},
        raw_body=body,
        re_referral_of_case_id=again.case_id if again else None,
        re_referral_closed_at=again.closed_at if again else None,
    )
    named = new_rows(session, ReferralPerson, [
        {"referral_id": referral.id, "ref": person_in.ref, "person_id": m.person.id,
         "role": person_in.role, "relationship": person_in.relationship,
         "matched": m.known_before}
        for person_in, m in zip(data.people, matched, strict=True)])
    people = [(rp, m.person) for rp, m in zip(named, matched, strict=True)]
    identity.record_choices(session, user=user, data=data, people=[m.person for m in matched],
                            known_before=[m.known_before for m in matched],
                            candidates=candidates, referral_id=referral.id, now=received_at)
    audit.record(session, actor=user, action="referral.create", object_type="referral",
                 object_id=referral.id, channel=data.channel)
    decision, cases = routing.route_new(rt, session, referral=referral, decided=decided,
                                       actor=user, case_keys=keys[Case])
    outbox.enqueue(session, topic="referral.received",
                   payload=notify.received_payload(referral, cases, user),
                   key=keys[OutboxMessage][0])
    return ReferralRecord(referral=referral, people=people, decision=decision, override=None,
                          cases=cases, place=profile.api_place(place), household=household,
                          re_referral=again)


def load_record(rt: Runtime, session: Session, referral: Referral) -> ReferralRecord:
    people = list(session.exec(
        select(ReferralPerson, Person).join(Person, Person.id == ReferralPerson.person_id)
        .where(ReferralPerson.referral_id == referral.id).order_by(ReferralPerson.ref)
    ).all())
    decisions = list(session.exec(
        select(Decision).where(Decision.referral_id == referral.id, Decision.current.is_(True))
    ).all())
    engine = next((d for d in decisions if d.kind == "engine"), None)
    override = next((d for d in decisions if d.kind == "override"), None)
    cases = list(session.exec(
        select(Case).where(Case.referral_id == referral.id).order_by(Case.id)).all())
    linked = None
    if referral.linked_referral_id:
        other = session.get(Referral, referral.linked_referral_id)
        linked = other.reference if other else None
    place = rt.profile.api_place(rt.profile.place_for(referral.postcode))
    return ReferralRecord(referral=referral, people=people, decision=engine, override=override,
                          cases=cases, place=place,
                          linked_referral=linked,
                          household=session.get(Household, referral.household_id)
                          if referral.household_id else None,
                          re_referral=re_referral.of_referral(session, referral))


def find_referral(session: Session, reference: str, *, profile_id: str,
                  for_update: bool = False) -> Referral:
    """The referral with this reference recorded under this profile (another council's is
    not found); `for_update` locks its row until the transaction ends (writers that decide
    from its status, so two at once cannot both act on it)."""
    query = select(Referral).where(Referral.reference == reference.strip().upper(),
                                   Referral.profile_id == profile_id)
    if for_update:
        query = query.with_for_update()
    referral = session.exec(query).first()
    if referral is None:
        raise NotFound(f"No referral with reference {reference}.")
    return referral


def get_referral(rt: Runtime, *, user: User, reference: str) -> dict[str, Any]:
    """The referral as the caller may see it; every view is audited."""
    with rt.db.unit_of_work() as session:
        referral = find_referral(session, reference, profile_id=rt.profile.id)
        record = load_record(rt, session, referral)
        if (visibility.hides_referral(session, user, referral)
                or not can_view_referral(user, referral, record.cases, rt.profile.teams)):
            # Same answer as a missing one: a partner cannot probe other partners' references.
            audit.record(session, actor=user, action="referral.view_refused",
                         object_type="referral", object_id=referral.id)
            session.commit()
            raise NotFound(f"No referral with reference {reference}.")
        audit.record(session, actor=user, action="referral.view", object_type="referral",
                     object_id=referral.id)
        return referral_out_for(user).dump(record)
