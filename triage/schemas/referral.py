"""The referral body (one schema for every channel), generated from the profile's checklist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from config.profile import Checklist, Profile, parse_postcode
from triage.schemas.contact import (
    SEX,
    AddressSchema,
    ContactSchema,
    NhsNumberField,
    Text,
    UkPhoneField,
)

CHANNELS = ("self", "staff", "partner")
CONSENT = ("given", "refused", "not_asked")
ROLES = ("subject", "household")
# Channels whose subject needs both names (the public may not know a child's surname...).
NAMED_CHANNELS = ("staff", "partner")
MAX_PEOPLE = 30
MAX_NOT_SAME = 20


class StrictBoolean(fields.Field):
    """true, false or null (not known) and nothing else: no "yes", 1 or "true" strings."""

    default_error_messages = {"invalid": "Must be true, false or null (not known)."}

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or isinstance(value, bool):
            return value
        raise self.make_error("invalid")




class StrictFlag(fields.Boolean):
    """true or false and nothing else: Boolean(truthy={True}) let 1 and 0 through, since
    1 == True in a set."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class PostcodeField(fields.String):
    default_error_messages = {"invalid_postcode": "Must be a full UK postcode."}

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = parse_postcode(super()._deserialize(value, attr, data, **kwargs))
        if parsed is None:
            raise self.make_error("invalid_postcode")
        return parsed[0]


class ReferrerSchema(Schema):
    class Meta:
        unknown = RAISE

    organisation = Text(validate=validate.Length(max=200), allow_none=True)
    name = Text(validate=validate.Length(max=200), allow_none=True)
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    phone = UkPhoneField(allow_none=True)


class PersonSchema(Schema):
    class Meta:
        unknown = RAISE

    ref = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,32}$",
                                 error="Must be 1-32 letters, digits, '-' or '_'."),
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    relationship = Text(validate=validate.Length(max=50), allow_none=True)
    given_name = Text(validate=validate.Length(max=100), allow_none=True)
    family_name = Text(validate=validate.Length(max=100), allow_none=True)
    date_of_birth = fields.Date(required=True)
    contact = fields.Nested(ContactSchema, allow_none=True)
    nhs_number = NhsNumberField(allow_none=True, metadata={
        "description": "10 digits (spaces or dashes allowed) with a valid modulus 11 check "
                       "digit; stored as the 10 digits"})
    sex = fields.String(validate=validate.OneOf(SEX), allow_none=True)
    # One of the profile's codes: checked by the referral schema, which knows the profile.
    ethnicity = Text(validate=validate.Length(max=64), allow_none=True, metadata={
        "description": "One of the profile's ethnicity codes (profile.yaml `ethnicity`; the "
                       "ONS 2021 England and Wales categories and not_stated by default)"})

    @validates_schema(skip_on_field_errors=False)
    def _plausible_birth(self, data, **kwargs):
        dob = data.get("date_of_birth")
        if dob is None:
            return
        today = date.today()
        if dob > today:
            raise ValidationError("Must not be in the future.", "date_of_birth")
        if dob.year < today.year - 125:
            raise ValidationError("Must be within the last 125 years.", "date_of_birth")


class IdentityChoiceSchema(Schema):
    """Who one person on the referral is: a known person (same_as) or none of these."""

    class Meta:
        unknown = RAISE

    same_as = fields.Integer(strict=True, validate=validate.Range(min=1))
    not_same_as = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)),
                              validate=validate.Length(min=1, max=MAX_NOT_SAME))

    @validates_schema
    def _one_answer(self, data, **kwargs):
        if "same_as" in data and "not_same_as" in data:
            raise ValidationError("Give same_as or not_same_as, not both.")
        if "same_as" not in data and "not_same_as" not in data:
            raise ValidationError("Give same_as (a person id) or not_same_as (a list of "
                                  "person ids).")


class IdentityField(fields.Field):
    """{person ref: {"same_as": id} | {"not_same_as": [ids]}}: the staff worker's answer for
    the known people a staff preview offered for each person (contract 5.1 `identity`)."""

    # make_error formats the message: braces are doubled.
    default_error_messages = {"invalid": 'Must be an object: person ref -> {{"same_as": '
                                         '<person id>}} or {{"not_same_as": [<person ids>]}}.'}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        out: dict[str, dict[str, Any]] = {}
        errors: dict[str, Any] = {}
        for ref, choice in value.items():
            if not isinstance(choice, dict):
                errors[ref] = ['Must be {"same_as": <person id>} or '
                               '{"not_same_as": [<person ids>]}.']
                continue
            try:
                loaded = _IDENTITY_CHOICE.load(choice)
            except ValidationError as exc:
                errors[ref] = exc.messages
                continue
            if "not_same_as" in loaded:
                loaded["not_same_as"] = tuple(sorted(set(loaded["not_same_as"])))
            out[ref] = loaded
        if errors:
            raise ValidationError(errors)
        return out


_IDENTITY_CHOICE = IdentityChoiceSchema()


@dataclass(frozen=True)
class PersonInput:
    ref: str
    role: str
    relationship: str | None
    given_name: str | None
    family_name: str | None
    date_of_birth: date
    # Contact and identity (contract 5.1): only what was given, None for the rest.
    contact: dict[str, Any] = field(default_factory=dict)
    nhs_number: str | None = None
    sex: str | None = None
    ethnicity: str | None = None


@dataclass(frozen=True)
class ReferralInput:
    """A referral that has passed validation: what every channel hands to the intake service."""

    channel: str
    referrer: dict[str, Any]
    postcode: str
    people: tuple[PersonInput, ...]
    answers: dict[str, bool | None]
    consent: str
    information_only: bool
    step_down: bool
    concerns: str | None
    # The household's address: only the lines given (line1, line2, town).
    address: dict[str, str] = field(default_factory=dict)
    # Staff only: {person ref: {"same_as": id} | {"not_same_as": (ids,)}}.
    identity: dict[str, dict[str, Any]] = field(default_factory=dict)


def children_in_household(checklist: Checklist, answers: dict[str, bool | None],
                          people: list[dict] | tuple[PersonInput, ...], on: date) -> bool:
    for person in people:
        dob = person["date_of_birth"] if isinstance(person, dict) else person.date_of_birth
        if dob and _age(dob, on) < 18:
            return True
    return any(
        answers.get(q.id) is True
        for q in checklist.questions.values() if q.implies_child_in_household
    )


def _age(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _answers_schema(checklist: Checklist) -> type[Schema]:
    attrs: dict[str, Any] = {q: StrictBoolean(allow_none=True) for q in checklist.questions}

    class Meta:
        unknown = RAISE

    attrs["Meta"] = Meta
    schema = type("AnswersSchema", (Schema,), attrs)
    schema.error_messages = {
        **Schema.error_messages,
        "unknown": f"Not a question on checklist {checklist.id} version {checklist.version}.",
    }
    return schema


class AnswersField(fields.Nested):
    """The checklist's answers: the nested schema of one field per question (what the OpenAPI
    document shows and what names each problem), with a fast path for answers that are
    already valid. The schema visits every question on the checklist, answered or not (about
    half of a referral's validation on a 24-question checklist); here a valid object costs
    one look at each answer. Anything else goes through the schema, for its messages."""

    def __init__(self, schema: type[Schema], questions: list[str], **kwargs: Any):
        super().__init__(schema, **kwargs)
        self._questions = tuple(questions)
        self._known = frozenset(questions)

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if (type(value) is dict and value.keys() <= self._known
                and all(v is None or v is True or v is False for v in value.values())):
            # As the schema loads it: the questions given, in checklist order.
            return {q: value[q] for q in self._questions if q in value}
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)


_SCHEMAS: dict[tuple[str, str], Schema] = {}


def referral_schema_for(profile: Profile) -> Schema:
    """The referral schema for this profile's checklist (built once per profile version)."""
    key = (profile.id, profile.content_hash)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = _build_referral_schema(profile)
    return _SCHEMAS[key]


def _build_referral_schema(profile: Profile) -> Schema:
    checklist = profile.checklist
    child_side = [q.id for q in checklist.questions.values() if q.side == "child"]

    class ReferralSchema(Schema):
        class Meta:
            unknown = RAISE

        channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
        referrer = fields.Nested(ReferrerSchema, load_default=dict)
        example = profile.texts.get("postcode_example")
        postcode = PostcodeField(required=True, error_messages={} if not example else {
            "invalid_postcode": f"Must be a full UK postcode, like {example}."})
        people = fields.List(
            fields.Nested(PersonSchema), required=True,
            validate=validate.Length(min=1, max=MAX_PEOPLE,
                                     error="List between {min} and {max} people."),
        )
        answers = AnswersField(_answers_schema(checklist), list(checklist.questions),
                               required=True)
        consent = fields.String(required=True, validate=validate.OneOf(CONSENT))
        information_only = StrictFlag(load_default=False)
        step_down = StrictFlag(load_default=False)
        concerns = Text(validate=validate.Length(max=5000), allow_none=True)
        address = fields.Nested(AddressSchema, allow_none=True)
        identity = IdentityField(load_default=dict)

        @validates_schema
        def _household(self, data, **kwargs):
            people = data.get("people") or []
            errors: dict[str, list[str]] = {}
            if people and not any(p.get("role") == "subject" for p in people):
                errors["people"] = ["At least one person must have the role 'subject'."]
            refs = {p.get("ref") for p in people}
            for ref in data.get("identity") or {}:
                if ref not in refs:
                    errors[f"identity.{ref}"] = ["No person with this ref in people."]
            seen: set[str] = set()
            for i, person in enumerate(people):
                if person.get("ref") in seen:
                    errors[f"people.{i}.ref"] = [f"Duplicate ref {person['ref']!r}."]
                seen.add(person.get("ref"))
                ethnicity = person.get("ethnicity")
                if ethnicity is not None and ethnicity not in profile.ethnicity:
                    errors[f"people.{i}.ethnicity"] = [
                        "Must be one of the profile's ethnicity codes: "
                        + ", ".join(profile.ethnicity) + "."]
                if (person.get("role") == "subject" and data.get("channel") in NAMED_CHANNELS
                        and not data.get("information_only")):
                    for name in ("given_name", "family_name"):
                        if not person.get(name):
                            errors[f"people.{i}.{name}"] = [
                                "Required for the subject (unless information_only is true)."]
            answers = data.get("answers") or {}
            if people and "people" not in errors and not children_in_household(
                checklist, answers, people, date.today()
            ):
                for qid in child_side:
                    if answers.get(qid) is True:
                        errors[f"answers.{qid}"] = [
                            "This is a child-domain question, but no child under 18 is listed "
                            "in the household. Add the child to people (with their date of "
                            "birth) or answer false / not known."
                        ]
            if data.get("channel") == "partner" and not (data.get("referrer") or {}).get(
                "organisation"
            ):
                errors["referrer.organisation"] = ["Required when the channel is 'partner'."]
            if errors:
                raise ValidationError(errors)

        @post_load
        def _to_input(self, data, **kwargs) -> ReferralInput:
            return ReferralInput(
                channel=data["channel"],
                referrer={k: v for k, v in (data.get("referrer") or {}).items() if v is not None},
                postcode=data["postcode"],
                people=tuple(PersonInput(
                    ref=p["ref"], role=p["role"], relationship=p.get("relationship"),
                    given_name=p.get("given_name"), family_name=p.get("family_name"),
                    date_of_birth=p["date_of_birth"],
                    contact={k: v for k, v in (p.get("contact") or {}).items()
                             if v is not None},
                    nhs_number=p.get("nhs_number"), sex=p.get("sex"),
                    ethnicity=p.get("ethnicity"),
                ) for p in data["people"]),
                answers=dict(data["answers"]),
                consent=data["consent"],
                information_only=data.get("information_only", False),
                step_down=data.get("step_down", False),
                concerns=data.get("concerns"),
                address={k: v for k, v in (data.get("address") or {}).items()
                         if v is not None},
                identity=data.get("identity") or {},
            )

    return ReferralSchema()
