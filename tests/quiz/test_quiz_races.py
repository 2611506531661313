"""Quiz races on PostgreSQL with real concurrency: two app instances (two build_app/open_services, two engines)
on one database, as two processes of one deployment run. SQLite serialises its writers and hides these races,
so these tests need PostgreSQL (the `pg_url` fixture: skipped on a developer's machine without one, failed in CI).

Each test repeats its race 10 times; together they take a few seconds.
"""

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.core import outbox
from bot.core.models import Outbox, PointsEntry
from bot.quiz import texts as quiz_texts
from bot.quiz.models import QuizMode, QuizSession
from bot.quiz.state import RUNNING
from bot.quiz.timer import tick
from tests.conftest import TZ, make_config
from tests.quiz.test_quiz import TAG, add_questions
from tests.quiz.test_quiz_rules import open_question
from tests.support import BotDriver

REPETITIONS = 10
MEMBERS = [f"u{i:02d}" for i in range(1, 11)]  # the demo branch's members; u00 is its secretary


async def two_instances(aiohttp_client, pg_url, clock) -> tuple[BotDriver, BotDriver]:
    config = make_config(pg_url)
    drivers = []
    for _ in range(2):  # one after the other: each migrates and seeds at start (a start-up race is not ours)
        app = build_app(config, clock=clock, background=False)
        drivers.append(BotDriver(await aiohttp_client(app), app))
    await add_questions(drivers[0], 6)
    return drivers[0], drivers[1]


async def outbox_mark(bot: BotDriver) -> int:
    async with bot.services.sessions() as session:
        return await session.scalar(select(func.coalesce(func.max(Outbox.id), 0)))


async def sent_texts(bot: BotDriver, prefix: str, after: int) -> list[str]:
    """Texts the bot wrote to the outbox (after row `after`) that start with prefix."""
    async with bot.services.sessions() as session:
        rows = await session.scalars(
            select(Outbox.text).where(Outbox.id > after, Outbox.text.startswith(prefix)).order_by(Outbox.id)
        )
        return list(rows)


async def running(bot: BotDriver, mode: str | None = None) -> list[QuizSession]:
    async with bot.services.sessions() as session:
        query = select(QuizSession).where(QuizSession.status == RUNNING)
        if mode is not None:
            query = query.where(QuizSession.mode == mode)
        return list(await session.scalars(query))


async def ticks(a: BotDriver, b: BotDriver) -> None:
    """Both instances' quiz clocks step at once."""
    await asyncio.gather(*(tick(x.services.config, x.services.sessions, x.services.clock) for x in (a, b)))


def stopped(mode: str) -> str:
    """The start of the final ranking of a quiz that 结束答题 ended."""
    return quiz_texts.QUIZ_FINAL.format(mode=mode, stopped=quiz_texts.QUIZ_STOPPED.format(mode=mode), body="")


async def stop_both(a: BotDriver, b: BotDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both secretaries send 结束答题 while both quiz clocks step; what they wrote is read from the outbox.

    Their replies go to the chat behind the clock's push, which nobody sends here (no background sender): the
    API would wait for it in vain (3 s each) before leaving them to the sender, so they are left to it at once.
    """
    stops: list[Awaitable[Any]] = [a.say("结束答题", user="u00"), b.say("结束答题", user="u00"), ticks(a, b)]
    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_IN_LINE_WAIT_SECONDS", 0.0)
        await asyncio.gather(*stops)


def texts_of(results: list[dict]) -> list[str]:
    return [reply["text"] for result in results for reply in result["replies"]]


async def test_two_starts_at_once_run_one_quiz(aiohttp_client, pg_url, clock):
    """Finding 5: two 抢答 started at once in one chat ran two quizzes (8 runs of 10)."""
    a, b = await two_instances(aiohttp_client, pg_url, clock)
    for _ in range(REPETITIONS):
        results = await asyncio.gather(a.say(f"抢答 1题 {TAG}", user="u00"), b.say(f"竞赛 1题 {TAG}", user="u00"))
        replies = texts_of(list(results))
        started = [t for t in replies if t.startswith(("【抢答】现在开始", "【竞赛】现在开始"))]
        refused = [
            t for t in replies if t in {quiz_texts.QUIZ_ALREADY_RUNNING.format(mode=m) for m in ("抢答", "竞赛")}
        ]
        assert len(started) == 1 and len(refused) == 1, replies
        assert len(await running(a)) == 1
        await a.say("结束答题", user="u00")
        assert await running(b) == []


async def test_two_stops_at_once_post_one_ranking(aiohttp_client, pg_url, clock, monkeypatch):
    """Finding 5: two 结束答题 at once posted two final rankings (4 runs of 10); the quiz clock joins in too."""
    a, b = await two_instances(aiohttp_client, pg_url, clock)
    for _ in range(REPETITIONS):
        await a.drain_outbox()  # the sender keeps a chat's pushes flowing; replies wait behind undelivered ones
        mark = await outbox_mark(a)
        await a.say(f"竞赛 2题 20秒 {TAG}", user="u00")
        question = await open_question(a, QuizMode.MATCH)
        await asyncio.gather(*(x.say(question.answer, user=u) for x, u in zip((a, b) * 5, MEMBERS, strict=True)))
        clock.advance(seconds=20)  # the first question's time is up as the secretaries stop the quiz
        await stop_both(a, b, monkeypatch)
        # The loser's answer may wait behind the clock's push to the chat (order per target): read the outbox.
        await a.drain_outbox()
        assert len(await sent_texts(a, quiz_texts.QUIZ_NOTHING_RUNNING, mark)) == 1
        assert len(await sent_texts(a, stopped("竞赛"), mark)) == 1
        assert await running(a) == []
        clock.advance(seconds=5)
    async with a.services.sessions() as session:
        # Every member's 竞赛 points were written once per quiz, by the one finish that posted the ranking.
        entries = await session.scalar(
            select(func.count()).select_from(PointsEntry).where(PointsEntry.rule == "quiz_match")
        )
    assert entries == REPETITIONS * len(MEMBERS)


async def test_two_instances_split_one_rush_one_winner_one_ranking_one_daily_question(
    aiohttp_client, pg_url, clock, monkeypatch
):
    """The acceptance run: answers to one 抢答 split across two instances → one winner and one final ranking; the
    每日一题 fired by both schedulers while the 抢答 is live → one question per slot, posted after the 抢答."""
    a, b = await two_instances(aiohttp_client, pg_url, clock)
    for day in range(REPETITIONS):
        await a.drain_outbox()  # yesterday's pushes (the reveal) went out, as the sender would have sent them
        mark = await outbox_mark(a)
        slot = datetime(2026, 11, 20, 8, 30, tzinfo=TZ) + timedelta(days=day)
        clock.set(slot - timedelta(seconds=5))
        await a.say(f"抢答 2题 {TAG}", user="u00")
        clock.set(slot)
        # Both schedulers fire the slot; a `jobs run` on one of them at the same moment is a slot of its own.
        fired = await asyncio.gather(
            a.services.jobs.fire("post_daily_questions", slot),
            b.services.jobs.fire("post_daily_questions", slot),
            b.services.jobs.fire("post_daily_questions", slot + timedelta(seconds=1), manual=True),
        )
        assert fired[:2].count(True) == 1
        await a.drain_outbox()
        question = await open_question(a, QuizMode.RUSH)
        answers = await asyncio.gather(
            *(x.say(question.answer, user=u) for x, u in zip((a, b) * 5, MEMBERS, strict=True))
        )
        replies = texts_of(list(answers))
        wins = [t for t in replies if t.startswith("【抢答 第1题】")]
        assert len(wins) == 1, replies
        winner = wins[0].removeprefix("【抢答 第1题】").split("同志抢答正确")[0]
        # The others are told privately (each by name) that the question was won.
        slow = [t for t in replies if t.endswith(f"抢答第1题已由{winner}同志抢先答对。")]
        assert len(slow) == len(MEMBERS) - 1, replies
        # Both secretaries stop it while both quiz clocks open the next question.
        clock.advance(seconds=3)
        await stop_both(a, b, monkeypatch)
        rankings = await sent_texts(a, stopped("抢答"), mark)
        assert len(rankings) == 1 and f"1. {winner} 1题" in rankings[0], rankings
        assert await running(a, QuizMode.RUSH) == []
        await ticks(a, b)  # the 抢答 is over: one of the two clocks posts the day's question
        await ticks(a, b)
        assert len(await sent_texts(a, "【每日一题】", mark)) == 1
        clock.set(slot.replace(hour=20))
        await ticks(a, b)
        assert len(await sent_texts(a, "【每日一题·揭晓】", mark)) == 1
        assert await running(a) == []
