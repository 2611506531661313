"""PostgreSQL: an answer racing 结束答题 (or the clock closing its question) is either in the final ranking and the
ledger, or refused as late — never scored after the ranking was written (the round is read FOR SHARE)."""

import asyncio

from sqlalchemy import select

from bot.app import build_app
from bot.core.models import PointsEntry
from bot.quiz.models import QuizAttempt, QuizMode, QuizRound, QuizSession
from tests.conftest import make_config
from tests.quiz.test_quiz import add_questions
from tests.quiz.test_quiz_races import MEMBERS, open_question
from tests.support import BotDriver


async def two_instances(aiohttp_client, pg_url, clock):
    config = make_config(pg_url, points={"quiz_match_per_100": 100})  # every 竞赛 point reaches the ledger
    drivers = []
    for _ in range(2):
        app = build_app(config, clock=clock, background=False)
        drivers.append(BotDriver(await aiohttp_client(app), app))
    await add_questions(drivers[0], 6)
    return drivers[0], drivers[1]


async def test_no_scored_attempt_outside_the_final_ranking(aiohttp_client, pg_url, clock):
    a, b = await two_instances(aiohttp_client, pg_url, clock)
    for _ in range(8):
        await a.say("竞赛 1题 20秒 测试", user="u00")
        question = await open_question(a, QuizMode.MATCH)
        clock.advance(seconds=2)
        await asyncio.gather(a.say("结束答题", user="u00"), *(b.say(question.answer, user=u) for u in MEMBERS))
        clock.advance(seconds=40)
    async with a.services.sessions() as session:
        scored = set(
            (
                await session.execute(
                    select(QuizSession.id, QuizAttempt.member_id)
                    .join(QuizRound, QuizRound.session_id == QuizSession.id)
                    .join(QuizAttempt, QuizAttempt.round_id == QuizRound.id)
                    .where(QuizSession.mode == QuizMode.MATCH, QuizAttempt.score > 0)
                )
            ).all()
        )
        ledger = set(
            (
                await session.execute(
                    select(PointsEntry.source, PointsEntry.member_id).where(PointsEntry.rule == "quiz_match")
                )
            ).all()
        )
    assert len(scored) == len(ledger), (len(scored), len(ledger))
