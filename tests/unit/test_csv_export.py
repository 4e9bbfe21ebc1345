"""Every CSV the service writes neutralises cells a spreadsheet would run as a formula
(=, +, -, @, or a leading tab or carriage return), through one writer (triage/csv_export.py)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from triage.csv_export import csv_text, safe_cell

TRIAGE = Path(__file__).resolve().parents[2] / "triage"


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("value", [
    "=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"])
def test_a_formula_cell_is_written_as_text(value):
    assert safe_cell(value) == "'" + value
    assert _read(csv_text([["name"], [value]])) == [["name"], ["'" + value]]


@pytest.mark.parametrize("value, cell", [
    ("Gwen Smith", "Gwen Smith"), ("a=b", "a=b"), ("O'Brien", "O'Brien"), ("", ""),
    (None, ""), (42, "42"), (-3, "-3"), (1.5, "1.5"), (True, "yes"), (False, "no"),
    ('said "hello", then left', 'said "hello", then left')])
def test_ordinary_values_are_written_as_they_are(value, cell):
    assert _read(csv_text([[value]])) == [[cell]]


def test_no_module_writes_csv_except_through_the_one_writer():
    """A new export (a report, a subject-access file) that calls csv.writer itself would
    skip the formula check: it must use triage.csv_export."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(|from csv import .*\b(writer|DictWriter)")
    offenders = [str(path.relative_to(TRIAGE)) for path in TRIAGE.rglob("*.py")
                 if path.name != "csv_export.py" and writers.search(path.read_text("utf-8"))]
    assert offenders == []
