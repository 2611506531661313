"""Meetings (主题党日, 三会一课): creation, reminders, check-in, leave, corrections, summary, statistics."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, select, update

from bot.core import display, org, texts
from bot.core.authority import holders
from bot.core.cards import meeting_card
from bot.core.config import BranchConfig, RecurringMeetingConfig
from bot.core.context import Context
from bot.core.db import Prepared
from bot.core.holidays import adjust_for_holiday, rule_date
from bot.core.members import branch_by_key
from bot.core.models import (
    Branch,
    EntryStatus,
    Member,
    MemberIdentity,
    PartyGroup,
    Role,
    RollCall,
    RollCallEntry,
    RollCallKind,
    RollCallStatus,
)
from bot.core.prepared import run
from bot.core.rollcall import (
    ENTRY_TABLE,
    Audience,
    OpenRollCall,
    RollCallRef,
    branch_audience,
    branch_chats,
    change_entry,
    close_roll_call,
    open_roll_call,
    respond,
    roll_call_chats,
    tally,
)
from bot.meetings import texts as meeting_texts
from bot.meetings.models import AttendanceAudit, CadenceWarning, Meeting, MeetingKind
from bot.points.ledger import award_meeting_attendance

KIND = RollCallKind.MEETING
LATE = "late"
MADE_UP = "made_up"
# A 准假 that finds no request waiting tells of a lapsed one (still waiting when check-in closed) only if that
# check-in closed within this many days; an older one is answered as no request (记请假 still corrects it).
LAPSED_REQUEST_DAYS = 30
# Kinds announced in the branch's group chats; a 支委会 is announced to its members directly.
ANNOUNCED_IN_CHATS = (
    MeetingKind.THEME_DAY,
    MeetingKind.MEMBER_ASSEMBLY,
    MeetingKind.PARTY_LECTURE,
    MeetingKind.GROUP_MEETING,
)


class _Kinded(Protocol):
    @property
    def kind(self) -> str: ...


class KindNamed:
    """A meeting's kind as members read it (主题党日, 党课 …), for each shape a meeting is read in."""

    __slots__ = ()

    @property
    def kind_name(self: _Kinded) -> str:
        return texts.MEETING_KIND_NAMES[self.kind]


@dataclass
class MeetingView(KindNamed):
    meeting: Meeting
    roll_call: RollCall

    @property
    def kind(self) -> str:
        return self.meeting.kind


class Scheduled(Protocol):
    """A meeting's time (a Meeting, or an OpenMeeting)."""

    @property
    def starts_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class OpenMeeting(KindNamed):
    """An open meeting as a 签到 reads it, with the member's entry status (None: the meeting does not expect them):
    its columns, no ORM objects (every member checks in once a meeting)."""

    roll_call: OpenRollCall
    audience_label: str
    kind: str
    starts_at: datetime
    check_in_code: str | None
    status: str | None


def kind_with_group(view: MeetingView) -> str:
    """The kind as a push the whole branch may read names it: a 党小组会 with its 党小组 (党小组会（执法党小组）)."""
    if view.meeting.kind == MeetingKind.GROUP_MEETING:
        return meeting_texts.MEETING_KIND_OF_GROUP.format(kind=view.kind_name, group=view.roll_call.audience_label)
    return view.kind_name


def window(ctx: Context, meeting: Scheduled) -> tuple[datetime, datetime]:
    config = ctx.config.meetings
    return (
        meeting.starts_at - timedelta(minutes=config.check_in_before_minutes),
        meeting.starts_at + timedelta(minutes=config.check_in_after_minutes),
    )


def window_text(ctx: Context, meeting: Meeting) -> str:
    start, end = window(ctx, meeting)
    tz = ctx.config.tz
    return meeting_texts.MEETING_WINDOW.format(
        start=start.astimezone(tz).strftime("%H:%M"), end=end.astimezone(tz).strftime("%H:%M")
    )


def _parts(meeting: Meeting) -> dict[str, str]:
    return {
        "location_part": meeting_texts.MEETING_LOCATION_PART.format(location=meeting.location)
        if meeting.location
        else "",
        "topic_part": meeting_texts.MEETING_TOPIC_PART.format(topic=meeting.topic) if meeting.topic else "",
    }


def _code_part(meeting: Meeting) -> str:
    """What an announcement or a direct reminder adds for a meeting with a 签到码: that the code is needed."""
    return meeting_texts.MEETING_CODE_PART if meeting.check_in_code else ""


async def audience_for(ctx: Context, branch: Branch, kind: str, party_group: PartyGroup | None) -> Audience:
    """Who is expected: the whole branch, the committee (支委), or one 党小组."""
    if kind == MeetingKind.GROUP_MEETING and party_group is not None:
        return await branch_audience(ctx.session, branch, party_group.name, party_group)
    if kind != MeetingKind.COMMITTEE:
        return await branch_audience(ctx.session, branch, texts.AUDIENCE_BRANCH)
    spec = ctx.config.branch(branch.key)
    declared = spec.committee if spec else ()
    if declared:
        pairs = [ref.split(":", 1) for ref in declared]
        ids = set()
        for channel, user_id in pairs:
            # A declared 支委 who is a member of another branch is not in this branch's audience.
            member_id = await ctx.session.scalar(
                select(MemberIdentity.member_id)
                .join(Member, Member.id == MemberIdentity.member_id)
                .where(
                    MemberIdentity.channel == channel,
                    MemberIdentity.platform_user_id == user_id,
                    Member.branch_id == branch.id,
                )
            )
            if member_id is not None:
                ids.add(member_id)
    else:
        ids = {member.id for member in await ctx.session.scalars(holders(branch.id, Role.SECRETARY))}
    return Audience(texts.MEETING_KIND_NAMES[MeetingKind.COMMITTEE], tuple(sorted(ids)))


async def create_meeting(
    ctx: Context,
    branch: Branch,
    kind: str,
    starts_at: datetime,
    *,
    topic: str = "",
    location: str = "",
    party_group: PartyGroup | None = None,
    creator: Member | None = None,
    with_code: bool = False,
    rule_key: str | None = None,
) -> MeetingView | None:
    """Create a meeting and its roll call, and announce it; None if the audience is empty."""
    audience = await audience_for(ctx, branch, kind, party_group)
    if not audience.member_ids:
        return None
    now = ctx.clock()
    after = timedelta(minutes=ctx.config.meetings.check_in_after_minutes)
    roll_call = await open_roll_call(
        ctx.session,
        branch=branch,
        kind=KIND,
        title=texts.MEETING_KIND_NAMES[kind],
        body=topic,
        audience=audience,
        chats=await branch_chats(ctx.session, branch) if kind in ANNOUNCED_IN_CHATS else [],
        now=now,
        closes_at=starts_at + after,
        created_by=creator,
    )
    meeting = Meeting(
        branch_id=branch.id,
        roll_call_id=roll_call.id,
        kind=kind,
        topic=topic,
        location=location,
        starts_at=starts_at,
        check_in_code=f"{secrets.randbelow(10000):04d}" if with_code else None,
        rule_key=rule_key,
        reminders_sent=[],
        cancelled=False,
    )
    ctx.session.add(meeting)
    await ctx.session.flush()
    view = MeetingView(meeting, roll_call)
    announcement = meeting_texts.MEETING_ANNOUNCE.format(
        kind=view.kind_name,
        when=display.when(starts_at, ctx.config.tz),
        audience=audience.label,
        window=window_text(ctx, meeting),
        leave=await leave_reply(ctx, view),
        code_part=_code_part(meeting),
        **_parts(meeting),
    )
    chats = await roll_call_chats(ctx.session, roll_call)
    card = meeting_card(roll_call.id, meeting_texts.CARD_TITLE_MEETING.format(kind=view.kind_name, seq=roll_call.seq))
    for chat in chats:
        await ctx.send_to_chat(chat, announcement, card=card)
    if not chats:
        for member in (await tally(ctx.session, roll_call)).pending:
            await ctx.send_to_member(member, announcement, card=card)
    if meeting.check_in_code and creator is not None:
        await ctx.send_to_member(
            creator,
            meeting_texts.MEETING_CODE_SECRET.format(
                kind=view.kind_name, seq=roll_call.seq, code=meeting.check_in_code
            ),
        )
    return view


async def announced_where_asked(ctx: Context, view: MeetingView) -> bool:
    """Whether the message that created this meeting was written where its announcement went: a group chat it was
    posted in, or — a meeting announced to its members directly — the direct chat of a creator among them. There the
    confirmation need not repeat it."""
    msg = ctx.message
    assert msg is not None
    chats = await roll_call_chats(ctx.session, view.roll_call)
    if not msg.is_direct:
        return ctx.asked_in(chats)
    if chats or ctx.member is None:
        return False
    member_id = await ctx.session.scalar(
        select(RollCallEntry.member_id).where(
            RollCallEntry.roll_call_id == view.roll_call.id, RollCallEntry.member_id == ctx.member.id
        )
    )
    return member_id is not None


async def leave_reply(ctx: Context, view: MeetingView) -> str:
    """The 请假 a push about this meeting asks members for (its announcement, a reminder): “请假 原因”, or
    “请假 #N 原因” while another meeting of the branch is open for leave (check-in not closed) — a plain 请假 would go
    to the soonest."""
    now = ctx.clock()
    others_open = any(
        other.meeting.id != view.meeting.id and window(ctx, other.meeting)[1] >= now
        for other in await open_meetings(ctx, view.meeting.branch_id)
    )
    if others_open:
        return meeting_texts.MEETING_ANNOUNCE_LEAVE_FOR.format(seq=view.roll_call.seq)
    return meeting_texts.MEETING_ANNOUNCE_LEAVE


async def _views(ctx: Context, *conditions: object) -> list[MeetingView]:
    rows = await ctx.session.execute(
        select(Meeting, RollCall)
        .join(RollCall, RollCall.id == Meeting.roll_call_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(Meeting.starts_at)
    )
    return [MeetingView(m, r) for m, r in rows]


async def open_meetings(ctx: Context, branch_id: int) -> list[MeetingView]:
    """Meetings of the branch still collecting responses, soonest first (by the branch's id: a scheduled reminder
    has its meeting's, not the branch)."""
    rows = await ctx.session.execute(_OPEN_MEETINGS, {"branch": branch_id})
    return [MeetingView(m, r) for m, r in rows]


@dataclass(frozen=True, slots=True)
class ListedMeeting(KindNamed):
    """An open meeting as 会议列表 shows it, with how many members it expects (应到): columns, no ORM objects."""

    seq: int
    kind: str
    starts_at: datetime
    location: str
    expected: int


async def open_meetings_expecting(ctx: Context, branch: Branch) -> list[ListedMeeting]:
    """The branch's open meetings (as open_meetings(), soonest first) with how many members each expects."""
    rows = await run(ctx.session, _OPEN_MEETINGS_EXPECTED, {"branch": branch.id})
    return [
        ListedMeeting(seq, kind, starts_at, location, int(expected or 0))
        for seq, kind, starts_at, location, expected in rows
    ]


async def open_meetings_for(ctx: Context, branch: Branch, member: Member) -> list[tuple[MeetingView, str | None]]:
    """open_meetings() with this member's entry status in each (None: the meeting does not expect them), in one
    statement."""
    rows = await ctx.session.execute(_OPEN_MEETINGS_FOR, {"branch": branch.id, "member": member.id})
    return [(MeetingView(m, r), status) for m, r, status in rows]


# The statements every 签到 / 请假 / 会议列表 runs, built once (SQLAlchemy caches their compiled form).
def _open_meetings_of(*columns: Any, entry: bool = False) -> Select[Any]:
    """These columns of the branch's open meetings (not cancelled, roll call open), soonest first; with entry, of
    the member's entry in each too (outer: None where the meeting does not expect them)."""
    query = select(*columns).select_from(Meeting).join(RollCall, RollCall.id == Meeting.roll_call_id)
    if entry:
        query = query.outerjoin(
            RollCallEntry,
            and_(RollCallEntry.roll_call_id == RollCall.id, RollCallEntry.member_id == bindparam("member")),
        )
    return query.where(
        Meeting.branch_id == bindparam("branch"),
        Meeting.cancelled.is_(False),
        RollCall.status == RollCallStatus.OPEN,
    ).order_by(Meeting.starts_at)


_OPEN_MEETINGS = _open_meetings_of(Meeting, RollCall)
_OPEN_MEETINGS_EXPECTED = Prepared(
    lambda _: _open_meetings_of(
        RollCall.seq,
        Meeting.kind,
        Meeting.starts_at,
        Meeting.location,
        select(func.count(RollCallEntry.id))
        .where(RollCallEntry.roll_call_id == RollCall.id)
        .scalar_subquery()
        .label("expected"),
    )
)
_OPEN_MEETINGS_FOR = _open_meetings_of(Meeting, RollCall, RollCallEntry.status, entry=True)
# open_meetings_for()'s statement as columns, Prepared: what a 签到 reads (OpenMeeting's fields, in order).
_OPEN_FOR_CHECK_IN = Prepared(
    lambda _: _open_meetings_of(
        RollCall.id,
        RollCall.seq,
        RollCall.opens_at,
        RollCall.audience_label,
        Meeting.kind,
        Meeting.starts_at,
        Meeting.check_in_code,
        RollCallEntry.status,
        entry=True,
    )
)


# ctx.memo key of open_meetings_to_check_in(), with the branch's and member's ids after colons.
_OPEN_TO_CHECK_IN = "meetings.open_to_check_in"


async def open_meetings_to_check_in(ctx: Context, branch: Branch, member: Member) -> list[OpenMeeting]:
    """The branch's open meetings with this member's entry status, soonest first — read once per message: the '到'
    filter and the 签到 it leads to both ask, with nothing written in between."""
    key = f"{_OPEN_TO_CHECK_IN}:{branch.id}:{member.id}"
    found: list[OpenMeeting] | None = ctx.memo.get(key)
    if found is None:
        rows = await run(ctx.session, _OPEN_FOR_CHECK_IN, {"branch": branch.id, "member": member.id})
        found = ctx.memo[key] = [OpenMeeting(OpenRollCall(row.id, row.seq, row.opens_at), *row[3:]) for row in rows]
    return found


@dataclass
class CheckInResult:
    text: str
    recorded: bool = False


async def check_in(ctx: Context, branch: Branch, member: Member, code: str, only: int | None = None) -> CheckInResult:
    """签到: inside the window, in the audience, with the code if the meeting has one; once.

    only: the roll call a 签到 tap is about (bot/core/cards.py) — no other meeting is considered."""
    now = ctx.clock()
    found = await open_meetings_to_check_in(ctx, branch, member)
    candidates = [m for m in found if only is None or m.roll_call.id == only]
    if only is not None and not candidates:
        return CheckInResult(meeting_texts.CARD_STALE_MEETING)  # the card's meeting is over or cancelled
    expects_member = {m.roll_call.id for m in found if m.status is not None}
    in_window = [m for m in candidates if window(ctx, m)[0] <= now <= window(ctx, m)[1]]
    if not in_window:
        upcoming = [m for m in candidates if m.starts_at > now and m.roll_call.id in expects_member]
        if upcoming and upcoming[0].starts_at - now <= timedelta(hours=12):
            start = window(ctx, upcoming[0])[0]
            return CheckInResult(
                meeting_texts.MEETING_NOT_YET.format(
                    kind=upcoming[0].kind_name, start=display.when(start, ctx.config.tz)
                )
            )
        return CheckInResult(meeting_texts.MEETING_NO_WINDOW)
    mine = [m for m in in_window if m.roll_call.id in expects_member]
    if not mine:
        first = in_window[0]
        return CheckInResult(
            meeting_texts.MEETING_NOT_AUDIENCE.format(kind=first.kind_name, audience=first.audience_label)
        )
    meeting = min(mine, key=lambda m: abs((m.starts_at - now).total_seconds()))
    if meeting.check_in_code:
        if not code:
            return CheckInResult(meeting_texts.MEETING_CODE_NEEDED.format(kind=meeting.kind_name))
        if meeting.status == EntryStatus.DONE:  # a code sent again after checking in is no guess to count
            return CheckInResult(meeting_texts.MEETING_ALREADY.format(name=member.display_name))
        refused = await _code_refusal(ctx, branch, meeting, member, code)
        if refused is not None:
            return CheckInResult(refused)
    late = is_late(ctx, meeting, now)
    recorded = await check_in_member(ctx, meeting.roll_call, member, now, tag=LATE if late else None)
    if not recorded:
        return CheckInResult(meeting_texts.MEETING_ALREADY.format(name=member.display_name))
    template = meeting_texts.MEETING_CHECKED_IN_LATE if late else meeting_texts.MEETING_CHECKED_IN
    clock_text = now.astimezone(ctx.config.tz).strftime("%H:%M")
    return CheckInResult(template.format(name=member.display_name, kind=meeting.kind_name, time=clock_text), True)


def is_late(ctx: Context, meeting: Scheduled, now: datetime) -> bool:
    """Late: checked in at a later minute than the start (plus late_after_minutes), by the minute the reply shows —
    14:30:59 for a meeting at 14:30 is on time ("签到成功（14:30）"), 14:31 is late."""
    minute = now.replace(second=0, microsecond=0)
    return minute > meeting.starts_at + timedelta(minutes=ctx.config.meetings.late_after_minutes)


# Wrong 签到码 a member may send for one meeting: a 4-digit code is not to be guessed from outside the venue. After
# that only a secretary records the attendance (补签).
CODE_TRIES = 5
# One wrong code counted, the count after it: an atomic increment, so two messages at once (two processes) each
# count and neither gets a try past the limit. None: the entry is done (a 签到 committed meanwhile).
_COUNT_CODE_MISS = (
    update(ENTRY_TABLE)
    .where(
        ENTRY_TABLE.c.roll_call_id == bindparam("roll_call"),
        ENTRY_TABLE.c.member_id == bindparam("member"),
        ENTRY_TABLE.c.status != EntryStatus.DONE,
    )
    .values(code_misses=ENTRY_TABLE.c.code_misses + 1)
    .returning(ENTRY_TABLE.c.code_misses)
)
# The wrong codes counted so far, read under the entry's row lock (PostgreSQL; SQLite's writers queue anyway): a
# wrong code counted on another instance commits before this 签到's write or waits for it, never in between.
_CODE_MISSES = (
    select(ENTRY_TABLE.c.code_misses)
    .where(ENTRY_TABLE.c.roll_call_id == bindparam("roll_call"), ENTRY_TABLE.c.member_id == bindparam("member"))
    .with_for_update()
)


async def _code_refusal(ctx: Context, branch: Branch, meeting: OpenMeeting, member: Member, code: str) -> str | None:
    """Why a 签到 with this code is refused (a wrong code, or too many of them), else None. The wrong code that
    reaches the limit tells the secretaries, once."""
    params = {"roll_call": meeting.roll_call.id, "member": member.id}
    if code == meeting.check_in_code:
        misses = await ctx.session.scalar(_CODE_MISSES, params)
        if misses is not None and misses >= CODE_TRIES:
            return meeting_texts.MEETING_CODE_LOCKED.format(name=member.display_name, tries=CODE_TRIES)
        return None
    misses = await ctx.session.scalar(_COUNT_CODE_MISS, params)
    if misses is None:
        return meeting_texts.MEETING_ALREADY.format(name=member.display_name)
    if misses < CODE_TRIES:
        return meeting_texts.MEETING_CODE_WRONG
    if misses == CODE_TRIES:
        notice = meeting_texts.MEETING_CODE_LOCKED_TO_SECRETARY.format(
            name=member.display_name, kind=meeting.kind_name, seq=meeting.roll_call.seq, tries=CODE_TRIES
        )
        reached = False
        for secretary in await ctx.session.scalars(holders(branch.id, Role.SECRETARY)):
            if await ctx.send_to_member(secretary, notice):
                reached = True
        if not reached:
            return meeting_texts.MEETING_CODE_LOCKED_NOT_PASSED_ON.format(name=member.display_name, tries=CODE_TRIES)
    return meeting_texts.MEETING_CODE_LOCKED.format(name=member.display_name, tries=CODE_TRIES)


async def check_in_member(ctx: Context, roll_call: RollCallRef, member: Member, now: datetime, tag: str | None) -> bool:
    recorded = await respond(
        ctx.session,
        roll_call,
        member,
        now,
        tag=tag,
        allow_change=(EntryStatus.LEAVE, EntryStatus.LEAVE_REQUESTED),
    )
    if recorded:
        await award_meeting_attendance(ctx, roll_call, member, now)
        # Entry statuses read before this write are stale: whatever asks next in this message reads again.
        ctx.forget(f"{_OPEN_TO_CHECK_IN}:")
    return bool(recorded)


async def meetings_to_ask_leave_for(
    ctx: Context, branch: Branch, member: Member, only: int | None = None
) -> list[tuple[MeetingView, str]]:
    """The open meetings a 请假 may be for — check-in not closed, expecting this member — with the member's entry
    status in each, soonest first. only: that roll call, the one a 请假 tap is about."""
    now = ctx.clock()
    return [
        (view, status)
        for view, status in await open_meetings_for(ctx, branch, member)
        if (only is None or view.roll_call.id == only) and status is not None and window(ctx, view.meeting)[1] >= now
    ]


async def next_meeting_for(ctx: Context, branch: Branch, member: Member, only: int | None = None) -> MeetingView | None:
    """The meeting a 请假 without a selector is for: the soonest of meetings_to_ask_leave_for() that the member has
    not checked in to (one they have leave or a request for stays: a second 请假 replaces its reason); if they have
    checked in to every such meeting, the soonest (whose conditional write then refuses the leave: 已签到). None: no
    such meeting expects them."""
    expecting = await meetings_to_ask_leave_for(ctx, branch, member, only)
    # Checked in to the soonest, a member asks leave for a later one: 准假 and 取消请假 find it there.
    not_attended = [view for view, status in expecting if status != EntryStatus.DONE]
    if not_attended:
        return not_attended[0]
    return expecting[0][0] if expecting else None


async def withdraw_leave(ctx: Context, roll_call: RollCallRef, member: Member) -> str | None:
    """取消请假: the member's entry back to expected from granted leave or a request; which of them it was (None:
    neither, e.g. a 签到 committed meanwhile). Read under the entry's row lock (PostgreSQL; SQLite's writers queue
    anyway), then one conditional update: a 准假 or a 签到 committed meanwhile on another instance is seen."""
    status = await ctx.session.scalar(
        select(RollCallEntry.status)
        .where(RollCallEntry.roll_call_id == roll_call.id, RollCallEntry.member_id == member.id)
        .with_for_update()
    )
    if status not in (EntryStatus.LEAVE, EntryStatus.LEAVE_REQUESTED):
        return None
    changed = await change_entry(
        ctx.session, roll_call, member, (status,), status=EntryStatus.PENDING, note="", responded_at=None
    )
    return status if changed else None


async def leave_requests_for(ctx: Context, branch: Branch, member: Member) -> list[MeetingView]:
    """The open meetings, check-in not yet closed, where this member's leave awaits approval (准假), soonest first:
    not always the soonest meetings — a 请假 tap or a 请假 #3 asks leave for its own meeting."""
    now = ctx.clock()
    return [
        view
        for view, status in await open_meetings_for(ctx, branch, member)
        if window(ctx, view.meeting)[1] >= now and status == EntryStatus.LEAVE_REQUESTED
    ]


async def lapsed_leave_requests_for(ctx: Context, branch: Branch, member: Member) -> list[MeetingView]:
    """The meetings (not cancelled) whose check-in closed while this member's leave request still waited for 准假,
    soonest first: the request lapsed, and the member counts as absent. Only those whose check-in closed within
    LAPSED_REQUEST_DAYS: a 准假 is about a recent request, not one from months ago."""
    now = ctx.clock()
    # Check-in closes check_in_after_minutes after the start (window()): the earliest start still recent enough.
    earliest = now - timedelta(days=LAPSED_REQUEST_DAYS, minutes=ctx.config.meetings.check_in_after_minutes)
    rows = await ctx.session.execute(
        select(Meeting, RollCall)
        .join(RollCall, RollCall.id == Meeting.roll_call_id)
        .join(RollCallEntry, RollCallEntry.roll_call_id == RollCall.id)
        .where(
            Meeting.branch_id == branch.id,
            Meeting.cancelled.is_(False),
            Meeting.starts_at <= now,
            Meeting.starts_at >= earliest,
            RollCallEntry.member_id == member.id,
            RollCallEntry.status == EntryStatus.LEAVE_REQUESTED,
        )
        .order_by(Meeting.starts_at)
    )
    return [MeetingView(m, r) for m, r in rows if r.status != RollCallStatus.OPEN or window(ctx, m)[1] < now]


async def leaves_for(ctx: Context, branch: Branch, member: Member) -> list[MeetingView]:
    """The open meetings, check-in not yet closed, for which this member has leave (granted or asked), soonest first."""
    now = ctx.clock()
    return [
        view
        for view, status in await open_meetings_for(ctx, branch, member)
        if window(ctx, view.meeting)[1] >= now and status in (EntryStatus.LEAVE, EntryStatus.LEAVE_REQUESTED)
    ]


_LEAVE_SEQ = re.compile(r"^(?:#\s*(\d+)|(\d+))$")
_DAY = r"(\d{1,2})\s*(?:月|[./-])\s*(\d{1,2})\s*[日号]?"
_LEAVE_DAY = re.compile(_DAY)
# What a 请假 may name its meeting by, in front of the reason: a number with its # (`#2外勤` too: no reason starts
# so); a date (with what is attached to it: the weekday and time the bot writes, `11月28日（周六）15:00`,
# `11月28日下午3点`; a weekday after a space) or a kind's name as words of their own, followed by a space, a colon or
# a comma (a time after a space is the reason's: "11月28日 10:30 医院复查"). A bare number, or a date or kind name run
# into the reason ("请假 党课备课冲突", "请假 3.5天年假"), is part of the reason: the next meeting's leave.
_KIND_WORDS = sorted((w for words in texts.MEETING_KIND_WORDS.values() for w in words), key=len, reverse=True)
_LEAVE_SELECTOR = re.compile(
    r"^(?:[#＃]\s*\d+|(?:"
    + _DAY
    # … and what the date carries attached, as the bot writes it or people do: （周六）15:00, 下午3点, 15:00-17:00
    + r"(?:[（(][^）)\s]{1,4}[）)]|[上下中早晚午点半分时:：\d\-—~～])*"
    + r"(?:\s+(?:星期|周)[一二三四五六日天])?"
    + "|"
    + "|".join(re.escape(word) for word in _KIND_WORDS)
    + r")(?=[\s：:，,]|$))"
)
# A date written with . / or - ("3.5", "8-12"): also how members write amounts and shifts, so one that names none
# of the member's meetings is taken as part of the reason.
LOOSE_DAY = re.compile(r"^\d{1,2}\s*[./-]\s*\d{1,2}$")


def choose_meetings(views: list[MeetingView], args: str, tz: ZoneInfo) -> list[MeetingView]:
    """The meetings words name (`取消请假 …`, `请假 … 原因`): by number (`#3`, `3`), date (`11月20日`, `11.20`) or
    kind (`党课`); all of them when the words name none."""
    text = args.strip().replace("＃", "#")
    if not text:
        return views
    by_seq = _LEAVE_SEQ.match(text)
    if by_seq:
        seq = int(by_seq.group(1) or by_seq.group(2))
        return [v for v in views if v.roll_call.seq == seq]
    by_day = _LEAVE_DAY.search(text)
    if by_day:
        month, day = int(by_day.group(1)), int(by_day.group(2))
        views = [
            v
            for v in views
            if (v.meeting.starts_at.astimezone(tz).month, v.meeting.starts_at.astimezone(tz).day) == (month, day)
        ]
    kinds = [kind for kind, words in texts.MEETING_KIND_WORDS.items() if any(word in text for word in words)]
    if kinds:
        views = [v for v in views if v.meeting.kind in kinds]
    # Words that name no meeting (a reason: "取消请假 能参加了") choose nothing: the caller asks if several.
    return views


def split_leave_selector(args: str) -> tuple[str, str]:
    """`请假 #2 外勤` → ("#2", "外勤"): the words in front of a 请假's reason that name its meeting (for
    choose_meetings()), and the reason; ("", args) when they do not clearly name one (see _LEAVE_SELECTOR)."""
    text = args.strip()
    match = _LEAVE_SELECTOR.match(text)
    if match is None:
        return "", text
    day = _LEAVE_DAY.match(match.group(0))
    if day is not None and not (1 <= int(day.group(1)) <= 12 and 1 <= int(day.group(2)) <= 31):
        return "", text  # "13.5 小时" is no date
    return match.group(0), text[match.end() :].lstrip(" \u3000：:，,、").strip()


# How much of a reason (请假, 补签, 记请假) a reply repeats: the whole reason is stored and exported.
REASON_SHOWN_CHARS = 30
# What a reason may end with that the reply's own punctuation replaces ("临时执勤，" → "…：临时执勤。").
_REASON_END = " \u3000，,。.；;、：:！!？?～~…"


def shown_reason(reason: str) -> str:
    """A reason as replies repeat it: without its end punctuation, and cut to REASON_SHOWN_CHARS with "…"."""
    text = reason.strip().rstrip(_REASON_END) or reason.strip()
    if len(text) > REASON_SHOWN_CHARS:
        text = text[:REASON_SHOWN_CHARS].rstrip(_REASON_END) + "…"
    return text


async def correct(
    ctx: Context, view: MeetingView, member: Member, new_status: str, reason: str, by: Member
) -> str | None:
    """A secretary's correction (补签 / 记请假), kept in the audit log: the status the entry had, None if the member
    is not in the audience. An entry already done (签到, or an earlier 补签) is left as it is: its attendance points
    are paid and the append-only ledger takes none back, so points and status stay in step."""
    # Read under the entry's row lock (PostgreSQL; SQLite's writers queue anyway): a 签到 committing between this
    # read and the write waits or is seen, never overwritten, and the audit names the status that was replaced.
    row = (
        await ctx.session.execute(
            select(RollCallEntry.status, RollCallEntry.responded_at)
            .where(RollCallEntry.roll_call_id == view.roll_call.id, RollCallEntry.member_id == member.id)
            .with_for_update()
        )
    ).first()
    if row is None or row.status == EntryStatus.DONE:
        return row.status if row is not None else None
    old: str = row.status
    now = ctx.clock()
    # The time is set as a value of the column, never inside an SQL expression (coalesce(responded_at, :now)): there
    # the value is not the column's UtcDateTime, and SQLite would store the local time as it reads, 8 hours off.
    changed = await change_entry(
        ctx.session,
        view.roll_call,
        member,
        (old,),
        status=new_status,
        note=reason,
        tag=MADE_UP if new_status == EntryStatus.DONE else None,
        responded_at=row.responded_at or now,
    )
    assert changed, "the entry changed under its row lock"
    ctx.session.add(
        AttendanceAudit(
            meeting_id=view.meeting.id,
            member_id=member.id,
            old_status=old,
            new_status=new_status,
            reason=reason,
            changed_by=by.id,
            changed_at=now,
        )
    )
    if new_status == EntryStatus.DONE:
        await award_meeting_attendance(ctx, view.roll_call, member, now)
    return old


async def summary_texts(ctx: Context, view: MeetingView) -> tuple[str, str]:
    """The check-in result: (counts only, for the group; with the names of those on leave and absent, for the
    支委 directly). Names of the absent are never announced in a group."""
    counted = await tally(ctx.session, view.roll_call)
    late = await ctx.session.scalar(
        select(func.count())
        .select_from(RollCallEntry)
        .where(RollCallEntry.roll_call_id == view.roll_call.id, RollCallEntry.tag == LATE)
    )
    counts = {
        "kind": view.kind_name,
        "seq": view.roll_call.seq,
        "expected": counted.expected,
        "present": len(counted.done),
        "late_part": meeting_texts.MEETING_LATE_PART.format(late=late) if late else "",
        "leave": len(counted.leave),
        "absent": len(counted.pending),
    }
    names = ""
    if counted.leave:
        names += meeting_texts.MEETING_SUMMARY_LEAVE_NAMES.format(names=display.names(counted.leave))
    if counted.pending:
        # Absent with a leave request no secretary approved in time: said, so the 支委 can 记请假 if it stands.
        requested = set(
            await ctx.session.scalars(
                select(RollCallEntry.member_id).where(
                    RollCallEntry.roll_call_id == view.roll_call.id,
                    RollCallEntry.status == EntryStatus.LEAVE_REQUESTED,
                )
            )
        )
        absent = [
            m.display_name + (meeting_texts.MEETING_SUMMARY_UNAPPROVED if m.id in requested else "")
            for m in counted.pending
        ]
        names += meeting_texts.MEETING_SUMMARY_ABSENT_NAMES.format(names=texts.NAME_SEPARATOR.join(absent))
    return meeting_texts.MEETING_SUMMARY.format(**counts), meeting_texts.MEETING_SUMMARY_PRIVATE.format(
        **counts, names=names
    )


async def status_texts(ctx: Context, view: MeetingView) -> tuple[str, str | None]:
    """签到情况 of an open meeting as it stands: (with the names of those on leave and not checked in, for the
    secretary; counts only, for a group — None when there are no names to keep from it)."""
    counted = await tally(ctx.session, view.roll_call)
    entries = (
        await ctx.session.execute(
            select(RollCallEntry.member_id, RollCallEntry.status, RollCallEntry.tag).where(
                RollCallEntry.roll_call_id == view.roll_call.id
            )
        )
    ).all()
    late = sum(1 for row in entries if row.tag == LATE)
    requested = {row.member_id for row in entries if row.status == EntryStatus.LEAVE_REQUESTED}
    counts = meeting_texts.MEETING_STATUS.format(
        kind=view.kind_name,
        seq=view.roll_call.seq,
        when=display.when(view.meeting.starts_at, ctx.config.tz),
        expected=counted.expected,
        present=len(counted.done),
        late_part=meeting_texts.MEETING_LATE_PART.format(late=late) if late else "",
        leave=len(counted.leave),
        pending=len(counted.pending),
        requested_part=meeting_texts.MEETING_STATUS_REQUESTED_PART.format(requested=len(requested))
        if requested
        else "",
    )
    names = ""
    if counted.leave:
        names += meeting_texts.MEETING_SUMMARY_LEAVE_NAMES.format(names=display.names(counted.leave))
    if counted.pending:
        pending = [
            m.display_name + (meeting_texts.MEETING_STATUS_REQUESTED if m.id in requested else "")
            for m in counted.pending
        ]
        names += meeting_texts.MEETING_STATUS_PENDING_NAMES.format(names=texts.NAME_SEPARATOR.join(pending))
    return counts + names, counts if names else None


async def close_meeting(ctx: Context, roll_call: RollCall) -> bool:
    """At the end of the check-in window: the summary to the chats (or the committee) and the organiser."""
    if not await close_roll_call(ctx.session, roll_call, ctx.clock()):
        return False
    meeting = await ctx.session.scalar(select(Meeting).where(Meeting.roll_call_id == roll_call.id))
    if meeting is None or meeting.cancelled:
        return True
    view = MeetingView(meeting, roll_call)
    public, private = await summary_texts(ctx, view)
    chats = await roll_call_chats(ctx.session, roll_call)
    for chat in chats:
        await ctx.send_to_chat(chat, public)
    # The 支委 (secretaries) and the organiser get the names; a meeting announced in no chat (支委会) tells
    # those who attended the counts.
    readers = {m.id: m for m in await ctx.session.scalars(holders(roll_call.branch_id, Role.SECRETARY))}
    organiser = await ctx.session.get(Member, roll_call.created_by) if roll_call.created_by else None
    if organiser is not None:
        readers.setdefault(organiser.id, organiser)
    for reader in readers.values():
        await ctx.send_to_member(reader, private)
    if not chats:
        for member in (await tally(ctx.session, roll_call)).done:
            if member.id not in readers:
                await ctx.send_to_member(member, public)
    return True


async def send_due_reminders(ctx: Context) -> None:
    """Reminders at the configured offsets before each upcoming meeting; each offset once."""
    now = ctx.clock()
    offsets = sorted(ctx.config.meetings.reminder_offsets_minutes, reverse=True)
    views = await _views(
        ctx, Meeting.cancelled.is_(False), RollCall.status == RollCallStatus.OPEN, Meeting.starts_at > now
    )
    for view in views:
        meeting = view.meeting
        sent = list(meeting.reminders_sent or [])
        due = [o for o in offsets if o not in sent and now >= meeting.starts_at - timedelta(minutes=o)]
        if not due:
            continue
        # Only the latest due offset is sent; earlier ones that were missed (or fell before creation) are skipped.
        offset = min(due)
        meeting.reminders_sent = sorted({*sent, *due})
        if meeting.starts_at - timedelta(minutes=offset) < view.roll_call.created_at:
            continue
        when = display.when(meeting.starts_at, ctx.config.tz)
        kind = kind_with_group(view)
        text = meeting_texts.MEETING_REMINDER.format(
            kind=kind, when=when, window=window_text(ctx, meeting), **_parts(meeting)
        )
        title = meeting_texts.CARD_TITLE_MEETING.format(kind=view.kind_name, seq=view.roll_call.seq)
        for chat in await roll_call_chats(ctx.session, view.roll_call):
            await ctx.send_to_chat(chat, text, card=meeting_card(view.roll_call.id, title))
        if ctx.config.meetings.remind_members_directly:
            # One text and card for all (no name): the WeCom app sends them to up to 1,000 members in one call,
            # with 签到/请假 buttons as the group's card has (a tap is the typed word, checked when tapped).
            direct = meeting_texts.MEETING_REMINDER_DIRECT_ALL.format(
                kind=kind,
                when=when,
                window=window_text(ctx, meeting),
                code_part=_code_part(meeting),
                leave=await leave_reply(ctx, view),
                **_parts(meeting),
            )
            card = meeting_card(view.roll_call.id, title)
            for member in (await tally(ctx.session, view.roll_call)).pending:
                await ctx.send_to_member(member, direct, card=card)


# --- recurring meetings and cadence ------------------------------------------------------


def _at(day: date, hhmm: str, ctx: Context) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=ctx.config.tz)


def planned_date(rule: RecurringMeetingConfig, year: int, month: int) -> date | None:
    return adjust_for_holiday(rule_date(rule.rule, year, month), rule.holiday_rule)


async def plan_recurring(ctx: Context, spec: BranchConfig) -> list[MeetingView]:
    """Create this and next month's rule meetings once they are within create_days_before."""
    branch = await branch_by_key(ctx.session, spec.id)
    if branch is None:
        return []
    today = ctx.clock().astimezone(ctx.config.tz).date()
    created = []
    for rule in spec.meetings:
        for year, month in ((today.year, today.month), (today.year + today.month // 12, today.month % 12 + 1)):
            day = planned_date(rule, year, month)
            if day is None or not (today <= day <= today + timedelta(days=rule.create_days_before)):
                continue
            key = f"{rule.kind}:{rule.rule}:{year}-{month:02d}"
            if await ctx.session.scalar(
                select(Meeting.id).where(Meeting.branch_id == branch.id, Meeting.rule_key == key)
            ):
                continue
            group = None
            if rule.party_group:
                group = await ctx.session.scalar(
                    select(PartyGroup).where(PartyGroup.branch_id == branch.id, PartyGroup.name == rule.party_group)
                )
            starts = _at(day, rule.time, ctx)
            if starts <= ctx.clock():
                continue
            view = await create_meeting(
                ctx,
                branch,
                rule.kind,
                starts,
                topic=rule.topic,
                location=rule.location,
                party_group=group,
                with_code=rule.check_in_code,
                rule_key=key,
            )
            if view is not None:
                created.append(view)
    return created


def period_of(day: date, cadence: str) -> tuple[str, date, date, bool]:
    """(label key, first day, day after last, whether day is in the period's last month)."""
    if cadence == "month":
        start = date(day.year, day.month, 1)
        end = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return f"{day:%Y-%m}", start, end, True
    if cadence == "quarter":
        first_month = (day.month - 1) // 3 * 3 + 1
        start = date(day.year, first_month, 1)
        end = date(day.year + (first_month + 2) // 12, (first_month + 2) % 12 + 1, 1)
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}", start, end, day.month == first_month + 2
    start, end = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    return f"{day.year}", start, end, day.month == 12


def held(now: datetime) -> ColumnElement[bool]:
    """Meetings that count as held (召开) in records and statistics: not cancelled, and their start time has
    passed by now. A meeting still ahead is not counted, and nobody is marked absent from it."""
    return and_(Meeting.cancelled.is_(False), Meeting.starts_at <= now)


async def held_count(ctx: Context, branch_id: int, kind: str, start: datetime, end: datetime) -> int:
    """Meetings of a kind held or still planned (not cancelled) in [start, end): one planned later in the
    period is enough not to warn about it."""
    return (
        await ctx.session.scalar(
            select(func.count())
            .select_from(Meeting)
            .where(
                Meeting.branch_id == branch_id,
                Meeting.kind == kind,
                Meeting.cancelled.is_(False),
                Meeting.starts_at >= start,
                Meeting.starts_at < end,
            )
        )
        or 0
    )


async def warn_cadence(ctx: Context, spec: BranchConfig) -> list[str]:
    """On the warn day of a period's last month, tell the secretaries which required kinds are missing."""
    branch = await branch_by_key(ctx.session, spec.id)
    config = ctx.config.meetings
    today = ctx.clock().astimezone(ctx.config.tz).date()
    if branch is None or today.day != config.cadence_warn_day:
        return []
    missing: dict[tuple[str, str], list[str]] = {}
    for kind in MeetingKind.ALL:
        cadence = config.cadence(kind)
        if not cadence:
            continue
        period, start, end, last_month = period_of(today, cadence)
        if not last_month:
            continue
        since, until = _at(start, "00:00", ctx), _at(end, "00:00", ctx)
        if await held_count(ctx, branch.id, kind, since, until):
            continue
        if await ctx.session.scalar(
            select(CadenceWarning.id).where(
                CadenceWarning.branch_id == branch.id, CadenceWarning.kind == kind, CadenceWarning.period == period
            )
        ):
            continue
        ctx.session.add(CadenceWarning(branch_id=branch.id, kind=kind, period=period, sent_at=ctx.clock()))
        missing.setdefault((cadence, period), []).append(kind)
    secretaries = list(await ctx.session.scalars(holders(branch.id, Role.SECRETARY)))
    sent = []
    # One message per period, in 三会一课 order of the kinds it names.
    ordered = sorted(missing.items(), key=lambda item: min(STATS_ORDER.index(k) for k in item[1]))
    for (cadence, _period), kinds in ordered:
        label = meeting_texts.PERIOD_NAMES[cadence].format(
            year=today.year, month=today.month, quarter=(today.month - 1) // 3 + 1
        )
        text = cadence_warning_text(label, cadence, kinds)
        for secretary in secretaries:
            await ctx.send_to_member(secretary, text)
        sent.extend(kinds)
    return sent


def cadence_rule(kind: str, cadence: str) -> str:
    """The rule a missing kind is held to: the 条例's where the configured cadence is the 条例's, else the
    branch's own setting (never a 条例 rule it does not have)."""
    rule = meeting_texts.MEETING_CADENCE_RULES.get((kind, cadence))
    if rule is not None:
        return rule
    return meeting_texts.MEETING_CADENCE_RULE_LOCAL.format(
        kind=texts.MEETING_KIND_NAMES[kind], cadence=meeting_texts.CADENCE_NAMES[cadence]
    )


def cadence_warning_text(period: str, cadence: str, kinds: list[str]) -> str:
    """'【会议提醒·仅支委可见】2026年12月还没有召开党小组会。' with each kind's rule, in 三会一课 order."""
    ordered = [k for k in STATS_ORDER if k in kinds]
    return meeting_texts.MEETING_CADENCE_WARNING.format(
        period=period,
        actions=texts.NAME_SEPARATOR.join(meeting_texts.MEETING_CADENCE_ACTIONS[k] for k in ordered),
        rules="".join(meeting_texts.MEETING_CADENCE_RULE_LINE.format(rule=cadence_rule(k, cadence)) for k in ordered),
    )


# 三会一课 in the order reports list them (支部党员大会, 支委会, 党小组会, 党课), then 主题党日.
STATS_ORDER = (
    MeetingKind.MEMBER_ASSEMBLY,
    MeetingKind.COMMITTEE,
    MeetingKind.GROUP_MEETING,
    MeetingKind.PARTY_LECTURE,
    MeetingKind.THEME_DAY,
)


@dataclass
class Stats:
    counts: dict[str, int]
    expected: int
    present: int
    leave: int

    @property
    def rate(self) -> float:
        return self.present / self.expected if self.expected else 0.0


async def stats(ctx: Context, branch_id: int, start: datetime, end: datetime) -> Stats:
    """Meetings held in [start, end) by kind, and attendance over them (person-times)."""
    views = await _views(
        ctx, Meeting.branch_id == branch_id, held(ctx.clock()), Meeting.starts_at >= start, Meeting.starts_at < end
    )
    counts = {kind: 0 for kind in MeetingKind.ALL}
    expected = present = leave = 0
    for view in views:
        counts[view.meeting.kind] += 1
        counted = await tally(ctx.session, view.roll_call)
        expected += counted.expected
        present += len(counted.done)
        leave += len(counted.leave)
    return Stats(counts, expected, present, leave)


def stats_text(period: str, result: Stats, *, all_items: bool = False, higher: bool = False) -> str:
    """'2026年，本支部共召开支部党员大会4次、支委会12次、党小组会24次，上党课4次，开展主题党日活动12次；党员出席率95.5%
    （应到264人次，实到252人次）。' — items held 0 times only with all_items; nothing held says so. higher: the sum
    over the units below a 党委 or 党总支 (所属党组织共召开…)."""
    shown = {k: n for k, n in result.counts.items() if n or all_items}
    if not shown:
        none = meeting_texts.MEETING_STATS_NONE_HIGHER if higher else meeting_texts.MEETING_STATS_NONE
        return none.format(period=period)
    held_items = [
        meeting_texts.MEETING_STATS_COUNT.format(kind=texts.MEETING_KIND_NAMES[k], count=shown[k])
        for k in (MeetingKind.MEMBER_ASSEMBLY, MeetingKind.COMMITTEE, MeetingKind.GROUP_MEETING)
        if k in shown
    ]
    items = [meeting_texts.MEETING_STATS_HELD.format(items=texts.NAME_SEPARATOR.join(held_items))] if held_items else []
    if MeetingKind.PARTY_LECTURE in shown:
        items.append(meeting_texts.MEETING_STATS_LECTURE.format(count=shown[MeetingKind.PARTY_LECTURE]))
    if MeetingKind.THEME_DAY in shown:
        items.append(meeting_texts.MEETING_STATS_THEME_DAY.format(count=shown[MeetingKind.THEME_DAY]))
    if result.expected:
        rate = meeting_texts.MEETING_STATS_RATE.format(
            rate=display.percent(result.rate),
            expected=result.expected,
            present=result.present,
            leave_part=meeting_texts.MEETING_STATS_LEAVE_PART.format(leave=result.leave) if result.leave else "",
        )
    else:
        rate = meeting_texts.MEETING_STATS_NO_EXPECTED
    subject = meeting_texts.MEETING_STATS_SUBJECT_HIGHER if higher else meeting_texts.MEETING_STATS_SUBJECT
    return meeting_texts.MEETING_STATS.format(
        period=period, subject=subject, items=meeting_texts.MEETING_STATS_ITEM_SEPARATOR.join(items), rate=rate
    )


# --- The organisation tree: statistics across the units below a higher unit (bot/core/org.py) ---------------------


def add_stats(parts: list[Stats]) -> Stats:
    """The sum of several units' statistics."""
    counts = {kind: sum(part.counts.get(kind, 0) for part in parts) for kind in MeetingKind.ALL}
    return Stats(
        counts,
        sum(part.expected for part in parts),
        sum(part.present for part in parts),
        sum(part.leave for part in parts),
    )


async def stats_below(ctx: Context, unit_id: int, start: datetime, end: datetime) -> list[tuple[Branch, Stats]]:
    """stats() of the unit and of every unit below it, depth first (a 党支部 gets its own only)."""
    return [(unit, await stats(ctx, unit.id, start, end)) for unit in await org.subtree(ctx.session, unit_id)]
