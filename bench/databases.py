"""Throwaway databases for one benchmark server: a SQLite file in a temp dir, or a PostgreSQL database."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.db import is_sqlite

ADMIN_DATABASE = "postgres"


def describe(url: str | None) -> str:
    """A short name for the backend, for tables and file names."""
    return "sqlite" if not url or is_sqlite(url) else "postgresql"


def _admin_url(url: str) -> str:
    return make_url(url).set(database=ADMIN_DATABASE).render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def fresh_database(url: str | None, workdir: Path, label: str) -> AsyncIterator[str]:
    """A new, empty database for one server run; a PostgreSQL one is dropped afterwards."""
    safe = re.sub(r"[^a-z0-9_]", "_", label.lower())
    if not url or is_sqlite(url):
        yield f"sqlite+aiosqlite:///{workdir / f'{safe}.db'}"
        return
    name = f"yizhan_bench_{os.getpid()}_{safe}"
    await _admin(url, f'DROP DATABASE IF EXISTS "{name}"')
    await _admin(url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def server_version(url: str | None) -> str:
    """The database engine's version, for the results."""
    if not url or is_sqlite(url):
        return f"SQLite {sqlite3.sqlite_version}"
    engine = create_async_engine(_admin_url(url))
    try:
        async with engine.connect() as conn:
            return "PostgreSQL " + str(await conn.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()
