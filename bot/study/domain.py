"""The weekly study day (学习日): reminder with material, 学习打卡, nudge, weekly summary and goals."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy import ColumnElement, and_, bindparam, case, func, select

from bot.core import display, texts
from bot.core.authority import holders
from bot.core.cards import study_card
from bot.core.config import BranchConfig, StudyConfig
from bot.core.context import Context
from bot.core.db import Prepared
from bot.core.holidays import study_day_for_week, study_week_starting_on, week_key
from bot.core.members import branch_by_key
from bot.core.models import Branch, EntryStatus, Member, Role, RollCall, RollCallEntry, RollCallKind, RollCallStatus
from bot.core.prepared import run
from bot.core.rollcall import (
    OpenRollCall,
    RollCallRef,
    branch_audience,
    branch_chats,
    close_roll_call,
    open_roll_call,
    roll_call_chats,
    tally,
)
from bot.study import texts as study_texts
from bot.study.models import StudyMaterial

KIND = RollCallKind.STUDY


def _at(day: date, hhmm: str, ctx: Context) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=ctx.config.tz)


def week_label(key: str) -> str:
    """'2026-W47' → '11月16日至22日' (secretaries name weeks by their dates, not ISO numbers)."""
    return display.week(key)


def study_day(ctx: Context, roll_call: RollCallRef) -> str:
    """The study day a study roll call was held on, '11月20日（周五）'."""
    return display.day(roll_call.opens_at.astimezone(ctx.config.tz).date())


async def take_material(ctx: Context, branch: Branch, key: str) -> str:
    """This week's material: the one set for the week, else the oldest queued one (now assigned to the week)."""
    chosen = await ctx.session.scalar(
        select(StudyMaterial)
        .where(StudyMaterial.branch_id == branch.id, StudyMaterial.week_key == key)
        .order_by(StudyMaterial.id.desc())
        .limit(1)
    )
    if chosen is None:
        chosen = await ctx.session.scalar(
            select(StudyMaterial)
            .where(StudyMaterial.branch_id == branch.id, StudyMaterial.week_key.is_(None))
            .order_by(StudyMaterial.id)
            .limit(1)
        )
        if chosen is not None:
            chosen.week_key = key
    return chosen.text if chosen else study_texts.STUDY_NO_MATERIAL


async def send_reminder(ctx: Context, spec: BranchConfig) -> RollCall | None:
    """If today is this branch's study day, open the week's roll call and push the reminder (once per week)."""
    study: StudyConfig = spec.study
    branch = await branch_by_key(ctx.session, spec.id)
    if branch is None or not study.enabled:
        return None
    today = ctx.clock().astimezone(ctx.config.tz).date()
    found = study_week_starting_on(today, study.weekday, study.holiday_rule)
    if found is None:
        return None
    key, nominal = found
    exists = await ctx.session.scalar(
        select(RollCall.id).where(RollCall.branch_id == branch.id, RollCall.kind == KIND, RollCall.period_key == key)
    )
    if exists is not None:
        return None
    now = ctx.clock()
    opens = _at(today, study.time, ctx)
    closes = opens + timedelta(hours=study.close_after_hours)
    if closes <= now:  # a catch-up or manual run after the study day is over: nothing left to remind of
        return None
    nudge_at = _at(today, study.nudge_time, ctx)
    material = await take_material(ctx, branch, key)
    roll_call = await open_roll_call(
        ctx.session,
        branch=branch,
        kind=KIND,
        title=week_label(key),
        body=material,
        audience=await branch_audience(ctx.session, branch, texts.AUDIENCE_BRANCH),
        chats=await branch_chats(ctx.session, branch, study.chats),
        now=now,
        closes_at=closes,
        # A reminder sent after the nudge time (a catch-up, a manual run) is itself the reminder: no nudge after it.
        next_nudge_at=nudge_at if study.nudge and nudge_at > now else None,
        period_key=key,
    )
    text = study_texts.STUDY_REMINDER.format(date=display.day(today), material=material)
    if today != nominal:
        text += study_texts.STUDY_REMINDER_MOVED.format(nominal=display.day(nominal))
    card = study_card(roll_call.id, study_texts.CARD_TITLE_STUDY.format(date=display.day(today)))
    for chat in await roll_call_chats(ctx.session, roll_call):
        await ctx.send_to_chat(chat, text, card=card)
    return roll_call


async def nudge_study(ctx: Context, roll_call: RollCall) -> None:
    """At the nudge time, once: the chats hear how many have not checked in (never who); each of them gets a
    polite reminder directly, where the channel can write to them. A nudge that comes due late (the tick first runs
    again after downtime) is dropped once the study day has passed or the week is closing: "今天是学习日" would be
    untrue, and the 小结 follows at once."""
    now = ctx.clock()
    roll_call.next_nudge_at = None
    held_on = roll_call.opens_at.astimezone(ctx.config.tz).date()
    closing = roll_call.closes_at is not None and roll_call.closes_at <= now
    if closing or now.astimezone(ctx.config.tz).date() != held_on:
        return
    counted = await tally(ctx.session, roll_call)
    roll_call.nudges_sent += 1
    if not counted.pending:
        return
    text = study_texts.STUDY_NUDGE_COUNT.format(count=len(counted.pending))
    card = study_card(roll_call.id, study_texts.CARD_TITLE_STUDY.format(date=display.day(held_on)))
    for chat in await roll_call_chats(ctx.session, roll_call):
        await ctx.send_to_chat(chat, text, card=card)
    for member in counted.pending:  # one text for all: the app sends it to them in one call (bot/core/outbox.py)
        await ctx.send_to_member(member, study_texts.STUDY_NUDGE_DIRECT_ALL, card=card)


async def close_study(ctx: Context, roll_call: RollCall) -> bool:
    """Close the week: 参学率 and thanks in the chats; the names of those missing only to the secretaries."""
    if not await close_roll_call(ctx.session, roll_call, ctx.clock()):
        return False
    counted = await tally(ctx.session, roll_call)
    label = study_day(ctx, roll_call)
    names_part = study_texts.STUDY_SUMMARY_NAMES.format(names=display.names(counted.done)) if counted.done else ""
    text = study_texts.STUDY_SUMMARY.format(
        day=label,
        expected=counted.expected,
        done=len(counted.done),
        rate=display.percent(counted.rate),
        names_part=names_part,
    )
    for chat in await roll_call_chats(ctx.session, roll_call):
        await ctx.send_to_chat(chat, text)
    if counted.pending:
        missing = study_texts.STUDY_SUMMARY_MISSING.format(
            day=label, count=len(counted.pending), names=display.names(counted.pending)
        )
        secretaries = await ctx.session.scalars(holders(roll_call.branch_id, Role.SECRETARY))
        for secretary in secretaries:
            await ctx.send_to_member(secretary, missing)
    return True


_TAG_PATTERNS = {tag: re.compile(pattern) for tag, pattern in study_texts.STUDY_TAGS.items()}


def tag_of(note: str) -> str | None:
    """The study goal a check-in note counts towards, by what it names (study_texts.STUDY_TAGS)."""
    for tag, pattern in _TAG_PATTERNS.items():
        if pattern.search(note):
            return tag
    return None


async def current_study(ctx: Context, branch: Branch) -> OpenRollCall | None:
    """The open study roll call of the branch, if any."""
    found = await run(ctx.session, _CURRENT, {"branch": branch.id})
    return OpenRollCall(*found[0]) if found else None


_CURRENT = Prepared(
    lambda _: (
        select(RollCall.id, RollCall.seq, RollCall.opens_at)
        .where(RollCall.branch_id == bindparam("branch"), RollCall.kind == KIND, RollCall.status == RollCallStatus.OPEN)
        .order_by(RollCall.id.desc())
        .limit(1)
    )
)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def periods(now: datetime) -> dict[str, Period]:
    """This month, half-year and year, in now's time zone."""
    tz = now.tzinfo
    month_start = datetime(now.year, now.month, 1, tzinfo=tz)
    month_end = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=tz)
    half = 1 if now.month <= 6 else 7
    half_start = datetime(now.year, half, 1, tzinfo=tz)
    half_end = datetime(now.year, 7, 1, tzinfo=tz) if half == 1 else datetime(now.year + 1, 1, 1, tzinfo=tz)
    year_start, year_end = datetime(now.year, 1, 1, tzinfo=tz), datetime(now.year + 1, 1, 1, tzinfo=tz)
    return {
        "month": Period(month_start, month_end),
        "half": Period(half_start, half_end),
        "year": Period(year_start, year_end),
    }


@dataclass(frozen=True)
class MyStudy:
    """A member's study in numbers (我的学习): the study days this month that expected them, those they checked in
    to, and per goal their check-ins with its tag in its span."""

    weeks: int
    done: int
    goals: tuple[int, ...]


async def my_study(ctx: Context, member: Member, month: Period, goals: Sequence[tuple[str, Period]]) -> MyStudy:
    """MyStudy for these goals (tag, span), in one statement over the member's own study entries (from the earliest
    span's start to the latest one's end; each count in its own span).

    The member's own record, whichever unit held each study day: a study day counts if it expected them (its
    audience, fixed when it opened, has their entry), a check-in if it is one of those — so a member who moved unit
    this month keeps the days and check-ins of their old unit and owes none of the new unit's days before they came,
    and never has more check-ins than days."""
    params: dict[str, object] = {"member": member.id, "start": month.start, "end": month.end}
    for i, (tag, span) in enumerate(goals):
        params.update({f"tag{i}": tag, f"start{i}": span.start, f"end{i}": span.end})
    starts, ends = [month.start, *(span.start for _, span in goals)], [month.end, *(span.end for _, span in goals)]
    params.update({"from": min(starts), "to": max(ends)})
    [row] = await run(ctx.session, _my_study_statement(len(goals)), params)
    return MyStudy(int(row[0] or 0), int(row[1] or 0), tuple(int(n or 0) for n in row[2:]))


@cache
def _my_study_statement(goals: int) -> Prepared:
    def within(suffix: str) -> ColumnElement[bool]:
        return and_(RollCall.opens_at >= bindparam(f"start{suffix}"), RollCall.opens_at < bindparam(f"end{suffix}"))

    done = RollCallEntry.status == EntryStatus.DONE
    statement = (
        select(
            func.count(case((within(""), 1))).label("weeks"),
            func.count(case((and_(within(""), done), 1))).label("done"),
            *(
                func.count(case((and_(within(str(i)), done, RollCallEntry.tag == bindparam(f"tag{i}")), 1))).label(
                    f"goal{i}"
                )
                for i in range(goals)
            ),
        )
        .select_from(RollCallEntry)
        .join(RollCall, RollCall.id == RollCallEntry.roll_call_id)
        .where(
            RollCall.kind == KIND,
            RollCallEntry.member_id == bindparam("member"),
            RollCall.opens_at >= bindparam("from"),
            RollCall.opens_at < bindparam("to"),
        )
    )
    return Prepared(lambda _: statement)


async def weeks_held(ctx: Context, branch_id: int, period: Period) -> list[RollCall]:
    rows = await ctx.session.scalars(
        select(RollCall)
        .where(
            RollCall.branch_id == branch_id,
            RollCall.kind == KIND,
            RollCall.opens_at >= period.start,
            RollCall.opens_at < period.end,
        )
        .order_by(RollCall.opens_at)
    )
    return list(rows)


@dataclass(frozen=True)
class Participation:
    """Check-ins and expected check-ins (person-times) over the study days held in a period."""

    done: int
    expected: int

    @property
    def rate(self) -> float:
        return self.done / self.expected if self.expected else 0.0


async def participation(ctx: Context, branch_id: int, period: Period) -> Participation:
    """Check-ins ÷ expected over the study weeks held in the period (参学率)."""
    expected = done = 0
    for roll_call in await weeks_held(ctx, branch_id, period):
        counted = await tally(ctx.session, roll_call)
        expected += counted.expected
        done += len(counted.done)
    return Participation(done, expected)


def month_participation_text(result: Participation) -> str:
    """'本月参学率90%（应参学20人次，已打卡18人次）。', or that no study day was held (nothing was due)."""
    if not result.expected:
        return study_texts.STUDY_MONTH_NONE
    return study_texts.STUDY_MONTH_RATE.format(
        rate=display.percent(result.rate), expected=result.expected, done=result.done
    )


def study_config(ctx: Context, branch: Branch) -> StudyConfig:
    """The branch's [branches.study] (the defaults for a branch not in the configuration)."""
    spec = ctx.config.branch(branch.key)
    return spec.study if spec is not None else StudyConfig()


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def nominal_study_day(day: date, study: StudyConfig) -> date:
    """The study day of day's week before any holiday rule: '11月20日（周五）'s date."""
    return _monday(day) + timedelta(days=study.weekday - 1)


def study_day_this_week(today: date, study: StudyConfig) -> date | None:
    """The effective study day of today's week, or None when the holiday rule leaves the week without one."""
    return study_day_for_week(today, study.weekday, study.holiday_rule)


def next_study_week(today: date, study: StudyConfig) -> tuple[str, date] | None:
    """The first week after today's that has a study day: its key and effective day (None if none in 8 weeks)."""
    for weeks in range(1, 9):
        probe = _monday(today) + timedelta(weeks=weeks)
        held_on = study_day_for_week(probe, study.weekday, study.holiday_rule)
        if held_on is not None:
            return week_key(probe), held_on
    return None


async def this_week_study(ctx: Context, branch: Branch) -> RollCall | None:
    """This week's study roll call, open or closed (None before the reminder, or in a week without a study day)."""
    today = ctx.clock().astimezone(ctx.config.tz).date()
    return await ctx.session.scalar(
        select(RollCall).where(
            RollCall.branch_id == branch.id, RollCall.kind == KIND, RollCall.period_key == week_key(today)
        )
    )


@dataclass(frozen=True)
class MaterialWeek:
    """Where a 本周学习 goes: the week's key, its study day (None when it is this week's, not yet held), the week's
    open roll call, and whether this week was skipped (no study day: holiday rule)."""

    key: str
    day: date | None
    open_now: RollCall | None
    this_week_skipped: bool


async def material_week(ctx: Context, branch: Branch) -> MaterialWeek:
    """The week a 本周学习 sets: this one, unless its study day is over or the holiday rule leaves it without one —
    then the next week that has a study day."""
    today = ctx.clock().astimezone(ctx.config.tz).date()
    study = study_config(ctx, branch)
    held = await this_week_study(ctx, branch)
    if held is not None and held.status == RollCallStatus.OPEN:
        return MaterialWeek(week_key(today), None, held, False)
    skipped = held is None and study_day_this_week(today, study) is None
    if held is None and not skipped:
        return MaterialWeek(week_key(today), None, None, False)
    following = next_study_week(today, study)
    if following is None:  # no study day in the next 8 weeks: the week after, as before
        return MaterialWeek(week_key(today + timedelta(days=7)), None, None, skipped)
    return MaterialWeek(following[0], following[1], None, skipped)
