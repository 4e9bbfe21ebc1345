"""Statements compiled once and run straight on the DBAPI cursor, and the plain rows they make.

The intake writes about fifteen rows per referral. Through the ORM each costs an instance
(attribute instrumentation), a flush or a Core execution (cache key, execution context,
result object), which made SQLAlchemy's bookkeeping most of an intake's CPU. Here a Core
statement is compiled once per database dialect, and each call only converts the
parameters with SQLAlchemy's own type processors and hands them to the driver's cursor in
the session's current transaction. The SQL text, parameter order and conversions come from
SQLAlchemy, so a row written here reads back exactly as one written by the ORM (the tests
read both ways on SQLite and PostgreSQL).

Rows are `Row` objects: the table's columns as attributes, defaults filled in from the
model, no ORM state. Code that only reads attributes (dump schemas, routing, notifications)
takes them as it takes model instances.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import ARRAY, Integer, String, Table, bindparam, event, func, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import Select
from sqlalchemy.sql.util import find_tables
from sqlalchemy.sql.visitors import replacement_traverse
from sqlmodel import SQLModel


class Row(SimpleNamespace):
    """A table row as plain attributes: what the statements here return and insert."""


@dataclass(frozen=True)
class _Compiled:
    sql: str | bytes
    raw: bool  # psycopg: run on a RawCursor ($1 placeholders, SQL passed through as is)
    writes: str | None  # an INSERT's table: writes waiting for it can run as WITH parts of it
    reads: frozenset[str] | None  # a SELECT: the tables it reads (it cannot see WITH parts)
    transactional: bool  # anything but a SELECT without FOR UPDATE (see lazy_begin)
    names: tuple[str, ...]  # bind names in the driver's order (positional paramstyles)
    positional: bool
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]  # bind name -> to the driver
    constants: Mapping[str, Any]  # binds with a value in the statement itself
    results: tuple[Callable[[Any], Any] | None, ...]  # per result column -> from the driver
    keys: tuple[str, ...]  # result column names
    ordered: Callable[[Mapping[str, Any]], tuple]  # positional: the values in bind order


class Prepared:
    """A Core statement (built on first use), compiled once per dialect, run on the DBAPI
    cursor of the session's connection. Parameters are passed by bind name.

    Statements must not need per-call rendering: no expanding IN lists (build one statement
    per list length instead) and no literal values the dialect renders inline.
    """

    def __init__(self, build: Callable[[], Any], *, column_keys: Sequence[str] | None = None):
        self._build = build
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is not None:
            return found
        with self._lock:
            found = self._by_dialect.get(dialect.name)  # another thread compiled it meanwhile
            if found is not None:
                return found
            statement = self._build()
            raw = dialect.driver == "psycopg"
            compiled = statement.compile(dialect=_numeric(dialect) if raw else dialect,
                                         column_keys=self._column_keys)
            if "POSTCOMPILE" in compiled.string:
                raise ValueError("a prepared statement cannot expand lists per call "
                                 f"(use BySize): {compiled.string}")
            processors = []
            constants = {}
            for name, bind in compiled.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors.append((name, processor))
                if not bind.required:
                    constants[name] = bind.effective_value
            columns = list(getattr(statement, "exported_columns", ()))
            results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                            for column in columns)
            names = tuple(compiled.positiontup or ()) if compiled.positional else ()
            found = _Compiled(
                sql=compiled.string.encode() if raw else compiled.string, raw=raw,
                writes=statement.table.name if isinstance(statement, Insert) else None,
                reads=frozenset(t.name for t in find_tables(statement, include_joins=True)
                                if isinstance(t, Table))  # (a JOIN is listed, and its tables)
                if isinstance(statement, Select) else None,
                transactional=not (isinstance(statement, Select)
                                   and statement._for_update_arg is None),
                names=names,
                positional=compiled.positional, processors=tuple(processors),
                constants=constants, results=results,
                keys=tuple(column.key for column in columns),
                ordered=_in_order(names))
            self._by_dialect[dialect.name] = found
        return found

    def _params(self, compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        values = {**compiled.constants, **params} if compiled.constants else dict(params)
        for name, processor in compiled.processors:
            values[name] = processor(values[name])
        if compiled.positional:
            return compiled.ordered(values)
        return values

    def rows(self, session: Session, params: Mapping[str, Any] | None = None) -> list[tuple]:
        """Run once; the rows it returns (if any), converted to Python values."""
        conn, driver = _connection(session)
        dialect = conn.dialect
        compiled = self._compiled(dialect)
        waiting = session.info.get(_LATER)
        if waiting:
            if compiled.writes or (compiled.reads is not None and not compiled.reads & {
                    part._compiled(dialect).writes for part, _ in waiting}):
                return self._with_later(session, params or {})
            flush_later(session)
        if compiled.transactional:
            _begin_unless_final(session, conn)
        driver_params = self._params(compiled, params or {})
        cursor = dialect.loaded_dbapi.RawCursor(driver) if compiled.raw else driver.cursor()
        try:
            cursor.execute(compiled.sql, driver_params)
            # A statement with result columns returns rows; asking the cursor instead costs
            # psycopg a description built anew (a Column object a column) on every call.
            fetched = (cursor.fetchall() if compiled.keys or cursor.description is not None
                       else [])
        except dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn, compiled.sql, driver_params, exc, cursor) from exc
        finally:
            cursor.close()
        if not any(compiled.results):
            return [tuple(row) for row in fetched]
        return [tuple(value if convert is None else convert(value)
                      for value, convert in zip(row, compiled.results, strict=True))
                for row in fetched]

    def later(self, session: Session, params: Mapping[str, Any]) -> None:
        """Run this write (an INSERT whose result nobody reads) with the session's next
        INSERT, or next SELECT of other tables, as a WITH part of it: on PostgreSQL one
        statement does both, and foreign keys between them are checked when it ends.
        Before any other statement, an ORM query or a flush, and before commit, what waits
        runs on its own. On SQLite (in-process, no round trips) it runs at once."""
        conn, _ = _connection(session)
        if conn.dialect.name != "postgresql":
            self.rows(session, params)
            return
        session.info.setdefault(_LATER, []).append((self, params))

    def _with_later(self, session: Session, params: Mapping[str, Any]) -> list[tuple]:
        # It writes, even when it is a SELECT: never on its own unless it is the commit's.
        _begin_unless_final(session, _connection(session)[0])
        waiting = session.info.pop(_LATER)
        key = (id(self), *(id(part) for part, _ in waiting))
        combined = _COMBINED.get(key)
        if combined is None:
            parts = [part for part, _ in waiting]
            combined = _COMBINED.setdefault(key, Prepared(
                lambda: self._build().add_cte(*[
                    _renamed(part._build(), f"w{i}_").cte(f"w{i}")
                    for i, part in enumerate(parts)]),
                column_keys=self._column_keys))
        merged = dict(params)
        for i, (_, part_params) in enumerate(waiting):
            merged.update({f"w{i}_{name}": value for name, value in part_params.items()})
        return combined.rows(session, merged)

    def first(self, session: Session, params: Mapping[str, Any] | None = None
              ) -> tuple | None:
        found = self.rows(session, params)
        return found[0] if found else None

    def records(self, session: Session, params: Mapping[str, Any] | None = None
                ) -> list[Row]:
        """Run once; the rows it returns as Rows named by column."""
        keys = self._compiled(_connection(session)[0].dialect).keys
        return [Row(**dict(zip(keys, row, strict=True))) for row in self.rows(session, params)]


def _in_order(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple]:
    if len(names) > 1:
        return itemgetter(*names)
    return lambda values: tuple(values[name] for name in names)


_LATER = "triage.statements.later"
_COMBINED: dict[tuple[int, ...], Prepared] = {}


def _renamed(statement: Any, prefix: str) -> Any:
    """The statement with every bind parameter renamed prefix + name (parts of one
    combined statement must not share a name)."""
    def rename(element: Any) -> Any:
        if isinstance(element, BindParameter):
            return bindparam(prefix + element.key, value=element.value, type_=element.type,
                             required=element.required)
        return None

    return replacement_traverse(statement, {}, rename)


def flush_later(session: Session) -> None:
    """Run the writes waiting in this session (see Prepared.later) now, one by one (only
    combinations with an INSERT that follows are compiled, which keeps them few)."""
    for part, params in session.info.pop(_LATER, None) or ():
        part.rows(session, params)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, *_args: Any) -> None:
    flush_later(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    waiting = session.info.get(_LATER)
    found = session.info.get(_CONNECTION)
    if (waiting and found is not None and _NOT_BEGUN in found[0].info
            and not (session.new or session.dirty or session.deleted)):
        # Nothing written yet and everything to write is waiting: one statement, atomic on
        # its own, outside any transaction (no BEGIN and no COMMIT round trip).
        last, params = waiting.pop()
        session.info[_FINAL] = True
        try:
            if waiting:
                last._with_later(session, params)
            else:
                session.info.pop(_LATER)
                last.rows(session, params)
        finally:
            session.info.pop(_FINAL, None)
        return
    flush_later(session)


@event.listens_for(Session, "do_orm_execute")
def _before_orm_statement(orm_execute_state: Any) -> None:
    flush_later(orm_execute_state.session)


_NUMERIC: dict[type, Dialect] = {}


def _numeric(dialect: Dialect) -> Dialect:
    """The same PostgreSQL dialect writing PostgreSQL's own $1, $2 placeholders.

    psycopg rewrites %(name)s placeholders into $n on every execute (and caches that only for
    short statements); SQL compiled with $n and run on psycopg's RawCursor goes to the
    server as it is."""
    found = _NUMERIC.get(type(dialect))
    if found is None:
        found = type(dialect)(paramstyle="numeric_dollar")
        found.server_version_info = dialect.server_version_info
        _NUMERIC[type(dialect)] = found
    return found


_CONNECTION = "triage.statements.connection"


def _connection(session: Session) -> tuple[Any, Any]:
    """The session's connection for its current transaction (SQLAlchemy's and the driver's),
    remembered until the transaction ends."""
    found = session.info.get(_CONNECTION)
    if found is None:
        conn = session.connection()
        driver = conn.connection.driver_connection
        found = session.info[_CONNECTION] = (conn, driver)
        if (session.info.get(LAZY_BEGIN) and not driver.autocommit
                and driver.info.transaction_status == _IDLE):
            driver.autocommit = True  # until the first statement that needs the transaction
            conn.info[_NOT_BEGUN] = True
    return found


# -- beginning late --------------------------------------------------------------------------
# A unit of work on PostgreSQL (psycopg) whose session.info has LAZY_BEGIN runs its plain
# reads (Prepared SELECTs without FOR UPDATE) outside any transaction, and begins one at the
# first statement that needs it: a write, a locking read, or any statement run through
# SQLAlchemy (ORM or Core). Under READ COMMITTED every statement takes its own snapshot
# either way, and a plain read takes no lock that the transaction would have held. If every
# write waits (Prepared.later) until the commit, they go as one statement, which PostgreSQL
# runs atomically on its own: no BEGIN and no COMMIT, two round trips fewer. A Prepared
# SELECT must therefore not change anything or take a lock (no pg_advisory_xact_lock in it).
LAZY_BEGIN = "triage.statements.lazy_begin"
_NOT_BEGUN = "triage.statements.not_begun"  # the pooled connection's info: in autocommit
_FINAL = "triage.statements.final"  # the waiting writes are running as the commit's statement
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open on the connection


def _begin_unless_final(session: Session, conn: Any) -> None:
    """Begin the transaction before a statement that needs one, unless it has begun or the
    statement is the commit's single one (`_FINAL`)."""
    if _NOT_BEGUN in conn.info and _FINAL not in session.info:
        _begin(conn)


def _begin(conn: Any) -> None:
    """Leave autocommit: psycopg sends BEGIN with the next statement."""
    conn.info.pop(_NOT_BEGUN)
    conn.connection.driver_connection.autocommit = False


def lazy_begin(engine: Any) -> None:
    """Let units of work on this (psycopg) engine begin late (see LAZY_BEGIN): call once per
    engine, and mark each such unit of work's session with LAZY_BEGIN."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before_other_statement(conn, _cursor, _statement, _params, _context, _many):
        if _NOT_BEGUN in conn.info:
            _begin(conn)

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record):
        # Back to the pool as every other connection is: not in autocommit.
        if record.info.pop(_NOT_BEGUN, None) and dbapi_connection is not None \
                and not dbapi_connection.closed:
            dbapi_connection.autocommit = False


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, _transaction: Any) -> None:
    session.info.pop(_CONNECTION, None)
    session.info.pop(_LATER, None)  # a rollback drops the writes that waited


def _wrapped(conn, sql: str | bytes, params: Any, exc: Exception, cursor) -> DBAPIError:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError...), and a
    dropped connection invalidated so the pool never hands it out again."""
    dialect = conn.dialect
    disconnect = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    if disconnect:
        conn.invalidate(exc)
    text = sql.decode() if isinstance(sql, bytes) else sql
    return DBAPIError.instance(text, params, exc, dialect.loaded_dbapi.Error,
                               hide_parameters=True, dialect=dialect,
                               connection_invalidated=disconnect)


class BySize:
    """One Prepared statement per list size, for IN lists and ORs of n conditions
    (`build(n)` makes the statement for n items), so none needs rendering per call."""

    def __init__(self, build: Callable[[int], Any]):
        self._build = build
        self._made: dict[int, Prepared] = {}

    def __getitem__(self, size: int) -> Prepared:
        found = self._made.get(size)
        if found is None:
            found = self._made.setdefault(size, Prepared(lambda: self._build(size)))
        return found


def in_list(prefix: str, values: Sequence[Any]) -> tuple[int, dict[str, Any]]:
    """The size and bind values for `column IN (:prefix0, :prefix1, ...)`: the list padded
    with NULLs (which match nothing) to the next power of two, so that a few statements
    serve every length."""
    size = 1
    while size < len(values):
        size *= 2
    params = {f"{prefix}{i}": None for i in range(size)}
    params.update({f"{prefix}{i}": value for i, value in enumerate(values)})
    return size, params


# -- inserting rows --------------------------------------------------------------------------
class _TableInsert:
    """How one model's rows are inserted: its defaults and two compiled INSERTs."""

    def __init__(self, model: type[SQLModel]):
        table: Table = model.__table__
        self.table = table
        keys = list(table.primary_key.columns)
        # A single integer key is generated by the database; composite keys are given.
        self.generated = keys[0].name if len(keys) == 1 and isinstance(keys[0].type, Integer) \
            else None
        self.columns = [c.name for c in table.columns if c.name != self.generated]
        fields = model.model_fields
        missing = [c.name for c in table.columns if c.name not in fields]
        if missing:
            raise TypeError(f"{model.__name__}: columns {missing} have no model field")
        self.defaults: list[tuple[str, Any, Callable[[], Any] | None]] = []
        self.required: list[str] = []
        for name in self.columns:
            info = fields[name]
            if info.default_factory is not None:
                self.defaults.append((name, None, info.default_factory))
            elif info.default is not PydanticUndefined:
                self.defaults.append((name, info.default, None))
            else:
                self.required.append(name)
        returning = (table.c[self.generated],) if self.generated else ()
        self.returning = Prepared(lambda: insert(table).returning(*returning),
                                  column_keys=self.columns) if returning else None
        # n rows in one INSERT ... VALUES (...), (...): one statement, not n. With `keyed`,
        # the generated key is given too (taken beforehand with next_keys).
        self.keyed_columns = [c.name for c in table.columns]
        self.plain = {keyed: BySize(lambda n, names=names: insert(table).values([
            {name: bindparam(f"{name}__{i}", type_=table.c[name].type) for name in names}
            for i in range(n)])) for keyed, names in ((False, self.columns),
                                                      (True, self.keyed_columns))}

    def insert_plain(self, session: Session, rows: Sequence[Mapping[str, Any]], *,
                     keyed: bool = False) -> None:
        """Insert in chunks of a power of two rows (64, 32 ... 1): one statement per chunk,
        and a handful of statements per table to compile whatever the count."""
        names = self.keyed_columns if keyed else self.columns
        start = 0
        while start < len(rows):
            size = min(_ROWS_PER_INSERT, 1 << ((len(rows) - start).bit_length() - 1))
            chunk = rows[start:start + size]
            self.plain[keyed][size].later(session, {
                f"{name}__{i}": row[name] for i, row in enumerate(chunk) for name in names})
            start += size

    def complete(self, values: Mapping[str, Any]) -> dict[str, Any]:
        row = {name: (factory() if factory is not None else default)
               for name, default, factory in self.defaults if name not in values}
        row.update(values)
        absent = [name for name in self.required if name not in row]
        if absent:
            raise TypeError(f"{self.table.name}: no value for {', '.join(absent)}")
        return row


_TABLES: dict[type, _TableInsert] = {}
_ROWS_PER_INSERT = 64


def _table_insert(model: type[SQLModel]) -> _TableInsert:
    found = _TABLES.get(model)
    if found is None:
        found = _TABLES[model] = _TableInsert(model)
    return found


def new_rows(session: Session, model: type[SQLModel], values: Sequence[Mapping[str, Any]],
             *, ids: bool = True) -> list[Row]:
    """Insert rows of `model` in the session's transaction; returns them as Rows with every
    column (model defaults filled in) and, when `ids`, their generated keys."""
    how = _table_insert(model)
    rows = [how.complete(v) for v in values]
    if how.generated is not None and rows and all(
            row.get(how.generated) is not None for row in rows):
        how.insert_plain(session, rows, keyed=True)  # keys taken with next_keys
        return [Row(**row) for row in rows]
    if how.generated is None or not ids:
        how.insert_plain(session, rows)
        if how.generated is not None:
            for row in rows:
                row.setdefault(how.generated, None)
        return [Row(**row) for row in rows]
    for row in rows:  # one statement per row keeps the keys in order on every database
        row[how.generated] = how.returning.rows(session, row)[0][0]
    return [Row(**row) for row in rows]


def next_keys(session: Session, wanted: Mapping[type[SQLModel], int]
              ) -> dict[type[SQLModel], list[int]]:
    """Take the next generated keys of several tables before inserting their rows, so rows
    that refer to each other (or whose columns depend on their key, as a referral's
    reference does) are each written once, complete, and can all go in together.

    PostgreSQL: the tables' sequences, all in one statement. SQLite: one more than the
    largest key, which is what SQLite itself would pick, and safe because its write
    transactions run one at a time; insert the rows before any other row of the table."""
    conn, _ = _connection(session)
    if conn.dialect.name == "postgresql":
        tables, columns = [], []
        for model, n in wanted.items():
            how = _table_insert(model)
            tables += [how.table.name] * n
            columns += [how.generated] * n
        rows = _PG_NEXT_KEYS.rows(session, {"tables": tables, "columns": columns}) \
            if tables else []
        taken = iter(row[0] for row in rows)
        return {model: [next(taken) for _ in range(n)] for model, n in wanted.items()}
    keys: dict[type[SQLModel], list[int]] = {}
    for model, n in wanted.items():
        if n < 1:
            keys[model] = []
            continue
        how = _table_insert(model)
        found = _SQLITE_NEXT_KEYS.get(how.table.name)
        if found is None:
            column = how.table.c[how.generated]
            found = _SQLITE_NEXT_KEYS.setdefault(how.table.name, Prepared(
                lambda column=column: select(func.coalesce(func.max(column), 0) + 1)))
        first = found.rows(session)[0][0]
        keys[model] = list(range(first, first + n))
    return keys


def next_key(session: Session, model: type[SQLModel]) -> int:
    """The next generated key of `model`'s table, taken before inserting its row."""
    return next_keys(session, {model: 1})[model][0]


def _pg_next_keys() -> Any:
    """nextval of each (table, key column) pair given, in the order given."""
    pairs = func.unnest(bindparam("tables", type_=ARRAY(String)),
                        bindparam("columns", type_=ARRAY(String))
                        ).table_valued("t", "c", with_ordinality="n").render_derived(name="k")
    return select(func.nextval(func.pg_get_serial_sequence(pairs.c.t, pairs.c.c))
                  ).order_by(pairs.c.n)


_PG_NEXT_KEYS = Prepared(_pg_next_keys)
_SQLITE_NEXT_KEYS: dict[str, Prepared] = {}



def new_row(session: Session, model: type[SQLModel], **values: Any) -> Row:
    """Insert one row of `model`; returns it with its generated key (see new_rows)."""
    return new_rows(session, model, [values])[0]


def insert_rows(session: Session, instances: Sequence[SQLModel]) -> None:
    """Insert model instances (not added to the session) and set their generated keys."""
    if not instances:
        return
    how = _table_insert(type(instances[0]))
    if how.generated is not None and any(getattr(o, how.generated) is not None
                                         for o in instances):
        raise ValueError(f"{how.table.name}: {how.generated} is generated by the database")
    made = new_rows(session, type(instances[0]),
                    [{c: getattr(obj, c) for c in how.columns} for obj in instances])
    if how.generated is not None:
        for obj, row in zip(instances, made, strict=True):
            setattr(obj, how.generated, getattr(row, how.generated))
