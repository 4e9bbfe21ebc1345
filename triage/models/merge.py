"""Merges of two person records, or two household records, into one: who, when, why, and the
exact rows changed or removed, so a merge can be undone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from triage.models.base import JSONType, maybe_stamped, stamped


class RecordMerge(SQLModel, table=True):
    """One merge: `merged_id` now points at `survivor_id` and every row that referred to it
    refers to the survivor. The two ids are not foreign keys: they name a person or a household
    (by `kind`), and a merge moves every reference to the merged record, which must not include
    its own record of having happened."""

    __tablename__ = "record_merge"
    __table_args__ = (
        Index("ix_record_merge_merged", "kind", "merged_id"),
        Index("ix_record_merge_survivor", "kind", "survivor_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # person or household
    merged_id: int
    survivor_id: int
    reason: str
    merged_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    merged_at: datetime = stamped()
    # What a merge did, for its undo: {"updated": [{table, key, column, old, new}],
    # "removed": [{table, row}], "added": [{table, key}]}, in the order it was done. Keys and
    # rows hold column values as JSON (dates and times as ISO 8601).
    snapshot: dict[str, Any] = Field(default_factory=dict,
                                     sa_column=Column(JSONType, nullable=False))
    # What else the merge did, in plain words (a referral decided again...), or None.
    note: str | None = None
    undone_at: datetime | None = maybe_stamped()
    undone_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    undo_reason: str | None = None
