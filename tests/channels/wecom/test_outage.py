"""The app callback while the database is unavailable: not a success, so WeCom sends it again (issue 13, 18)."""

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from bot.app import build_app
from bot.core import texts
from tests.channels.wecom.conftest import WecomDriver, wecom_config
from tests.conftest import PG_URL


@pytest.mark.skipif(bool(PG_URL), reason="the outage here is SQLite's lock (tests/faults/test_outage.py: PostgreSQL)")
async def test_a_callback_that_cannot_be_stored_is_answered_503_and_its_retry_is_handled(
    aiohttp_client, db_url, clock, fake
):
    config = wecom_config(db_url, fake.base_url).replace(database={"url": db_url, "sqlite_busy_timeout_ms": 200})
    app = build_app(config, clock=clock, background=False)
    wecom = WecomDriver(await aiohttp_client(app), app, fake, clock)
    holder = sqlite3.connect(make_url(db_url).database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
        query, body = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan", msg_id=42))
        resp = await wecom.client.post("/wecom/callback", params=query, data=body)
        assert resp.status == 503
        assert resp.headers["Retry-After"] == str(config.server.retry_after_seconds)
        holder.execute("ROLLBACK")
        # WeCom's retry: the same MsgId, handled as the first copy.
        status, reply = await wecom.app_post(query, body)
    finally:
        holder.close()
    assert status == 200
    assert reply is not None and reply.startswith(texts.HELP_HEADER.format(name="zhangsan"))
    assert [row.text for row in await wecom.outbox()] == [reply]
