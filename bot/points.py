"""Scoring rules that write to the points ledger, configured in [points]."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import Context
from bot.models import Member, RollCall
from bot.rollcall import award_points


async def award_timely_receipt(ctx: Context, roll_call: RollCall, member: Member, now: datetime) -> None:
    """A receipt within [notices] timely_minutes of the notice earns [points] timely_receipt."""
    config = ctx.config.points
    if not config.enabled:
        return
    if now - roll_call.opens_at <= timedelta(minutes=ctx.config.notices.timely_minutes):
        await award_points(ctx.session, member, config.timely_receipt, "timely_receipt", f"notice:{roll_call.id}", now)


async def award_study_check_in(ctx: Context, roll_call: RollCall, member: Member, now: datetime) -> None:
    """A study-day check-in earns [points] study_check_in, once per study week."""
    config = ctx.config.points
    if config.enabled:
        await award_points(ctx.session, member, config.study_check_in, "study_check_in", f"study:{roll_call.id}", now)


async def award_meeting_attendance(ctx: Context, roll_call: RollCall, member: Member, now: datetime) -> None:
    """Attending a meeting (checked in, or 补签) earns [points] meeting_attendance, once per meeting."""
    config = ctx.config.points
    if config.enabled:
        await award_points(
            ctx.session, member, config.meeting_attendance, "meeting_attendance", f"meeting:{roll_call.id}", now
        )
