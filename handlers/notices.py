"""通知 / 定时通知 / 收到 / 通知情况 / 通知列表 / 关闭通知."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.core import display, texts
from bot.core.cards import RECEIPT, tapped_roll_call
from bot.core.context import Context
from bot.core.message import Message
from bot.core.models import Role, RollCall, RollCallKind, RollCallStatus, UnitKind
from bot.core.normalize import normalize, visible_text
from bot.core.numbering import CHINESE_NUMERALS, row_number
from bot.core.rollcall import Audience, respond, tally
from bot.core.router import Router
from bot.core.timeparse import parse_when
from bot.notices import texts as notice_texts
from bot.notices.domain import (
    cancel_notice,
    close_notice,
    create_notice,
    find_notice,
    find_visible_notice,
    forget_open_notices,
    notice_chats,
    open_notices,
    split_audience,
    status_texts,
    unit_status_texts,
    was_sent,
)
from bot.points.ledger import award_timely_receipt

router = Router("notices")


async def reply_keeping_names_private(msg: Message, ctx: Context, full: str, counts_only: str | None) -> None:
    """Answer a secretary's status question: asked in a group, the group sees counts only and the names go to the
    secretary directly (names of those who have not answered are never announced in a group)."""
    assert ctx.member is not None
    if msg.is_direct or counts_only is None:
        await ctx.reply(full)
        return
    sent = await ctx.send_to_member(ctx.member, full)
    await ctx.reply(counts_only + (notice_texts.STATUS_NAMES_SENT if sent else notice_texts.STATUS_NAMES_ASK_DIRECT))


_RECEIPTS = frozenset(texts.RECEIPT_WORDS)
# A notice's number as secretaries write it: "第3号通知", "第3号", "3号", "#3", "3", and in words followed by 号:
# "第三号通知", "三号" ("第三件事" is words, not a number).
_SEQ = re.compile(rf"^(?:#|第)?\s*(\d+)\s*(?:号)?|^第?\s*([{CHINESE_NUMERALS}]+)\s*号")


def _seq_text(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group)


@router.command(*notice_texts.CMD_NOTICE, role=Role.SECRETARY, summary=notice_texts.SUMMARY_NOTICE)
async def handle_notice(msg: Message, ctx: Context) -> None:
    """Send a notice to the branch (or one 党小组) and start collecting receipts."""
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    audience, body = await split_audience(ctx, ctx.branch, ctx.member, ctx.command.raw_args)
    body = visible_text(body)  # zero-width characters alone are no notice
    if not await _ready(ctx, audience, body):
        return
    roll_call = await create_notice(ctx, ctx.branch, ctx.member, audience, body)
    chats = ctx.sent
    await ctx.reply(notice_texts.NOTICE_SENT.format(seq=roll_call.seq, chats=chats, expected=len(audience.member_ids)))


@router.command(*notice_texts.CMD_SCHEDULED_NOTICE, role=Role.SECRETARY, summary=notice_texts.SUMMARY_SCHEDULED_NOTICE)
async def handle_scheduled_notice(msg: Message, ctx: Context) -> None:
    """Schedule a notice: 定时通知 明天9:00 [党小组] 内容."""
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    parsed = parse_when(ctx.command.raw_args, ctx.clock())
    if parsed.problem is not None:
        await ctx.reply(display.time_problem(parsed.problem, parsed.matched, parsed.when, ctx.config.tz))
        return
    assert parsed.when is not None
    audience, body = await split_audience(ctx, ctx.branch, ctx.member, parsed.rest)
    body = visible_text(body)
    if not await _ready(ctx, audience, body):
        return
    roll_call = await create_notice(ctx, ctx.branch, ctx.member, audience, body, opens_at=parsed.when)
    await ctx.reply(
        notice_texts.NOTICE_SCHEDULED.format(
            seq=roll_call.seq,
            when=display.when(parsed.when, ctx.config.tz),
            audience=audience.label,
            expected=len(audience.member_ids),
        )
    )


async def _ready(ctx: Context, audience: Audience, body: str) -> bool:
    """Refuse politely when there is nothing to send, nobody to send to, or nowhere to send it."""
    assert ctx.branch is not None
    if not body:
        await ctx.reply(notice_texts.NOTICE_NEED_BODY)
        return False
    if not audience.member_ids:
        await ctx.reply(notice_texts.NOTICE_NO_AUDIENCE.format(audience=audience.label))
        return False
    if not await notice_chats(ctx, ctx.branch, audience):
        higher = ctx.branch.kind in UnitKind.HIGHER
        await ctx.reply(notice_texts.ORG_NOTICE_NO_CHATS if higher else notice_texts.NOTICE_NO_CHATS)
        return False
    return True


async def _is_receipt(msg: Message, ctx: Context) -> bool:
    """'收到' and its everyday variants, from a member with a notice to acknowledge (or said directly)."""
    if ctx.member is None:
        return False
    text, _mentioned, _names = normalize(msg.text, (ctx.config.bot.name, *ctx.config.bot.aliases))
    if text not in _RECEIPTS:
        return False
    return msg.is_direct or bool(await open_notices(ctx, ctx.member))


@router.message(_is_receipt, precheck=lambda msg, hints: hints.text in _RECEIPTS)
async def handle_receipt(msg: Message, ctx: Context) -> None:
    """Acknowledge every open notice this member has not acknowledged yet (quietly in a group)."""
    assert ctx.member is not None
    now = ctx.clock()
    acknowledged = []
    tapped = tapped_roll_call(msg.card_key, RECEIPT)  # a 收到 tap acknowledges its own card's notice only
    found = await open_notices(ctx, ctx.member)
    forget_open_notices(ctx)
    for roll_call in found:
        if tapped is not None and roll_call.id != tapped:
            continue
        if await respond(ctx.session, roll_call, ctx.member, now):
            acknowledged.append(roll_call)
            await award_timely_receipt(ctx, roll_call, ctx.member, now)
    if msg.is_direct:
        if acknowledged:
            refs = texts.NAME_SEPARATOR.join(notice_texts.NOTICE_REF.format(seq=r.seq) for r in acknowledged)
            await ctx.reply(notice_texts.NOTICE_ACK_DIRECT.format(notices=refs))
        elif tapped is not None and (stale := await ctx.session.get(RollCall, tapped)) is not None:
            await ctx.reply(
                notice_texts.CARD_STALE_NOTICE.format(seq=stale.seq)
            )  # the card's notice: closed or answered
        else:
            await ctx.reply(notice_texts.NOTICE_ACK_NONE)


async def _named_notice(ctx: Context, sent: bool = False) -> RollCall | None:
    """Notice #N from the command (or the latest; with sent, the latest that went out); None after telling the
    secretary it was not found."""
    assert ctx.command is not None and ctx.branch is not None
    args = ctx.command.args.strip()
    match = _SEQ.match(args)
    if match is None and args:  # words that name no number: not the latest notice under another name
        await ctx.reply(notice_texts.NOTICE_NEED_SEQ)
        return None
    if match is None:
        roll_call = await find_notice(ctx, ctx.branch, None, sent=sent)
        if roll_call is None:
            await ctx.reply(notice_texts.NOTICE_NONE_YET)
        return roll_call
    typed = _seq_text(match)
    seq = row_number(typed)  # None: a number no notice can have
    roll_call = await find_notice(ctx, ctx.branch, seq, sent=sent) if seq is not None else None
    if roll_call is None:
        await ctx.reply(notice_texts.NOTICE_NOT_FOUND.format(seq=typed if seq is None else seq))
    return roll_call


@router.command(*notice_texts.CMD_NOTICE_STATUS, role=Role.SECRETARY, summary=notice_texts.SUMMARY_NOTICE_STATUS)
async def handle_notice_status(msg: Message, ctx: Context) -> None:
    """Who has not acknowledged the latest notice that went out (or notice #N); a notice of a higher unit, or one
    that spans units, is tallied per unit (bot/core/org.py)."""
    assert ctx.command is not None and ctx.branch is not None
    roll_call = None
    if not ctx.command.args.strip():
        roll_call = await find_visible_notice(ctx, ctx.branch)
    if roll_call is None:
        roll_call = await _named_notice(ctx, sent=True)
    if roll_call is None:
        return
    spans_units = roll_call.branch_id != ctx.branch.id or ctx.branch.kind in UnitKind.HIGHER
    if spans_units and was_sent(roll_call):
        full, counts_only = await unit_status_texts(ctx, roll_call, ctx.branch)
        await reply_keeping_names_private(msg, ctx, full, counts_only)
    else:
        full, counts_only = await status_texts(ctx, roll_call)
        await reply_keeping_names_private(msg, ctx, full, counts_only)


@router.command(*notice_texts.CMD_NOTICE_LIST, role=Role.SECRETARY, summary=notice_texts.SUMMARY_NOTICE_LIST)
async def handle_notice_list(msg: Message, ctx: Context) -> None:
    """The branch's open and scheduled notices with their receipt counts."""
    assert ctx.branch is not None
    rows = await ctx.session.scalars(
        select(RollCall)
        .where(
            RollCall.branch_id == ctx.branch.id,
            RollCall.kind == RollCallKind.NOTICE,
            RollCall.status.in_((RollCallStatus.OPEN, RollCallStatus.SCHEDULED)),
        )
        .order_by(RollCall.seq)
    )
    lines = []
    for roll_call in rows:
        counted = await tally(ctx.session, roll_call)
        if roll_call.status == RollCallStatus.SCHEDULED:  # not sent yet: nobody can have acknowledged it
            when = display.when(roll_call.opens_at, ctx.config.tz)
            line = notice_texts.NOTICE_LIST_SCHEDULED_LINE.format(
                seq=roll_call.seq, title=roll_call.title, when=when, expected=counted.expected
            )
        else:
            line = notice_texts.NOTICE_LIST_LINE.format(
                seq=roll_call.seq, title=roll_call.title, done=len(counted.done), expected=counted.expected
            )
        lines.append(line)
    await ctx.reply("\n".join([notice_texts.NOTICE_LIST_HEADER, *lines]) if lines else notice_texts.NOTICE_LIST_EMPTY)


@router.command(
    *notice_texts.CMD_NOTICE_CLOSE,
    *notice_texts.CMD_NOTICE_CLOSE_NUMBERED,
    role=Role.SECRETARY,
    summary=notice_texts.SUMMARY_NOTICE_CLOSE,
)
async def handle_notice_close(msg: Message, ctx: Context) -> None:
    """Stop collecting receipts for notice #N and report the final tally."""
    roll_call = await _named_notice(ctx)
    if roll_call is None:
        return
    if roll_call.status == RollCallStatus.SCHEDULED and await cancel_notice(ctx, roll_call):
        await ctx.reply(notice_texts.NOTICE_CANCELLED.format(seq=roll_call.seq))  # nobody got it: no tally to report
        return
    if not await close_notice(ctx, roll_call):
        await ctx.reply(notice_texts.NOTICE_ALREADY_CLOSED.format(seq=roll_call.seq))
