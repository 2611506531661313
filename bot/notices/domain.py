"""Notices (通知) with receipts (回执): create, push, nudge, report and close — on the roll call."""

from __future__ import annotations

import dataclasses
import statistics
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from bot.core import display, org, texts
from bot.core.cards import receipt_card
from bot.core.context import Context
from bot.core.db import affected
from bot.core.models import (
    Branch,
    Chat,
    EntryStatus,
    Member,
    PartyGroup,
    RollCall,
    RollCallEntry,
    RollCallKind,
    RollCallStatus,
    UnitKind,
)
from bot.core.rollcall import (
    Audience,
    OpenRollCall,
    branch_audience,
    close_roll_call,
    mark_nudged,
    open_roll_call,
    open_roll_calls_for,
    roll_call_chats,
    tally,
)
from bot.notices import texts as notice_texts

KIND = RollCallKind.NOTICE
TITLE_LENGTH = 24
# ctx.memo key of open_notices(), with the member's id after a colon.
_OPEN_NOTICES = "notices.open"


async def open_notices(ctx: Context, member: Member) -> list[OpenRollCall]:
    """The open notices awaiting this member's receipt, oldest first — read once per message: the intent layer, the
    receipt filter and its handler all ask, with nothing written in between (forget_open_notices() after a write)."""
    key = f"{_OPEN_NOTICES}:{member.id}"
    found: list[OpenRollCall] | None = ctx.memo.get(key)
    if found is None:
        found = ctx.memo[key] = await open_roll_calls_for(ctx.session, member, KIND)
    return found


def forget_open_notices(ctx: Context) -> None:
    """Receipts were recorded: open_notices() reads again if asked (for any member)."""
    ctx.forget(f"{_OPEN_NOTICES}:")


def was_sent(roll_call: RollCall) -> bool:
    """Whether the notice went out: not still scheduled, and not cancelled (closed) before its time."""
    if roll_call.status == RollCallStatus.SCHEDULED:
        return False
    return roll_call.closed_at is None or roll_call.closed_at >= roll_call.opens_at


def went_out() -> ColumnElement[bool]:
    """was_sent as a query condition."""
    return and_(
        RollCall.status != RollCallStatus.SCHEDULED,
        or_(RollCall.closed_at.is_(None), RollCall.closed_at >= RollCall.opens_at),
    )


def title_of(body: str) -> str:
    first = body.strip().splitlines()[0] if body.strip() else body
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"


async def split_audience(ctx: Context, branch: Branch, sender: Member, text: str) -> tuple[Audience, str]:
    """A leading 党小组 name narrows the audience to that group; the rest is the notice. The sender is left out.

    A higher unit's notice (党委, 党总支) reaches every member of the units below it, once each; a leading name of
    a unit below narrows it to that unit and the units below that one (bot/core/org.py).
    """
    if branch.kind in UnitKind.HIGHER:
        whole, remainder = await tree_audience(ctx, branch, text)
        others = tuple(member_id for member_id in whole.member_ids if member_id != sender.id)
        return dataclasses.replace(whole, member_ids=others), remainder
    groups = list(await ctx.session.scalars(select(PartyGroup).where(PartyGroup.branch_id == branch.id)))
    audience, rest = None, text
    for group in sorted(groups, key=lambda g: len(g.name), reverse=True):
        if text.startswith(group.name):
            label = notice_texts.AUDIENCE_GROUP.format(group=group.name)
            audience, rest = await branch_audience(ctx.session, branch, label, group), text[len(group.name) :].strip()
            break
    if audience is None:
        audience = await branch_audience(ctx.session, branch, texts.AUDIENCE_BRANCH)
    others = tuple(member_id for member_id in audience.member_ids if member_id != sender.id)
    return Audience(audience.label, others, audience.party_group_id), rest


async def tree_audience(ctx: Context, unit: Branch, text: str) -> tuple[Audience, str]:
    """The members of unit and of every unit below it (or below the unit named first in text), and the rest."""
    below = await org.subtree(ctx.session, unit.id)
    target, rest = unit, text
    for candidate in sorted(below[1:], key=lambda u: len(u.name), reverse=True):
        if text.startswith(candidate.name):
            target, rest = candidate, text[len(candidate.name) :].strip()
            break
    units = below if target is unit else [u for u in below if org.reaches(target.id, u)]
    unit_ids = tuple(u.id for u in units)
    ids = tuple(await ctx.session.scalars(select(Member.id).where(Member.branch_id.in_(unit_ids)).order_by(Member.id)))
    label = notice_texts.ORG_AUDIENCE_ALL_BELOW if target is unit else target.name
    return Audience(label, ids, None, unit_ids), rest


async def notice_chats(ctx: Context, branch: Branch, audience: Audience) -> list[Chat]:
    """Where a notice goes: the unit's own chats, and for a higher unit's notice those of the units it reaches."""
    unit_ids = {branch.id, *audience.units}
    return list(await ctx.session.scalars(select(Chat).where(Chat.branch_id.in_(unit_ids)).order_by(Chat.id)))


async def create_notice(
    ctx: Context, branch: Branch, sender: Member, audience: Audience, body: str, opens_at: datetime | None = None
) -> RollCall:
    """Create a notice; push it now unless it is scheduled for later."""
    now = ctx.clock()
    opens = opens_at or now
    config = ctx.config.notices
    first_nudge = config.nudge_after_minutes[0] if config.nudge and config.nudge_after_minutes else None
    roll_call = await open_roll_call(
        ctx.session,
        branch=branch,
        kind=KIND,
        title=title_of(body),
        body=body,
        audience=audience,
        chats=await notice_chats(ctx, branch, audience),
        now=now,
        opens_at=opens,
        closes_at=opens + timedelta(days=config.auto_close_days),
        next_nudge_at=opens + timedelta(minutes=first_nudge) if first_nudge else None,
        created_by=sender,
    )
    if roll_call.status == RollCallStatus.OPEN:
        await push_notice(ctx, roll_call)
    return roll_call


async def push_notice(ctx: Context, roll_call: RollCall) -> None:
    """Post the notice to every chat it was addressed to."""
    sender = await ctx.session.get(Member, roll_call.created_by) if roll_call.created_by else None
    unit = await ctx.session.get(Branch, roll_call.branch_id)
    if unit is not None and unit.kind in UnitKind.HIGHER:  # seen in the chats below: say whose notice it is
        audience = unit.name
    else:
        audience = "" if roll_call.party_group_id is None else roll_call.audience_label
    text = notice_texts.NOTICE_PUSH.format(
        audience=notice_texts.NOTICE_PUSH_AUDIENCE.format(audience=audience) if audience else "",
        seq=roll_call.seq,
        body=roll_call.body,
        sender=sender.display_name if sender else ctx.config.bot.name,
    )
    card = receipt_card(roll_call.id, notice_texts.CARD_TITLE_NOTICE.format(seq=roll_call.seq))
    for chat in await roll_call_chats(ctx.session, roll_call):
        await ctx.send_to_chat(chat, text, card=card)


async def nudge_notice(ctx: Context, roll_call: RollCall) -> None:
    """Remind each member who has not acknowledged, directly; schedule the next nudge or stop."""
    counted = await tally(ctx.session, roll_call)
    reached = []
    # One text and card for all (no name): the WeCom app sends them to up to 1,000 members in one call.
    text = notice_texts.NOTICE_NUDGE_ALL.format(seq=roll_call.seq, title=roll_call.title)
    card = receipt_card(roll_call.id, notice_texts.CARD_TITLE_NOTICE.format(seq=roll_call.seq))
    for member in counted.pending:
        if await ctx.send_to_member(member, text, card=card):
            reached.append(member)
    await mark_nudged(ctx.session, roll_call, reached)
    roll_call.nudges_sent += 1
    delays = ctx.config.notices.nudge_after_minutes
    if ctx.config.notices.nudge and roll_call.nudges_sent < len(delays) and counted.pending:
        roll_call.next_nudge_at = roll_call.opens_at + timedelta(minutes=delays[roll_call.nudges_sent])
    else:
        roll_call.next_nudge_at = None


async def close_notice(ctx: Context, roll_call: RollCall) -> bool:
    """Close a notice and send its final tally to whoever sent it; False if it was already closed."""
    if not await close_roll_call(ctx.session, roll_call, ctx.clock()):
        return False
    counted = await tally(ctx.session, roll_call)
    pending_part = (
        notice_texts.NOTICE_CLOSED_PENDING.format(names=display.names(counted.pending)) if counted.pending else ""
    )
    text = notice_texts.NOTICE_CLOSED.format(
        seq=roll_call.seq, expected=counted.expected, done=len(counted.done), pending_part=pending_part
    )
    sender = await ctx.session.get(Member, roll_call.created_by) if roll_call.created_by else None
    if ctx.message is not None and ctx.member is not None and sender is not None and ctx.member.id == sender.id:
        if ctx.message.is_direct or not counted.pending:
            await ctx.reply(text)
            return True
        # Closed in a group: the group sees the counts; the names of those who did not answer go to the sender.
        counts = notice_texts.NOTICE_CLOSED.format(
            seq=roll_call.seq, expected=counted.expected, done=len(counted.done), pending_part=""
        )
        sent = await ctx.send_to_member(sender, text)
        await ctx.reply(counts + (notice_texts.STATUS_NAMES_SENT if sent else notice_texts.STATUS_NAMES_ASK_DIRECT))
    else:
        if sender is not None:
            await ctx.send_to_member(sender, text)
        if ctx.message is not None and ctx.member is not None:  # another secretary closed it: tell them (counts)
            counts = notice_texts.NOTICE_CLOSED.format(
                seq=roll_call.seq, expected=counted.expected, done=len(counted.done), pending_part=""
            )
            await ctx.reply(text if ctx.message.is_direct else counts)
    return True


async def cancel_notice(ctx: Context, roll_call: RollCall) -> bool:
    """Cancel a notice that has not gone out (closed before its time, nobody is asked); False if it went out."""
    now = ctx.clock()
    result = await ctx.session.execute(
        update(RollCall)
        .where(RollCall.id == roll_call.id, RollCall.status == RollCallStatus.SCHEDULED)
        .values(status=RollCallStatus.CLOSED, closed_at=now, next_nudge_at=None)
    )
    if affected(result) != 1:
        return False
    roll_call.status, roll_call.closed_at, roll_call.next_nudge_at = RollCallStatus.CLOSED, now, None
    return True


async def status_text(ctx: Context, roll_call: RollCall) -> str:
    """Who has and has not acknowledged, with the median time to acknowledge; a notice not sent says so."""
    return (await status_texts(ctx, roll_call))[0]


async def status_texts(ctx: Context, roll_call: RollCall) -> tuple[str, str | None]:
    """(the status with the names of those who have not acknowledged, the same with counts only — None when
    there are no names to keep out of a group)."""
    counted = await tally(ctx.session, roll_call)
    if roll_call.status == RollCallStatus.SCHEDULED:
        scheduled = notice_texts.NOTICE_STATUS_SCHEDULED.format(
            seq=roll_call.seq,
            audience=roll_call.audience_label,
            when=display.when(roll_call.opens_at, ctx.config.tz),
            expected=counted.expected,
        )
        return scheduled, None
    if not was_sent(roll_call):
        return notice_texts.NOTICE_STATUS_CANCELLED.format(seq=roll_call.seq, audience=roll_call.audience_label), None
    state = notice_texts.NOTICE_STATE_CLOSED if roll_call.status == RollCallStatus.CLOSED else ""
    common = {
        "seq": roll_call.seq,
        "audience": roll_call.audience_label,
        "sent": display.when(roll_call.opens_at, ctx.config.tz),
        "state": state,
        "expected": counted.expected,
    }
    counts_only = None
    if counted.pending:
        text = notice_texts.NOTICE_STATUS.format(
            **common,
            done=len(counted.done),
            pending_count=len(counted.pending),
            pending=display.names(counted.pending),
        )
        counts_only = notice_texts.NOTICE_STATUS_COUNTS.format(
            **common, done=len(counted.done), pending_count=len(counted.pending)
        )
    else:
        text = notice_texts.NOTICE_STATUS_ALL_DONE.format(**common)
    times = await ctx.session.scalars(
        select(RollCallEntry.responded_at).where(
            RollCallEntry.roll_call_id == roll_call.id, RollCallEntry.responded_at.is_not(None)
        )
    )
    seconds = [(t - roll_call.opens_at).total_seconds() for t in times if t is not None]
    if seconds:
        median = notice_texts.NOTICE_STATUS_AVG.format(duration=display.duration(statistics.median(seconds)))
        text += median
        counts_only = counts_only + median if counts_only else None
    return text, counts_only


async def find_notice(ctx: Context, branch: Branch, seq: int | None, sent: bool = False) -> RollCall | None:
    """Notice #seq of the branch, or the latest one (with sent: the latest that went out, if any did)."""
    query = select(RollCall).where(RollCall.branch_id == branch.id, RollCall.kind == KIND)
    if seq is not None:
        return await ctx.session.scalar(query.where(RollCall.seq == seq))
    latest = query.order_by(RollCall.seq.desc()).limit(1)
    if sent:
        found = await ctx.session.scalar(latest.where(went_out()))
        if found is not None:
            return found
    return await ctx.session.scalar(latest)


# --- The organisation tree: notices seen from a unit, tallied per unit ---------------------------------------


async def find_visible_notice(ctx: Context, unit: Branch) -> RollCall | None:
    """The latest notice that went out to members of unit or of the units below it: its own, or a higher unit's."""
    below = await org.units_below(ctx.session, unit.id)
    reaching = (
        select(RollCallEntry.id)
        .join(Member, Member.id == RollCallEntry.member_id)
        .where(RollCallEntry.roll_call_id == RollCall.id, Member.branch_id.in_(below))
        .exists()
    )
    issuers = [*await org.ancestors(ctx.session, unit.id), unit.id]
    query = (
        select(RollCall)
        .where(RollCall.branch_id.in_(issuers), RollCall.kind == KIND, went_out())
        .where(or_(RollCall.branch_id == unit.id, reaching))
        .order_by(RollCall.id.desc())
        .limit(1)
    )
    return await ctx.session.scalar(query)


async def unit_tally(ctx: Context, roll_call: RollCall, unit: Branch) -> list[tuple[Branch, int, int]]:
    """(unit, 应收, 已收) for unit and each unit below it that has members in the roll call's audience, depth
    first; a member counts once, in their own unit."""
    units = await org.subtree(ctx.session, unit.id)
    rows = await ctx.session.execute(
        select(Member.branch_id, RollCallEntry.status)
        .join(Member, Member.id == RollCallEntry.member_id)
        .where(RollCallEntry.roll_call_id == roll_call.id, Member.branch_id.in_([u.id for u in units]))
    )
    counts: dict[int, list[int]] = {}
    for branch_id, status in rows:
        count = counts.setdefault(branch_id, [0, 0])
        count[0] += 1
        count[1] += status == EntryStatus.DONE
    return [(u, counts[u.id][0], counts[u.id][1]) for u in units if u.id in counts]


async def unit_status_texts(ctx: Context, roll_call: RollCall, unit: Branch) -> tuple[str, str | None]:
    """通知情况 seen from unit for a notice that spans units: a line per unit (应收/已收) and the total; a 党支部
    looking at a higher unit's notice sees its own line and who of its members has not acknowledged. Returned as
    (with names, counts only — None when there are no names to keep out of a group)."""
    issuer = await ctx.session.get(Branch, roll_call.branch_id)
    lines = await unit_tally(ctx, roll_call, unit)
    head = notice_texts.ORG_NOTICE_STATUS_HEAD.format(
        unit=issuer.name if issuer is not None else "",
        seq=roll_call.seq,
        audience=roll_call.audience_label,
        sent=display.when(roll_call.opens_at, ctx.config.tz),
        state=notice_texts.NOTICE_STATE_CLOSED if roll_call.status == RollCallStatus.CLOSED else "",
    )
    parts = [head]
    parts += [notice_texts.ORG_NOTICE_STATUS_LINE.format(unit=u.name, expected=e, done=d) for u, e, d in lines]
    expected, done = sum(e for _, e, _ in lines), sum(d for _, _, d in lines)
    parts.append(notice_texts.ORG_NOTICE_STATUS_TOTAL.format(expected=expected, done=done))
    if unit.kind == UnitKind.BRANCH:
        counted = await tally(ctx.session, roll_call)
        pending = [m for m in counted.pending if m.branch_id == unit.id]
        if pending:
            counts_only = "\n".join(parts)
            parts.append(
                notice_texts.ORG_NOTICE_STATUS_PENDING.format(count=len(pending), names=display.names(pending))
            )
            return "\n".join(parts), counts_only
    return "\n".join(parts), None
