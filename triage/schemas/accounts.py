"""Accounts at the boundary: the user list's filters, a new or changed account, a token's
label, a password reset and a new password (the admin pages and any API use these)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from config.teams import Teams
from triage.models import Role

ROLE_NAMES = [r.value for r in Role]
RESET_METHODS = ("email", "shown")
ACTIVE_FILTERS = ("yes", "no", "")


def plain_text(value: str) -> None:
    """Printable text only: no NUL or other control characters, no lone surrogates."""
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value if c not in "\t"):
        raise ValidationError("Must not contain control characters.")


def _blank_to_none(data: Any, names: Iterable[str]) -> Any:
    """Forms send "" for a field left empty; trimmed text, and None for nothing."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name in names:
        value = out.get(name)
        if isinstance(value, str):
            value = value.strip()
            out[name] = value or None
    return out


def _text(max_length: int, *, required: str = "") -> fields.String:
    """Optional text, or required when `required` is the message for leaving it out."""
    checks = [validate.Length(min=1, max=max_length), plain_text]
    if required:
        return fields.String(required=True, validate=checks,
                             error_messages={"required": required, "null": required})
    return fields.String(load_default=None, allow_none=True, validate=checks)


class UserQuerySchema(Schema):
    """GET /admin/users: filter by role, team and whether active; a page of the list."""

    class Meta:
        unknown = RAISE

    role = fields.String(load_default=None, allow_none=True,
                         validate=validate.OneOf(ROLE_NAMES))
    team = fields.String(load_default=None, allow_none=True,
                         validate=[validate.Length(max=128), plain_text])
    active = fields.String(load_default="yes", validate=validate.OneOf(ACTIVE_FILTERS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))

    @pre_load
    def _blanks(self, data: Any, **_: Any) -> Any:
        out = _blank_to_none(data, ("role", "team"))
        if isinstance(out, dict) and out.get("active") is None and "active" in out:
            out["active"] = ""
        return out


class _AccountFields(Schema):
    """What an administrator sets on an account; the team is checked against the profile's
    services and instances, and only a partner has (and must have) an organisation."""

    class Meta:
        unknown = RAISE

    name = _text(200, required="Enter the person's name.")
    role = fields.String(required=True, validate=validate.OneOf(
        ROLE_NAMES, error="Must be one of: " + ", ".join(ROLE_NAMES) + "."),
        error_messages={"required": "Choose a role.", "null": "Choose a role."})
    team = _text(128)
    organisation = _text(200)

    def __init__(self, *, teams: Teams, roles: Iterable[str] = ROLE_NAMES, **kwargs: Any):
        super().__init__(**kwargs)
        self.teams = teams
        # The roles this profile offers (no meeting coordinator without a meeting).
        self.roles = tuple(roles)

    @pre_load
    def _blanks(self, data: Any, **_: Any) -> Any:
        return _blank_to_none(data, ("name", "email", "role", "team", "organisation"))

    @validates_schema(skip_on_field_errors=False)
    def _team_and_organisation(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        role, team, organisation = data.get("role"), data.get("team"), data.get("organisation")
        if role is not None and role not in self.roles:
            errors["role"] = [f"Must be one of: {', '.join(self.roles)}."]
        if team is not None and team not in self.teams:
            errors["team"] = [self.teams.refusal(team)]
        if role == Role.partner:
            if not organisation:
                errors["organisation"] = ["A partner needs an organisation."]
            if team is not None:
                errors.setdefault("team", []).append("Partners do not have a team.")
        elif role is not None and organisation is not None:
            errors["organisation"] = ["Only partners have an organisation."]
        if errors:
            raise ValidationError(errors)


class NewUserSchema(_AccountFields):
    """A new staff or partner account (no password: the administrator then sends a reset)."""

    email = fields.Email(required=True, validate=[validate.Length(max=254), plain_text],
                         error_messages={"invalid": "Must be an email address, like "
                                                    "name@example.org.",
                                         "required": "Enter an email address.",
                                         "null": "Enter an email address."})


class ChangeUserSchema(_AccountFields):
    """An account's name, role, team and organisation (the email address stays)."""


class TokenInSchema(Schema):
    class Meta:
        unknown = RAISE

    label = _text(100)

    @pre_load
    def _blanks(self, data: Any, **_: Any) -> Any:
        return _blank_to_none(data, ("label",))


class ResetInSchema(Schema):
    """How a new password reaches the person: an emailed one-time link, or a one-time
    password shown to the administrator once."""

    class Meta:
        unknown = RAISE

    method = fields.String(required=True, validate=validate.OneOf(
        RESET_METHODS, error="Choose how the person gets a new password."),
        error_messages={"required": "Choose how the person gets a new password.",
                        "null": "Choose how the person gets a new password."})


class NewPasswordSchema(Schema):
    """Choosing a password from a reset link."""

    class Meta:
        unknown = RAISE

    new_password = fields.String(required=True, validate=validate.Length(max=1000))
    confirm_password = fields.String(required=True, validate=validate.Length(max=1000))
