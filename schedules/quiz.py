"""每日一题: one question a day in each chat of the branches that turned it on."""

from __future__ import annotations

import random

from sqlalchemy import select

from bot.core.context import Context
from bot.core.members import branch_by_key
from bot.core.rollcall import branch_chats
from bot.quiz.engine import at, pick_questions, start
from bot.quiz.models import QuizMode, QuizRound, QuizSession
from bot.quiz.state import live_session

RECENT = 200  # questions used lately in a chat are not asked again


async def post_daily_questions(ctx: Context) -> None:
    """Post today's question to each configured chat, once per chat and day.

    In a chat with a 抢答 or 竞赛 running, the question waits and the quiz clock posts it when that quiz ends
    (if before daily_close_time), so the two never take each other's answers.
    """
    today = ctx.clock().astimezone(ctx.config.tz)
    closes = at(ctx, today, ctx.config.quiz.daily_close_time)
    if closes <= ctx.clock():
        return
    for spec in ctx.config.branches:
        if not spec.daily_quiz:
            continue
        branch = await branch_by_key(ctx.session, spec.id)
        if branch is None:
            continue
        for chat in await branch_chats(ctx.session, branch, spec.daily_quiz_chats):
            key = f"daily:{chat.id}:{today:%Y-%m-%d}"
            if await ctx.session.scalar(select(QuizSession.id).where(QuizSession.period_key == key)):
                continue
            used = set(
                await ctx.session.scalars(
                    select(QuizRound.question_id)
                    .join(QuizSession, QuizSession.id == QuizRound.session_id)
                    .where(QuizSession.chat_id == chat.id, QuizSession.mode == QuizMode.DAILY)
                    .order_by(QuizRound.id.desc())
                    .limit(RECENT)
                )
            )
            candidates = [q for q in await pick_questions(ctx, 10_000, "") if q.id not in used]
            if not candidates:
                candidates = await pick_questions(ctx, 1, "")
            if not candidates:
                continue
            question = random.Random(key).choice(candidates)
            busy = await live_session(ctx.session, chat) is not None
            await start(  # None: another process (a second instance, `jobs run`) posted it a moment ago
                ctx,
                mode=QuizMode.DAILY,
                chat=chat,
                questions=[question],
                seconds=0,
                closes_at=closes,
                period_key=key,
                waiting=busy,
            )
