"""学习打卡 / 我的学习 / 本周学习 / 添加学习材料 / 学习情况."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.core import display, texts
from bot.core.cards import STUDY, tapped_roll_call
from bot.core.context import Context
from bot.core.holidays import week_key
from bot.core.message import Message
from bot.core.models import Branch, Chat, EntryStatus, Member, Role, RollCall, RollCallEntry, RollCallStatus
from bot.core.normalize import visible_text
from bot.core.rollcall import OpenRollCall, counts, respond, roll_call_chats, tally
from bot.core.router import Router
from bot.points.ledger import award_study_check_in
from bot.study import texts as study_texts
from bot.study.domain import (
    current_study,
    material_week,
    month_participation_text,
    my_study,
    next_study_week,
    nominal_study_day,
    participation,
    periods,
    study_config,
    study_day,
    study_day_this_week,
    tag_of,
    this_week_study,
    week_label,
)
from bot.study.models import StudyMaterial
from handlers.notices import reply_keeping_names_private

router = Router("study")


@router.command(*texts.CMD_STUDY_CHECK_IN, summary=study_texts.SUMMARY_STUDY_CHECK_IN)
async def handle_study_check_in(msg: Message, ctx: Context) -> None:
    """Check in for this week's study day, with an optional note of what was studied."""
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    roll_call = await current_study(ctx, ctx.branch)
    tapped = tapped_roll_call(msg.card_key, STUDY)  # a tap on an earlier week's card is not this week's check-in
    if roll_call is None:
        await ctx.reply(await _no_study_open(ctx, ctx.branch, ctx.member))
        return
    if tapped is not None and tapped != roll_call.id:
        await ctx.reply(study_texts.CARD_STALE_STUDY)
        return
    note = visible_text(ctx.command.raw_args)
    tag = tag_of(note)
    now = ctx.clock()
    recorded = await respond(ctx.session, roll_call, ctx.member, now, note=note, tag=tag)
    if recorded is None:
        await ctx.reply(study_texts.STUDY_NOT_OPEN)
        return
    if not recorded:
        await ctx.reply(await _add_note(ctx, roll_call, ctx.member, note, tag))
        return
    await award_study_check_in(ctx, roll_call, ctx.member, now)
    done, expected = await counts(ctx.session, roll_call)
    text = study_texts.STUDY_CHECKED_IN.format(name=ctx.member.display_name, done=done, expected=expected)
    if tag:
        text += study_texts.STUDY_CHECKED_IN_TAG.format(tag=tag)
    await ctx.reply(text)


async def _no_study_open(ctx: Context, branch: Branch, member: Member) -> str:
    """Why 学习打卡 is not taken now: this week's study day is over, or a holiday leaves the week without one, or it
    has not opened yet."""
    held = await this_week_study(ctx, branch)
    if held is not None and held.status == RollCallStatus.CLOSED:
        return study_texts.STUDY_ENDED.format(name=member.display_name, day=study_day(ctx, held)) + _next_day(
            ctx, branch
        )
    holiday = _holiday_week(ctx, branch) if held is None else None
    return holiday if holiday is not None else study_texts.STUDY_NOT_OPEN


def _holiday_week(ctx: Context, branch: Branch) -> str | None:
    """'本周学习日10月2日（周五）逢节假日，不安排学习。下一个学习日：10月9日（周五）。' when the holiday rule leaves this
    week without a study day; else None."""
    study = study_config(ctx, branch)
    today = ctx.clock().astimezone(ctx.config.tz).date()
    if not study.enabled or study_day_this_week(today, study) is not None:
        return None
    return study_texts.STUDY_WEEK_HOLIDAY.format(day=display.day(nominal_study_day(today, study))) + _next_day(
        ctx, branch
    )


def _next_day(ctx: Context, branch: Branch) -> str:
    """'下一个学习日：11月27日（周五）。' (or nothing when none is within 8 weeks)."""
    following = next_study_week(ctx.clock().astimezone(ctx.config.tz).date(), study_config(ctx, branch))
    return study_texts.STUDY_NEXT_DAY.format(day=display.day(following[1])) if following else ""


async def _add_note(ctx: Context, roll_call: OpenRollCall, member: Member, note: str, tag: str | None) -> str:
    """A second 学习打卡 with a note: the note (and its tag, if the check-in has none) goes to the one check-in."""
    already = study_texts.STUDY_ALREADY.format(name=member.display_name)
    if not note:
        return already
    entry = await ctx.session.scalar(
        select(RollCallEntry).where(
            RollCallEntry.roll_call_id == roll_call.id,
            RollCallEntry.member_id == member.id,
            RollCallEntry.status == EntryStatus.DONE,
        )
    )
    if entry is None or note in (entry.note or "").split(study_texts.STUDY_NOTE_SEPARATOR):  # a resend adds nothing
        return already
    entry.note = study_texts.STUDY_NOTE_SEPARATOR.join(part for part in (entry.note, note) if part)
    text = study_texts.STUDY_NOTE_ADDED.format(name=member.display_name, note=note)
    if tag is not None and entry.tag is None:
        entry.tag = tag
        text += study_texts.STUDY_CHECKED_IN_TAG.format(tag=tag)
    return text


@router.command(*study_texts.CMD_MY_STUDY, summary=study_texts.SUMMARY_MY_STUDY)
async def handle_my_study(msg: Message, ctx: Context) -> None:
    """A member's progress against the study goals: their own record (the study days that expected them, whichever
    unit held them) against their own unit's goals, wherever they ask — in another unit's chat too."""
    assert ctx.member is not None and ctx.branch is not None
    home = ctx.branch if ctx.branch.id == ctx.member.branch_id else await ctx.session.get(Branch, ctx.member.branch_id)
    spec = ctx.config.branch(home.key) if home is not None else None
    study = spec.study if spec else None
    span = periods(ctx.clock().astimezone(ctx.config.tz))
    goals = (
        ("微党课", "month", study.micro_lectures_per_month if study else 0),
        ("原著", "half", study.classics_per_half_year if study else 0),
        ("纪录片", "year", study.documentaries_per_year if study else 0),
    )
    mine = await my_study(ctx, ctx.member, span["month"], [(tag, span[period]) for tag, period, _ in goals])
    lines = [
        study_texts.STUDY_MINE_WEEKS.format(done=mine.done, weeks=mine.weeks)
        if mine.weeks
        else study_texts.STUDY_MINE_NO_WEEKS
    ]
    for (tag, _period, goal), done in zip(goals, mine.goals, strict=True):
        spoken = study_texts.STUDY_GOAL_SPANS[tag]
        if goal:
            lines.append(study_texts.STUDY_MINE_GOAL.format(tag=tag, span=spoken, done=done, goal=goal))
        elif done:  # no goal set: nothing was due, so only what was done is shown
            lines.append(study_texts.STUDY_MINE_NO_GOAL.format(tag=tag, span=spoken, done=done))
    await ctx.reply(study_texts.STUDY_MINE.format(name=ctx.member.display_name, lines="".join(lines)))


@router.command(*study_texts.CMD_STUDY_SET, role=Role.SECRETARY, summary=study_texts.SUMMARY_STUDY_SET)
async def handle_study_set(msg: Message, ctx: Context) -> None:
    """Set this week's study material; if the reminder already went out, tell the chats (then, in one of them, the
    secretary's confirmation does not repeat the material)."""
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    text = visible_text(ctx.command.raw_args)
    if not text:
        await ctx.reply(study_texts.STUDY_NEED_TEXT)
        return
    target = await material_week(ctx, ctx.branch)
    key, open_now = target.key, target.open_now
    ctx.session.add(
        StudyMaterial(
            branch_id=ctx.branch.id, week_key=key, text=text, created_by=ctx.member.id, created_at=ctx.clock()
        )
    )
    today = ctx.clock().astimezone(ctx.config.tz).date()
    if target.this_week_skipped or (target.day is not None and key != week_key(today + timedelta(days=7))):
        # Not this week's nor simply next week's: the secretary is told which study day it is for, and why.
        skipped = study_texts.STUDY_WEEK_SKIPPED_SET.format(span=week_label(week_key(today)))
        for_day = (
            study_texts.STUDY_MATERIAL_SET_FOR_DAY.format(day=display.day(target.day), text=text)
            if target.day is not None
            else study_texts.STUDY_MATERIAL_SET.format(
                week=study_texts.STUDY_NEXT_WEEK.format(span=week_label(key)), text=text
            )
        )
        await ctx.reply((skipped if target.this_week_skipped else "") + for_day)
        return
    week = (study_texts.STUDY_THIS_WEEK if key == week_key(today) else study_texts.STUDY_NEXT_WEEK).format(
        span=week_label(key)
    )
    chats: list[Chat] = []
    if open_now is not None:  # the reminder went out: its chats are told, first
        open_now.body = text
        chats = await roll_call_chats(ctx.session, open_now)
        for chat in chats:
            await ctx.send_to_chat(chat, study_texts.STUDY_MATERIAL_PUSH.format(text=text))
    if ctx.asked_in(chats):  # read just now: not repeated
        await ctx.reply(study_texts.STUDY_MATERIAL_UPDATED.format(week=week, chats=len(chats)))
    else:
        await ctx.reply(study_texts.STUDY_MATERIAL_SET.format(week=week, text=text))


@router.command(*study_texts.CMD_STUDY_QUEUE, role=Role.SECRETARY, summary=study_texts.SUMMARY_STUDY_QUEUE)
async def handle_study_queue(msg: Message, ctx: Context) -> None:
    """Queue a material for a later study day (used in order when no material is set for the week)."""
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    text = visible_text(ctx.command.raw_args)
    if not text:
        await ctx.reply(study_texts.STUDY_NEED_TEXT)
        return
    ctx.session.add(
        StudyMaterial(
            branch_id=ctx.branch.id,
            week_key=None,
            text=text,
            created_by=ctx.member.id,
            created_at=ctx.clock(),
        )
    )
    await ctx.session.flush()
    position = await ctx.session.scalar(
        select(func.count())
        .select_from(StudyMaterial)
        .where(StudyMaterial.branch_id == ctx.branch.id, StudyMaterial.week_key.is_(None))
    )
    await ctx.reply(study_texts.STUDY_MATERIAL_QUEUED.format(position=position))


@router.command(*study_texts.CMD_STUDY_STATUS, role=Role.SECRETARY, summary=study_texts.SUMMARY_STUDY_STATUS)
async def handle_study_status(msg: Message, ctx: Context) -> None:
    """This week's check-ins and this month's participation rate."""
    assert ctx.branch is not None
    month = month_participation_text(
        await participation(ctx, ctx.branch.id, periods(ctx.clock().astimezone(ctx.config.tz))["month"])
    )
    roll_call: OpenRollCall | RollCall | None = await current_study(ctx, ctx.branch)
    ended = False
    if roll_call is None:  # after the 小结 this week's figures stay readable, marked as ended
        roll_call = await this_week_study(ctx, ctx.branch)
        ended = roll_call is not None
    if roll_call is None:
        holiday = _holiday_week(ctx, ctx.branch)
        none = study_texts.STUDY_STATUS_NONE.format(month=month)
        await ctx.reply(none if holiday is None else f"{holiday}\n{month}")
        return
    counted = await tally(ctx.session, roll_call)
    common = {
        "day": study_day(ctx, roll_call),
        "expected": counted.expected,
        "done": len(counted.done),
        "rate": display.percent(counted.rate),
        "month": month,
    }
    full = (study_texts.STUDY_STATUS_ENDED if ended else study_texts.STUDY_STATUS).format(
        **common, pending=display.names(counted.pending)
    )
    counts_only = (study_texts.STUDY_STATUS_ENDED_COUNTS if ended else study_texts.STUDY_STATUS_COUNTS).format(
        **common, pending_count=len(counted.pending)
    )
    await reply_keeping_names_private(msg, ctx, full, counts_only if counted.pending else None)
