"""The database: engine, sessions and the unit of work that owns each transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import create_engine, event, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from triage.cache import TtlCache

_WRITE = "triage_write"


class Database:
    """One engine per process, built from settings; nothing is connected at import."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, echo: bool = False,
                 token_cache_seconds: float = 10):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url,
                echo=echo,
                connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
                pool_size=20,
                max_overflow=20,
            )
            _configure_sqlite(self.engine, busy_timeout_ms)
        else:
            self.engine = create_engine(
                url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
        self._writer = self.engine.execution_options(**{_WRITE: True})
        # SQLite allows one writer at a time. Threads of this process queue here, in order,
        # instead of sleep-polling in SQLite's busy handler (which stretches the tail latency);
        # other processes still wait on the busy timeout.
        self._write_lock = threading.Lock() if self.is_sqlite else nullcontext()
        # Who holds an API token, remembered briefly per process (see accounts.user_for_token).
        self.token_cache = TtlCache(seconds=token_cache_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.effective_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on any error.

        On SQLite it starts with BEGIN IMMEDIATE, so concurrent writers queue on the busy
        timeout instead of failing with "database is locked" when a read turns into a write.
        """
        with self._write_lock:
            session = Session(bind=self._writer, expire_on_commit=False)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session; anything it changes is thrown away. Objects read stay usable
        (detached, not expired) after the block."""
        session = Session(bind=self.engine, expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_INSERTS: dict[tuple[str, bool], object] = {}


def _insert_for(table, returning: bool):
    """One compiled-once INSERT per table (SQLAlchemy caches by statement identity)."""
    key = (table.name, returning)
    stmt = _INSERTS.get(key)
    if stmt is None:
        stmt = insert(table)
        if returning:
            stmt = stmt.returning(*table.primary_key.columns, sort_by_parameter_order=True)
        _INSERTS[key] = stmt
    return stmt


def insert_rows(session: Session, rows: list) -> None:
    """Insert model instances with one Core statement per table, setting their new ids.

    Faster than session.add() + flush() on the hot intake path (no unit-of-work
    bookkeeping); the instances stay outside the session, ready to be dumped.
    """
    if not rows:
        return
    table = type(rows[0]).__table__
    keys = list(table.primary_key.columns)
    generated = len(keys) == 1 and getattr(rows[0], keys[0].name) is None
    values = [{c.name: getattr(row, c.name) for c in table.columns
               if not (generated and c.primary_key)} for row in rows]
    stmt = _insert_for(table, generated)
    conn = session.connection()  # Core, not the ORM's bulk-insert path
    if not generated:
        conn.execute(stmt, values)
        return
    if len(values) == 1:  # a single row: plain execute, no executemany machinery
        ids = [conn.execute(stmt, values[0]).scalar_one()]
    else:
        ids = conn.execute(stmt, values).scalars().all()
    for row, new_id in zip(rows, ids, strict=True):
        setattr(row, keys[0].name, new_id)
