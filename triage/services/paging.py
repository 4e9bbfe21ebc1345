"""Lists that cost the same however long they grow: counts that stop at a cap, and pages
that start after the last row shown (a cursor of its sort key and id) instead of skipping
an offset's worth of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, func, literal, or_, select

from triage.errors import ValidationFailed

# Counting stops here: a list longer than this says "1,000 or more".
COUNT_CAP = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Count:
    """How many rows match, up to the cap; `more` when there are more than `n`."""

    n: int
    more: bool = False

    def __str__(self) -> str:
        return f"{self.n:,} or more" if self.more else f"{self.n:,}"


def capped_count(session, where: list[Any], table, cap: int | None = None) -> Count:
    """Count the rows of `table` matching `where`, reading at most cap + 1 of them (COUNT_CAP
    unless given)."""
    cap = COUNT_CAP if cap is None else cap
    rows = select(literal(1)).select_from(table).where(*where).limit(cap + 1).subquery()
    n = session.execute(select(func.count()).select_from(rows)).scalar_one()
    return Count(cap, True) if n > cap else Count(n)


class Listed(NamedTuple):
    """One page of a list: its rows, the list's count (up to the cap), and the cursor the
    next page starts after (None on the last page)."""

    rows: list
    total: Count
    next: str | None


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after the row with this sort moment (None: a row with
    nothing due, listed after the dated ones) and id."""

    moment: datetime | None
    id: int

    def __str__(self) -> str:
        if self.moment is None:
            return f"none.{self.id}"
        micros = (self.moment - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.id}"


def cursor_after(moment: datetime | None, row_id: int) -> str:
    return str(Cursor(moment, row_id))


def parse_cursor(value: str | None, field: str = "after") -> Cursor | None:
    """The cursor a `next` link carries; a clear 422 naming the field when it is not one."""
    if not value:
        return None
    head, _, tail = value.partition(".")
    try:
        row_id = int(tail)
        if not 0 < row_id < 2**31:
            raise ValueError
        moment = None if head == "none" else _EPOCH + timedelta(microseconds=int(head))
        if moment is not None and not 1900 < moment.year < 3000:
            raise ValueError
    except (ValueError, OverflowError):
        raise ValidationFailed({field: ["Give the `next` value of the previous page."]}) \
            from None
    return Cursor(moment, row_id)


def after(moment_column, id_column, cursor: Cursor, *, descending: bool = False) -> Any:
    """Rows after the cursor in (moment, id) order, said as a range an index can seek to:
    moment at or past the cursor's, and past its id when the moment is the same."""
    if descending:
        return and_(moment_column <= cursor.moment,
                    or_(moment_column < cursor.moment, id_column < cursor.id))
    return and_(moment_column >= cursor.moment,
                or_(moment_column > cursor.moment, id_column > cursor.id))
