"""Quiz tables: the question bank, quiz sessions, rounds, attempts and ranking opt-outs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, BigId, IndexedWord


class QuestionType:
    SINGLE = "single"
    MULTI = "multi"
    JUDGE = "judge"
    BLANK = "blank"
    ALL = (SINGLE, MULTI, JUDGE, BLANK)


class Question(Base):
    """A question of the bank; `key` is stable across re-imports (given, or derived from the stem)."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    type: Mapped[str] = mapped_column(String(10))
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    # single: "B"; multi: "ACD"; judge: "对" / "错"; blank: accepted answers as a list
    answer: Mapped[Any] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    difficulty: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)  # the 搜题 index's freshness check reads max()


class QuizMode:
    DAILY = "daily"
    RUSH = "rush"
    MATCH = "match"
    PRACTICE = "practice"  # a member retrying a question from their 错题本, directly


# The one 抢答 or 竞赛 a chat may be running (a partial unique index; the 每日一题 runs beside it, waiting).
LIVE_QUIZ_WHERE = "status = 'running' AND mode IN ('rush', 'match')"


class QuizSession(Base):
    """One quiz in one chat: a daily question, a 抢答 run or a timed 竞赛."""

    __tablename__ = "quiz_session"
    __table_args__ = (
        Index("ix_quiz_session_chat_status", "chat_id", "status"),
        Index(
            "uq_quiz_session_live_chat",
            "chat_id",
            unique=True,
            sqlite_where=text(LIVE_QUIZ_WHERE),
            postgresql_where=text(LIVE_QUIZ_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"))  # None: practice
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))  # practice only
    # Named by the partial index above: compared with constants written into the SQL (IndexedWord).
    mode: Mapped[str] = mapped_column(IndexedWord(10))
    status: Mapped[str] = mapped_column(IndexedWord(10))  # running / finished
    tag: Mapped[str] = mapped_column(String(40), default="")
    question_count: Mapped[int] = mapped_column(Integer)
    seconds_per_question: Mapped[int] = mapped_column(Integer)
    period_key: Mapped[str | None] = mapped_column(String(40), unique=True)  # daily: "daily:<chat id>:2026-11-20"
    started_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class QuizRound(Base):
    """One question of a session; the winner of a 抢答 is set by a conditional update, once."""

    __tablename__ = "quiz_round"
    __table_args__ = (UniqueConstraint("session_id", "position"), Index("ix_quiz_round_due", "status", "closes_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("quiz_session.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))  # pending / open / closed
    opened_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    winner_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))


class QuizAttempt(Base):
    """A member's one answer to one round."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("quiz_round.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(String(200))
    correct: Mapped[bool]
    answered_at: Mapped[datetime]
    elapsed_ms: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer, default=0)


class RankingOptOut(Base):
    """A member who asked not to appear in public rankings."""

    __tablename__ = "ranking_opt_out"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime]
