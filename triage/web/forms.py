"""HTML forms to referral bodies and back, and validation errors to GOV.UK messages by the field.

The web forms build the same JSON body the API takes, and the same marshmallow schema
(triage/schemas/referral.py) validates it; this module only translates field paths such as
`people.1.date_of_birth` into the id of the input on the page and a message in plain words.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from config.profile import Checklist
from triage.errors import ValidationFailed

DEFAULT_PERSON_ROWS = 3
MAX_PERSON_ROWS = 12
YES, NO = "yes", "no"
SAME, NOT_SAME = "same", "not_same"
# identity-<person ref>-<known person id>: the worker's answer for one candidate.
_IDENTITY = re.compile(r"^identity-(p\d{1,2})-(\d{1,12})$")


@dataclass
class PersonRow:
    given_name: str = ""
    family_name: str = ""
    relationship: str = ""
    day: str = ""
    month: str = ""
    year: str = ""
    # Contact and identity (contract 5.1), as typed; safe is "yes", "no" or "" (not known).
    phone: str = ""
    email: str = ""
    preferred: str = ""
    safe: str = ""
    safe_notes: str = ""
    language: str = ""
    interpreter: bool = False
    nhs_number: str = ""
    sex: str = ""
    ethnicity: str = ""

    @property
    def blank(self) -> bool:
        return not any((self.given_name, self.family_name, self.relationship, self.day,
                        self.month, self.year, *self._identity()))

    def _identity(self) -> tuple:
        return (self.phone, self.email, self.preferred, self.safe, self.safe_notes,
                self.language, self.interpreter, self.nhs_number, self.sex, self.ethnicity)

    def contact(self) -> dict[str, Any]:
        """The body's `contact` for this person: only what was filled in."""
        values = {"phone": self.phone, "email": self.email, "preferred": self.preferred,
                  "safe_contact_notes": self.safe_notes, "language": self.language}
        contact: dict[str, Any] = {k: v for k, v in values.items() if v}
        if self.safe in (YES, NO):
            contact["safe_to_contact"] = self.safe == YES
        if self.interpreter:
            contact["interpreter"] = True
        return contact

    def date_of_birth(self) -> str | None:
        """ISO date when all three parts are given; a deliberately invalid string when only
        some are (so the schema names the field); None when none are."""
        parts = (self.day.strip(), self.month.strip(), self.year.strip())
        if not any(parts):
            return None
        day, month, year = parts
        if not all(p.isdigit() for p in parts) or len(year) != 4:
            return f"{year or '?'}-{month or '?'}-{day or '?'}"
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"


def _field(form, i: int, name: str) -> str:
    """One person row's field as typed, trimmed."""
    return form.get(f"people-{i}-{name}", "").strip()


@dataclass
class ReferralForm:
    """What the referral form holds, as typed (strings), so it can be shown again."""

    postcode: str = ""
    people: list[PersonRow] = field(default_factory=lambda: [
        PersonRow() for _ in range(DEFAULT_PERSON_ROWS)])
    answers: dict[str, str] = field(default_factory=dict)
    consent: str = ""
    information_only: bool = False
    step_down: bool = False
    concerns: str = ""
    referrer_organisation: str = ""
    referrer_name: str = ""
    referrer_email: str = ""
    referrer_phone: str = ""
    address_line1: str = ""
    address_line2: str = ""
    town: str = ""
    submission_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    # {person ref: {known person id: "same" or "not_same"}}, from the known-people panel.
    identity: dict[str, dict[int, str]] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: Mapping[str, str], checklist: Checklist) -> ReferralForm:
        try:
            rows = int(form.get("person_rows", DEFAULT_PERSON_ROWS))
        except ValueError:
            rows = DEFAULT_PERSON_ROWS
        rows = max(1, min(rows, MAX_PERSON_ROWS))
        people = [PersonRow(
            given_name=_field(form, i, "given_name"),
            family_name=_field(form, i, "family_name"),
            relationship=_field(form, i, "relationship"),
            day=_field(form, i, "dob-day"),
            month=_field(form, i, "dob-month"),
            year=_field(form, i, "dob-year"),
            phone=_field(form, i, "phone"),
            email=_field(form, i, "email"),
            preferred=_field(form, i, "preferred"),
            safe=_field(form, i, "safe_to_contact"),
            safe_notes=_field(form, i, "safe_contact_notes"),
            language=_field(form, i, "language"),
            interpreter=form.get(f"people-{i}-interpreter") == YES,
            nhs_number=_field(form, i, "nhs_number"),
            sex=_field(form, i, "sex"),
            ethnicity=_field(form, i, "ethnicity"),
        ) for i in range(rows)]
        answers = {}
        for qid in checklist.questions:
            value = form.get(f"answer-{qid}", "")
            if value in (YES, NO):
                answers[qid] = value
        key = form.get("submission_key", "")
        identity: dict[str, dict[int, str]] = {}
        for name in form:
            found = _IDENTITY.match(name)
            if found and form.get(name) in (SAME, NOT_SAME):
                identity.setdefault(found.group(1), {})[int(found.group(2))] = form.get(name)
        return cls(
            postcode=form.get("postcode", "").strip(),
            people=people,
            answers=answers,
            consent=form.get("consent", ""),
            information_only=form.get("information_only") == YES,
            step_down=form.get("step_down") == YES,
            concerns=form.get("concerns", "").strip(),
            referrer_organisation=form.get("referrer-organisation", "").strip(),
            referrer_name=form.get("referrer-name", "").strip(),
            referrer_email=form.get("referrer-email", "").strip(),
            referrer_phone=form.get("referrer-phone", "").strip(),
            address_line1=form.get("address-line1", "").strip(),
            address_line2=form.get("address-line2", "").strip(),
            town=form.get("address-town", "").strip(),
            submission_key=key if re.fullmatch(r"[0-9a-f]{32}", key) else uuid.uuid4().hex,
            identity=identity,
        )

    def choice(self, ref: str, person_id: int) -> str:
        """The answer given for one candidate ("" when none yet)."""
        return self.identity.get(ref, {}).get(person_id, "")

    def identity_body(self, offered: Mapping[str, list] | None = None) -> dict[str, Any]:
        """The body's `identity` from the answers given (only for candidates still `offered`,
        when given); 422 naming the person when Same person is chosen for two."""
        out: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for ref, answers in self.identity.items():
            if offered is not None:
                ids = {c["person"]["id"] for c in offered.get(ref, [])}
                answers = {pid: a for pid, a in answers.items() if pid in ids}
            same = sorted(pid for pid, answer in answers.items() if answer == SAME)
            if len(same) > 1:
                errors[f"identity.{ref}"] = ["Same person chosen for more than one."]
            elif same:
                out[ref] = {"same_as": same[0]}
            elif answers:
                out[ref] = {"not_same_as": sorted(answers)}
        if errors:
            raise ValidationFailed(errors)
        return out

    def add_person_row(self) -> None:
        if len(self.people) < MAX_PERSON_ROWS:
            self.people.append(PersonRow())

    def to_body(self, *, channel: str) -> tuple[dict[str, Any], dict[int, int]]:
        """The API body, and which form row each listed person came from (blank household
        rows are left out; the first row, the person referred, is always sent)."""
        people: list[dict[str, Any]] = []
        rows: dict[int, int] = {}
        for i, row in enumerate(self.people):
            if i > 0 and row.blank:
                continue
            person: dict[str, Any] = {"ref": f"p{i + 1}",
                                      "role": "subject" if i == 0 else "household"}
            for name in ("given_name", "family_name", "relationship"):
                if getattr(row, name):
                    person[name] = getattr(row, name)
            dob = row.date_of_birth()
            if dob is not None:
                person["date_of_birth"] = dob
            if row.contact():
                person["contact"] = row.contact()
            for name in ("nhs_number", "sex", "ethnicity"):
                if getattr(row, name):
                    person[name] = getattr(row, name)
            rows[len(people)] = i
            people.append(person)
        referrer = {k: v for k, v in (
            ("organisation", self.referrer_organisation), ("name", self.referrer_name),
            ("email", self.referrer_email), ("phone", self.referrer_phone)) if v}
        body: dict[str, Any] = {
            "channel": channel,
            "referrer": referrer,
            "postcode": self.postcode,
            "people": people,
            "answers": {qid: value == YES for qid, value in self.answers.items()},
            "consent": self.consent,
            "information_only": self.information_only,
            "step_down": self.step_down,
        }
        if self.concerns:
            body["concerns"] = self.concerns
        address = {k: v for k, v in (("line1", self.address_line1),
                                     ("line2", self.address_line2), ("town", self.town)) if v}
        if address:
            body["address"] = address
        if not self.consent:
            body.pop("consent")
        if not self.postcode:
            body.pop("postcode")  # "Enter the postcode", not "not a postcode"
        return body, rows


# -- validation errors as GOV.UK messages ------------------------------------------------------
def _who(row: int) -> str:
    return "the person being referred" if row == 0 else f"person {row + 1} in the household"


_PERSON_FIELDS = {"given_name": "first name", "family_name": "last name",
                  "relationship": "relationship", "ref": "details", "role": "role",
                  "phone": "phone number", "email": "email address",
                  "preferred": "preferred way to contact", "safe_contact_notes": "notes",
                  "nhs_number": "NHS number", "safe_to_contact": "safe to contact"}


def _person_message(row: int, name: str, message: str) -> str:
    who = _who(row)
    if name == "date_of_birth":
        if message.startswith("Missing data"):
            return f"Enter the date of birth of {who}"
        if message.startswith("Not a valid"):
            return f"The date of birth of {who} must be a real date, like 27 3 2007"
        if "future" in message:
            return f"The date of birth of {who} must be in the past"
        if "125 years" in message:
            return f"The date of birth of {who} must be within the last 125 years"
    if message.startswith("Required for the subject"):
        return f"Enter the {_PERSON_FIELDS[name]} of {who}, or tick information or advice only"
    label = _PERSON_FIELDS.get(name, name.replace("_", " "))
    if message.startswith("Longer than maximum length"):
        return f"The {label} of {who} is too long"
    return f"The {label} of {who}: {message}"


def _identity_message(row: int, message: str) -> str:
    who = _who(row)
    if message.startswith("Same person chosen"):
        return f"Choose Same person for only one of the known people who may be {who}"
    return (f"The known people who may be {who} have changed: check them again and "
            "choose for each")


def _answer_message(checklist: Checklist, qid: str, message: str) -> str:
    question = checklist.questions.get(qid)
    if "child-domain" in message:
        return ("This is about a child, but no child under 18 is listed. Add the child "
                "and their date of birth, or untick it"
                + (f": {question.text}" if question else ""))
    return f"{question.text if question else qid}: {message}"


_TOP_LEVEL = {
    "postcode": ("postcode", {"Missing": "Enter the postcode of the household",
                              "": "Enter a full UK postcode, like {postcode_example}"}),
    "consent": ("consent", {"": "Select whether they agree to the referral and to "
                                "information being shared"}),
    "referrer.organisation": ("referrer-organisation", {"": "Enter the referrer's organisation"}),
    "referrer.name": ("referrer-name", {"": "The referrer's name is too long"}),
    "referrer.email": ("referrer-email", {"": "Enter an email address in the correct format, "
                                              "like name@example.com"}),
    "referrer.phone": ("referrer-phone", {"": "Enter a UK phone number, like 07700 900123"}),
    "address.line1": ("address-line1", {"": "The first line of the address is too long"}),
    "address.line2": ("address-line2", {"": "The second line of the address is too long"}),
    "address.town": ("address-town", {"": "The town is too long"}),
    "concerns": ("concerns", {"": "Concerns must be 5,000 characters or fewer"}),
}


def referral_errors(errors: Mapping[str, list[str]], rows: Mapping[int, int],
                    checklist: Checklist, *, postcode_example: str = "") -> dict[str, str]:
    """{input id on the page: message}, in the order the fields appear on the page
    (postcode_example: the profile's, in the message for a postcode that is not one)."""
    found: list[tuple[int, str, str]] = []
    order = {qid: n for n, qid in enumerate(checklist.questions)}
    for path, messages in errors.items():
        message = messages[0] if messages else "There is a problem"
        parts = path.split(".")
        if parts[0] == "people" and len(parts) >= 3 and parts[1].isdigit():
            row = rows.get(int(parts[1]), int(parts[1]))
            name = parts[3] if parts[2] == "contact" and len(parts) > 3 else parts[2]
            field_id = (f"people-{row}-dob-day" if name == "date_of_birth"
                        else f"people-{row}-{name}")
            found.append((100 + row, field_id, _person_message(row, name, message)))
        elif parts[0] == "people":
            found.append((100, "people-0-given_name",
                          "List the person being referred, with their date of birth"
                          if "subject" not in message else message))
        elif parts[0] == "identity" and len(parts) >= 2:
            ref = parts[1]
            row = int(ref[1:]) - 1 if ref[1:].isdigit() else 0
            found.append((150 + row, f"identity-{ref}", _identity_message(row, message)))
        elif parts[0] == "answers" and len(parts) == 2:
            found.append((300 + order.get(parts[1], 0), f"answer-{parts[1]}",
                          _answer_message(checklist, parts[1], message)))
        elif path in _TOP_LEVEL:
            field_id, texts = _TOP_LEVEL[path]
            text = next((t for k, t in texts.items() if k and message.startswith(k)),
                        texts[""])
            text = text.replace("{postcode_example}", postcode_example) if postcode_example \
                else text.replace(", like {postcode_example}", "")
            position = {"postcode": 200, "consent": 900}.get(path, 950)
            found.append((position, field_id, text))
        else:
            found.append((999, "postcode", f"{path}: {message}"))
    out: dict[str, str] = {}
    for _, field_id, message in sorted(found, key=lambda f: f[0]):
        out.setdefault(field_id, message)
    return out


def field_errors(errors: Mapping[str, list[str]], ids: Mapping[str, str]) -> dict[str, str]:
    """Simple forms: the first message for each field, keyed by the input's id."""
    out: dict[str, str] = {}
    first = next(iter(ids.values()), "")
    for path, messages in errors.items():
        out.setdefault(ids.get(path, first), " ".join(messages))
    return out


def errors_by_section(errors: Mapping[str, str], checklist: Checklist) -> dict[str, str]:
    """Checkbox groups show one message per section: the first error among its questions."""
    out: dict[str, str] = {}
    for section in checklist.sections:
        for q in section.questions:
            if f"answer-{q.id}" in errors:
                out.setdefault(section.id, errors[f"answer-{q.id}"])
    return out
