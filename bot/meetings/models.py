"""Meeting tables: meetings, attendance corrections (更正记录) and cadence warnings sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, BigId


class MeetingKind:
    THEME_DAY = "theme_day"
    MEMBER_ASSEMBLY = "member_assembly"
    COMMITTEE = "committee"
    GROUP_MEETING = "group_meeting"
    PARTY_LECTURE = "party_lecture"
    ALL = (THEME_DAY, MEMBER_ASSEMBLY, COMMITTEE, GROUP_MEETING, PARTY_LECTURE)


class Meeting(Base):
    """A 主题党日 or 三会一课 meeting; its attendance is a roll call."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("branch_id", "rule_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    roll_call_id: Mapped[int] = mapped_column(ForeignKey("roll_call.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    check_in_code: Mapped[str | None] = mapped_column(String(8))
    rule_key: Mapped[str | None] = mapped_column(String(60))  # a recurring rule's period, e.g. "theme_day:2026-11"
    reminders_sent: Mapped[list[int]] = mapped_column(JSON, default=list)  # offsets in minutes already sent
    cancelled: Mapped[bool] = mapped_column(default=False)


class AttendanceAudit(Base):
    """Every correction of an attendance record after the fact (补签), with who made it and why."""

    __tablename__ = "attendance_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    old_status: Mapped[str] = mapped_column(String(20))
    new_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime]


class CadenceWarning(Base):
    """A cadence warning sent for (branch, kind, period), so it is sent once."""

    __tablename__ = "cadence_warning"
    __table_args__ = (UniqueConstraint("branch_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime]
