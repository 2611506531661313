"""Migration 0013 (wecom_welcome, wecom_media_upload) upgrades a database at 0011 with data in it."""

from datetime import datetime

from sqlalchemy import func, select, text

from bot.core import db
from bot.core.channels.wecom.models import WecomMediaUpload, WecomWelcome
from bot.core.config import DatabaseConfig
from bot.core.db import session_factory, transaction
from bot.core.models import Branch, Member
from tests.conftest import TZ


async def test_upgrade_from_0011_keeps_data_and_adds_the_tables(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        await db.upgrade(engine, "0011")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO branch (id, key, name) VALUES (1, 'b', '第一支部')"))
            await conn.execute(
                text(
                    "INSERT INTO member (id, branch_id, display_name, role, created_at) "
                    "VALUES (1, 1, 'zhangsan', 'member', '2026-11-30 08:00:00+00:00')"
                )
            )
        await db.upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session:
            assert (await session.get(Branch, 1)).name == "第一支部"
            assert (await session.get(Member, 1)).display_name == "zhangsan"
        now = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)
        async with transaction(sessions) as session:
            session.add(WecomWelcome(msgid="m1", user_id="zhangsan", received_at=now))
            session.add(WecomMediaUpload(owner="corp:x", sha256="0" * 64, media_id="media-1", uploaded_at=now))
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(WecomWelcome)) == 1
            assert (await session.get(WecomMediaUpload, ("corp:x", "0" * 64))).uploaded_at == now
    finally:
        await engine.dispose()
