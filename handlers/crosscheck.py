"""互查 in chat: 开展互查, 互查查看, 互查意见, 互查情况, 结束互查 (bot/tasks/crosscheck.py)."""

from __future__ import annotations

from bot.core.authority import holders
from bot.core.context import Context
from bot.core.message import Message
from bot.core.models import Role, UnitKind
from bot.core.router import Router
from bot.tasks import crosscheck, lists
from bot.tasks import texts as task_texts
from bot.tasks.crosscheck import CrosscheckError
from bot.tasks.lists import TaskInputError

router = Router("crosscheck")


@router.command(*task_texts.CMD_CROSSCHECK_OPEN, role=Role.SECRETARY, summary=task_texts.SUMMARY_CROSSCHECK_OPEN)
async def handle_open_crosscheck(msg: Message, ctx: Context) -> None:
    """开展互查 [2026Q4]: a 党委/党总支 secretary pairs the 党支部 below in a rotation; reviewers are told privately."""
    assert ctx.command is not None and ctx.branch is not None and ctx.member is not None
    quarter = ctx.command.args.replace(" ", "").upper() or lists.quarter_of(lists.local_today(ctx))
    try:
        round_, pairs = await crosscheck.open_round(ctx, ctx.branch, quarter, ctx.member)
    except (CrosscheckError, TaskInputError) as exc:
        await ctx.reply(str(exc))
        return
    lines = "\n".join(
        task_texts.CROSSCHECK_PAIR_LINE.format(reviewer=p.reviewer.name, reviewed=p.reviewed.name) for p in pairs
    )
    label = crosscheck.quarter_label(round_.quarter)
    await ctx.reply(task_texts.CROSSCHECK_OPENED.format(quarter=label, count=len(pairs), lines=lines))


async def _assignment(ctx: Context) -> crosscheck.Assignment | None:
    """The sender's own unit's open assignment as a reviewer; None once the refusal is answered."""
    assert ctx.member is not None
    found = await crosscheck.assignment_of(ctx, ctx.member.branch_id)
    if found is None:
        await ctx.reply(task_texts.CROSSCHECK_NOT_ASSIGNED)
    return found


@router.command(*task_texts.CMD_CROSSCHECK_VIEW, role=Role.SECRETARY, summary=task_texts.SUMMARY_CROSSCHECK_VIEW)
async def handle_view_crosscheck(msg: Message, ctx: Context) -> None:
    """互查查看 [单位]: the reviewed branch's quarter, for the reviewing branch's secretaries only (sent privately
    when asked in a group)."""
    assert ctx.command is not None and ctx.member is not None
    assignment = await _assignment(ctx)
    if assignment is None:
        return
    asked = ctx.command.args.strip()
    if asked and asked not in (assignment.reviewed.name, assignment.reviewed.key):
        await ctx.reply(
            task_texts.CROSSCHECK_NOT_YOURS.format(
                reviewer=assignment.reviewer.name, reviewed=assignment.reviewed.name, asked=asked
            )
        )
        return
    text = await crosscheck.view_text(ctx, assignment)
    if msg.is_direct:
        await ctx.reply(text)
        return
    sent = await ctx.send_to_member(ctx.member, text)
    await ctx.reply(task_texts.CROSSCHECK_VIEW_SENT_DIRECT if sent else task_texts.CROSSCHECK_VIEW_ASK_DIRECT)


@router.command(*task_texts.CMD_CROSSCHECK_FINDING, role=Role.SECRETARY, summary=task_texts.SUMMARY_CROSSCHECK_FINDING)
async def handle_crosscheck_finding(msg: Message, ctx: Context) -> None:
    """互查意见 <内容>: a finding on the reviewed branch, stored with who and when; several allowed."""
    assert ctx.command is not None and ctx.member is not None
    text = ctx.command.raw_args.strip()
    if not text:
        await ctx.reply(task_texts.CROSSCHECK_FINDING_USAGE)
        return
    if len(text) > crosscheck.MAX_FINDING_CHARS:
        await ctx.reply(task_texts.CROSSCHECK_FINDING_TOO_LONG.format(limit=crosscheck.MAX_FINDING_CHARS))
        return
    found = await crosscheck.assignment_of(ctx, ctx.member.branch_id, lock=True)
    if found is None:
        await ctx.reply(task_texts.CROSSCHECK_NOT_ASSIGNED)
        return
    count = await crosscheck.add_finding(ctx, found, ctx.member, text)
    await ctx.reply(task_texts.CROSSCHECK_FINDING_SAVED.format(reviewed=found.reviewed.name, count=count))


@router.command(*task_texts.CMD_CROSSCHECK_STATUS, role=Role.SECRETARY, summary=task_texts.SUMMARY_CROSSCHECK_STATUS)
async def handle_crosscheck_status(msg: Message, ctx: Context) -> None:
    """互查情况: a higher unit's open round (pairs and finding counts); a 党支部 its own assignment."""
    assert ctx.branch is not None and ctx.member is not None
    if ctx.branch.kind != UnitKind.BRANCH:
        round_ = await crosscheck.open_round_of(ctx, ctx.branch.id)
        if round_ is None:
            await ctx.reply(task_texts.CROSSCHECK_NO_ROUND.format(unit=ctx.branch.name))
            return
        await ctx.reply(await crosscheck.status_text(ctx, round_, ctx.branch))
        return
    assignment = await _assignment(ctx)
    if assignment is None:
        return
    await ctx.reply(
        task_texts.CROSSCHECK_STATUS_MINE.format(
            unit=assignment.unit.name,
            quarter=crosscheck.quarter_label(assignment.round.quarter),
            reviewer=assignment.reviewer.name,
            reviewed=assignment.reviewed.name,
            count=await crosscheck.finding_count(ctx, assignment.pair.id),
        )
    )


@router.command(*task_texts.CMD_CROSSCHECK_CLOSE, role=Role.SECRETARY, summary=task_texts.SUMMARY_CROSSCHECK_CLOSE)
async def handle_close_crosscheck(msg: Message, ctx: Context) -> None:
    """结束互查: findings become 问题 items for the reviewed branches; the summary to the unit's secretaries."""
    assert ctx.branch is not None and ctx.member is not None
    unit = ctx.branch
    round_ = await crosscheck.open_round_of(ctx, unit.id) if unit.kind != UnitKind.BRANCH else None
    if round_ is None:
        await ctx.reply(
            task_texts.CROSSCHECK_ONLY_HIGHER
            if unit.kind == UnitKind.BRANCH
            else task_texts.CROSSCHECK_NO_ROUND.format(unit=unit.name)
        )
        return
    closed = await crosscheck.close_round(ctx, round_, unit, ctx.member)
    if closed is None:
        await ctx.reply(task_texts.CROSSCHECK_NO_ROUND.format(unit=unit.name))
        return
    sent = 0
    for secretary in list(await ctx.session.scalars(holders(unit.id, Role.SECRETARY))):
        if msg.is_direct and secretary.id == ctx.member.id:
            continue
        sent += await ctx.send_to_member(secretary, closed.summary)
    head = task_texts.CROSSCHECK_CLOSED.format(
        quarter=crosscheck.quarter_label(round_.quarter),
        findings=len(closed.items),
        units=closed.units,
        due=lists.date_text(closed.due, lists.local_today(ctx)),
    )
    # The summary (findings per pair, no names) is shown where asked when no secretary could be written to.
    shown = msg.is_direct or not sent
    await ctx.reply(f"{head}\n{closed.summary}" if shown else f"{head}\n{task_texts.CROSSCHECK_CLOSED_SENT}")
