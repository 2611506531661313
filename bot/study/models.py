"""The study day's tables: the material queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, BigId


class StudyMaterial(Base):
    """A study material: set for a week by a secretary (本周学习), or queued for later weeks."""

    __tablename__ = "study_material"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"), index=True)
    week_key: Mapped[str | None] = mapped_column(String(10), index=True)  # "2026-W47", or None while queued
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
