"""The app callback (自建应用): 1:1 messages in, encrypted passive replies out, duplicates harmless."""

import asyncio

from sqlalchemy import select

from bot.app import ROUTERS
from bot.core import texts
from bot.core.channels.wecom.channel import WECOM
from bot.core.context import Context
from bot.core.message import Message
from bot.core.models import OutboxStatus
from bot.core.router import Router
from bot.quiz import texts as quiz_texts
from bot.quiz.models import Question, QuizRound
from tests.channels.wecom.conftest import ADMIN, AGENT_ID, CORP_ID


async def test_help_gets_an_encrypted_passive_reply(wecom):
    status, reply = await wecom.app_say("帮助", user="zhangsan")
    assert status == 200
    assert reply.startswith(texts.HELP_HEADER.format(name="zhangsan"))
    assert reply.endswith(texts.HELP_FOOTER)
    [row] = await wecom.outbox()
    assert (row.channel, row.target_kind, row.target_id) == ("wecom", "user", "zhangsan")
    assert (row.status, row.delivered_via, row.text) == (OutboxStatus.SENT, "passive", reply)
    assert await wecom.drain_outbox() == 0
    assert wecom.fake.received == []  # answered in the HTTP response, not by the API


async def test_a_message_delivered_three_times_has_one_effect(wecom):
    """WeCom retries only an answer it did not get: each retry gets the first copy's answer again, nothing more."""
    query, body = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan", msg_id=42))
    answers = [await wecom.app_post(query, body) for _ in range(3)]
    assert [status for status, _ in answers] == [200, 200, 200]
    assert answers[0][1] is not None and answers[1][1] == answers[0][1] and answers[2][1] == answers[0][1]
    assert await wecom.counts() == (1, 1)
    assert await wecom.drain_outbox() == 0
    assert wecom.fake.received == []


async def test_events_are_acknowledged_and_ignored(wecom):
    event = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>"
        f"<CreateTime>{wecom.now()}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey><AgentID>{AGENT_ID}</AgentID></xml>"
    )
    status, reply = await wecom.app_post(*wecom.app_envelope(event))
    assert (status, reply) == (200, None)
    assert await wecom.counts() == (0, 0)


async def test_a_reply_with_cdata_end_is_escaped(start_wecom):
    router = Router("echo")

    @router.command("回声")
    async def handle_echo(msg: Message, ctx: Context) -> None:
        await ctx.reply(f"<![CDATA[{msg.text}]]>")

    wecom = await start_wecom(routers=(*ROUTERS, router))
    _, reply = await wecom.app_say("回声 a]]>b")
    assert reply == "<![CDATA[回声 a]]>b]]>"


async def test_second_reply_goes_through_message_send(start_wecom):
    router = Router("twice")

    @router.command("两条")
    async def handle_twice(msg: Message, ctx: Context) -> None:
        await ctx.reply("第一条")
        await ctx.reply("第二条")

    wecom = await start_wecom(routers=(*ROUTERS, router))
    _, reply = await wecom.app_say("两条", user="zhangsan")
    assert reply == "第一条"
    await wecom.drain_outbox()
    assert wecom.fake.contents("message/send", "zhangsan") == ["第二条"]
    assert [(r.status, r.delivered_via) for r in await wecom.outbox()] == [
        (OutboxStatus.SENT, "passive"),
        (OutboxStatus.SENT, "sender"),
    ]


async def test_a_passive_reply_answered_too_late_is_sent_by_the_api(wecom):
    # What the channel does when an answer decided before the write was only written after WeCom stopped waiting.
    _, reply = await wecom.app_say("帮助", user="zhangsan")
    [row] = await wecom.outbox()
    await wecom.services.sender.unclaim_passive([row.id])
    await wecom.drain_outbox()
    assert wecom.fake.contents("message/send", "zhangsan") == [reply]
    assert [(r.status, r.delivered_via) for r in await wecom.outbox()] == [(OutboxStatus.SENT, "sender")]


async def test_slow_work_answers_empty_at_once_and_replies_later(start_wecom):
    release = asyncio.Event()
    router = Router("slow")

    @router.command("慢")
    async def handle_slow(msg: Message, ctx: Context) -> None:
        await release.wait()
        await ctx.reply("慢慢来")

    wecom = await start_wecom(routers=(*ROUTERS, router), reply_budget_seconds=0.05)
    assert await wecom.app_say("慢", user="zhangsan", msg_id=77) == (200, None)
    # WeCom retries while the work is still running: the retry waits for it, then has no effect of its own.
    assert await wecom.app_say("慢", user="zhangsan", msg_id=77) == (200, None)
    release.set()
    await wecom.app[WECOM].settle()
    await wecom.drain_outbox()
    assert wecom.fake.contents("message/send", "zhangsan") == ["慢慢来"]
    assert await wecom.counts() == (1, 1)


async def test_a_one_to_one_lookup_gives_away_no_live_rush_answer(wecom):
    """QA: the 抢答 in the group is live; the member's 1:1 搜题 of the question on screen is refused, and its answer
    is in nothing written for them."""
    await wecom.aibot_say("@学习驿站 抢答 3题 党章", user=ADMIN)
    async with wecom.services.sessions() as session:
        stem = await session.scalar(
            select(Question.stem)
            .join(QuizRound, QuizRound.question_id == Question.id)
            .where(QuizRound.status == "open")
        )
    assert stem is not None
    status, reply = await wecom.app_say(f"搜题 {stem}", user="zhangsan")
    assert (status, reply) == (200, quiz_texts.LOOKUP_QUIZ_RUNNING_ELSEWHERE)
    to_member = [row for row in await wecom.outbox() if row.target_id == "zhangsan"]
    assert [row.text for row in to_member] == [quiz_texts.LOOKUP_QUIZ_RUNNING_ELSEWHERE]
