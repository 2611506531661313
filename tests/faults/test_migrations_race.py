"""Several instances started at once on one empty database all migrate it (issue 13, finding 16).

Each instance is a process of its own, as in production (Alembic keeps per-run state in module globals, so
one process cannot run two migrations at once anyway).
"""

import asyncio
import os
import sys
import uuid

import pytest
from alembic.script import ScriptDirectory

from bot.core import db
from bot.core.config import DatabaseConfig
from bot.core.db import _alembic_config
from tests.conftest import ROOT, _pg_create, _pg_drop, pg_admin_url

_UPGRADE = """
import asyncio, sys
from bot.core import db
from bot.core.config import DatabaseConfig

async def main():
    engine = db.create_engine(DatabaseConfig(url=sys.argv[1]))
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()

asyncio.run(main())
"""


async def _race(url: str, instances: int) -> list[tuple[int, str]]:
    """Start `instances` processes that each upgrade url at once; their exit codes and last stderr line."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _UPGRADE, url, cwd=ROOT, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(instances)
    ]
    outcomes = []
    for proc in procs:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
        lines = err.decode(errors="replace").strip().splitlines()
        errors = [line for line in lines if "Error" in line]
        outcomes.append((proc.returncode or 0, errors[-1] if errors else ""))
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        heads = ",".join(sorted(ScriptDirectory.from_config(_alembic_config()).get_heads()))
        assert await db.current_revision(engine) == heads
    finally:
        await engine.dispose()
    return outcomes


async def test_instances_migrating_an_empty_postgresql_database_at_once_all_succeed():
    admin = pg_admin_url()
    if not admin:
        pytest.skip("needs PostgreSQL: set YIZHAN_TEST_PG_URL=postgresql+asyncpg://user@host/db")
    for round_ in range(3):
        name = f"yizhan_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}_{round_}"
        url = await _pg_create(admin, name)
        try:
            outcomes = await _race(url, 3)
        finally:
            await _pg_drop(admin, name)
        assert outcomes == [(0, "")] * 3


async def test_instances_migrating_an_empty_sqlite_database_at_once_all_succeed(tmp_path):
    """SQLite was not affected (the migration's transaction begins IMMEDIATE); kept so it stays that way."""
    outcomes = await _race(f"sqlite+aiosqlite:///{tmp_path}/race.db", 3)
    assert outcomes == [(0, "")] * 3
