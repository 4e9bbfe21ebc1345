"""Dump schemas: how referrals, decisions and cases look on the wire (API and stored replies)."""

from __future__ import annotations

from marshmallow import Schema, fields


class PersonOutSchema(Schema):
    ref = fields.Function(lambda pair: pair[0].ref)
    role = fields.Function(lambda pair: pair[0].role)
    relationship = fields.Function(lambda pair: pair[0].relationship)
    given_name = fields.Function(lambda pair: pair[1].given_name)
    family_name = fields.Function(lambda pair: pair[1].family_name)
    date_of_birth = fields.Function(lambda pair: pair[1].date_of_birth.isoformat())
    known_before = fields.Function(lambda pair: pair[0].matched)
    contact = fields.Function(lambda pair: person_contact(pair[1]), metadata={
        "description": "{phone, email, preferred, safe_to_contact, safe_contact_notes, "
                       "language, interpreter} as kept now (staff); as sent (partners)"})
    nhs_number = fields.Function(lambda pair: pair[1].nhs_number)
    sex = fields.Function(lambda pair: pair[1].sex)
    ethnicity = fields.Function(lambda pair: pair[1].ethnicity)


def person_contact(person) -> dict:
    """A person's contact details as kept now (the newest given on any referral)."""
    return {"phone": person.phone, "email": person.email,
            "preferred": person.preferred_contact, "safe_to_contact": person.safe_to_contact,
            "safe_contact_notes": person.safe_contact_notes, "language": person.language,
            "interpreter": person.interpreter}


def household_address(household) -> dict | None:
    if household is None:
        return None
    return {"line1": household.address_line1, "line2": household.address_line2,
            "town": household.town}


_PEOPLE = PersonOutSchema(many=True)


class CaseSummarySchema(Schema):
    id = fields.Integer()
    service = fields.String()
    instance = fields.String()
    state = fields.String()
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True)


class ReReferralSchema(Schema):
    """The closed case that makes a referral a re-referral (services.referrals.re_referral)."""

    case_id = fields.Integer(metadata={"description": "The family's closed case"})
    service = fields.String(metadata={"description": "The case's service (a profile code)"})
    closed_at = fields.DateTime(metadata={"description": "When the case closed"})


def with_level_code(body: dict) -> dict:
    """A stored decision body, with its level code (a body stored before level codes has
    only its number, which was its code)."""
    if "level_code" in body or body.get("level") is None:
        return body
    return {**body, "level_code": str(body["level"])}


class OverrideSchema(Schema):
    decision = fields.Function(lambda row: with_level_code(row.body))
    reason = fields.String()
    decided_at = fields.DateTime()
    decided_by = fields.Integer(attribute="decided_by_id")


_OVERRIDE = OverrideSchema()


class ReferralOutSchema(Schema):
    reference = fields.String(attribute="referral.reference")
    status = fields.String(attribute="referral.status")
    received_at = fields.DateTime(attribute="referral.received_at")
    channel = fields.String(attribute="referral.channel")
    referrer = fields.Method("_referrer")
    postcode = fields.String(attribute="referral.postcode")
    address = fields.Method("_address", metadata={
        "description": "{line1, line2, town}: staff see the household's address as kept now; "
                       "a partner sees what they sent"})
    place = fields.Dict(allow_none=True)
    people = fields.Method("_people")
    answers = fields.Dict(attribute="referral.answers")
    checklist = fields.Method("_checklist")
    consent = fields.String(attribute="referral.consent")
    consent_recorded_at = fields.DateTime(attribute="referral.consent_recorded_at",
                                          allow_none=True)
    information_only = fields.Boolean(attribute="referral.information_only")
    step_down = fields.Boolean(attribute="referral.step_down")
    urgent = fields.Boolean(attribute="referral.urgent")
    concerns = fields.String(attribute="referral.concerns", allow_none=True)
    decision = fields.Method("_decision")
    original_decision = fields.Method("_original")
    override = fields.Method("_override")
    cases = fields.List(fields.Nested(CaseSummarySchema))
    linked_referral = fields.String(allow_none=True)
    closure = fields.Method("_closure")
    re_referral = fields.Nested(ReReferralSchema, allow_none=True, metadata={
        "description": "A re-referral: the family's case closed within the profile's "
                       "front_door.re_referral_months when the referral was received (the "
                       "most recently closed), or null. Staff only; partners never see it."})

    def _referrer(self, record):
        r = record.referral
        return {"organisation": r.referrer_organisation, "name": r.referrer_name,
                "email": r.referrer_email, "phone": r.referrer_phone}

    def _address(self, record):
        return household_address(record.household)

    def _people(self, record):
        return _PEOPLE.dump(record.people)

    def _checklist(self, record):
        return {"id": record.referral.checklist_id, "version": record.referral.checklist_version}

    def _decision(self, record):
        """The decision in force: the override when there is one, else the engine's."""
        chosen = record.override or record.decision
        return with_level_code(chosen.body) if chosen else None

    def _original(self, record):
        return with_level_code(record.decision.body) if record.decision and record.override \
            else None

    def _override(self, record):
        return _OVERRIDE.dump(record.override) if record.override else None

    def _closure(self, record):
        """Closed at the front door without a service: why (a code of the profile's
        front_door.closures), when, by whom and the note kept with it."""
        r = record.referral
        if not r.closure:
            return None
        return {"closure": r.closure, "closed_at": r.closed_at.isoformat(),
                "closed_by": r.closed_by_id, "note": r.closure_note}


class PartnerReferralOutSchema(ReferralOutSchema):
    """What a partner sees of the referrals they sent: what they said, the level, and where
    it went with each case's state and outcome. Not whether the people were already known,
    nor the reasons (which can say a family already has an open case), nor staff overrides,
    nor whether it is a re-referral: that is the council's record, not the referrer's."""

    class Meta:
        exclude = ("original_decision", "override", "re_referral")

    def _people(self, record):
        """Each person as the partner sent them (the referral's raw body): contact details
        or identity added later, by anyone on any referral, are the council's record."""
        sent = {p.get("ref"): p for p in _sent_people(record.referral.raw_body)}
        out = []
        for link, person in record.people:
            raw = sent.get(link.ref, {})
            out.append({
                "ref": link.ref, "role": link.role, "relationship": link.relationship,
                "given_name": _sent_text(raw, "given_name", person.given_name),
                "family_name": _sent_text(raw, "family_name", person.family_name),
                "date_of_birth": person.date_of_birth.isoformat(),
                **{key: raw[key] for key in _SENT_IDENTITY if key in raw},
            })
        return out

    def _address(self, record):
        body = record.referral.raw_body
        address = body.get("address") if isinstance(body, dict) else None
        return address if isinstance(address, dict) else None

    def _closure(self, record):
        closure = super()._closure(record)
        return None if closure is None else {"closure": closure["closure"],
                                             "closed_at": closure["closed_at"]}

    def _decision(self, record):
        body = super()._decision(record)
        if body is None:
            return None
        return {"level": body.get("level"), "level_code": body.get("level_code"),
                "level_name": body.get("level_name"),
                "urgent": body.get("urgent"),
                "routes": [{"service": r["service"], "instance": r["instance"]}
                           for r in body.get("routes", [])]}


_SENT_IDENTITY = ("contact", "nhs_number", "sex", "ethnicity")


def _sent_people(body) -> list[dict]:
    people = body.get("people") if isinstance(body, dict) else None
    return [p for p in people if isinstance(p, dict)] if isinstance(people, list) else []


def _sent_text(raw: dict, key: str, kept: str | None) -> str | None:
    """A name as the partner typed it (trimmed); the record's when the body has none."""
    if key not in raw:
        return kept if not raw else None
    value = raw[key]
    return value.strip() or None if isinstance(value, str) else None


def referral_out_for(user) -> ReferralOutSchema:
    """The dump schema for this viewer (partners see less; see PartnerReferralOutSchema)."""
    return _PARTNER if user is not None and user.role == "partner" else _STAFF


_STAFF = ReferralOutSchema()
_PARTNER = PartnerReferralOutSchema()
