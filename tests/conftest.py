"""Test fixtures: a real app on aiohttp's test server, a real database (SQLite file or PostgreSQL), a fake clock.

The database is SQLite unless YIZHAN_TEST_DATABASE_URL names a PostgreSQL database
(postgresql+asyncpg://user@host/dbname); each test process then works in a database of its own
created next to it, and each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot import db
from bot.app import build_app
from bot.clock import FakeClock
from bot.config import Config, DatabaseConfig, load_config
from bot.models import Base
from bot.services import SERVICES, Services

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
# A Friday morning, the default study day.
START = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)

PG_URL = os.environ.get("YIZHAN_TEST_DATABASE_URL", "")


def pg_admin_url() -> str:
    """A PostgreSQL URL for tests that need PostgreSQL whatever the suite runs on ('' if not configured)."""
    return os.environ.get("YIZHAN_TEST_PG_URL", PG_URL)


async def _pg_create(admin_url: str, name: str) -> str:
    url = make_url(admin_url)
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def _pg_drop(admin_url: str, name: str) -> None:
    engine = create_async_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite: a migrated database file to copy per test. PostgreSQL: this process's migrated database."""
    if PG_URL:
        name = f"yizhan_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        url = asyncio.run(_pg_create(PG_URL, name))
        asyncio.run(_migrate(url))
        yield url
        asyncio.run(_pg_drop(PG_URL, name))
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    yield str(path)


async def _truncate(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def db_url(migrated_template: str, tmp_path: Path) -> str:
    """An empty, migrated database for one test."""
    if PG_URL:
        await _truncate(migrated_template)
        return migrated_template
    path = tmp_path / "yizhan.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def make_config(db_url: str, **sections: Any) -> Config:
    """The shipped config.toml pointed at the test database, with sections changed as given."""
    config = load_config(ROOT / "config.toml", env={})
    config = config.replace(database={"url": db_url}, scheduler={"enabled": False})
    return config.replace(**sections) if sections else config


@pytest.fixture
def config(db_url: str) -> Config:
    return make_config(db_url)


class BotDriver:
    """Drives the app as the world does: HTTP into the simulator API; reads what members see."""

    def __init__(self, client: TestClient, app: web.Application) -> None:
        self.client = client
        self.app = app
        self._replies: dict[str, list[str]] = defaultdict(list)

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    async def say(
        self,
        text: str,
        user: str = "u01",
        chat: str | None = "demo-group",
        msg_id: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Post a message as user in chat (None: a direct message); return the API's answer."""
        body: dict[str, Any] = {"user": user, "text": text, "chat": chat}
        if msg_id is not None:
            body["id"] = msg_id
        if name is not None:
            body["name"] = name
        resp = await self.client.post("/api/sim/messages", json=body)
        assert resp.status == 200, await resp.text()
        data = await resp.json()
        self._replies[user].extend(r["text"] for r in data["replies"])
        return data

    def replies_to(self, user: str) -> list[str]:
        """Every reply the bot gave to user's messages so far, in order."""
        return list(self._replies[user])

    async def transcript(self, chat: str = "demo-group") -> list[dict[str, Any]]:
        resp = await self.client.get("/api/sim/messages", params={"chat": chat})
        assert resp.status == 200
        return (await resp.json())["messages"]

    async def drain_outbox(self, max_passes: int = 100) -> int:
        """Run the outbox sender until nothing is due; return rows attempted."""
        total = 0
        for _ in range(max_passes):
            done = await self.services.sender.run_once()
            if not done:
                return total
            total += done
        return total


@pytest.fixture
async def bot(aiohttp_client: Any, config: Config, clock: FakeClock) -> AsyncIterator[BotDriver]:
    """The real app (real routers, real database, fixed clock) with no background tasks."""
    app = build_app(config, clock=clock, background=False)
    client = await aiohttp_client(app)
    yield BotDriver(client, app)
