"""Which quiz is live where (shared by the quiz handlers and the lookup's no-cheating rule)."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.models import Chat
from bot.quiz.models import QuizMode, QuizSession

RUNNING = "running"
FINISHED = "finished"
LATE_ANSWER_SECONDS = 30  # after a 抢答 ends, correct answers this late are told someone was faster


async def live_session(session: AsyncSession, chat: Chat | None, *, include_daily: bool = False) -> QuizSession | None:
    """The running 抢答/竞赛 in this chat, if any; with include_daily, else the running 每日一题.

    A 抢答/竞赛 always comes first: while one runs, answers are its answers, even if the day's question is open.
    """
    if chat is None:
        return None
    query = select(QuizSession).where(QuizSession.chat_id == chat.id, QuizSession.status == RUNNING)
    if not include_daily:
        query = query.where(QuizSession.mode != QuizMode.DAILY)
    daily_last = case((QuizSession.mode == QuizMode.DAILY, 1), else_=0)
    return await session.scalar(query.order_by(daily_last, QuizSession.id.desc()).limit(1))
