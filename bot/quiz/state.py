"""Which quiz is live where (shared by the quiz handlers and the lookup's no-cheating rule)."""

from __future__ import annotations

import functools

from sqlalchemy import ColumnElement, Select, UnaryExpression, bindparam, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.models import Branch, Chat
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


async def live_for_member(session: AsyncSession, home_id: int, chat: Chat | None) -> int | None:
    """The chat of a running 抢答/竞赛 that this chat runs or that the member of unit home_id may answer (in a group
    of that unit or of a unit below it, as bot/core/authority.py decides), this chat's first; None: none.

    One statement on the partial index of live quizzes (a few rows however long the history), each checked against
    its unit's row: asked on every 搜题, so it must not read a branch's past quizzes.
    """
    params = {"chat": chat.id if chat is not None else None, "home": home_id, "below": f"%/{home_id}/%"}
    return await session.scalar(_live_for_member_query(), params)


@functools.cache
def _live_for_member_query() -> Select[int | None]:
    """Built once: this chat is :chat, the member's unit :home, and :below matches the ancestor path of the units
    below it. Status and mode are compared as written into the SQL (IndexedWord), as the partial index names them."""
    here = QuizSession.chat_id == bindparam("chat")
    reached = or_(here, Branch.id == bindparam("home"), Branch.ancestor_path.like(bindparam("below")))
    return (
        select(QuizSession.chat_id)
        .join(Branch, Branch.id == QuizSession.branch_id)
        .where(QuizSession.status == RUNNING, QuizSession.mode.in_([QuizMode.RUSH, QuizMode.MATCH]), reached)
        .order_by(case((here, 0), else_=1))
        .limit(1)
    )
