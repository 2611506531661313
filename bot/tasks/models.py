"""The task list table: one row per item a unit issued to a unit below it (月清单)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, BigId


class TaskStatus:
    OPEN = "open"
    DONE = "done"


class ExtensionStatus:
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"


class TaskItem(Base):
    """An item of a month's list: issued by a unit (issuer_id) to a unit below it (branch_id), numbered per owner.

    Completion and extension are kept on the row with who and when; due is the date in force (an approved
    extension moves it, original_due keeps the one issued).
    """

    __tablename__ = "task_item"
    __table_args__ = (
        UniqueConstraint("branch_id", "seq"),
        UniqueConstraint("branch_id", "recurring_key"),
        Index("ix_task_item_status_due", "status", "due"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # shown to the branch: 完成 3
    month: Mapped[str] = mapped_column(String(7))  # the list's month, "2026-10"
    kind: Mapped[str] = mapped_column(String(10))  # 责任 / 任务 / 问题
    title: Mapped[str] = mapped_column(Text)
    criteria: Mapped[str] = mapped_column(Text, default="")  # what counts as done
    due: Mapped[date] = mapped_column(Date)
    original_due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=TaskStatus.OPEN)
    done_at: Mapped[datetime | None]
    done_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    done_note: Mapped[str] = mapped_column(Text, default="")
    extension_status: Mapped[str | None] = mapped_column(String(10))
    extension_due: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    extension_requested_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    extension_requested_at: Mapped[datetime | None]
    extension_decided_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    extension_decided_at: Mapped[datetime | None]
    reminders_sent: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates a reminder went out
    overdue_reported_at: Mapped[datetime | None]
    recurring_key: Mapped[str | None] = mapped_column(String(60))  # "<rule #>:<month>" for [[tasks.recurring]]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


# --- 互查 (bot/tasks/crosscheck.py) ------------------------------------------------------------------------------


class CrosscheckStatus:
    OPEN = "open"
    CLOSED = "closed"


class CrosscheckRound(Base):
    """A quarter's 互查 opened by a higher unit (unit_id) over the 党支部 below it; one per unit and quarter."""

    __tablename__ = "crosscheck_round"
    __table_args__ = (UniqueConstraint("unit_id", "quarter"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))  # "2026Q4"
    status: Mapped[str] = mapped_column(String(10), default=CrosscheckStatus.OPEN)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]


class CrosscheckPair(Base):
    """In a round, the 党支部 reviewer_id reviews the 党支部 reviewed_id (each reviews one, each is reviewed once)."""

    __tablename__ = "crosscheck_pair"
    __table_args__ = (UniqueConstraint("round_id", "reviewer_id"), UniqueConstraint("round_id", "reviewed_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("crosscheck_round.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    reviewed_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))


class CrosscheckFinding(Base):
    """A finding a reviewer's secretary left, with who and when; task_item_id once the round closed (a 问题)."""

    __tablename__ = "crosscheck_finding"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("crosscheck_pair.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    task_item_id: Mapped[int | None] = mapped_column(ForeignKey("task_item.id", ondelete="SET NULL"))
