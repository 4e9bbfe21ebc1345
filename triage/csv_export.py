"""Every CSV file the service writes, through one writer that neutralises formula cells.

A spreadsheet runs a cell that starts with =, +, -, @ (or a tab or carriage return before
one) as a formula: `=cmd|' /C calc'!A0` in a family's name or a referrer's concerns would
run on the computer of whoever opens an export (CSV injection, OWASP). The stored record
and the API keep the text exactly as sent; only what is written to a CSV file changes, by
prefixing such a cell with a single quote, which spreadsheets show as text.

Use `csv_text(rows)` (or `write_rows(out, rows)`) for any CSV the service produces: the
batch template today, reports and subject-access exports tomorrow. A test fails if another
module calls csv.writer itself (tests/unit/test_csv_export.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO, Any

# OWASP's list: the formula characters, and tab and carriage return, which some spreadsheets
# skip before reading the next character as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LINE_END = "\r\n"  # RFC 4180, and what Excel writes


def safe_cell(value: Any) -> str:
    """A value as a CSV cell: text that a spreadsheet would run as a formula is prefixed
    with a single quote; None is an empty cell; numbers are written as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_rows(out: IO[str], rows: Iterable[Iterable[Any]]) -> None:
    """Write rows (the heading first, if any) to a text stream, every cell made safe."""
    writer = csv.writer(out, lineterminator=LINE_END)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as the text of a CSV file, every cell made safe."""
    out = io.StringIO()
    write_rows(out, rows)
    return out.getvalue()
