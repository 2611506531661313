"""SQLite for the group commit without a thread hop per statement: each call runs at once on the event loop.

aiosqlite (SQLAlchemy's async SQLite driver) runs every statement in a thread of its own and hands the result
back through the event loop: a queue, a thread switch, a wake-up of the loop through its self-pipe — on a 2-core
machine several times the cost of the statement itself (SQLite in WAL mode with synchronous=NORMAL answers in
microseconds). The group commit (bot/core/groupcommit.py) runs dozens of statements per batch, so it gets its own
engine whose connections have aiosqlite's interface but do the work at once: `connect()` is given to
SQLAlchemy's aiosqlite dialect as its `async_creator`.

Nothing here may block the loop for long. The connection's own busy timeout is 0: a statement that finds the
database locked by another process (an import run beside the bot) fails at once, and is tried again after an
asyncio sleep until the configured busy timeout has passed — the loop serves everything else meanwhile. In this
process writers take turns on an asyncio lock before BEGIN IMMEDIATE (bot/core/db.py), shared with the app's engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# The first pause after a statement found the database locked, and the longest (they double in between).
# The error rows_now() raises when SQLite itself ended the transaction (bot/core/db.py counts it as the database
# being unavailable: nothing of the transaction was written, and a retry later may succeed).
TRANSACTION_ENDED = "sqlite ended the transaction itself (an i/o error, a full disk)"

_FIRST_PAUSE = 0.002
_LONGEST_PAUSE = 0.05


class _Immediate:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's isolation_level setter feeds directly."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except BaseException as exc:  # handed to the awaiting caller, as aiosqlite's thread would
            future.set_exception(exc)


class Connection:
    """An sqlite3 connection with the coroutine methods of aiosqlite.Connection that SQLAlchemy calls."""

    def __init__(self, conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn  # SQLAlchemy checks it before commit and rollback
        self._tx = _Immediate()
        self.busy_timeout = busy_timeout_ms / 1000

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """function(*args) now; if the database is locked, again after a pause, until the busy timeout."""
        deadline = None
        pause = _FIRST_PAUSE
        while True:
            try:
                return function(*args)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self.busy_timeout
                if now >= deadline:
                    raise
                await asyncio.sleep(min(pause, deadline - now))
                pause = min(pause * 2, _LONGEST_PAUSE)

    def rows_now(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """Run sql at once and return its rows, without the busy loop: only for a transaction that holds the write
        lock (BEGIN IMMEDIATE), in which SQLite in WAL mode never answers busy (bot/core/db.py Prepared)."""
        if not self._conn.in_transaction:
            # SQLite rolled the transaction back itself (an I/O error, a full disk) while SQLAlchemy holds it open:
            # a statement now would run outside it (a SAVEPOINT would even begin a new one and RELEASE commit it).
            raise sqlite3.OperationalError(TRANSACTION_ENDED)
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql, parameters)
            return cursor.fetchall()
        finally:
            cursor.close()

    def cursor(self) -> Cursor:
        """A cursor (SQLAlchemy enters it with `async with`, as aiosqlite's)."""
        return Cursor(self, self._conn.cursor())

    async def commit(self) -> None:
        await self.run(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate)."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


class Cursor:
    """An sqlite3 cursor with aiosqlite.Cursor's coroutine methods."""

    def __init__(self, conn: Connection, cursor: sqlite3.Cursor) -> None:
        self._conn = conn
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        await self._conn.run(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any] | dict[str, Any]]) -> Cursor:
        rows = list(parameters)  # a retry must see them again
        await self._conn.run(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


def connector(path: str, busy_timeout_ms: int) -> Callable[[], Any]:
    """The async_creator for create_async_engine: a new inline connection to the database file at path."""

    async def connect() -> Connection:
        # check_same_thread=False: the pool may close a connection from the garbage collector's thread.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
        return Connection(conn, busy_timeout_ms)

    return connect
