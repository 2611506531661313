"""The AI bot's long connection (智能机器人长连接) end to end through the fake WeCom's WebSocket."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bot.app import build_app
from bot.core import texts
from bot.core.channels.wecom.channel import WECOM
from bot.core.channels.wecom.longconn import LongConnection
from bot.core.channels.wecom.models import WecomConnectionLease
from bot.core.config import ConfigError
from bot.core.db import transaction
from bot.core.logs import config_secrets
from bot.core.models import InboundMessage, Outbox, OutboxStatus
from tests.channels.wecom.conftest import ADMIN, AIBOT_BOT_ID, AIBOT_CHAT, AIBOT_SECRET, WecomDriver, wecom_config
from tests.channels.wecom.fake_api import FakeWecom
from tests.channels.wecom.fake_ws import FakeLongConnection

# Short timings: reconnects and take-overs happen within a test's second or two.
FAST = {
    "aibot_mode": "long_connection",
    "reconnect_min_seconds": 0.05,
    "reconnect_max_seconds": 0.2,
    "takeover_pause_seconds": 0.3,
    "lease_seconds": 2.0,
    "lease_renew_seconds": 0.2,
}


def long_connection_config(db_url: str, fake: FakeWecom, **changes: Any) -> Any:
    return wecom_config(db_url, fake.base_url, long_connection_url=fake.long_connection_url, **{**FAST, **changes})


@pytest.fixture
def start_long_connection(aiohttp_client: Any, db_url: str, clock: Any, fake: FakeWecom) -> Any:
    async def start(db: str | None = None, **changes: Any) -> WecomDriver:
        app = build_app(long_connection_config(db or db_url, fake, **changes), clock=clock, background=False)
        return WecomDriver(await aiohttp_client(app), app, fake, clock)

    return start


@pytest.fixture
def ws(fake: FakeWecom) -> FakeLongConnection:
    assert fake.long_connection is not None
    return fake.long_connection


def connection_of(driver: WecomDriver) -> LongConnection:
    connection = driver.app[WECOM].long_connection
    assert connection is not None
    return connection


async def inbound_ids(driver: WecomDriver) -> list[str]:
    async with driver.services.sessions() as session:
        return list(await session.scalars(select(InboundMessage.platform_msg_id).order_by(InboundMessage.id)))


async def wait_for(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_help_is_answered_in_the_frames_context(start_long_connection, ws):
    await start_long_connection()
    await ws.wait_subscribed()
    frame = ws.message_frame("@学习驿站 帮助", user="lisi", chat=AIBOT_CHAT)
    await ws.push(frame)
    reply = await ws.reply_to(frame["headers"]["req_id"])
    assert reply is not None and reply.cmd == "aibot_respond_msg"
    assert reply.body["msgtype"] == "stream" and reply.body["stream"]["finish"] is True
    assert reply.content.startswith(texts.HELP_HEADER.format(name="lisi"))
    assert ws.pushes() == []


async def test_subscribe_carries_the_bot_id_and_secret_and_pings_keep_it_alive(start_long_connection, ws, fake):
    ws.secret = "another-secret"  # the console's secret was reset: the subscribe is refused, and retried
    await start_long_connection(heartbeat_seconds=1)
    await wait_for(lambda: ws.refused >= 2)
    assert ws.subscribes == 0
    ws.secret = AIBOT_SECRET
    await ws.wait_subscribed()
    await wait_for(lambda: ws.pings >= 1, timeout=3)


async def test_a_notice_goes_to_the_group_as_a_push_and_its_receipt_is_taken_quietly(start_long_connection, ws):
    wecom = await start_long_connection()
    await ws.wait_subscribed()
    assert await ws.say("@学习驿站 帮助", user="lisi", chat=AIBOT_CHAT) is not None  # lisi joins the branch
    # The secretary writes to the bot 1:1: the answer is in that frame; the notice itself is a push to the group.
    sent = await ws.say("通知 明天上午9点前交学习笔记", user=ADMIN)
    assert sent is not None and "第1号通知" in sent.content
    await wecom.drain_outbox()
    [push] = ws.pushes(AIBOT_CHAT)
    # A card (cards.py): the notice's text in it, and its 收到 button.
    card = push.body["template_card"]
    assert push.body["msgtype"] == "template_card" and "明天上午9点前交学习笔记" in card["sub_title_text"]
    assert [b["text"] for b in card["button_list"]] == [texts.CARD_RECEIPT_BUTTON]
    frame = ws.message_frame("@学习驿站 收到", user="lisi", chat=AIBOT_CHAT)
    await ws.push(frame)
    assert await ws.reply_to(frame["headers"]["req_id"], timeout=0.5) is None  # taken quietly
    await wecom.drain_outbox()
    assert len(ws.pushes(AIBOT_CHAT)) == 1
    status = await ws.say("通知情况", user=ADMIN)
    # lisi's receipt counted: the one member asked has answered.
    assert status is not None and status.content.startswith("第1号通知") and "应回执1人，已全部回执。" in status.content


async def test_rows_wait_for_the_connection_instead_of_failing(start_long_connection, ws):
    wecom = await start_long_connection()
    await ws.wait_subscribed()
    await ws.drop()
    async with transaction(wecom.services.sessions) as session:
        session.add(
            Outbox(
                channel="wecom",
                target_kind="chat",
                target_id=AIBOT_CHAT,
                text="本周五学习日",
                next_attempt_at=wecom.clock(),
                created_at=wecom.clock(),
            )
        )
    for _ in range(3):  # the connection is down: nothing is attempted, nothing is lost
        await wecom.drain_outbox()
        [row] = await wecom.outbox()
        if ws.current is None:
            assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    await ws.wait_subscribed(after=1)
    await wait_for(lambda: connection_of(wecom).ready)
    wecom.clock.advance(seconds=2)
    await wecom.drain_outbox()
    assert [p.content for p in ws.pushes(AIBOT_CHAT)] == ["本周五学习日"]


async def test_an_image_is_uploaded_over_the_connection_and_pushed_after_its_text(start_long_connection, ws):
    from tests.channels.wecom.test_images import png, push_image

    wecom = await start_long_connection()
    await ws.wait_subscribed()
    await wait_for(lambda: connection_of(wecom).ready)
    image = png(side=700, padding=600_000)  # two chunks of at most 512 KB
    await push_image(wecom, "chat", AIBOT_CHAT, "本周积分榜", image)
    await wecom.drain_outbox()
    text, picture = ws.pushes(AIBOT_CHAT)
    assert (text.body["msgtype"], text.content) == ("markdown", "本周积分榜")
    assert picture.body["msgtype"] == "image" and ws.media[picture.body["image"]["media_id"]] == image
    assert [row.status for row in await wecom.outbox()] == [OutboxStatus.SENT]


async def test_two_drops_in_the_middle_of_traffic_lose_nothing_and_double_nothing(start_long_connection, ws):
    wecom = await start_long_connection()
    await ws.wait_subscribed()
    frames = [ws.message_frame("@学习驿站 帮助", user=f"m{i:02d}", chat=AIBOT_CHAT) for i in range(12)]
    for round_, batch in enumerate((frames[:4], frames[4:8], frames[8:])):
        for frame in batch:
            await ws.push(frame)
        if round_ < 2:
            await ws.drop()  # mid-traffic: some frames may not be answered yet
            await ws.wait_subscribed(after=round_ + 1)
    # WeCom re-sends an answered frame after a reconnect too: it is a duplicate.
    await ws.push(frames[0])
    async with asyncio.timeout(5):
        while len(await inbound_ids(wecom)) < len(frames) or connection_of(wecom)._work:
            await asyncio.sleep(0.05)
    await wecom.app[WECOM].settle()
    await wecom.drain_outbox()
    ids = await inbound_ids(wecom)
    assert sorted(ids) == sorted(f"aibot:{f['body']['msgid']}" for f in frames)  # each once
    answered = [s.req_id for s in ws.replies()]
    pushed = [s.body["chatid"] for s in ws.pushes()]
    # Every message got its help exactly once: in its frame, or (its frame's reply cut off) as a push.
    assert len(answered) + len(pushed) == len(frames)
    assert len(set(answered)) == len(answered)
    rows = await wecom.outbox()
    assert len(rows) == len(frames) and all(row.status == OutboxStatus.SENT for row in rows)


async def test_template_card_and_other_events_are_taken_and_logged(start_long_connection, ws, caplog):
    wecom = await start_long_connection()
    await ws.wait_subscribed()
    with caplog.at_level(logging.DEBUG, logger="bot.core.channels.wecom.longconn"):
        for kind in ("template_card_event", "enter_chat", "feedback_event"):
            await ws.push(ws.event_frame(kind, chat=AIBOT_CHAT, event_key="ack", task_id="t1"))
        await wait_for(lambda: "'feedback_event' taken" in caplog.text)
    # A card event whose key is not one of our cards' (test_cards.py taps real ones) changes nothing.
    assert "card event with a key that is not ours" in caplog.text
    assert await wecom.counts() == (0, 0) and ws.sent == []
    assert ws.current is not None  # still connected


async def subscribe_from_elsewhere(fake: FakeWecom) -> tuple[aiohttp.ClientSession, Any]:
    """Another program subscribes for the same bot (a developer's laptop, a forgotten test instance)."""
    session = aiohttp.ClientSession()
    other = await session.ws_connect(fake.long_connection_url)
    body = {"bot_id": AIBOT_BOT_ID, "secret": AIBOT_SECRET}
    await other.send_str(
        json.dumps({"cmd": "aibot_subscribe", "headers": {"req_id": "aibot_subscribe_x"}, "body": body})
    )
    return session, other


async def test_a_take_over_from_outside_while_we_hold_the_lease_is_undone_after_a_pause(
    start_long_connection, ws, fake, caplog
):
    await start_long_connection()
    await ws.wait_subscribed()
    session, other = await subscribe_from_elsewhere(fake)
    try:
        await ws.wait_subscribed(after=1)  # the outsider holds it now
        # Ours got disconnected_event, logs it loudly, and takes the bot back after the pause.
        await ws.wait_subscribed(after=2)
        frames = [json.loads((await other.receive(timeout=2)).data) for _ in range(2)]
        assert frames[1]["body"]["event"]["eventtype"] == "disconnected_event"
    finally:
        await other.close()
        await session.close()
    assert "a connection outside this deployment took over" in caplog.text


async def test_a_take_over_by_our_other_process_stops_reconnecting(start_long_connection, ws, fake, caplog):
    wecom = await start_long_connection(lease_renew_seconds=0.5)
    await ws.wait_subscribed()
    async with transaction(wecom.services.sessions) as session:  # the other process took the lease over
        await session.execute(
            update(WecomConnectionLease).values(holder="other-host:1:abcd", version=WecomConnectionLease.version + 1)
        )
    session_, other = await subscribe_from_elsewhere(fake)
    try:
        await ws.wait_subscribed(after=1)
        await asyncio.sleep(1.0)
        assert ws.subscribes == 2  # ours did not come back
        assert not connection_of(wecom).ready
    finally:
        await other.close()
        await session_.close()
    assert "another process took over the AI bot's long connection" in caplog.text


async def test_two_instances_on_postgresql_one_holds_and_the_other_takes_over(aiohttp_client, pg_url, clock, fake, ws):
    config = long_connection_config(pg_url, fake)
    apps = [build_app(config, clock=clock, background=False) for _ in range(2)]
    drivers = [WecomDriver(await aiohttp_client(app), app, fake, clock) for app in apps]
    await ws.wait_subscribed()
    await asyncio.sleep(1.0)  # several lease rounds: still one holder, one subscription
    assert ws.subscribes == 1
    holders = [d for d in drivers if connection_of(d).ready]
    assert len(holders) == 1
    holder = holders[0]
    [other] = [d for d in drivers if d is not holder]
    before = await ws.say("@学习驿站 帮助", user="m01", chat=AIBOT_CHAT)
    assert before is not None

    # The holder dies (as kill -9 would: its socket closes, its lease is not given back).
    task = connection_of(holder)._task
    assert task is not None
    task.cancel()
    await wait_for(lambda: ws.current is None)
    died = asyncio.get_running_loop().time()
    # WeCom keeps sending meanwhile: these frames reach the new holder once it subscribes.
    frames = [ws.message_frame("@学习驿站 帮助", user=f"m{i:02d}", chat=AIBOT_CHAT) for i in range(2, 5)]
    ws.unanswered.update({f["headers"]["req_id"]: f for f in frames})
    await ws.wait_subscribed(after=1, timeout=30)
    assert asyncio.get_running_loop().time() - died < 30
    await wait_for(lambda: connection_of(other).ready)
    await wait_for(lambda: len(ws.replies()) >= 4)
    await asyncio.sleep(0.2)  # nothing more comes
    assert sorted(s.req_id for s in ws.replies()[1:]) == sorted(f["headers"]["req_id"] for f in frames)  # each once
    async with other.services.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(InboundMessage))
    assert count == 4


def test_the_long_connection_needs_bot_id_and_secret_and_the_secret_is_masked():
    bare = wecom_config("sqlite+aiosqlite:///x.db", "http://127.0.0.1", aibot_mode="long_connection", aibot_secret="")
    with pytest.raises(ConfigError, match=r"\[wecom\] aibot_bot_id"):
        bare.wecom.validate()
    config = wecom_config("sqlite+aiosqlite:///x.db", "http://127.0.0.1")
    assert AIBOT_SECRET in config_secrets(config)
    assert AIBOT_SECRET not in repr(config.wecom)


async def test_a_message_seen_over_the_callback_and_the_long_connection_counts_once(start_long_connection, ws):
    wecom = await start_long_connection()  # the callback's token and key are configured too
    await ws.wait_subscribed()
    status, answer = await wecom.aibot_say("@学习驿站 帮助", user="lisi", chat=AIBOT_CHAT, msg_id="CAIQboth")
    assert status == 200 and answer is not None
    frame = ws.message_frame("@学习驿站 帮助", user="lisi", chat=AIBOT_CHAT, msg_id="CAIQboth")
    await ws.push(frame)
    assert await ws.reply_to(frame["headers"]["req_id"], timeout=0.5) is None
    assert await wecom.counts() == (1, 1)


async def test_a_clean_shutdown_gives_the_lease_back(start_long_connection, ws):
    wecom = await start_long_connection()
    await ws.wait_subscribed()
    await wait_for(lambda: connection_of(wecom).ready)
    sessions = wecom.services.sessions
    await wecom.client.close()  # the app shuts down (its lifecycle's cleanup)
    async with sessions() as session:
        holder = await session.scalar(select(WecomConnectionLease.holder))
    assert holder == ""  # another process may take it at once
    await wait_for(lambda: ws.current is None)


async def test_a_reply_whose_mention_names_cannot_be_read_is_not_lost(
    aiohttp_client, db_url, clock, fake, ws, monkeypatch
):
    """The group commit marks a carried row as delivered; if spelling out its mentions (a read after the commit)
    fails, the frame is never answered, so the row must go back to the sender, not stay "sent" unsent."""
    from bot.app import ROUTERS
    from bot.core.channels.wecom import channel as channel_module
    from bot.core.router import Router

    router = Router("mention")

    @router.command("点我")
    async def handle_mention(msg, ctx):
        await ctx.reply("点到了", mention_sender=True)

    app = build_app(long_connection_config(db_url, fake), clock=clock, background=False, routers=(*ROUTERS, router))
    wecom = WecomDriver(await aiohttp_client(app), app, fake, clock)
    await ws.wait_subscribed()
    assert await ws.say("@学习驿站 帮助", user="lisi", chat=AIBOT_CHAT) is not None  # lisi joins

    async def unreadable(session, user_ids):
        raise ConnectionResetError("the database went away after the commit")

    monkeypatch.setattr(channel_module, "mention_names", unreadable)
    frame = ws.message_frame("@学习驿站 点我", user="lisi", chat=AIBOT_CHAT)
    await ws.push(frame)
    assert await ws.reply_to(frame["headers"]["req_id"], timeout=0.5) is None
    monkeypatch.undo()
    wecom.clock.advance(seconds=30)
    await wecom.drain_outbox()
    [row] = [r for r in await wecom.outbox() if r.text == "点到了"]
    assert row.delivered_via != "passive", "marked as answered in a frame that was never sent"
    assert any("点到了" in p.content for p in ws.pushes(AIBOT_CHAT))


async def test_a_frame_holding_a_nul_is_ignored_as_a_callback_body_would_be_refused(start_long_connection, ws):
    """Frames are read as strictly as a callback's body (crypto.parse_json_object): a message whose text holds a
    NUL (which PostgreSQL cannot store) is dropped with a warning; the connection goes on."""
    driver = await start_long_connection()
    await ws.wait_subscribed()
    bad = ws.message_frame("@学习驿站 帮助\x00", user="lisi", chat=AIBOT_CHAT)
    await ws.push(bad)
    good = ws.message_frame("@学习驿站 帮助", user="lisi", chat=AIBOT_CHAT)
    await ws.push(good)
    assert await ws.reply_to(good["headers"]["req_id"]) is not None
    assert await ws.reply_to(bad["headers"]["req_id"], timeout=0.2) is None
    assert await inbound_ids(driver) == [f"aibot:{good['body']['msgid']}"]
