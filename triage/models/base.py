"""Column types shared by every table: UTC timestamps and JSON that is JSONB on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def stamped() -> Any:
    """A required UTC timestamp column that defaults to now."""
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


def maybe_stamped() -> Any:
    """An optional UTC timestamp column."""
    return Field(default=None, sa_column=Column(UTCDateTime))


def json_column() -> Any:
    """A required JSON column (JSONB on PostgreSQL) that defaults to an empty object."""
    return Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


# The largest id an INTEGER key column holds (32-bit on PostgreSQL): a bigger number in a URL
# or a body cannot name a row, so it is a 404 or a 422, never sent to the database.
MAX_ID = 2**31 - 1
