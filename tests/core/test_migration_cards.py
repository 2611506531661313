"""Migration 0012 (cards): from 0011 with outbox rows in it, nothing is lost and the rows carry no card."""

from datetime import UTC, datetime

from sqlalchemy import text

from bot.core import db
from bot.core.config import DatabaseConfig


async def test_upgrade_from_0011_keeps_the_outbox(db_url):
    engine = db.create_engine(DatabaseConfig(url=db_url))
    try:
        await db.upgrade(engine, "0011")
        now = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO outbox (channel, target_kind, target_id, text, mentions, status, attempts,"
                    " next_attempt_at, created_at) VALUES ('wecom', 'chat', 'g1', '通知#1', '[]', 'sent', 1, :t, :t)"
                ),
                {"t": now},
            )
        await db.upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT text, status, card FROM outbox"))).all()
        assert [tuple(r) for r in rows] == [("通知#1", "sent", None)]
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE outbox SET card = :c"), {"c": '{"kind": "buttons"}'})
    finally:
        await engine.dispose()
