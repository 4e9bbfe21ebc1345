"""The rows a merge touches, found from the models' metadata: every column referring to a
person or household by foreign key, each table's unique keys and ordered pairs, and moving
those references to a survivor while keeping the old values (and removed rows) for an undo."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Table,
    TypeDecorator,
    UniqueConstraint,
    and_,
    delete,
    or_,
    select,
    update,
)
from sqlmodel import Session, SQLModel

from triage.models import Household, Person

KINDS = {"person": Person, "household": Household}
_PAIR_ORDER = re.compile(r"^\s*(\w+)\s*<\s*(\w+)\s*$")


# -- the tables, read from the metadata ---------------------------------------------------
def references(kind: str) -> dict[Table, list[Column]]:
    """Every column that refers to a record of `kind` by foreign key, by table."""
    target = KINDS[kind].__table__
    found: dict[Table, list[Column]] = {}
    for table in SQLModel.metadata.sorted_tables:
        columns = [c for c in table.columns
                   if any(fk.column.table is target and fk.column.name == "id"
                          for fk in c.foreign_keys)]
        if columns:
            found[table] = columns
    return found


def unique_keys(table: Table) -> list[tuple[str, ...]]:
    """The primary key and every unique constraint, index or column of a table."""
    keys = [tuple(c.name for c in table.primary_key.columns)]
    keys += [tuple(c.name for c in con.columns) for con in table.constraints
             if isinstance(con, UniqueConstraint)]
    keys += [tuple(c.name for c in ix.columns) for ix in table.indexes if ix.unique]
    keys += [(c.name,) for c in table.columns if c.unique]
    return list(dict.fromkeys(keys))


def ordered_pairs(table: Table) -> list[tuple[str, str]]:
    """Column pairs a check constraint keeps in order (`person_id < other_person_id`)."""
    pairs = []
    for con in table.constraints:
        if isinstance(con, CheckConstraint):
            found = _PAIR_ORDER.match(str(con.sqltext))
            if found and {found[1], found[2]} <= set(table.columns.keys()):
                pairs.append((found[1], found[2]))
    return pairs


def _kind_of(column: Column) -> Any:
    kind = column.type
    return kind.impl if isinstance(kind, TypeDecorator) else kind


def encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def decode(column: Column, value: Any) -> Any:
    if value is None:
        return None
    kind = _kind_of(column)
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    return value


def encode_row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: encode(v) for k, v in values.items()}


def decode_row(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    return {k: decode(table.c[k], v) for k, v in values.items()}


def primary_key(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    return {c.name: values[c.name] for c in table.primary_key.columns}


def where(table: Table, values: dict[str, Any]):
    return and_(*[table.c[k] == v for k, v in values.items()])


def exists(session: Session, table: Table, values: dict[str, Any]) -> bool:
    return session.execute(select(*table.primary_key.columns).where(
        where(table, values)).limit(1)).first() is not None


class Snapshot:
    """What a merge did, as record_merge keeps it, written as it goes."""

    def __init__(self) -> None:
        self.updated: list[dict[str, Any]] = []
        self.removed: list[dict[str, Any]] = []
        self.added: list[dict[str, Any]] = []

    def as_json(self) -> dict[str, Any]:
        return {"updated": self.updated, "removed": self.removed, "added": self.added}


def update_row(session: Session, snap: Snapshot, table: Table, values: dict[str, Any],
                new: dict[str, Any]) -> None:
    """Change some columns of one row (as read), keeping the old and new values."""
    changed = {k: v for k, v in new.items() if v != values[k]}
    if not changed:
        return
    session.execute(update(table).where(where(table, primary_key(table, values)))
                    .values(**changed))
    after = {**values, **changed}
    snap.updated.append({"table": table.name,
                         "key": encode_row(primary_key(table, after)),
                         "old": encode_row({k: values[k] for k in changed}),
                         "new": encode_row(changed)})


def move_references(session: Session, snap: Snapshot, kind: str, merged: int,
                     survivor: int) -> None:
    for table, columns in references(kind).items():
        rows = [dict(r) for r in session.execute(select(table).where(
            or_(*[c == merged for c in columns]))).mappings()]
        if not rows:
            continue
        keys, pairs = unique_keys(table), ordered_pairs(table)
        claimed: set[tuple] = set()
        removing, moving = [], []
        for values in rows:
            named = {values[c.name] for c in columns}
            if len(columns) > 1 and {merged, survivor} <= named:
                continue  # the pair's own row (their match decision or review) says who
            after = {**values, **{c.name: survivor for c in columns
                                  if values[c.name] == merged}}
            for first, second in pairs:
                if None not in (after[first], after[second]) and after[first] > after[second]:
                    after[first], after[second] = after[second], after[first]
            changed = {k for k in after if after[k] != values[k]}
            wanted = [(key, tuple(after[k] for k in key)) for key in keys
                      if set(key) & changed and None not in (after[k] for k in key)]
            if any((key, value) in claimed
                   or exists(session, table, dict(zip(key, value, strict=True)))
                   for key, value in wanted):
                removing.append(values)
                continue
            claimed.update(wanted)
            moving.append((values, {k: after[k] for k in changed}))
        for values in removing:
            session.execute(delete(table).where(where(table, primary_key(table, values))))
            snap.removed.append({"table": table.name, "row": encode_row(values)})
        for values, new in moving:
            update_row(session, snap, table, values, new)
