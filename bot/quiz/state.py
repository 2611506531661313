"""Which quiz is live where (shared by the quiz handlers and the lookup's no-cheating rule)."""

from __future__ import annotations

import functools

from sqlalchemy import ColumnElement, Select, UnaryExpression, bindparam, case, select
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
    return await session.scalar(_live_session_query(include_daily), {"chat_id": chat.id})


def running_first() -> tuple[ColumnElement[int], UnaryExpression[int]]:
    """The order that puts a chat's running 抢答/竞赛 before its 每日一题, the newest first."""
    return (case((QuizSession.mode == QuizMode.DAILY, 1), else_=0), QuizSession.id.desc())


@functools.cache
def _live_session_query(include_daily: bool) -> Select[QuizSession]:
    """Built once (its construction costs more than its execution); the chat is :chat_id."""
    query = select(QuizSession).where(QuizSession.chat_id == bindparam("chat_id"), QuizSession.status == RUNNING)
    if not include_daily:
        query = query.where(QuizSession.mode != QuizMode.DAILY)
    return query.order_by(*running_first()).limit(1)
