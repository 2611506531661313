"""Meetings in chat: 发起主题党日…, 签到, 请假, 取消请假, 准假, 补签, 记请假, 会议列表, 签到码, 取消会议, 统计."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.core import display, texts
from bot.core.authority import holders
from bot.core.cards import CHECK_IN, LEAVE, tapped_roll_call
from bot.core.context import Context
from bot.core.members import group_at_start, party_group_names, party_groups
from bot.core.mentions import mentioned_member, without_mention
from bot.core.message import Message
from bot.core.models import Branch, EntryStatus, Member, PartyGroup, Role, RollCall, RollCallStatus, UnitKind
from bot.core.normalize import normalize
from bot.core.numbering import row_number
from bot.core.rollcall import change_entry, close_roll_call, counts, respond, roll_call_chats, tally
from bot.core.router import Router
from bot.core.timeparse import ParsedTime, TimeProblem, parse_when
from bot.meetings import texts as meeting_texts
from bot.meetings.domain import (
    LOOSE_DAY,
    MeetingView,
    Stats,
    _views,
    add_stats,
    announced_where_asked,
    check_in,
    choose_meetings,
    correct,
    create_meeting,
    kind_with_group,
    lapsed_leave_requests_for,
    leave_requests_for,
    leaves_for,
    meetings_to_ask_leave_for,
    next_meeting_for,
    open_meetings,
    open_meetings_expecting,
    open_meetings_for,
    open_meetings_to_check_in,
    shown_reason,
    split_leave_selector,
    stats,
    stats_below,
    stats_text,
    status_texts,
    summary_texts,
    window,
    window_text,
    withdraw_leave,
)
from bot.meetings.models import Meeting, MeetingKind
from bot.study.domain import periods
from handlers.notices import reply_keeping_names_private

router = Router("meetings")

_CODE = re.compile(r"(\d{4})")
_SEQ = re.compile(r"^#?\s*(\d+)\s*")


def _split_location_topic(text: str) -> tuple[str, str]:
    for word in meeting_texts.MEETING_TOPIC_WORDS:
        if word in text:
            location, _, topic = text.partition(word)
            return location.strip(" ，,"), topic.strip(" ，,：:")
    return text.strip(" ，,"), ""


def _unclear_time(kind: str, parsed: ParsedTime, group: PartyGroup | None, now: datetime) -> str:
    """What was understood of a meeting time that cannot be used, and an example of this kind of meeting."""
    day = parsed.day
    if parsed.problem is TimeProblem.WEEKDAY and day is not None:
        weekday = texts.WEEKDAY_NAMES[day.weekday()]
        understood = meeting_texts.MEETING_TIME_WEEKDAY.format(month=day.month, day=day.day, weekday=weekday)
    elif parsed.problem is TimeProblem.INVALID and parsed.matched:
        understood = meeting_texts.MEETING_TIME_NOT_VALID.format(text=parsed.matched)
    elif day is not None:
        understood = meeting_texts.MEETING_TIME_UNDERSTOOD_DAY.format(day=display.day(day))
    else:
        understood = meeting_texts.MEETING_TIME_UNDERSTOOD_NONE
    example_day = (
        meeting_texts.MEETING_TIME_EXAMPLE_DAY.format(month=day.month, day=day.day)
        if day is not None and parsed.problem is TimeProblem.MISSING and day > now.date()
        else meeting_texts.MEETING_TIME_EXAMPLE_NEXT
    )
    group_name = group.name if group is not None else texts.EXAMPLE_GROUP_NAME
    example = meeting_texts.MEETING_TIME_EXAMPLES[kind].format(day=example_day, group=group_name)
    return meeting_texts.MEETING_TIME_UNCLEAR.format(understood=understood, example=example)


def _creator(kind: str) -> Callable[[Message, Context], Awaitable[None]]:
    async def handle_create_meeting(msg: Message, ctx: Context) -> None:
        """Create a meeting of this kind: time, place, topic (and 签到码 if asked for)."""
        assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
        text = ctx.command.raw_args
        with_code = meeting_texts.MEETING_CODE_WORD in text
        text = text.replace(meeting_texts.MEETING_CODE_WORD, " ").strip()
        group = None
        if kind == MeetingKind.GROUP_MEETING:
            groups = await party_groups(ctx.session, ctx.branch.id)
            named = group_at_start(groups, text)
            if named is not None:
                group, text = named
            elif ctx.member.party_group_id is not None:
                group = next((g for g in groups if g.id == ctx.member.party_group_id), None)
            if group is None:
                names = await party_group_names(ctx.session, ctx.branch.id)
                await ctx.reply(meeting_texts.MEETING_NEED_GROUP.format(groups=texts.NAME_SEPARATOR.join(names)))
                return
        parsed = parse_when(text, ctx.clock())
        if parsed.problem in (TimeProblem.AMBIGUOUS, TimeProblem.PAST, TimeProblem.TOO_FAR):
            await ctx.reply(display.time_problem(parsed.problem, parsed.matched, parsed.when, ctx.config.tz))
            return
        if parsed.problem is not None or parsed.when is None:
            await ctx.reply(_unclear_time(kind, parsed, group, ctx.clock().astimezone(ctx.config.tz)))
            return
        location, topic = _split_location_topic(parsed.rest)
        view = await create_meeting(
            ctx,
            ctx.branch,
            kind,
            parsed.when,
            topic=topic,
            location=location,
            party_group=group,
            creator=ctx.member,
            with_code=with_code,
        )
        if view is None:
            await ctx.reply(
                meeting_texts.MEETING_NO_AUDIENCE.format(audience=group.name if group else texts.AUDIENCE_BRANCH)
            )
            return
        _done, expected = await counts(ctx.session, view.roll_call)
        if await announced_where_asked(ctx, view):  # the secretary has just read the announcement: no second copy
            text = meeting_texts.MEETING_CREATED_SHORT.format(
                kind=view.kind_name, seq=view.roll_call.seq, expected=expected
            )
        else:
            text = meeting_texts.MEETING_CREATED.format(
                kind=view.kind_name,
                seq=view.roll_call.seq,
                when=display.when(parsed.when, ctx.config.tz),
                location_part=meeting_texts.MEETING_LOCATION_PART.format(location=location) if location else "",
                topic_part=meeting_texts.MEETING_TOPIC_PART.format(topic=topic) if topic else "",
                expected=expected,
                window=window_text(ctx, view.meeting),
            )
        if view.meeting.check_in_code and not msg.is_direct:  # the code went directly (create_meeting): say so here
            sent = ctx.reaches_sender_directly
            text += meeting_texts.MEETING_CODE_SENT if sent else meeting_texts.MEETING_CODE_ASK_DIRECT
        await ctx.reply(text)

    handle_create_meeting.__name__ = f"handle_create_{kind}"
    return handle_create_meeting


for _kind in MeetingKind.ALL:
    router.command(
        *meeting_texts.CMD_CREATE_MEETING[_kind],
        role=Role.SECRETARY,
        summary=meeting_texts.SUMMARY_CREATE_MEETING,
        hidden=_kind != MeetingKind.THEME_DAY,
    )(_creator(_kind))


@router.command(
    *[w for w in texts.CMD_CHECK_IN if w not in texts.SHORT_CHECK_INS], summary=meeting_texts.SUMMARY_CHECK_IN
)
async def handle_check_in(msg: Message, ctx: Context) -> None:
    """签到 (with the 4-digit code when the meeting has one)."""
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    match = _CODE.search(ctx.command.args)
    only = tapped_roll_call(msg.card_key, CHECK_IN)  # a tap checks in to its own card's meeting only
    result = await check_in(ctx, ctx.branch, ctx.member, match.group(1) if match else "", only)
    await ctx.reply(result.text)


async def _is_short_check_in(msg: Message, ctx: Context) -> bool:
    """'到' / '到了' count as a check-in only while a meeting's check-in window is open."""
    if ctx.member is None or ctx.branch is None:
        return False
    text, _mentioned, _names = normalize(msg.text, (ctx.config.bot.name, *ctx.config.bot.aliases))
    if text not in texts.SHORT_CHECK_INS:
        return False
    now = ctx.clock()
    # The read check_in() makes of the same message next (ctx.memo): one read of the open meetings per '到'.
    meetings = await open_meetings_to_check_in(ctx, ctx.branch, ctx.member)
    return any(window(ctx, m)[0] <= now <= window(ctx, m)[1] for m in meetings)


@router.message(_is_short_check_in, precheck=lambda msg, hints: hints.text in texts.SHORT_CHECK_INS)
async def handle_short_check_in(msg: Message, ctx: Context) -> None:
    """'到' said during a meeting's check-in window."""
    assert ctx.branch is not None and ctx.member is not None
    await ctx.reply((await check_in(ctx, ctx.branch, ctx.member, "")).text)


def _choices(
    ctx: Context, template: str, views: list[MeetingView], text: str, example: MeetingView | None = None
) -> str:
    """Which meeting? The member's meetings listed, soonest first, and an example naming one (the first of them)."""
    lines = "\n".join(
        meeting_texts.LEAVE_CHOICE_LINE.format(
            kind=v.kind_name, seq=v.roll_call.seq, when=display.when(v.meeting.starts_at, ctx.config.tz)
        )
        for v in views
    )
    first = example or views[0]
    local = first.meeting.starts_at.astimezone(ctx.config.tz)
    example_day = meeting_texts.LEAVE_CHOICE_DAY.format(month=local.month, day=local.day)
    return template.format(text=text, lines=lines, seq=first.roll_call.seq, day=example_day)


async def _meeting_to_ask_leave_for(
    ctx: Context, selector: str, reason: str, only: int | None
) -> tuple[MeetingView, str] | None:
    """The meeting a 请假 is for and its reason: the meeting its selector names, else the next (next_meeting_for());
    None after replying (no meeting, or the selector names none or several of the member's)."""
    assert ctx.branch is not None and ctx.member is not None
    statuses = await meetings_to_ask_leave_for(ctx, ctx.branch, ctx.member, only) if selector else []
    views = [view for view, _status in statuses]
    chosen = choose_meetings(views, selector, ctx.config.tz) if views else []
    if selector and not chosen and LOOSE_DAY.match(selector):
        assert ctx.command is not None  # "请假 3.5 天年假", "请假 8-12 执勤": the whole text is the reason after all
        selector, reason = "", ctx.command.raw_args.strip()
    if not selector:
        view = await next_meeting_for(ctx, ctx.branch, ctx.member, only)
        if view is None:
            await ctx.reply(meeting_texts.CARD_STALE_MEETING if only is not None else meeting_texts.MEETING_LEAVE_NONE)
            return None
        return view, reason
    if not chosen and (refusal := await _not_for_leave(ctx, selector)) is not None:
        await ctx.reply(refusal)
        return None
    if not views:
        await ctx.reply(meeting_texts.MEETING_LEAVE_NONE)
        return None
    if len(chosen) != 1:
        template = meeting_texts.LEAVE_FOR_WHICH if chosen else meeting_texts.LEAVE_FOR_NOT_FOUND
        # The example names a meeting leave can still be asked for (not one the member checked in to).
        example = next((view for view, status in statuses if status != EntryStatus.DONE), None)
        await ctx.reply(_choices(ctx, template, views, selector, example))
        return None
    return chosen[0], reason


async def _not_for_leave(ctx: Context, selector: str) -> str | None:
    """Why the open meetings a 请假's selector names take no leave from this member: none expects them, or their
    check-in has closed; None when it names no open meeting of the branch."""
    assert ctx.branch is not None and ctx.member is not None
    found = await open_meetings_for(ctx, ctx.branch, ctx.member)
    status_of = {view.roll_call.id: status for view, status in found}
    named = choose_meetings([view for view, _status in found], selector, ctx.config.tz)
    if not named:
        return None
    first = named[0]
    if all(status_of[view.roll_call.id] is None for view in named):
        return meeting_texts.LEAVE_FOR_NOT_AUDIENCE.format(
            kind=first.kind_name, seq=first.roll_call.seq, audience=first.roll_call.audience_label
        )
    return meeting_texts.LEAVE_FOR_CLOSED.format(kind=first.kind_name, seq=first.roll_call.seq)


@router.command(*texts.CMD_LEAVE, summary=meeting_texts.SUMMARY_LEAVE)
async def handle_leave(msg: Message, ctx: Context) -> None:
    """请假 [#3 | 11月20日 | 党课] 原因 — for the meeting named, else the next meeting that expects this member and
    that they have not checked in to."""
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    only = tapped_roll_call(msg.card_key, LEAVE)  # a tap asks leave for its own card's meeting only
    selector, reason = ("", ctx.command.raw_args) if only is not None else split_leave_selector(ctx.command.raw_args)
    # A 请假 tap (bot/core/cards.py) carries no reason: the leave is recorded now and the reason may follow as text.
    tapped = not reason and msg.card_key is not None
    if tapped:
        reason = meeting_texts.CARD_LEAVE_NO_REASON
    if not reason:
        await ctx.reply(
            meeting_texts.MEETING_LEAVE_NEED_REASON_FOR.format(selector=selector)
            if selector and not LOOSE_DAY.match(selector)
            else meeting_texts.MEETING_LEAVE_NEED_REASON
        )
        return
    found = await _meeting_to_ask_leave_for(ctx, selector, reason, only)
    if found is None:
        return
    view, reason = found
    needs_approval = ctx.config.meetings.leave_needs_approval
    # A conditional update, as a 签到 is: leave replaces no answer or an earlier leave, never a check-in (one that
    # commits meanwhile on another instance included — its attendance is paid for).
    if not await respond(
        ctx.session,
        view.roll_call,
        ctx.member,
        ctx.clock(),
        status=EntryStatus.LEAVE_REQUESTED if needs_approval else EntryStatus.LEAVE,
        note=reason,
        allow_change=(EntryStatus.LEAVE, EntryStatus.LEAVE_REQUESTED),
    ):
        await ctx.reply(meeting_texts.MEETING_LEAVE_ALREADY_IN.format(name=ctx.member.display_name))
        return
    name = ctx.member.display_name
    when = display.when(view.meeting.starts_at, ctx.config.tz)
    reason = shown_reason(reason)  # stored whole above; repeated without its end punctuation, cut if long
    if needs_approval:
        # With another request of theirs waiting, a plain 准假 would approve the soonest: the reply names this one.
        others = [
            v for v in await leave_requests_for(ctx, ctx.branch, ctx.member) if v.roll_call.id != view.roll_call.id
        ]
        approve = (
            meeting_texts.MEETING_APPROVE_FOR.format(seq=view.roll_call.seq, name=name)
            if others
            else meeting_texts.MEETING_APPROVE.format(name=name)
        )
        request = meeting_texts.MEETING_LEAVE_REQUEST_TO_SECRETARY.format(
            name=name, kind=view.kind_name, when=when, reason=reason, approve=approve
        )
        reached = False
        for secretary in await _secretaries(ctx):
            if await ctx.send_to_member(secretary, request):
                reached = True
        # Recorded either way (签到情况 lists it, 准假 approves it); unreached, the member tells the secretary.
        asked = meeting_texts.MEETING_LEAVE_ASKED if reached else meeting_texts.MEETING_LEAVE_ASKED_NOT_PASSED_ON
        await ctx.reply(asked.format(name=name, when=when, kind=view.kind_name, reason=reason))
    else:
        await ctx.reply(meeting_texts.MEETING_LEAVE_OK.format(name=name, when=when, kind=view.kind_name, reason=reason))
    if tapped:
        await ctx.reply(meeting_texts.CARD_LEAVE_ADD_REASON.format(seq=view.roll_call.seq))


@router.command(*meeting_texts.CMD_CANCEL_LEAVE, summary=meeting_texts.SUMMARY_CANCEL_LEAVE)
async def handle_cancel_leave(msg: Message, ctx: Context) -> None:
    """取消请假 [#3 | 11月20日 | 党课] — back to expected for a meeting the member has leave for (asks which if several)."""
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    leaves = await leaves_for(ctx, ctx.branch, ctx.member)
    if not leaves:
        await ctx.reply(meeting_texts.MEETING_NO_LEAVE)
        return
    args = ctx.command.raw_args
    chosen = choose_meetings(leaves, args, ctx.config.tz)
    if len(chosen) != 1:
        template = meeting_texts.LEAVE_CANCEL_NOT_FOUND if args and not chosen else meeting_texts.LEAVE_CANCEL_WHICH
        await ctx.reply(_choices(ctx, template, leaves, args))
        return
    view = chosen[0]
    withdrawn = await withdraw_leave(ctx, view.roll_call, ctx.member)
    if withdrawn is None:  # checked in since it was read (on another instance): there is no leave left to cancel
        await ctx.reply(meeting_texts.MEETING_NO_LEAVE)
        return
    name = ctx.member.display_name
    when = display.when(view.meeting.starts_at, ctx.config.tz)
    if withdrawn == EntryStatus.LEAVE and ctx.config.meetings.leave_needs_approval:  # approved: the 支委 should know
        notice = meeting_texts.MEETING_LEAVE_WITHDRAWN_TO_SECRETARY.format(
            name=name, when=when, kind=view.kind_name, seq=view.roll_call.seq
        )
        for secretary in await _secretaries(ctx):
            await ctx.send_to_member(secretary, notice)
    if len(leaves) == 1:
        await ctx.reply(meeting_texts.MEETING_LEAVE_CANCELLED.format(name=name, when=when, kind=view.kind_name))
        return
    await ctx.reply(
        meeting_texts.LEAVE_CANCELLED_ONE.format(name=name, kind=view.kind_name, seq=view.roll_call.seq, when=when)
    )


async def _secretaries(ctx: Context) -> list[Member]:
    assert ctx.branch is not None
    return list(await ctx.session.scalars(holders(ctx.branch.id, Role.SECRETARY)))


@router.command(*meeting_texts.CMD_APPROVE_LEAVE, role=Role.SECRETARY, summary=meeting_texts.SUMMARY_APPROVE_LEAVE)
async def handle_approve_leave(msg: Message, ctx: Context) -> None:
    """准假 [#3 | 11月20日 | 党课] @张三 — approve the member's leave request for the meeting named (the words 请假
    takes in front of its reason, or a bare number), else for the soonest meeting that has one."""
    assert ctx.command is not None and ctx.branch is not None
    member = await _mentioned(ctx, meeting_texts.MEETING_APPROVE_NEED_MENTION, meeting_texts.EXAMPLE_APPROVE_LEAVE)
    if member is None:
        return
    requests = await leave_requests_for(ctx, ctx.branch, member)
    if not requests and not ctx.config.meetings.leave_needs_approval:  # a 请假 counts as it is sent: say so
        await ctx.reply(await _no_approval_needed(ctx, member))
        return
    rest = without_mention(ctx.command.raw_args, member)
    # 准假 has no reason after its selector: a bare number names a meeting here, as in 补签 3 / 取消会议 3.
    selector = split_leave_selector(rest)[0] or (rest if rest.isdigit() else "")
    if not selector and len(requests) > 1:  # a bare 准假 would approve one the secretary may not mean: which?
        await ctx.reply(_requests_text(ctx, member, selector, requests, requests))
        return
    chosen = choose_meetings(requests, selector, ctx.config.tz) if selector else requests
    if not chosen:  # none waits (for these words): one whose check-in closed while it waited is told so
        lapsed = await lapsed_leave_requests_for(ctx, ctx.branch, member)
        named = choose_meetings(lapsed, selector, ctx.config.tz) if selector else lapsed
        if named:
            latest = named[-1]
            await ctx.reply(
                meeting_texts.MEETING_REQUEST_LAPSED.format(
                    name=member.display_name,
                    when=display.when(latest.meeting.starts_at, ctx.config.tz),
                    kind=latest.kind_name,
                    seq=latest.roll_call.seq,
                )
            )
            return
    if selector and requests and len(chosen) != 1:
        await ctx.reply(_requests_text(ctx, member, selector, requests, chosen))
        return
    view = chosen[0] if chosen else None
    requested = (EntryStatus.LEAVE_REQUESTED,)  # not a request the member has since replaced by a 签到
    if view is None or not await change_entry(ctx.session, view.roll_call, member, requested, status=EntryStatus.LEAVE):
        await ctx.reply(meeting_texts.MEETING_NO_REQUEST.format(name=member.display_name))
        return
    when = display.when(view.meeting.starts_at, ctx.config.tz)
    await ctx.reply(
        meeting_texts.MEETING_LEAVE_APPROVED.format(name=member.display_name, when=when, kind=view.kind_name)
    )
    await ctx.send_to_member(
        member,
        meeting_texts.MEETING_LEAVE_APPROVED_DIRECT.format(name=member.display_name, when=when, kind=view.kind_name),
    )


async def _no_approval_needed(ctx: Context, member: Member) -> str:
    """准假 where leave needs no approval: the member's leave that stands (registered when asked), or that none does."""
    assert ctx.branch is not None
    leaves = await leaves_for(ctx, ctx.branch, member)
    if not leaves:
        return meeting_texts.MEETING_APPROVE_NOT_NEEDED_NONE.format(name=member.display_name)
    items = texts.NAME_SEPARATOR.join(
        meeting_texts.MEETING_REQUEST_ITEM.format(
            kind=v.kind_name, seq=v.roll_call.seq, when=display.when(v.meeting.starts_at, ctx.config.tz)
        )
        for v in leaves
    )
    return meeting_texts.MEETING_APPROVE_NOT_NEEDED.format(name=member.display_name, items=items)


def _requests_text(
    ctx: Context, member: Member, selector: str, requests: list[MeetingView], chosen: list[MeetingView]
) -> str:
    """准假 with words naming none of the member's requests (all of them listed), or several (those listed)."""
    listed = chosen or requests
    items = texts.NAME_SEPARATOR.join(
        meeting_texts.MEETING_REQUEST_ITEM.format(
            kind=v.kind_name, seq=v.roll_call.seq, when=display.when(v.meeting.starts_at, ctx.config.tz)
        )
        for v in listed
    )
    template = meeting_texts.MEETING_REQUEST_WHICH if chosen else meeting_texts.MEETING_REQUEST_NOT_FOUND
    if not selector:
        template = meeting_texts.MEETING_REQUEST_WHICH_BARE
    return template.format(name=member.display_name, text=selector, items=items, seq=listed[0].roll_call.seq)


async def _target_meeting(ctx: Context, args: str) -> MeetingView | None:
    """Meeting #N, or the latest one that has started."""
    assert ctx.branch is not None
    match = _SEQ.match(args)
    if match:
        seq = row_number(match.group(1))
        views = await _views(ctx, Meeting.branch_id == ctx.branch.id, RollCall.seq == seq) if seq is not None else []
        return views[0] if views else None
    views = await _views(
        ctx, Meeting.branch_id == ctx.branch.id, Meeting.starts_at <= ctx.clock(), Meeting.cancelled.is_(False)
    )
    return views[-1] if views else None


async def _mentioned(ctx: Context, need_mention: str, example: str) -> Member | None:
    """The member a 准假 / 补签 / 记请假 names with its @, or None after replying (need_mention: no @ at all)."""
    assert ctx.command is not None
    if not ctx.command.mentioned_names:
        await ctx.reply(need_mention)
        return None
    return await mentioned_member(ctx, example)


async def _correct(msg: Message, ctx: Context, status: str) -> None:
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    make_up = status == EntryStatus.DONE
    member = await _mentioned(
        ctx,
        meeting_texts.MEETING_MAKE_UP_NEED_MENTION if make_up else meeting_texts.MEETING_MARK_LEAVE_NEED_MENTION,
        meeting_texts.EXAMPLE_MAKE_UP if make_up else meeting_texts.EXAMPLE_MARK_LEAVE,
    )
    if member is None:
        return
    rest = without_mention(ctx.command.raw_args, member)
    reason = _SEQ.sub("", rest, count=1).strip()
    if not reason:
        seq = _SEQ.match(rest.strip())
        template = (
            meeting_texts.MEETING_MAKE_UP_NEED_REASON if make_up else meeting_texts.MEETING_MARK_LEAVE_NEED_REASON
        )
        seq_part = meeting_texts.MEETING_CORRECT_SEQ_PART.format(seq=seq.group(1)) if seq else ""
        await ctx.reply(template.format(name=member.display_name, seq_part=seq_part))
        return
    view = await _target_meeting(ctx, without_mention(ctx.command.args, member))
    if view is None:
        await ctx.reply(meeting_texts.MEETING_CORRECT_NO_MEETING)
        return
    old = await correct(ctx, view, member, status, reason, ctx.member)
    if old is None or old == EntryStatus.DONE:
        if old is None:
            template = meeting_texts.MEETING_CORRECT_NOT_AUDIENCE
        elif status == EntryStatus.DONE:
            template = meeting_texts.MEETING_CORRECT_ALREADY_IN
        else:
            template = meeting_texts.MEETING_CORRECT_ATTENDED_NOT_LEAVE
        await ctx.reply(template.format(name=member.display_name, kind=view.kind_name, seq=view.roll_call.seq))
        return
    await ctx.reply(
        meeting_texts.MEETING_CORRECTED.format(
            name=member.display_name,
            kind=view.kind_name,
            seq=view.roll_call.seq,
            status=meeting_texts.STATUS_PRESENT if status == EntryStatus.DONE else meeting_texts.STATUS_LEAVE,
            reason=shown_reason(reason),
        )
    )


@router.command(*meeting_texts.CMD_MAKE_UP, role=Role.SECRETARY, summary=meeting_texts.SUMMARY_MAKE_UP)
async def handle_make_up(msg: Message, ctx: Context) -> None:
    """补签 [#N] @张三 原因 — record attendance after the fact (audited)."""
    await _correct(msg, ctx, EntryStatus.DONE)


@router.command(*meeting_texts.CMD_MARK_LEAVE, role=Role.SECRETARY, summary=meeting_texts.SUMMARY_MARK_LEAVE)
async def handle_mark_leave(msg: Message, ctx: Context) -> None:
    """记请假 [#N] @张三 原因 — record a leave after the fact (audited)."""
    await _correct(msg, ctx, EntryStatus.LEAVE)


@router.command(*meeting_texts.CMD_MEETINGS, role=Role.GUEST, summary=meeting_texts.SUMMARY_MEETINGS)
async def handle_meetings(msg: Message, ctx: Context) -> None:
    """Upcoming and ongoing meetings of the branch."""
    assert ctx.branch is not None
    lines = []
    for meeting in await open_meetings_expecting(ctx, ctx.branch):
        lines.append(
            meeting_texts.MEETING_LIST_LINE.format(
                kind=meeting.kind_name,
                seq=meeting.seq,
                when=display.when(meeting.starts_at, ctx.config.tz),
                location_part=meeting_texts.MEETING_LOCATION_PART.format(location=meeting.location)
                if meeting.location
                else "",
                expected=meeting.expected,
            )
        )
    await ctx.reply(
        "\n".join([meeting_texts.MEETING_LIST_HEADER, *lines]) if lines else meeting_texts.MEETING_LIST_EMPTY
    )


@router.command(*meeting_texts.CMD_MEETING_STATUS, role=Role.SECRETARY, summary=meeting_texts.SUMMARY_MEETING_STATUS)
async def handle_meeting_status(msg: Message, ctx: Context) -> None:
    """签到情况 [#N]: 应到/实到/请假/未签到 of the open meetings (or of meeting #N; one whose check-in has closed
    shows its result). Asked in a group, the names go to the secretary directly, as 通知情况 does."""
    assert ctx.command is not None and ctx.branch is not None
    match = _SEQ.match(ctx.command.args)
    if match is None:
        views = await open_meetings(ctx, ctx.branch.id)
        if not views:
            await ctx.reply(meeting_texts.MEETING_STATUS_NONE)
            return
    else:
        found = await _numbered_meeting(ctx, match.group(1))
        if found is None:
            return
        view = found
        views = [view]
        if view.roll_call.status != RollCallStatus.OPEN:  # check-in closed: its result, as the 支委 received it
            public, private = await summary_texts(ctx, view)
            counted = await tally(ctx.session, view.roll_call)
            if counted.leave or counted.pending:
                await reply_keeping_names_private(msg, ctx, private, public)
            else:
                await ctx.reply(public)
            return
    parts = [await status_texts(ctx, view) for view in views]
    full = "\n".join(text for text, _counts in parts)
    hidden = any(counts is not None for _text, counts in parts)
    counts_only = "\n".join(text if counts is None else counts for text, counts in parts) if hidden else None
    await reply_keeping_names_private(msg, ctx, full, counts_only)


async def _numbered_meeting(ctx: Context, typed: str) -> MeetingView | None:
    """Meeting #typed of the branch, not cancelled; None after saying it was not found or was cancelled."""
    assert ctx.branch is not None
    seq = row_number(typed)
    views = await _views(ctx, Meeting.branch_id == ctx.branch.id, RollCall.seq == seq) if seq is not None else []
    if not views or seq is None:
        await ctx.reply(meeting_texts.MEETING_NOT_FOUND.format(seq=typed if seq is None else seq))
        return None
    if views[0].meeting.cancelled:
        await ctx.reply(meeting_texts.MEETING_ALREADY_CANCELLED.format(kind=views[0].kind_name, seq=seq))
        return None
    return views[0]


@router.command(*meeting_texts.CMD_MEETING_CODE, role=Role.SECRETARY, summary=meeting_texts.SUMMARY_MEETING_CODE)
async def handle_meeting_code(msg: Message, ctx: Context) -> None:
    """Send the 签到码 of open meetings to the secretary directly (never into the group, which is told they were
    sent)."""
    assert ctx.branch is not None and ctx.member is not None
    lines = [
        meeting_texts.MEETING_CODE_SHOWN.format(kind=v.kind_name, seq=v.roll_call.seq, code=v.meeting.check_in_code)
        for v in await open_meetings(ctx, ctx.branch.id)
        if v.meeting.check_in_code
    ]
    if msg.is_direct or not lines:  # no code set: nothing to keep from the group
        await ctx.reply("\n".join(lines) if lines else meeting_texts.MEETING_NO_CODE)
        return
    sent = await ctx.send_to_member(ctx.member, "\n".join(lines))
    await ctx.reply(meeting_texts.MEETING_CODE_SENT if sent else meeting_texts.MEETING_CODE_ASK_DIRECT)


@router.command(*meeting_texts.CMD_CANCEL_MEETING, role=Role.SECRETARY, summary=meeting_texts.SUMMARY_CANCEL_MEETING)
async def handle_cancel_meeting(msg: Message, ctx: Context) -> None:
    """取消会议 N — tell everyone and stop its reminders and check-in."""
    assert ctx.command is not None and ctx.branch is not None
    match = _SEQ.match(ctx.command.args)
    if match is None:
        await ctx.reply(meeting_texts.MEETING_CANCEL_NEED_SEQ)
        return
    view = await _numbered_meeting(ctx, match.group(1))
    if view is None:
        return
    seq = view.roll_call.seq
    if not await close_roll_call(ctx.session, view.roll_call, ctx.clock()):  # check-in closed: it was held
        when = display.when(view.meeting.starts_at, ctx.config.tz)
        await ctx.reply(meeting_texts.MEETING_ALREADY_HELD.format(kind=view.kind_name, seq=seq, when=when))
        return
    view.meeting.cancelled = True
    text = meeting_texts.MEETING_CANCELLED.format(
        kind=kind_with_group(view), when=display.when(view.meeting.starts_at, ctx.config.tz)
    )
    chats = await roll_call_chats(ctx.session, view.roll_call)
    for chat in chats:
        await ctx.send_to_chat(chat, text)
    if msg.chat_id is None or not chats:
        await ctx.reply(text)


async def _stats_reply(ctx: Context, span: str) -> None:
    assert ctx.branch is not None
    now = ctx.clock().astimezone(ctx.config.tz)
    period = periods(now)[span]
    unit_lines: list[str] = []
    higher = ctx.branch.kind in UnitKind.HIGHER
    if higher:  # a 党委 or 党总支: the sum over the units below, a line for each
        below = await stats_below(ctx, ctx.branch.id, period.start, period.end)
        result = add_stats([part for _, part in below])
        unit_lines = [
            org_stats_line(unit, part) for unit, part in below if unit.kind == UnitKind.BRANCH or part.expected
        ]
    else:
        result = await stats(ctx, ctx.branch.id, period.start, period.end)
    label = (
        meeting_texts.MEETING_STATS_PERIOD_MONTH.format(year=now.year, month=now.month)
        if span == "month"
        else meeting_texts.MEETING_STATS_PERIOD_YEAR.format(year=now.year)
    )
    assert ctx.command is not None
    all_items = ctx.command.args.strip() in meeting_texts.MEETING_STATS_ALL_WORDS
    await ctx.reply(stats_text(label, result, all_items=all_items, higher=higher) + "".join(unit_lines))


def org_stats_line(unit: Branch, part: Stats) -> str:
    """One unit's line under a higher unit's 本月统计/年度统计."""
    held_kinds = [
        meeting_texts.MEETING_STATS_COUNT.format(kind=texts.MEETING_KIND_NAMES[k], count=n)
        for k, n in part.counts.items()
        if n
    ]
    if not held_kinds:  # nothing held: no 出席率 to give (0 of 0 is not 0%)
        return meeting_texts.ORG_STATS_UNIT_LINE.format(
            unit=unit.name, counts=meeting_texts.ORG_STATS_NONE_HELD, rate=""
        )
    rate = (
        meeting_texts.ORG_STATS_RATE.format(
            rate=display.percent(part.rate), expected=part.expected, present=part.present
        )
        if part.expected
        else meeting_texts.ORG_STATS_NO_EXPECTED
    )
    return meeting_texts.ORG_STATS_UNIT_LINE.format(
        unit=unit.name, counts=texts.NAME_SEPARATOR.join(held_kinds), rate=rate
    )


@router.command(*meeting_texts.CMD_STATS_MONTH, role=Role.SECRETARY, summary=meeting_texts.SUMMARY_STATS)
async def handle_stats_month(msg: Message, ctx: Context) -> None:
    """本月统计 [全部]: meetings held this month by kind, and attendance."""
    await _stats_reply(ctx, "month")


@router.command(*meeting_texts.CMD_STATS_YEAR, role=Role.SECRETARY, summary=meeting_texts.SUMMARY_STATS, hidden=True)
async def handle_stats_year(msg: Message, ctx: Context) -> None:
    """年度统计 [全部]: the numbers a yearly report needs, as the report writes them."""
    await _stats_reply(ctx, "year")
