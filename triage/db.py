"""The database: engine, sessions and the unit of work that owns each transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlmodel import Session

from config.settings import Settings
from triage import statements
from triage.account_changes import AccountChanges
from triage.cache import TtlCache
from triage.json_wire import column_json

_WRITE = "triage_write"
# A pooled PostgreSQL connection unused for longer than this is pinged before it is used.
PING_AFTER_IDLE_SECONDS = 1.0


class Database:
    """One engine per process, built from settings; nothing is connected at import."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, echo: bool = False,
                 token_cache_seconds: float = 10,
                 ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS,
                 pool_size: int = 10, max_overflow: int = 20, pool_timeout: float = 30,
                 prepare_threshold: int = 5):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._session_info: dict[str, Any] = {}  # every unit of work's session starts with it
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url,
                echo=echo,
                connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
                json_serializer=column_json,
                pool_size=20,
                max_overflow=20,
            )
            _configure_sqlite(self.engine, busy_timeout_ms)
        else:
            # prepare_threshold 0: never prepare on the server (PgBouncer transaction mode
            # before 1.21 cannot keep a prepared statement on the connection it was made on).
            self.engine = create_engine(
                url, echo=echo, pool_size=pool_size, max_overflow=max_overflow,
                pool_timeout=pool_timeout, json_serializer=column_json,
                connect_args=({"prepare_threshold": prepare_threshold or None}
                              if make_url(url).get_driver_name() == "psycopg" else {}))
            _ping_when_idle(self.engine, ping_after_idle_seconds)
            if make_url(url).get_driver_name() == "psycopg":
                statements.lazy_begin(self.engine)
                self._session_info = {statements.LAZY_BEGIN: True}
        self._writer = self.engine.execution_options(**{_WRITE: True})
        # SQLite allows one writer at a time. Threads of this process queue here, in order,
        # instead of sleep-polling in SQLite's busy handler (which stretches the tail latency);
        # other processes still wait on the busy timeout.
        self._write_lock = threading.Lock() if self.is_sqlite else nullcontext()
        # Who holds an API token, remembered briefly per process (see accounts.user_for_token).
        self.token_cache = TtlCache(seconds=token_cache_seconds)
        # PostgreSQL tells every process of an account change (migration 0026); SQLite is one
        # file on one machine, where a read of the account costs no round trip.
        self.account_changes = None if self.is_sqlite else AccountChanges(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
            self.token_cache.clear)
        self._reads: dict[Any, tuple[str, tuple[str, ...] | None]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.effective_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                   pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
                   pool_timeout=settings.db_pool_timeout_seconds,
                   prepare_threshold=settings.db_prepare_threshold)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on any error.

        On SQLite it starts with BEGIN IMMEDIATE, so concurrent writers queue on the busy
        timeout instead of failing with "database is locked" when a read turns into a write.
        """
        with self._write_lock:
            session = Session(bind=self._writer, expire_on_commit=False,
                              info=self._session_info)
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

    def _notify(self, channel: str) -> None:
        """NOTIFY a channel (PostgreSQL), at once (outside any transaction)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})

    def read_row(self, statement: Any, params: Mapping[str, Any]) -> tuple | None:
        """The first row of a small read, run outside any transaction (autocommit): one round
        trip, no BEGIN and no ROLLBACK, for a check made on every request (a remembered API
        token's account). The Core statement is compiled once; its parameters and columns
        must need no conversion (integers, text, booleans)."""
        found = self._reads.get(statement)
        if found is None:
            compiled = statement.compile(dialect=self.engine.dialect)
            found = self._reads[statement] = (
                compiled.string, tuple(compiled.positiontup) if compiled.positional else None)
        sql, order = found
        args: Any = tuple(params[name] for name in order) if order is not None else params
        raw = self.engine.raw_connection()
        driver = raw.driver_connection
        try:
            if not self.is_sqlite:  # pysqlite is already in autocommit (see _configure_sqlite)
                driver.autocommit = True
            cursor = driver.cursor()
            try:
                cursor.execute(sql, args)
                return cursor.fetchone()
            finally:
                cursor.close()
        except self.engine.dialect.loaded_dbapi.Error as exc:
            gone = self.engine.dialect.is_disconnect(exc, driver, None)
            if gone:
                raw.invalidate(exc)
            raise DBAPIError.instance(sql, args, exc, self.engine.dialect.loaded_dbapi.Error,
                                      connection_invalidated=gone,
                                      dialect=self.engine.dialect) from exc
        finally:
            if not self.is_sqlite and not driver.closed:
                driver.autocommit = False
            raw.close()

    def dispose(self) -> None:
        if self.account_changes is not None:
            self.account_changes.stop(wake=self._notify)
        self.engine.dispose()


def _ping_when_idle(engine: Engine, seconds: float) -> None:
    """SQLAlchemy's pool_pre_ping, for connections that sat unused for `seconds` only.

    A ping is a round trip to the server per transaction; under load a connection goes back
    to the pool and out again within milliseconds, where a ping finds nothing a failed
    statement would not. One that sat idle (a server restart, an idle timeout, a dropped
    network) is pinged, and a dead one is replaced before the transaction starts."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return  # just connected, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool throws this connection away and checks out another.
            raise DisconnectionError("connection found dead on checkout") from exc


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
