"""Notices (通知) with receipts (回执): create, push, nudge, report and close — on the roll call."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from bot import display, texts
from bot.cards import receipt_card
from bot.context import Context
from bot.db import affected
from bot.models import Branch, Member, PartyGroup, RollCall, RollCallEntry, RollCallKind, RollCallStatus
from bot.rollcall import (
    Audience,
    branch_audience,
    branch_chats,
    close_roll_call,
    mark_nudged,
    open_roll_call,
    roll_call_chats,
    tally,
)

KIND = RollCallKind.NOTICE
TITLE_LENGTH = 24


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
    """A leading 党小组 name narrows the audience to that group; the rest is the notice. The sender is left out."""
    groups = list(await ctx.session.scalars(select(PartyGroup).where(PartyGroup.branch_id == branch.id)))
    audience, rest = None, text
    for group in sorted(groups, key=lambda g: len(g.name), reverse=True):
        if text.startswith(group.name):
            label = texts.AUDIENCE_GROUP.format(group=group.name)
            audience, rest = await branch_audience(ctx.session, branch, label, group), text[len(group.name) :].strip()
            break
    if audience is None:
        audience = await branch_audience(ctx.session, branch, texts.AUDIENCE_BRANCH)
    others = tuple(member_id for member_id in audience.member_ids if member_id != sender.id)
    return Audience(audience.label, others, audience.party_group_id), rest


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
        chats=await branch_chats(ctx.session, branch),
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
    text = texts.NOTICE_PUSH.format(
        audience="" if roll_call.party_group_id is None else roll_call.audience_label,
        seq=roll_call.seq,
        body=roll_call.body,
        sender=sender.display_name if sender else ctx.config.bot.name,
    )
    card = receipt_card(roll_call.id, texts.CARD_TITLE_NOTICE.format(seq=roll_call.seq))
    for chat in await roll_call_chats(ctx.session, roll_call):
        await ctx.send_to_chat(chat, text, card=card)


async def nudge_notice(ctx: Context, roll_call: RollCall) -> None:
    """Remind each member who has not acknowledged, directly; schedule the next nudge or stop."""
    counted = await tally(ctx.session, roll_call)
    reached = []
    for member in counted.pending:
        text = texts.NOTICE_NUDGE.format(name=member.display_name, seq=roll_call.seq, title=roll_call.title)
        card = receipt_card(roll_call.id, texts.CARD_TITLE_NOTICE.format(seq=roll_call.seq))
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
    pending_part = texts.NOTICE_CLOSED_PENDING.format(names=display.names(counted.pending)) if counted.pending else ""
    text = texts.NOTICE_CLOSED.format(
        seq=roll_call.seq, expected=counted.expected, done=len(counted.done), pending_part=pending_part
    )
    sender = await ctx.session.get(Member, roll_call.created_by) if roll_call.created_by else None
    if ctx.message is not None and ctx.member is not None and sender is not None and ctx.member.id == sender.id:
        await ctx.reply(text)
    elif sender is not None:
        await ctx.send_to_member(sender, text)
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
    counted = await tally(ctx.session, roll_call)
    if roll_call.status == RollCallStatus.SCHEDULED:
        return texts.NOTICE_STATUS_SCHEDULED.format(
            seq=roll_call.seq,
            audience=roll_call.audience_label,
            when=display.when(roll_call.opens_at, ctx.config.tz),
            expected=counted.expected,
        )
    if not was_sent(roll_call):
        return texts.NOTICE_STATUS_CANCELLED.format(seq=roll_call.seq, audience=roll_call.audience_label)
    state = texts.NOTICE_STATE_CLOSED if roll_call.status == RollCallStatus.CLOSED else ""
    common = {
        "seq": roll_call.seq,
        "audience": roll_call.audience_label,
        "sent": display.when(roll_call.opens_at, ctx.config.tz),
        "state": state,
        "expected": counted.expected,
    }
    if counted.pending:
        text = texts.NOTICE_STATUS.format(
            **common,
            done=len(counted.done),
            pending_count=len(counted.pending),
            pending=display.names(counted.pending),
        )
    else:
        text = texts.NOTICE_STATUS_ALL_DONE.format(**common)
    times = await ctx.session.scalars(
        select(RollCallEntry.responded_at).where(
            RollCallEntry.roll_call_id == roll_call.id, RollCallEntry.responded_at.is_not(None)
        )
    )
    minutes = [(t - roll_call.opens_at).total_seconds() / 60 for t in times if t is not None]
    if minutes:
        text += texts.NOTICE_STATUS_AVG.format(minutes=round(statistics.median(minutes)))
    return text


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
