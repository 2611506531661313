"""月清单、季调度、年评比 in chat: 下发清单, 本月清单, 完成, 延期, 同意延期, 季度调度, 考核得分, 年度评比."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.core import authority, org, texts
from bot.core.context import Context
from bot.core.message import Message
from bot.core.models import Branch, Role, UnitKind
from bot.core.numbering import row_number
from bot.core.router import Router
from bot.tasks import lists, scoring
from bot.tasks import texts as task_texts
from bot.tasks.chart import ranking_png
from bot.tasks.lists import TaskInputError
from bot.tasks.models import ExtensionStatus, TaskItem, TaskStatus

router = Router("tasks")

_NUMBER = re.compile(r"^(\d+)(?:\s+|$)(.*)$", re.S)


@router.command(*task_texts.CMD_TASK_ISSUE, role=Role.SECRETARY, summary=task_texts.SUMMARY_TASK_ISSUE)
async def handle_issue_list(msg: Message, ctx: Context) -> None:
    """下发清单 [月份] <类别> <责任单位|全部支部> <时限> <内容> [完成标准：…], one item per line."""
    assert ctx.command is not None and ctx.branch is not None
    if ctx.branch.kind == UnitKind.BRANCH:
        await ctx.reply(task_texts.TASK_ISSUE_ONLY_HIGHER)
        return
    try:
        month, drafts = lists.parse_list(ctx.command.raw_args, lists.local_today(ctx))
        issued = await lists.issue(ctx, ctx.branch, month, drafts, ctx.member)
    except TaskInputError as exc:
        await ctx.reply(str(exc))
        return
    await lists.announce(ctx, ctx.branch, month, issued)
    await ctx.reply(
        task_texts.TASK_ISSUED.format(
            month=lists.month_label(month), items=len(drafts), units=len(issued.units), rows=len(issued.items)
        )
    )


@router.command(*task_texts.CMD_TASK_LIST, summary=task_texts.SUMMARY_TASK_LIST)
async def handle_month_list(msg: Message, ctx: Context) -> None:
    """本月清单 [月份]: a 党支部's items; a higher unit's overview of what it issued that month (this one by default)."""
    assert ctx.command is not None and ctx.branch is not None
    month = None
    if ctx.command.args:
        month = lists.view_month(ctx.command.args.replace(" ", ""), lists.local_today(ctx))
        if month is None:
            await ctx.reply(task_texts.TASK_LIST_USAGE)
            return
    if ctx.branch.kind == UnitKind.BRANCH:
        await ctx.reply(await lists.branch_list(ctx, ctx.branch, month))
    else:
        await ctx.reply(await lists.issued_overview(ctx, ctx.branch, month))


async def _own_item(msg: Message, ctx: Context, action: str) -> tuple[TaskItem, str] | None:
    """The item a 完成/延期 names, of the sender's own unit; None once answered (or silently for chatter).

    The route is open to everyone so that talk ("完成了") stays unanswered; with a number the sender must be a
    secretary where they write, and the item is always one of their own unit's: a higher unit's secretary in a
    lower unit's chat is told whose secretary does it (action: 报告完成, 申请延期)."""
    assert ctx.command is not None and ctx.member is not None and ctx.branch is not None
    match = _NUMBER.match(ctx.command.raw_args.strip())
    if match is None:
        if not ctx.command.args:
            await ctx.reply(task_texts.TASK_NUMBER_USAGE.format(word=ctx.command.word))
        return None  # "完成了", "延期了吗": talk, not a command
    if authority.is_guest(ctx.member, ctx.branch):
        outsider = texts.NOT_ALLOWED_OUTSIDER if ctx.branch.kind == UnitKind.BRANCH else texts.ORG_NOT_ALLOWED_OUTSIDER
        await ctx.reply(outsider.format(word=ctx.command.word))
        return None
    if not authority.may(ctx.member, Role.SECRETARY, ctx.branch):
        await ctx.reply(texts.NOT_ALLOWED.format(word=ctx.command.word, role=texts.ROLE_NAMES[Role.SECRETARY]))
        return None
    if ctx.member.branch_id != ctx.branch.id:
        await ctx.reply(task_texts.TASK_NOT_OWN_UNIT.format(unit=ctx.branch.name, action=action))
        return None
    seq = row_number(match.group(1))  # None: a number no item can have
    item = await lists.own_item(ctx, ctx.member, seq) if seq is not None else None
    if item is None:
        await ctx.reply(task_texts.TASK_NOT_FOUND.format(seq=match.group(1)))
        return None
    return item, match.group(2).strip()


@router.command(*task_texts.CMD_TASK_DONE, role=Role.GUEST, summary=task_texts.SUMMARY_TASK_DONE)
async def handle_task_done(msg: Message, ctx: Context) -> None:
    """完成 <序号> <说明>: the branch's secretary reports its own item done."""
    found = await _own_item(msg, ctx, task_texts.TASK_ACTION_DONE)
    if found is None:
        return
    item, note = found
    assert ctx.member is not None
    if not await lists.complete(ctx, item, ctx.member, note):
        await ctx.reply(task_texts.TASK_ALREADY_DONE.format(seq=item.seq, title=item.title, day=_done_day(ctx, item)))
        return
    late = not lists.on_time(item, ctx.config.tz)
    await ctx.reply(
        (task_texts.TASK_DONE_LATE if late else task_texts.TASK_DONE).format(seq=item.seq, title=item.title)
    )


@router.command(*task_texts.CMD_TASK_EXTEND, role=Role.GUEST, summary=task_texts.SUMMARY_TASK_EXTEND)
async def handle_task_extend(msg: Message, ctx: Context) -> None:
    """延期 <序号> <新时限> <原因>: asks the issuing unit; recorded as requested until its secretary decides."""
    found = await _own_item(msg, ctx, task_texts.TASK_ACTION_EXTEND)
    if found is None:
        return
    item, rest = found
    assert ctx.member is not None and ctx.branch is not None
    today = lists.local_today(ctx)
    due_text, _, reason = rest.partition(" ")
    new_due = lists.parse_extension_due(due_text, today) if due_text else None
    if item.status == TaskStatus.DONE:
        await ctx.reply(task_texts.TASK_EXTEND_DONE.format(seq=item.seq, title=item.title, day=_done_day(ctx, item)))
        return
    if new_due is None or not reason.strip():
        await ctx.reply(task_texts.TASK_EXTEND_USAGE)
        return
    if new_due <= item.due:
        await ctx.reply(task_texts.TASK_EXTEND_NOT_LATER.format(due=lists.date_text(item.due, today)))
        return
    if new_due < today:
        await ctx.reply(task_texts.TASK_EXTEND_PAST.format(due=lists.date_text(new_due, today)))
        return
    due = lists.date_text(new_due, today)
    if await lists.request_extension(ctx, item, ctx.member, new_due, reason.strip()):
        await ctx.reply(task_texts.TASK_EXTENSION_REQUESTED.format(seq=item.seq, due=due))
        return
    issuer = await ctx.session.get(Branch, item.issuer_id)
    await ctx.reply(
        task_texts.TASK_EXTENSION_NOT_PASSED_ON.format(
            seq=item.seq, due=due, issuer=issuer.name if issuer else "", unit=ctx.branch.name
        )
    )


def _done_day(ctx: Context, item: TaskItem) -> str:
    """The local day the item was recorded done, as the chat writes dates."""
    assert item.done_at is not None
    today = lists.local_today(ctx)
    return lists.date_text(item.done_at.astimezone(ctx.config.tz).date(), today)


async def _decide(ctx: Context, approve: bool) -> None:
    assert ctx.command is not None and ctx.member is not None
    parts = ctx.command.args.split()
    if len(parts) < 2 or not parts[1].isdigit():
        await ctx.reply(task_texts.TASK_DECIDE_USAGE)
        return
    assert ctx.branch is not None
    # Unit names repeat across a deployment (each 党委 has its 第一党支部): only the asking unit's own tree is searched.
    below = await org.subtree(ctx.session, ctx.branch.id)
    unit = next((u for u in below if parts[0] in (u.name, u.key)), None)
    seq = row_number(parts[1])  # None: a number no item can have
    item = (
        await ctx.session.scalar(select(TaskItem).where(TaskItem.branch_id == unit.id, TaskItem.seq == seq))
        if unit is not None and seq is not None
        else None
    )
    if unit is None or item is None:
        await ctx.reply(task_texts.TASK_DECIDE_NOT_FOUND.format(unit=parts[0], seq=parts[1]))
        return
    issuer = await ctx.session.get(Branch, item.issuer_id)
    if issuer is None or not lists.may_decide(ctx.member, issuer):
        await ctx.reply(task_texts.TASK_DECIDE_NOT_ALLOWED)
        return
    today = lists.local_today(ctx)
    if item.extension_status in (ExtensionStatus.APPROVED, ExtensionStatus.REFUSED):
        await ctx.reply(
            task_texts.TASK_EXTENSION_DECIDED.format(
                unit=unit.name,
                seq=item.seq,
                state=task_texts.TASK_EXTENSION_STATES[item.extension_status],
                due=lists.date_text(item.due, today),
            )
        )
        return
    if item.extension_status != ExtensionStatus.REQUESTED:
        await ctx.reply(task_texts.TASK_NO_EXTENSION_ASKED.format(unit=unit.name, seq=item.seq))
        return
    await lists.decide_extension(ctx, item, ctx.member, approve)
    template = task_texts.TASK_EXTENSION_APPROVED if approve else task_texts.TASK_EXTENSION_REFUSED
    await ctx.reply(template.format(unit=unit.name, seq=item.seq, due=lists.date_text(item.due, today)))


@router.command(*task_texts.CMD_TASK_APPROVE, role=Role.SECRETARY, summary=task_texts.SUMMARY_TASK_APPROVE)
async def handle_approve_extension(msg: Message, ctx: Context) -> None:
    """同意延期 <单位> <序号>: a secretary of the issuing unit (or above) moves the due date."""
    await _decide(ctx, approve=True)


@router.command(*task_texts.CMD_TASK_REFUSE, role=Role.SECRETARY, hidden=True)
async def handle_refuse_extension(msg: Message, ctx: Context) -> None:
    """不同意延期 <单位> <序号>: the due date stays."""
    await _decide(ctx, approve=False)


@router.command(*task_texts.CMD_TASK_QUARTER, role=Role.SECRETARY, summary=task_texts.SUMMARY_TASK_QUARTER)
async def handle_quarter(msg: Message, ctx: Context) -> None:
    """季度调度 [2026Q4]: per unit below, the quarter's items done on time, late, still open."""
    assert ctx.command is not None and ctx.branch is not None
    key = ctx.command.args.replace(" ", "").upper() or lists.quarter_of(lists.local_today(ctx))
    try:
        await ctx.reply(await lists.quarter_text(ctx, ctx.branch, key))
    except TaskInputError as exc:
        await ctx.reply(str(exc))


def _year(ctx: Context) -> int | None:
    assert ctx.command is not None
    args = ctx.command.args.replace(task_texts.SCORE_YEAR_SUFFIX, "").strip()
    if not args:
        return lists.local_today(ctx).year
    return int(args) if args.isdigit() and 2000 <= int(args) <= 2100 else None


@router.command(*task_texts.CMD_SCORE, summary=task_texts.SUMMARY_SCORE)
async def handle_branch_score(msg: Message, ctx: Context) -> None:
    """考核得分 [年份]: this 党支部's score with every rule's inputs, for its members to check."""
    assert ctx.branch is not None
    year = _year(ctx)
    if year is None:
        await ctx.reply(task_texts.SCORE_YEAR_USAGE)
        return
    if ctx.branch.kind != UnitKind.BRANCH:
        await ctx.reply(task_texts.SCORE_ONLY_BRANCH)
        return
    await ctx.reply(scoring.breakdown_text(await scoring.branch_score(ctx, ctx.branch, year), year))


@router.command(*task_texts.CMD_RANKING, role=Role.SECRETARY, summary=task_texts.SUMMARY_RANKING)
async def handle_year_ranking(msg: Message, ctx: Context) -> None:
    """年度评比 [年份]: the branches below ranked; in the group only if [scoring] public_ranking, else privately."""
    assert ctx.branch is not None and ctx.member is not None
    year = _year(ctx)
    if year is None:
        await ctx.reply(task_texts.SCORE_YEAR_USAGE)
        return
    scores = await scoring.unit_scores(ctx, ctx.branch, year)
    text = scoring.ranking_text(ctx.branch, scores, year)
    if msg.is_direct or ctx.config.scoring.public_ranking:
        title = task_texts.SCORE_CHART_TITLE.format(unit=ctx.branch.name, year=year)
        await ctx.reply(text, image=ranking_png(title, scores))
        return
    sent = await ctx.send_to_member(ctx.member, text)
    await ctx.reply(task_texts.SCORE_RANKING_SENT_DIRECT if sent else task_texts.SCORE_RANKING_ASK_DIRECT)
