"""The AI bot (智能机器人): group @-messages and 1:1 messages, passive stream answers, response_url later."""

import asyncio

from sqlalchemy import select

from bot.app import ROUTERS
from bot.core import texts
from bot.core.channels.wecom.channel import WECOM
from bot.core.context import Context
from bot.core.message import Message
from bot.core.models import Chat, InboundMessage, OutboxStatus
from bot.core.router import Router
from tests.channels.wecom.conftest import AIBOT_CHAT, AIBOT_TOKEN, aibot_encrypt, sign


async def test_url_verification_uses_an_empty_receive_id(wecom):
    timestamp, nonce, echostr = wecom.now(), "abc", aibot_encrypt("5316147850293")
    params = {"msg_signature": sign(AIBOT_TOKEN, timestamp, nonce, echostr), "timestamp": timestamp, "nonce": nonce}
    resp = await wecom.client.get("/wecom/aibot", params={**params, "echostr": echostr})
    assert (resp.status, await resp.text()) == (200, "5316147850293")


async def test_group_at_help_is_answered_in_that_group(wecom):
    status, answer = await wecom.aibot_say("@学习驿站 帮助", user="lisi", chat=AIBOT_CHAT)
    assert status == 200
    assert answer["msgtype"] == "stream" and answer["stream"]["finish"] is True
    content = answer["stream"]["content"]
    assert content.startswith(texts.HELP_HEADER.format(name="lisi"))
    [row] = await wecom.outbox()
    assert (row.target_kind, row.target_id, row.status, row.delivered_via) == (
        "chat",
        AIBOT_CHAT,
        OutboxStatus.SENT,
        "passive",
    )
    async with wecom.services.sessions() as session:
        [inbound] = (await session.scalars(select(InboundMessage))).all()
    assert (inbound.platform_chat_id, inbound.platform_user_id) == (AIBOT_CHAT, "lisi")
    assert inbound.handled_by == "handle_help"


async def test_the_bots_wecom_name_is_stripped_whatever_it_is(start_wecom):
    wecom = await start_wecom(aibot_name="党建小助手")
    _, answer = await wecom.aibot_say("@党建小助手\u2005帮助", chat=AIBOT_CHAT)
    assert answer["stream"]["content"].startswith(texts.HELP_HEADER.format(name="lisi"))


async def test_unknown_user_in_a_bound_group_becomes_a_member_of_its_branch(wecom):
    await wecom.aibot_say("@bot 我是谁", user="wangwu", chat=AIBOT_CHAT)
    _, answer = await wecom.aibot_say("@bot 我是谁", user="wangwu", chat=AIBOT_CHAT)
    assert "市城管局机关第一党支部" in answer["stream"]["content"]


async def test_a_single_chat_message_is_direct(wecom):
    _, answer = await wecom.aibot_say("帮助", user="lisi", chat=None)
    assert answer["stream"]["content"].startswith(texts.HELP_HEADER.format(name="lisi"))
    [row] = await wecom.outbox()
    assert (row.target_kind, row.target_id) == ("user", "lisi")


async def test_a_message_delivered_three_times_has_one_effect(wecom):
    payload = wecom.aibot_payload("@bot 帮助", msg_id="CAIQdup")
    answers = [await wecom.aibot_post(payload) for _ in range(3)]
    assert [status for status, _ in answers] == [200, 200, 200]
    # A retry means WeCom did not get the first answer: it gets the same content again, and nothing is pushed.
    contents = [answer["stream"]["content"] for _, answer in answers if answer is not None]
    assert len(contents) == 3 and len(set(contents)) == 1
    assert await wecom.counts() == (1, 1)
    assert await wecom.drain_outbox() == 0
    assert wecom.fake.received == []


async def test_events_and_other_types_are_acknowledged(wecom):
    payload = wecom.aibot_payload("x")
    payload.update(msgtype="event", event={"eventtype": "enter_chat"})
    del payload["text"]
    assert await wecom.aibot_post(payload) == (200, None)
    assert await wecom.counts() == (0, 0)


async def test_slow_work_is_answered_through_the_response_url(start_wecom):
    release = asyncio.Event()
    router = Router("slow")

    @router.command("慢")
    async def handle_slow(msg: Message, ctx: Context) -> None:
        await release.wait()
        await ctx.reply("慢慢来", mention_sender=True)

    wecom = await start_wecom(routers=(*ROUTERS, router), reply_budget_seconds=0.05)
    payload = wecom.aibot_payload("@bot 慢", user="lisi", chat=AIBOT_CHAT)
    assert await wecom.aibot_post(payload) == (200, None)
    release.set()
    await wecom.app[WECOM].settle()
    await wecom.drain_outbox()
    # No robot in this group: the answer goes through the message's response_url, names written out.
    assert wecom.fake.contents("aibot/response") == ["@lisi 慢慢来"]
    [row] = await wecom.outbox()
    assert (row.status, row.delivered_via) == (OutboxStatus.SENT, "sender")


async def test_a_response_url_answers_once_then_the_hint_says_what_to_configure(start_wecom):
    release = asyncio.Event()
    router = Router("slow")

    @router.command("慢两条")
    async def handle_slow(msg: Message, ctx: Context) -> None:
        await release.wait()
        await ctx.reply("第一条")
        await ctx.reply("第二条")

    wecom = await start_wecom(routers=(*ROUTERS, router), reply_budget_seconds=0.05)
    assert await wecom.aibot_say("@bot 慢两条", chat=AIBOT_CHAT) == (200, None)
    release.set()
    await wecom.app[WECOM].settle()
    await wecom.drain_outbox()
    assert wecom.fake.contents("aibot/response") == ["第一条"]
    first, second = await wecom.outbox()
    assert first.status == OutboxStatus.SENT
    assert second.status == OutboxStatus.FAILED
    assert "robot_webhooks" in second.last_error and AIBOT_CHAT in second.last_error


async def test_a_response_url_outside_wecom_is_not_kept(wecom):
    payload = wecom.aibot_payload("@bot 帮助")
    payload["response_url"] = "http://169.254.169.254/latest/meta-data"
    assert (await wecom.aibot_post(payload))[0] == 200
    async with wecom.services.sessions() as session:
        from bot.core.channels.wecom.models import WecomResponseUrl

        assert (await session.scalars(select(WecomResponseUrl))).all() == []


async def test_chat_seen_first_by_the_ai_bot_joins_the_default_branch(wecom):
    await wecom.aibot_say("@bot 帮助", chat="wrNewGroup")
    async with wecom.services.sessions() as session:
        chat = await session.scalar(select(Chat).where(Chat.channel == "wecom", Chat.platform_chat_id == "wrNewGroup"))
    assert chat is not None
