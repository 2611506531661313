"""Test fixtures: a real app on aiohttp's test server, a real database (SQLite file or PostgreSQL), a fake clock.

The database is SQLite unless YIZHAN_TEST_DATABASE_URL names a PostgreSQL database
(postgresql+asyncpg://user@host/dbname); each test process then works in a database of its own
created next to it, and each test starts from empty tables.

The suite runs in pytest-xdist worker processes (`-n auto` in pyproject.toml). Everything a test writes is
its worker's own: files under tmp_path (per worker), databases named by the worker's pid, ports chosen free.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

# An environment may ask Python not to write bytecode (PYTHONDONTWRITEBYTECODE, set on some CI machines): then every
# worker and every `python -m bot` a test starts compiles the bot and the tests from source again (~3 s per process
# at the start). The suite writes it (into __pycache__, which git ignores): set before the bot is imported, and
# before the workers start (they inherit the environment).
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_app
from bot.core import db
from bot.core.clock import FakeClock
from bot.core.config import Config, DatabaseConfig, load_config
from bot.core.models import Base
from tests.support import BotDriver, InProcessDriver

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
# A Friday morning, the default study day.
START = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)

PG_URL = os.environ.get("YIZHAN_TEST_DATABASE_URL", "")


IN_CI = os.environ.get("CI", "").lower() == "true"
CI_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1/postgres"
# Workers for `-n auto`: one per core, at most this many (each worker holds its own app, database pools
# and, on PostgreSQL, connections: many workers on a large machine would only contend for the server).
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """How many workers `-n auto` starts: PYTEST_XDIST_AUTO_NUM_WORKERS if set, else the usable cores, capped."""
    wanted = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "")
    if wanted.isdigit():
        return int(wanted)
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


@pytest.fixture(autouse=True)
def _timed_alone(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Under xdist, a test marked `timed` (it asserts on wall-clock latency) runs with no other test beside it.

    Every test holds a shared lock on a file of this run (the workers' temp directories share a parent); a
    timed test holds it exclusively. A gate lock, taken briefly by every test and held by a timed one while it
    waits, keeps new tests from starting in the meantime, so a timed test is never starved.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        yield
        return
    run = tmp_path_factory.getbasetemp().parent
    timed = request.node.get_closest_marker("timed") is not None
    with (run / "tests.gate").open("a") as gate, (run / "tests.lock").open("a") as lock:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if timed else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def pg_admin_url() -> str:
    """A PostgreSQL URL for tests that need PostgreSQL whatever the suite runs on ('' if none).

    YIZHAN_TEST_PG_URL, else the suite's own PostgreSQL, else (under CI only) the local server.
    """
    return os.environ.get("YIZHAN_TEST_PG_URL") or PG_URL or (CI_PG_URL if IN_CI else "")


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


async def empty_database(migrated_template: str, tmp_path: Path, name: str = "yizhan.db") -> str:
    """An empty, migrated database: a copy of the template (SQLite), or the worker's database emptied."""
    if PG_URL:
        await _truncate(migrated_template)
        return migrated_template
    path = tmp_path / name
    shutil.copyfile(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def db_url(migrated_template: str, tmp_path: Path) -> str:
    """An empty, migrated database for one test."""
    return await empty_database(migrated_template, tmp_path)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database for tests that need PostgreSQL itself.

    Skipped where no PostgreSQL is configured (a developer's machine); under CI a missing or
    unreachable server fails the test instead.
    """
    admin = pg_admin_url()
    if not admin:
        pytest.skip("needs PostgreSQL: set YIZHAN_TEST_PG_URL=postgresql+asyncpg://user@host/db")
    name = f"yizhan_pg_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        url = await _pg_create(admin, name)
    except (OSError, DBAPIError) as exc:
        message = f"PostgreSQL at {make_url(admin).render_as_string()} is unreachable: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    await _migrate(url)
    try:
        yield url
    finally:
        await _pg_drop(admin, name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def make_config(db_url: str, **sections: Any) -> Config:
    """The shipped config.toml pointed at the test database, with sections changed as given."""
    config = load_config(ROOT / "config.toml", env={})
    # Tests start from a branch whose study day opens on its day only; the demo's open study day is asked for.
    config = config.replace(database={"url": db_url}, scheduler={"enabled": False}, demo={"study_day_open": False})
    return config.replace(**sections) if sections else config


@pytest.fixture
def config(db_url: str) -> Config:
    return make_config(db_url)


@pytest.fixture
async def bot(aiohttp_client: Any, config: Config, clock: FakeClock) -> AsyncIterator[BotDriver]:
    """The real app (real routers, real database, fixed clock) with no background tasks."""
    app = build_app(config, clock=clock, background=False)
    client = await aiohttp_client(app)
    yield BotDriver(client, app)


StartInProcess = Callable[[web.Application], Awaitable[InProcessDriver]]


@pytest.fixture
async def in_process() -> AsyncIterator[StartInProcess]:
    """Start apps without HTTP, as aiohttp_client starts them on a test server; each is stopped after the test."""
    drivers: list[InProcessDriver] = []

    async def start(app: web.Application) -> InProcessDriver:
        driver = await InProcessDriver.start(app)
        drivers.append(driver)
        return driver

    yield start
    for driver in reversed(drivers):
        await driver.close()


@pytest.fixture
async def bot_in_process(in_process: StartInProcess, config: Config, clock: FakeClock) -> InProcessDriver:
    """The `bot` fixture's app, driven in process (no HTTP): for handler logic (tests/handlers, quiz, tasks)."""
    return await in_process(build_app(config, clock=clock, background=False))
