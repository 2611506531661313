"""Database engine, sessions and migrations (SQLite with WAL and IMMEDIATE writes, or PostgreSQL)."""

from __future__ import annotations

import asyncio
import bisect
import functools
import sqlite3
import weakref
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, cast, overload

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import BindParameter, ClauseElement, Table, TableClause, bindparam, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, Result, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, InvalidRequestError, SQLAlchemyError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util.concurrency import await_only, in_greenlet

from bot.core import sqlite_inline
from bot.core.config import DatabaseConfig

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Execution option of a connection whose transaction only reads (see read_only()).
_DEFERRED = "yizhan_deferred"
# Connection info key: the writer queue this connection's open transaction holds.
_HELD = "yizhan_writer"
_WRITERS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def inline_path(config: DatabaseConfig) -> str | None:
    """The SQLite file an inline engine can open (bot/core/sqlite_inline.py); None for PostgreSQL or in-memory SQLite."""
    if not is_sqlite(config.url):
        return None
    path = make_url(config.url).database
    return path if path and path != ":memory:" and not path.startswith("file:") else None


def create_engine(config: DatabaseConfig, *, inline: bool = False, writers: asyncio.Lock | None = None) -> AsyncEngine:
    """An async engine; on SQLite every transaction begins IMMEDIATE so writers queue, not fail.

    inline: on a SQLite file, connections that run each statement at once on the event loop's thread
    (bot/core/sqlite_inline.py) instead of in aiosqlite's thread per connection — the group commit's engine;
    writers: the lock its transactions queue on (the app engine's, so the two never wait in SQLite's busy loop).
    """
    # Parameters hold access tokens and message texts: never in the SQL log nor in a database error's text.
    kwargs: dict[str, Any] = {"echo": config.echo, "hide_parameters": True}
    if not is_sqlite(config.url):
        kwargs.update(pool_size=config.pool_size, max_overflow=config.pool_size * 2, pool_pre_ping=True)
    path = inline_path(config) if inline else None
    if path is not None:
        kwargs["async_creator"] = sqlite_inline.connector(path, config.sqlite_busy_timeout_ms)
    engine = create_async_engine(config.url, **kwargs)
    _plain_savepoints(engine.sync_engine.dialect)
    if is_sqlite(config.url):
        # An inline connection waits for another process's lock itself, without blocking the loop.
        busy_ms = 0 if path is not None else config.sqlite_busy_timeout_ms
        if writers is not None:
            _WRITERS[engine.sync_engine] = writers

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Hand transaction control to SQLAlchemy's "begin" event below.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            (mode,) = cursor.fetchone()
            if str(mode).lower() != "wal":
                cursor.close()
                dbapi_connection.close()
                raise UnsuitableDatabase(
                    f"SQLite keeps {make_url(config.url).render_as_string(hide_password=True)!r} in journal mode {mode!r}, not WAL (an in-memory database, or a "
                    "file opened without the shared memory WAL needs, e.g. nolock=1): the bot "
                    "reads beside its writer, which only WAL allows; use a SQLite file on a local disk, or PostgreSQL"
                )
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            if path is not None:
                # A COMMIT crossing the WAL's checkpoint size would copy and sync pages on the event loop: the
                # inline engine leaves checkpoints to checkpoint() below, on an aiosqlite connection.
                cursor.execute("PRAGMA wal_autocheckpoint = 0")
                # Temporary b-trees (RETURNING's rows, DISTINCT) in memory, not in a temporary file opened for each
                # statement: the group commit's inserts with RETURNING take half the time (its statements are
                # small; a handler's in its savepoints are a chat message's worth).
                cursor.execute("PRAGMA temp_store = MEMORY")
            cursor.close()

        writers = writer_queue(engine)

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock up front; a DEFERRED reader that later writes
            # could fail with "database is locked" without waiting for busy_timeout. Only
            # read_only() transactions begin DEFERRED: they neither wait for writers nor block them.
            if conn.get_execution_options().get(_DEFERRED):
                conn.exec_driver_sql("BEGIN")
                return
            # This process's writers take turns on an asyncio lock first (first come, first served), so
            # they do not poll for SQLite's lock in its busy handler (sleeps of up to 100 ms each).
            if _HELD not in conn.info and in_greenlet():
                await_only(writers.acquire())
                conn.info[_HELD] = writers
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release(conn.info)
                raise

        @event.listens_for(engine.sync_engine, "commit")
        def _on_commit(conn: Connection) -> None:
            _end(conn, "commit")

        @event.listens_for(engine.sync_engine, "rollback")
        def _on_rollback(conn: Connection) -> None:
            _end(conn, "rollback")

        def _end(conn: Connection, how: str) -> None:
            # An invalidated connection (a statement cut short, e.g. by a task's cancellation) has no info to
            # read: asking raises PendingRollbackError, which would fail the very rollback that ends it. Its
            # lock went back when it was invalidated (below).
            if conn.invalidated or _HELD not in conn.info:
                return
            # The event comes before the driver's COMMIT/ROLLBACK: end the transaction here first, so that
            # the writer handed the turn next finds SQLite's lock free (and never waits in a busy loop for a
            # COMMIT still on its way). SQLAlchemy's own call afterwards finds no transaction: a no-op.
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            try:
                if how == "commit":
                    dbapi.commit()
                else:
                    dbapi.rollback()
            except BaseException:
                if how == "rollback":  # (a failed commit keeps the turn until its rollback)
                    _release(conn.info)
                raise
            _release(conn.info)

        @event.listens_for(engine.sync_engine, "invalidate")
        @event.listens_for(engine.sync_engine, "checkin")
        def _on_gone(_dbapi_connection: Any, record: Any, *_exception: Any) -> None:
            # A connection invalidated (its SQLite connection is closed, and with it its transaction; the
            # record's info is cleared before it reconnects) or returned without commit or rollback.
            _release(record.info)

    return engine


# The savepoints open on a connection, by SQLAlchemy's names, outermost first (see _plain_savepoints()).
_SAVEPOINTS: weakref.WeakKeyDictionary[Connection, list[str]] = weakref.WeakKeyDictionary()


def _plain_savepoints(dialect: Dialect) -> None:
    """SAVEPOINT, RELEASE and ROLLBACK TO as plain SQL, named by depth (the group commit makes one per message).

    SQLAlchemy's dialect runs each as a statement construct: compiled anew every time (savepoint statements are not
    cached), with an execution context and a result — ~100 µs, where SQLite takes ~5 µs. And it names each savepoint
    anew (sa_savepoint_1, _2, … for the life of the connection): on PostgreSQL every one is then a new text that
    asyncpg prepares (a round trip more) and keeps in its statement cache, pushing out statements that are used.
    The dialect's methods are SQLAlchemy's hook for this (a Connection calls them after its savepoint events): here
    a savepoint is named by how deep it is (sp_0 for one in the transaction, sp_1 for one inside it …), so the same
    few texts recur, and the SQL goes through exec_driver_sql(), or, on an inline SQLite connection inside its
    transaction (which holds the write lock, so SQLite never answers busy), to its sqlite3 connection at once, as
    Prepared statements do. Both databases release or roll back to the latest savepoint of a name, and release or
    roll back every savepoint made after it, so names by depth mean what SQLAlchemy's names meant.
    """

    def run(conn: Connection, sql: str) -> None:
        driver = conn.connection.driver_connection
        if isinstance(driver, sqlite_inline.Connection) and conn.in_transaction():
            try:
                driver.rows_now(sql, ())
            except sqlite3.Error as exc:
                raise DBAPIError.instance(sql, None, exc, sqlite3.Error, dialect=dialect) from exc
            return
        conn.exec_driver_sql(sql)

    def savepoint(connection: Connection, name: str) -> None:
        # Called before SQLAlchemy marks the new savepoint as the connection's: none open means this is the first.
        opened = _SAVEPOINTS.get(connection) if connection.in_nested_transaction() else None
        if opened is None:
            opened = _SAVEPOINTS[connection] = []
        run(connection, f"SAVEPOINT sp_{len(opened)}")
        opened.append(name)

    def ended(keywords: str) -> Callable[[Connection, str], None]:
        def end(connection: Connection, name: str) -> None:
            opened = _SAVEPOINTS.get(connection, [])
            depth = opened.index(name) if name in opened else None
            if depth is None:  # not made here (cannot happen): as SQLAlchemy would send it
                run(connection, f"{keywords} {dialect.identifier_preparer.quote(name)}")
                return
            run(connection, f"{keywords} sp_{depth}")
            del opened[depth:]

        return end

    # Instance attributes: the methods of this engine's dialect only (setattr: mypy refuses assigning to a method).
    for method, function in (
        ("do_savepoint", savepoint),
        ("do_release_savepoint", ended("RELEASE SAVEPOINT")),
        ("do_rollback_to_savepoint", ended("ROLLBACK TO SAVEPOINT")),
    ):
        setattr(dialect, method, function)


async def checkpoint(engine: AsyncEngine) -> None:
    """A PASSIVE WAL checkpoint on one of engine's connections (the app engine's: aiosqlite runs it in its thread)."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]


def writer_queue(engine: AsyncEngine) -> asyncio.Lock:
    """The queue of this process's SQLite writers (the engine's transactions, the group commit's among them).

    First come, first served: the group commit does not go before the outbox sender, whose pushes a passive
    answer to the same chat must not overtake (measured: with the group commit first, pushes waited longer and
    more answers had to be pushed behind them)."""
    return _WRITERS.setdefault(engine.sync_engine, asyncio.Lock())


def _release(info: dict[Any, Any]) -> None:
    lock = info.pop(_HELD, None)
    if lock is not None:
        lock.release()


class UnsuitableDatabase(SQLAlchemyError):
    """The database cannot work the way the bot needs (SQLite that cannot be put in WAL mode): refused at start-up."""


class DatabaseUnavailable(Exception):
    """The database cannot take this write now (unreachable, locked past the busy timeout, full): try later.

    Raised instead of storing an error, so that a caller answers "try again" (a 503 with Retry-After) and the
    sender's retry is handled as if it were the first copy.
    """


# PostgreSQL SQLSTATE classes and codes that mean "not now" rather than "never": connection exceptions (08),
# insufficient resources (53: disk full, out of memory, too many connections), operator intervention (57P: a
# shutdown or a restart), and lock/statement timeouts (55P03, 57014).
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57P")
_PG_UNAVAILABLE_CODES = ("55P03", "57014")
# SQLite's messages for the same (a lock held past busy_timeout, a full disk, an I/O error).
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "disk is full",
    "disk i/o error",
    sqlite_inline.TRANSACTION_ENDED,
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether exc means the database is unavailable for now (a retry later may succeed), not a bug or bad data."""
    if isinstance(exc, DatabaseUnavailable | OSError | TimeoutError):
        return True  # OSError: a refused or reset connection, raised by the driver before SQLAlchemy wraps it
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, InterfaceError):
            return True
        return exc.orig is not None and is_unavailable(exc.orig)
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(code, str):
        return code.startswith(_PG_UNAVAILABLE_CLASSES) or code in _PG_UNAVAILABLE_CODES
    if isinstance(exc, sqlite3.Error):
        return any(s in str(exc).lower() for s in _SQLITE_UNAVAILABLE)
    cause = exc.__cause__
    return cause is not None and cause is not exc and is_unavailable(cause)


def affected(result: Result[Any]) -> int:
    """Rows matched by an UPDATE/DELETE (the conditional updates that make claims atomic)."""
    return cast(CursorResult[Any], result).rowcount


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with sessions() as session, session.begin():
        yield session


@asynccontextmanager
async def read_only(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A transaction that only reads (its end rolls back): on SQLite it does not queue for the write lock."""
    # The session's close on leaving the block rolls the transaction back and returns the connection, and it
    # runs to completion even if the task is cancelled meanwhile (an explicit rollback here would not).
    async with sessions() as session:
        await session.connection(execution_options={_DEFERRED: True})
        yield session


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


# PostgreSQL advisory lock key held while migrating (any number, the same in every instance): "yizhan".
MIGRATION_LOCK_KEY = 0x79697A68616E


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Apply Alembic migrations up to revision (default: every head) on this engine's database.

    Instances started together take turns: on PostgreSQL a transaction-level advisory lock is the first thing
    the migrating transaction takes (the next instance waits for the commit, then finds nothing left to do);
    on SQLite the transaction begins IMMEDIATE, which holds the database's write lock from the start.
    """

    def _run(connection: Connection) -> None:
        if revision == "heads" and _current_heads(connection) == _script_heads():
            return  # nothing to apply (every start of a migrated database): Alembic need not read its scripts
        command.upgrade(_alembic_config(connection), revision)

    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        await conn.run_sync(_run)


@functools.cache
def _script_heads() -> frozenset[str]:
    """The migrations' heads (the scripts do not change while the process runs)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(_alembic_config()).get_heads())


def _current_heads(connection: Connection) -> frozenset[str]:
    from alembic.runtime.migration import MigrationContext

    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's Alembic revision(s), comma-separated, or None when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    def _read(connection: Connection) -> str | None:
        heads = MigrationContext.configure(connection).get_current_heads()
        return ",".join(sorted(heads)) or None

    async with engine.connect() as conn:
        return await conn.run_sync(_read)


# --- Core statements compiled once, run on the DBAPI cursor ---------------------------------------------------


# The sizes a Prepared statement's forms are compiled for (a list parameter's length, a batch insert's rows): each
# form costs milliseconds to compile, so a few sizes serve every batch (powers of four: a batch of 25 rows is 16 +
# 4 + 4 + 1, all compiled within a server's first few batches).
FORM_SIZES = (1, 4, 16, 64)


class Prepared:
    """A Core statement compiled once per dialect and row count, run on the connection's DBAPI cursor.

    Connection.execute() makes an execution context, a cursor result and its metadata for every statement: tens
    of microseconds, more than SQLite takes to run one of the group commit's. Its few statements per batch run
    this way instead: the compiled SQL with values made by the bind processors of its parameters' types, and rows
    made by the result processors of its columns' types — what execute() would send and return. On SQLite, in a
    transaction, the SQL goes to the DBAPI cursor directly (an error is raised as SQLAlchemy's DBAPIError), or, on
    an inline connection (the group commit's, holding the write lock), to its sqlite3 connection at once; elsewhere
    (and before a transaction has begun) through exec_driver_sql(), which begins one as execute() does and keeps
    SQLAlchemy's handling of a lost connection.

    build(n) makes the statement; `listed` names a list parameter (for IN): build gets its length rounded up to a
    power of four and writes the list as listed(name, n) (the list is padded with its last value), so a few forms
    are ever compiled. With per_dialect=True build(n, dialect) also gets the dialect's name, for a statement
    written differently for each database (an INSERT … ON CONFLICT: insert_for()). A parameter not given takes the
    value the statement holds (bindparam(name, value)); one that holds none (bindparam(name), required) must be
    given: its absence raises as Connection.execute() does.
    """

    @overload
    def __init__(self, build: Callable[[int], ClauseElement], listed: str | None = None) -> None: ...

    @overload
    def __init__(
        self, build: Callable[[int, str], ClauseElement], listed: str | None = None, *, per_dialect: Literal[True]
    ) -> None: ...

    def __init__(
        self, build: Callable[..., ClauseElement], listed: str | None = None, *, per_dialect: bool = False
    ) -> None:
        self.build: Callable[[int, str], ClauseElement] = build if per_dialect else lambda count, _: build(count)
        self.listed = listed
        self._forms: dict[tuple[str, int], Form] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """The statement's rows (named tuples; none for a statement that returns none)."""
        count = 0
        if self.listed is not None:
            values = list(params[self.listed])
            if not values:
                raise ValueError(f"{self.listed}: an empty list")
            if len(values) > FORM_SIZES[-1]:
                count = len(values)  # longer than any form (a batch has at most 64 messages): a form of its own
            else:
                count = FORM_SIZES[bisect.bisect_left(FORM_SIZES, len(values))]
            values += values[-1:] * (count - len(values))
            params = {**params, **{f"{self.listed}_{k}": value for k, value in enumerate(values)}}
        form = self.form(conn.dialect, count)
        return form.run(conn, tuple(form.value(name, process, params) for name, process in form.binds))

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        found = self.rows(conn, params)
        return found[0] if found else None

    def writes(self, dialect: Dialect) -> str | None:
        """The table the statement inserts into, updates or deletes from; None for a read."""
        return self.form(dialect, FORM_SIZES[0] if self.listed is not None else 0).writes

    def warm(self, dialect: Dialect) -> None:
        """Compile every form this statement can take now (rather than at first use)."""
        for count in FORM_SIZES if self.listed is not None else (0,):
            self.form(dialect, count)

    def form(self, dialect: Dialect, count: int) -> Form:
        key = (dialect.name, count)
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = Form(self.build(count, dialect.name), dialect)
        return form


def listed(name: str, count: int) -> list[BindParameter[Any]]:
    """count parameters standing for the list `name` of a Prepared statement."""
    return [bindparam(f"{name}_{k}") for k in range(count)]


def insert_for(dialect: str, table: TableClause | type[Any]) -> sqlite.Insert | postgresql.Insert:
    """An INSERT into a table (or a mapped class) in the form of the dialect named, which has ON CONFLICT.

    Core's insert() has no ON CONFLICT; each database's own has, and both take on_conflict_do_nothing(index_elements,
    index_where): the dedupe of inbound messages and identities, one attempt per round, one award per source.
    """
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise ValueError(f"no INSERT … ON CONFLICT for the {dialect!r} dialect (the bot runs on SQLite or PostgreSQL)")


def binds(table: Table, *names: str) -> dict[str, BindParameter[Any]]:
    """An INSERT's values: a parameter per column, named and typed as the column."""
    return {name: bindparam(name, type_=table.c[name].type) for name in names}


def _bind_processor(bind: BindParameter[Any] | None, dialect: Dialect) -> Callable[[Any], Any] | None:
    return None if bind is None else bind.type.dialect_impl(dialect).bind_processor(dialect)


class Form:
    """One compiled form of a Prepared statement."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        table = getattr(statement, "table", None) if getattr(statement, "is_dml", False) else None
        self.writes: str | None = getattr(table, "name", None)
        if getattr(compiled, "insert_prefetch", None):
            raise ValueError(f"not a statement Prepared can run (a column default made in Python): {compiled.string}")
        # Parameters rendered at execution (an IN list, a literal_execute value) are rendered now, with the values
        # the statement holds: SQLAlchemy's own expansion, its own bind processors.
        given = {name: bind.value for name, bind in compiled.binds.items()}
        missing = [bind.key for bind in compiled.binds.values() if bind.expanding and bind.value is None]
        if missing:
            raise ValueError(f"not a statement Prepared can run (a list given at execution: use listed()): {missing}")
        expanded = compiled.construct_expanded_state(given)
        self.sql = expanded.statement
        # The processors of the parameters' types (expanded ones: those SQLAlchemy made for them).
        binds = compiled.binds
        self.binds = [
            (name, expanded.processors.get(name) or _bind_processor(binds.get(name), dialect))
            for name in expanded.positiontup or ()
        ]
        self.defaults = dict(expanded.parameters)
        # Parameters without a value of their own (looked at only when one is not given: no cost per call).
        self.required = frozenset(
            name for name in self.defaults if (bind := binds.get(name)) is not None and bind.required
        )
        columns = list(getattr(statement, "exported_columns", None) or ())  # a SELECT's, or an INSERT's RETURNING
        self.row: Any = namedtuple("Row", [c.key for c in columns]) if columns else None  # type: ignore[misc]
        self.results = [
            (index, process)
            for index, c in enumerate(columns)
            if (process := c.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
        ]
        self.direct = dialect.name == "sqlite"

    def value(self, name: str, process: Callable[[Any], Any] | None, params: Mapping[str, Any]) -> Any:
        if name in params:
            value = params[name]
        elif name in self.required:
            missing = InvalidRequestError(f"A value is required for bind parameter {name!r}", code="cd3x")
            raise StatementError(
                f"(sqlalchemy.exc.InvalidRequestError) {missing}",
                self.sql,
                None,
                missing,
                hide_parameters=True,
                code="cd3x",
            )
        else:
            value = self.defaults[name]
        return value if process is None else process(value)

    def run(self, conn: Connection, values: tuple[Any, ...]) -> list[Any]:
        found = self.fetch(conn, values)
        if self.row is None:
            return []
        if self.results:
            for i, raw in enumerate(found):
                cells = list(raw)
                for index, process in self.results:
                    cells[index] = process(cells[index])
                found[i] = cells
        return [self.row._make(raw) for raw in found]

    def fetch(self, conn: Connection, values: tuple[Any, ...]) -> list[Any]:
        # Outside a transaction, through exec_driver_sql(): it begins one as execute() does (on SQLite, BEGIN
        # IMMEDIATE in the "begin" event, with the writer's turn); the cursor would run the statement in autocommit.
        if not self.direct or not conn.in_transaction():
            result = conn.exec_driver_sql(self.sql, values)
            return list(result.all()) if result.returns_rows else []
        error = conn.dialect.loaded_dbapi.Error
        driver = conn.connection.driver_connection
        try:
            if isinstance(driver, sqlite_inline.Connection) and conn.in_transaction():
                return driver.rows_now(self.sql, values)  # the group commit's: its transaction holds the lock
            cursor = conn.connection.cursor()
            try:
                cursor.execute(self.sql, values)
                return list(cursor.fetchall()) if cursor.description else []
            finally:
                cursor.close()
        except error as exc:
            raise DBAPIError.instance(self.sql, None, exc, error, hide_parameters=True, dialect=conn.dialect) from exc
