"""The weekly study-day reminder, one job per branch at its configured time."""

from __future__ import annotations

from bot.core.config import BranchConfig
from bot.core.context import Context
from bot.core.scheduler import JobFunc
from bot.study.domain import send_reminder


def study_reminder(spec: BranchConfig) -> JobFunc:
    """A job that sends this branch's reminder if today is its study day (holiday rule applied)."""

    async def send_study_reminder(ctx: Context) -> None:
        await send_reminder(ctx, spec)

    return send_study_reminder
