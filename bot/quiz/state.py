"""Which quiz is live where (shared by the quiz handlers and the lookup's no-cheating rule)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Chat, QuizMode, QuizSession

RUNNING = "running"
FINISHED = "finished"
LATE_ANSWER_SECONDS = 30  # after a 抢答 ends, correct answers this late are told someone was faster


async def live_session(session: AsyncSession, chat: Chat | None, *, include_daily: bool = False) -> QuizSession | None:
    """The running 抢答/竞赛 in this chat (and the daily question too if include_daily), if any."""
    if chat is None:
        return None
    query = select(QuizSession).where(QuizSession.chat_id == chat.id, QuizSession.status == RUNNING)
    if not include_daily:
        query = query.where(QuizSession.mode != QuizMode.DAILY)
    return await session.scalar(query.order_by(QuizSession.id.desc()).limit(1))
