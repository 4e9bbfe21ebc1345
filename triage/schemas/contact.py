"""Contact details and identity in a referral body (contract 5.1): address, phone, email,
safe to contact, language, NHS number, sex; how each is checked and normalised."""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, fields, validate

PREFERRED_CONTACT = ("phone", "text", "email", "letter")
SEX = ("female", "male", "other", "not_stated")

_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")


def uk_phone_key(raw: str | None) -> str | None:
    """A UK phone number as national digits (07700900123), or None when it is not one.

    Takes the forms people write: spaces, dashes, brackets, +44, 0044 and +44 (0).
    """
    if not raw:
        return None
    compact = str(raw).strip().replace("(0)", "")
    compact = _PHONE_PUNCTUATION.sub("", compact)
    if compact.startswith("+44"):
        compact = "0" + compact[3:]
    elif compact.startswith("0044"):
        compact = "0" + compact[4:]
    # a national number: 0, then an area or mobile prefix (never 0 or 4, 6), 9 or 10 digits
    if not re.fullmatch(r"0[1235789]\d{8,9}", compact):
        return None
    return compact


def nhs_number_digits(raw: str | None) -> str | None:
    """The 10 digits of a valid NHS number, or None (wrong length or check digit).

    Modulus 11: weights 10 down to 2 on the first nine digits; 11 minus the remainder is the
    check digit (11 counts as 0; 10 means the number is not valid).
    """
    if raw is None:
        return None
    digits = re.sub(r"[\s-]", "", str(raw))
    if not re.fullmatch(r"\d{10}", digits):
        return None
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        return None
    return digits


class Text(fields.String):
    """A string with surrounding white space removed; blank becomes None."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        return text or None

    def _validate(self, value):
        if value is not None:
            super()._validate(value)


class UkPhoneField(Text):
    """A UK phone number, kept as written (trimmed); uk_phone_key gives its digits."""

    default_error_messages = {
        "invalid_phone": "Must be a UK phone number, like 07700 900123 or +44 116 496 0000.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            return None
        if len(text) > 32 or uk_phone_key(text) is None:
            raise self.make_error("invalid_phone")
        return text


class NhsNumberField(fields.String):
    """An NHS number: 10 digits (spaces or dashes allowed) with a valid check digit; loads
    as the 10 digits."""

    default_error_messages = {
        "invalid_nhs": "Must be a 10-digit NHS number, like 943 476 5919; check the digits "
                       "(the last one is a check digit).",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            return None
        digits = nhs_number_digits(text)
        if digits is None:
            raise self.make_error("invalid_nhs")
        return digits


class OptionalBoolean(fields.Field):
    """true, false or null (not known); no strings or numbers."""

    default_error_messages = {"invalid": "Must be true, false or null (not known)."}

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or isinstance(value, bool):
            return value
        raise self.make_error("invalid")


class ContactSchema(Schema):
    """How to reach a person, and whether it is safe to (a domestic-abuse victim's phone
    may be seen by the abuser: safe_to_contact false means do not call or text)."""

    class Meta:
        unknown = RAISE

    phone = UkPhoneField(allow_none=True)
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    preferred = fields.String(validate=validate.OneOf(PREFERRED_CONTACT), allow_none=True)
    safe_to_contact = OptionalBoolean(allow_none=True)
    safe_contact_notes = Text(validate=validate.Length(max=1000), allow_none=True)
    language = Text(validate=validate.Length(max=64), allow_none=True)
    interpreter = OptionalBoolean(allow_none=True)


class AddressSchema(Schema):
    """The household's address; the postcode stays at the top of the body."""

    class Meta:
        unknown = RAISE

    line1 = Text(validate=validate.Length(max=200), allow_none=True)
    line2 = Text(validate=validate.Length(max=200), allow_none=True)
    town = Text(validate=validate.Length(max=100), allow_none=True)
