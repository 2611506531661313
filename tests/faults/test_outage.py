"""A database outage: messages get a retryable 503 and are handled once when resent; a push due meanwhile is
sent once when the database is back (issue 13, findings 17, 18 and the retry log of 9).

On SQLite the outage is another writer holding the lock past the busy timeout; on PostgreSQL a TCP proxy
between the bot and the server is cut (every connection dropped, new ones refused) and restored.
"""

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.app import build_app
from bot.core import outbox, texts
from bot.core.clock import FakeClock
from bot.core.models import InboundMessage, Outbox, ScheduledFire
from tests.conftest import PG_URL, TZ, make_config
from tests.faults.proxy import Proxy
from tests.support import BotDriver

JOB = "study_reminder.demo"  # the demo branch's 学习日 reminder, Fridays 09:00
DURING = datetime(2026, 11, 20, 9, 0, 5, tzinfo=TZ)


def outage_config(url: str):
    return make_config(
        url,
        database={"url": url, "sqlite_busy_timeout_ms": 200},
        scheduler={"enabled": False, "retry_seconds": 0.05},
    )


async def post(bot: BotDriver, text: str, msg_id: str):
    return await bot.client.post(
        "/api/sim/messages",
        json={"user": "u01", "text": text, "chat": "demo-group", "id": msg_id},
        headers=await bot.headers(),
    )


async def outage_then_recovery(bot: BotDriver, cut: Callable[[], Awaitable[None]], restore) -> None:
    await cut()
    # 帮助 is decided before the write, 我是谁 runs its handler in the group commit: neither may be lost or answered 500.
    for text, msg_id in (("帮助", "during-1"), ("我是谁", "during-2")):
        resp = await post(bot, text, msg_id)
        assert resp.status == 503, await resp.text()
        assert resp.headers["Retry-After"] == str(bot.services.config.server.retry_after_seconds)
        assert (await resp.json())["error"] == texts.SERVICE_UNAVAILABLE
    await bot.services.jobs.run_due(JOB)  # the reminder's slot comes while the database is down
    await restore()
    await bot.services.jobs.settle()

    # The sender sends the same messages again: each handled once, as if it were the first copy. Their replies
    # go behind the reminder, which nobody sends here (no background sender): the API would wait for it in vain
    # (3 s each) before leaving them to the sender, so they are left to it at once (drained below).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbox, "_IN_LINE_WAIT_SECONDS", 0.0)
        assert (await bot.say("帮助", msg_id="during-1"))["handled_by"] == "handle_help"
        assert (await bot.say("我是谁", msg_id="during-2"))["handled_by"] == "handle_whoami"
        assert (await bot.say("帮助", msg_id="during-1"))["duplicate"] is True
    await bot.drain_outbox()
    async with bot.services.sessions() as session:
        handled = dict(
            (
                await session.execute(
                    select(InboundMessage.platform_msg_id, InboundMessage.handled_by).where(
                        InboundMessage.platform_msg_id.like("during-%")
                    )
                )
            ).all()
        )
        apologies = await session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.text == texts.GENERIC_ERROR)
        )
        fires = await session.scalar(select(func.count()).select_from(ScheduledFire).where(ScheduledFire.job == JOB))
    assert handled == {"during-1": "handle_help", "during-2": "handle_whoami"}
    assert apologies == 0
    assert fires == 1
    reminders = [
        line["text"]
        for line in await bot.transcript()
        if line["sender"] == "bot" and line["text"].startswith("【学习日】")
    ]
    assert len(reminders) == 1


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's lock; on PostgreSQL see test_postgresql_unreachable")
async def test_sqlite_locked_past_the_busy_timeout(aiohttp_client, db_url):
    app = build_app(outage_config(db_url), clock=FakeClock(DURING), background=False)
    bot = BotDriver(await aiohttp_client(app), app)
    holder = sqlite3.connect(make_url(db_url).database, isolation_level=None)

    async def cut() -> None:
        holder.execute("BEGIN IMMEDIATE")  # another writer (a long import, a backup) holds the lock

    async def restore() -> None:
        holder.execute("ROLLBACK")

    try:
        await outage_then_recovery(bot, cut, restore)
    finally:
        holder.close()


async def test_postgresql_unreachable(aiohttp_client, pg_url):
    url = make_url(pg_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = build_app(outage_config(proxied), clock=FakeClock(DURING), background=False)
    bot = BotDriver(await aiohttp_client(app), app)
    try:
        assert (await bot.say("帮助", msg_id="before"))["handled_by"] == "handle_help"
        await outage_then_recovery(bot, proxy.cut, proxy.restore)
    finally:
        await proxy.close()
