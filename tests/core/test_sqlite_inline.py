"""The group commit's SQLite connections (bot/core/sqlite_inline.py): statements at once, lock waits off the loop."""

import asyncio
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.core import db
from bot.core.config import DatabaseConfig


def inline_engine(path, busy_ms: int = 5000):
    return db.create_engine(
        DatabaseConfig(url=f"sqlite+aiosqlite:///{path}", sqlite_busy_timeout_ms=busy_ms), inline=True
    )


async def test_an_inline_engine_reads_and_writes_like_the_threaded_one(tmp_path):
    engine = inline_engine(tmp_path / "a.db")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER, y TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES (:x, :y)"), [{"x": i, "y": f"第{i}"} for i in range(3)])
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT x, y FROM t ORDER BY x"))).all()
        assert [tuple(r) for r in rows] == [(0, "第0"), (1, "第1"), (2, "第2")]
        with pytest.raises(OperationalError):  # errors come through SQLAlchemy as from aiosqlite
            async with engine.connect() as conn:
                await conn.execute(text("SELECT * FROM missing"))
    finally:
        await engine.dispose()


async def test_a_lock_held_by_another_process_is_waited_for_without_blocking_the_loop(tmp_path):
    path = tmp_path / "b.db"
    engine = inline_engine(path)
    other = sqlite3.connect(path, isolation_level=None)  # another process's connection, as an import runs
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(tick())

        async def write() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writing.done()  # waiting for the other's lock …
        assert ticks >= 10  # … while the loop goes on
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
        ticking.cancel()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 2
    finally:
        other.close()
        await engine.dispose()


async def test_a_lock_held_past_the_busy_timeout_means_unavailable(tmp_path):
    path = tmp_path / "c.db"
    engine = inline_engine(path, busy_ms=200)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError) as failed:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
        assert db.is_unavailable(failed.value)  # the sender is told to try again; nothing was stored
        assert not db.writer_queue(engine).locked()
    finally:
        other.close()
        await engine.dispose()


async def test_a_transaction_sqlite_ended_itself_is_not_written_outside_it(tmp_path):
    """SQLite rolls a transaction back on its own after an I/O error or a full disk, while SQLAlchemy still holds it
    open: a savepoint or a prepared statement then must not run outside it (a SAVEPOINT would begin a new
    transaction, its RELEASE commit it) — it fails as the database being unavailable, and nothing is stored."""
    engine = inline_engine(tmp_path / "ended.db")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
        with pytest.raises(OperationalError) as failed:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
                raw = (await conn.get_raw_connection()).driver_connection
                raw._conn.rollback()  # as SQLite does after SQLITE_FULL / SQLITE_IOERR
                async with conn.begin_nested():
                    await conn.execute(text("INSERT INTO t VALUES (2)"))
        assert db.is_unavailable(failed.value)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    finally:
        await engine.dispose()
