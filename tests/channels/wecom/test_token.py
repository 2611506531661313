"""The access token is refreshed once, also when two processes (two engines) need it at the same time."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core import db
from bot.core.channels.wecom.token import TokenCache
from bot.core.config import DatabaseConfig


async def test_two_processes_refresh_once_on_postgresql(pg_url, clock):
    engines = [db.create_engine(DatabaseConfig(url=pg_url)) for _ in range(2)]
    watcher = create_async_engine(pg_url)
    gate = asyncio.Event()
    calls = 0

    async def fetch() -> tuple[str, int]:
        nonlocal calls
        calls += 1
        await gate.wait()  # the gettoken call is in flight while the other process asks
        return f"token-{calls}", 7200

    caches = [TokenCache(db.session_factory(e), clock, "corp:1", fetch, 300, postgres=True) for e in engines]
    try:
        first = asyncio.create_task(caches[0].get())
        while calls == 0:
            await asyncio.sleep(0)
        second = asyncio.create_task(caches[1].get())
        async with watcher.connect() as conn:
            for _ in range(10_000):  # until the second process waits on the advisory lock
                sql = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                if await conn.scalar(text(sql)):
                    break
        gate.set()
        assert await first == await second == "token-1"
        assert calls == 1
        # WeCom refuses the token: both processes notice, one refresh.
        assert await caches[0].invalidate("token-1") == "token-2"
        assert await caches[1].invalidate("token-1") == "token-2"
        assert calls == 2
    finally:
        for engine in (*engines, watcher):
            await engine.dispose()


async def test_concurrent_senders_in_one_process_refresh_once(db_url, clock):
    engine = db.create_engine(DatabaseConfig(url=db_url))
    calls = 0

    async def fetch() -> tuple[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return f"token-{calls}", 7200

    cache = TokenCache(db.session_factory(engine), clock, "corp:1", fetch, 300, postgres=not db.is_sqlite(db_url))
    try:
        assert await asyncio.gather(*(cache.get() for _ in range(10))) == ["token-1"] * 10
        assert await asyncio.gather(*(cache.invalidate("token-1") for _ in range(10))) == ["token-2"] * 10
        assert calls == 2
        # Another process (a fresh cache) finds the token in the database.
        other = TokenCache(db.session_factory(engine), clock, "corp:1", fetch, 300, postgres=not db.is_sqlite(db_url))
        assert await other.get() == "token-2"
        assert calls == 2
    finally:
        await engine.dispose()
