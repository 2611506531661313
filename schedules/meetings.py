"""Recurring meetings from config, and cadence warnings for required meetings not yet held."""

from __future__ import annotations

from bot.core.context import Context
from bot.meetings.domain import plan_recurring, warn_cadence


async def plan_meetings(ctx: Context) -> None:
    """Create each branch's rule meetings (e.g. the last-Friday 主题党日) create_days_before their date."""
    for spec in ctx.config.branches:
        await plan_recurring(ctx, spec)


async def warn_meeting_cadence(ctx: Context) -> None:
    """On [meetings] cadence_warn_day, tell secretaries which required meetings the period still lacks."""
    for spec in ctx.config.branches:
        await warn_cadence(ctx, spec)
