"""The fault-injection script (bench/faults.py), small: the real bot killed mid-broadcast, its database cut."""

from pathlib import Path

import pytest

from bench.faults import CONCURRENCY, run_fault
from tests.conftest import PG_URL, pg_admin_url


async def test_kill_9_mid_broadcast_loses_nothing_and_resends_only_what_was_in_flight(tmp_path: Path):
    """kill -9 while a notice goes out to 30 members, a robot and an app group chat; restart; count at the fake."""
    database = "postgresql" if PG_URL else "sqlite"
    result = await run_fault(database, "kill", 30, tmp_path, lease=1.0, timeout=60.0, pg_admin=pg_admin_url())
    assert result.error == ""
    assert result.lost == 0
    assert result.app_duplicates == 0  # WeCom's duplicate check drops the re-sent app messages
    assert result.chat_duplicates <= CONCURRENCY


async def test_a_database_outage_mid_broadcast_loses_and_doubles_nothing(tmp_path: Path):
    """The bot's PostgreSQL connections cut for 2 s in the middle of the broadcast (through a proxy)."""
    admin = pg_admin_url()
    if not admin:
        pytest.skip("needs PostgreSQL: set YIZHAN_TEST_PG_URL=postgresql+asyncpg://user@host/db")
    result = await run_fault(
        "postgresql", "outage", 30, tmp_path, lease=3.0, outage_seconds=2.0, timeout=60.0, pg_admin=admin
    )
    assert result.error == ""
    assert (result.lost, result.app_duplicates, result.chat_duplicates) == (0, 0, 0)
