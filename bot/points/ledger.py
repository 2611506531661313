"""The points ledger: the scoring rules that write to it ([points]), a member's sums, the rules as shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.context import Context
from bot.core.models import Member, PointsEntry
from bot.core.rollcall import RollCallRef, award_points
from bot.points import texts as points_texts


async def award_timely_receipt(ctx: Context, roll_call: RollCallRef, member: Member, now: datetime) -> None:
    """A receipt within [notices] timely_minutes of the notice earns [points] timely_receipt."""
    config = ctx.config.points
    if not config.enabled:
        return
    if now - roll_call.opens_at <= timedelta(minutes=ctx.config.notices.timely_minutes):
        await award_points(ctx.session, member, config.timely_receipt, "timely_receipt", f"notice:{roll_call.id}", now)


async def award_study_check_in(ctx: Context, roll_call: RollCallRef, member: Member, now: datetime) -> None:
    """A study-day check-in earns [points] study_check_in, once per study week."""
    config = ctx.config.points
    if config.enabled:
        await award_points(ctx.session, member, config.study_check_in, "study_check_in", f"study:{roll_call.id}", now)


async def award_meeting_attendance(ctx: Context, roll_call: RollCallRef, member: Member, now: datetime) -> None:
    """Attending a meeting (checked in, or 补签) earns [points] meeting_attendance, once per meeting."""
    config = ctx.config.points
    if config.enabled:
        await award_points(
            ctx.session, member, config.meeting_attendance, "meeting_attendance", f"meeting:{roll_call.id}", now
        )


@dataclass(frozen=True)
class Sums:
    """Points for this month, this year and in all."""

    month: int = 0
    year: int = 0
    total: int = 0

    def __add__(self, other: Sums) -> Sums:
        return Sums(self.month + other.month, self.year + other.year, self.total + other.total)


def source_of(rule: str) -> str:
    """The source a ledger rule is shown under: every quiz rule is 答题."""
    return "quiz" if rule.startswith("quiz_") else rule


async def member_points(session: AsyncSession, member: Member, now: datetime) -> dict[str, Sums]:
    """A member's ledger summed by source (see source_of), for now's month and year (now in local time)."""
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    year_start = month_start.replace(month=1)
    rows = await session.execute(
        select(
            PointsEntry.rule,
            func.sum(case((PointsEntry.created_at >= month_start, PointsEntry.points), else_=0)),
            func.sum(case((PointsEntry.created_at >= year_start, PointsEntry.points), else_=0)),
            func.sum(PointsEntry.points),
        )
        .where(PointsEntry.member_id == member.id)
        .group_by(PointsEntry.rule)
    )
    sums: dict[str, Sums] = {}
    for rule, month, year, total in rows:
        source = source_of(rule)
        sums[source] = sums.get(source, Sums()) + Sums(int(month or 0), int(year or 0), int(total or 0))
    return sums


async def member_points_text(ctx: Context, member: Member) -> str:
    """The member's own points by source, for this month, this year and in all."""
    now = ctx.clock().astimezone(ctx.config.tz)
    sums = await member_points(ctx.session, member, now)
    overall = sum(sums.values(), Sums())
    if overall.total == 0:
        return points_texts.POINTS_MINE_EMPTY.format(name=member.display_name)
    known = [s for s in points_texts.POINTS_SOURCE_NAMES if s in sums]
    other = sum((v for k, v in sums.items() if k not in points_texts.POINTS_SOURCE_NAMES), Sums())
    shown = [(points_texts.POINTS_SOURCE_NAMES[s], sums[s]) for s in known] + [
        (points_texts.POINTS_SOURCE_OTHER, other)
    ]
    lines = "".join(
        points_texts.POINTS_MINE_LINE.format(source=name, month=s.month, year=s.year, total=s.total)
        for name, s in shown
        if s.total
    )
    return points_texts.POINTS_MINE.format(
        name=member.display_name,
        date=points_texts.POINTS_DATE.format(month=now.month, day=now.day),
        month=overall.month,
        year=overall.year,
        total=overall.total,
        lines=lines,
    )


def rules_text(config: Config) -> str:
    """The ledger's rules with the points each earns; a rule set to 0 is off and not listed."""
    points = config.points
    lines = [
        points_texts.POINTS_RULE_LINE.format(
            text=template.format(points=getattr(points, key), minutes=config.notices.timely_minutes)
        )
        for key, template in points_texts.POINTS_RULES.items()
        if getattr(points, key) > 0
    ]
    if not points.enabled or not lines:
        return points_texts.POINTS_OFF
    return points_texts.POINTS_RULES_HEADER + "".join(lines)
