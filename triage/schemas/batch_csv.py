"""A batch of referrals as a CSV file: the columns, the template, and reading a file into
referral bodies with every problem named by row and column.

One row is one referral. The columns come from the profile's checklist (one per question,
by its id), so a council's checklist change changes the template with it. The address and
each person's contact and identity columns (subject_phone, member1_nhs_number...) are
optional: files made before they existed are still read. A file may leave
out any column it does not use except the three every referral needs (postcode, consent
and the subject's date of birth); a column we do not know is an error, so a typo in a
heading is not silently ignored (a blank heading is: spreadsheets save trailing empty
columns). Rows are numbered as a spreadsheet numbers them (the
heading is row 1), so "row 7" is the row a partner sees in Excel.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from config.profile import Profile
from triage.csv_export import csv_text
from triage.schemas.text import text_problem

MEMBERS = 5  # household members besides the subject, per row
REQUIRED = ("postcode", "consent", "subject_date_of_birth")
_PERSON_FIELDS = ("given_name", "family_name", "date_of_birth")
# Contact and identity (contract 5.1): column suffix -> (where in the person, how to read it).
_CONTACT_FIELDS = {
    "phone": ("contact.phone", None), "email": ("contact.email", None),
    "preferred_contact": ("contact.preferred", "lower"),
    "safe_to_contact": ("contact.safe_to_contact", "yes_no"),
    "safe_contact_notes": ("contact.safe_contact_notes", None),
    "language": ("contact.language", None), "interpreter": ("contact.interpreter", "yes_no"),
    "nhs_number": ("nhs_number", None), "sex": ("sex", "lower"),
    "ethnicity": ("ethnicity", "lower"),
}
_ADDRESS_FIELDS = {"address_line1": "line1", "address_line2": "line2", "town": "town"}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def columns(profile: Profile) -> list[str]:
    """Every column a batch file may have, in the template's order."""
    people = [f"subject_{name}" for name in (*_PERSON_FIELDS, *_CONTACT_FIELDS)]
    for n in range(1, MEMBERS + 1):
        people += [f"member{n}_relationship",
                   *(f"member{n}_{name}" for name in (*_PERSON_FIELDS, *_CONTACT_FIELDS))]
    return ["referrer_name", "referrer_email", "referrer_phone", "postcode", *_ADDRESS_FIELDS,
            "consent", "information_only", "step_down", "concerns", *people,
            *profile.checklist.questions]


# How the template is offered for download (API and partners' page alike).
TEMPLATE_HEADERS = {"Content-Disposition": 'attachment; filename="referral-batch-template.csv"'}


def template(profile: Profile) -> str:
    """The heading row of a batch file for this profile's checklist (written, as every CSV
    the service produces, by triage.csv_export)."""
    return csv_text([columns(profile)])


@dataclass
class BatchFile:
    """A file read: one referral body per data row, the row each came from, the column of
    each field path, and the problems found in the cells themselves."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    columns: list[dict[str, str]] = field(default_factory=list)
    problems: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    def where(self, i: int, path: str) -> str:
        """The error key for field `path` of referral i: rows.<row>.<column>, or rows.<row>
        when the problem has no one column (no person in the household, say)."""
        column = self.columns[i].get(path)
        return f"rows.{self.rows[i]}.{column}" if column else f"rows.{self.rows[i]}"


class FileProblem(Exception):
    """The file cannot be read as a batch at all (not CSV text, no heading, bad columns)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def read(profile: Profile, data: bytes, *, channel: str, max_rows: int) -> BatchFile:
    """Read a CSV file into referral bodies. FileProblem when the file as a whole is wrong;
    otherwise problems with single cells are in `problems` (by referral index)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem({"file": [
            "The file is not UTF-8 text. In Excel, save it as 'CSV UTF-8 (Comma delimited)'."
        ]}) from None
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:  # a NUL byte, say: not a text file
        raise FileProblem({"file": [f"The file cannot be read as CSV ({exc})."]}) from None
    heading = [h.strip().lower() for h in lines[0]] if lines else []
    if not any(heading):
        raise FileProblem({"file": ["The file is empty: the first row must be the column "
                                    "headings of the template."]})
    _check_heading(profile, heading)
    batch = BatchFile()
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line (spreadsheets often leave some at the end)
        values, stray = {}, []
        for i, cell in enumerate(cells):
            name = heading[i] if i < len(heading) else ""
            if name:
                values[name] = cell.strip()
            elif cell.strip():
                stray.append(i + 1)
        body, where, problems = _row(profile, values, channel)
        if stray:
            problems[""] = [
                f"Row {number} has a value in column{'s' if len(stray) > 1 else ''} "
                f"{', '.join(map(str, stray))}, which {'have' if len(stray) > 1 else 'has'} "
                "no heading: check for a comma inside a value that is not in quotes."]
        batch.bodies.append(body)
        batch.rows.append(number)
        batch.columns.append(where)
        if problems:
            batch.problems[len(batch.bodies) - 1] = {
                f"rows.{number}.{column}" if column else f"rows.{number}": messages
                for column, messages in problems.items()}
    if not batch.bodies:
        raise FileProblem({"file": ["The file has headings but no rows of referrals."]})
    if len(batch.bodies) > max_rows:
        raise FileProblem({"file": [
            f"A batch holds at most {max_rows} referrals; this file has {len(batch.bodies)}. "
            "Split it into smaller files."]})
    return batch


def _check_heading(profile: Profile, heading: list[str]) -> None:
    """The heading row names only template columns, each once, and the required ones. Blank
    headings are allowed (a spreadsheet saves trailing empty columns); a cell under one is
    not (see read)."""
    known = set(columns(profile))
    named = [h for h in heading if h]
    unknown = [h for h in named if h not in known]
    if len(unknown) > len(named) / 2 and not any(c in named for c in REQUIRED):
        # Most likely no heading row at all: do not echo what is probably a family's data.
        raise FileProblem({"columns": [
            "The first row must be the column headings from the template; it does not look "
            "like them."]})
    errors: list[str] = []
    if unknown:
        shown = ", ".join(_shown(h) for h in unknown[:8])
        more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        errors.append(f"Not a column of the batch template: {shown}{more}.")
    repeated = sorted({h for h in named if named.count(h) > 1})
    if repeated:
        errors.append("Columns appear twice: "
                      f"{', '.join(h if h in known else _shown(h) for h in repeated)}.")
    missing = [c for c in REQUIRED if c not in named]
    if missing:
        errors.append(f"Every batch needs the columns {', '.join(REQUIRED)}; missing: "
                      f"{', '.join(missing)}.")
    if errors:
        raise FileProblem({"columns": errors})


def _shown(value: str, limit: int = 30) -> str:
    """A value quoted back in a message, cut short (it may be someone's details)."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _row(profile: Profile, values: dict[str, str], channel: str
         ) -> tuple[dict[str, Any], dict[str, str], dict[str, list[str]]]:
    """One row as a referral body, the column of each of its field paths, and the problems
    of its cells (a cell with a problem is left out of the body, so it is named once)."""
    where: dict[str, str] = {}
    problems: dict[str, list[str]] = {}

    def put(target: dict, key: str, path: str, column: str,
            convert: Callable[[str], Any] | None = None) -> None:
        raw = values.get(column, "")
        where[path] = column
        if not raw:
            return
        unstorable = text_problem(raw)
        if unstorable:
            problems[column] = [unstorable]
            return
        try:
            target[key] = convert(raw) if convert else raw
        except ValueError as exc:
            problems[column] = [str(exc)]

    body: dict[str, Any] = {"channel": channel, "referrer": {}, "people": [], "answers": {}}
    for name in ("name", "email", "phone"):
        put(body["referrer"], name, f"referrer.{name}", f"referrer_{name}")
    put(body, "postcode", "postcode", "postcode")
    address: dict[str, Any] = {}
    for column, key in _ADDRESS_FIELDS.items():
        put(address, key, f"address.{key}", column)
    if address:
        body["address"] = address
    put(body, "consent", "consent", "consent", _consent)
    put(body, "information_only", "information_only", "information_only", _yes_no)
    put(body, "step_down", "step_down", "step_down", _yes_no)
    put(body, "concerns", "concerns", "concerns")
    people = [("subject", "subject", "subject", None)] + [
        (f"member{n}", f"m{n}", "household", f"member{n}_relationship")
        for n in range(1, MEMBERS + 1)]
    for prefix, ref, role, relationship in people:
        own = [f"{prefix}_{name}" for name in (*_PERSON_FIELDS, *_CONTACT_FIELDS)]
        if relationship:
            own.append(relationship)
        if role != "subject" and not any(values.get(c) for c in own):
            continue
        i = len(body["people"])
        person: dict[str, Any] = {"ref": ref, "role": role}
        for name in _PERSON_FIELDS:
            put(person, name, f"people.{i}.{name}", f"{prefix}_{name}",
                _date if name == "date_of_birth" else None)
        if relationship:
            put(person, "relationship", f"people.{i}.relationship", relationship)
        contact: dict[str, Any] = {}
        for name, (path, how) in _CONTACT_FIELDS.items():
            target, key = (contact, path[8:]) if path.startswith("contact.") else (person, path)
            put(target, key, f"people.{i}.{path}", f"{prefix}_{name}",
                _yes_no if how == "yes_no" else str.lower if how == "lower" else None)
        if contact:
            person["contact"] = contact
        where.setdefault(f"people.{i}", f"{prefix}_date_of_birth")
        body["people"].append(person)
    for question in profile.checklist.questions:
        put(body["answers"], question, f"answers.{question}", question, _yes_no)
    return body, where, problems


def _yes_no(raw: str) -> bool:
    value = raw.lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(f"Enter yes or no, or leave it blank if not known (not {_shown(raw)}).")


def _consent(raw: str) -> str:
    """given, refused or not asked; yes and no (y, n) as a spreadsheet user writes them."""
    value = raw.lower().replace(" ", "_").replace("-", "_")
    if value in ("given", "refused", "not_asked"):
        return value
    if value in ("yes", "y"):
        return "given"
    if value in ("no", "n"):
        return "refused"
    raise ValueError(f"Enter given, refused or not asked, or yes or no (not {_shown(raw)}).")


def _date(raw: str) -> str:
    """A date as 2015-05-31 or as a UK spreadsheet writes it, 31/05/2015."""
    found = _UK_DATE.match(raw)
    if found:
        day, month, year = (int(g) for g in found.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"
    return raw  # the schema says what is wrong with it (an impossible 2015-02-30, say)
