"""互查: a higher unit's quarterly round in which each 党支部 below it reviews another's records.

"每季度组织下辖党支部对党建工作开展情况进行互查": the unit's secretary opens a round for a quarter; the 党支部
below it (depth first) are paired in a rotation — branch i reviews branch i+1, the last reviews the first — so each
reviews one and is reviewed by one, never itself. A reviewing branch's secretaries see a read-only view of the
reviewed branch's quarter (meetings by kind with 应到/实到, study days with 参学率, task items with their state: counts
and states, never a name) and leave findings; when the unit closes the round every finding becomes a 问题 item
(bot/tasks/lists.py) issued by the unit to the reviewed branch.

Authority: only the secretaries of the assigned reviewing branch (their own unit, Member.branch_id) see or write
about the reviewed branch; rounds of one unit, or of units above and below each other, never run at once, so a
branch reviews at most one other at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from bot.core import display, org, texts
from bot.core.authority import holders
from bot.core.context import Context
from bot.core.db import affected
from bot.core.models import Branch, Member, Role, RollCall, UnitKind
from bot.core.rollcall import tally
from bot.meetings.domain import held
from bot.meetings.models import Meeting, MeetingKind
from bot.study.domain import Period, participation, weeks_held
from bot.tasks import lists
from bot.tasks import texts as task_texts
from bot.tasks.models import (
    CrosscheckFinding,
    CrosscheckPair,
    CrosscheckRound,
    CrosscheckStatus,
    TaskItem,
    TaskStatus,
)

MAX_FINDING_CHARS = 500


class CrosscheckError(ValueError):
    """A round that cannot be opened or closed; the message is shown to the secretary."""


@dataclass
class Assignment:
    """An open round's pair as its reviewer sees it."""

    round: CrosscheckRound
    pair: CrosscheckPair
    unit: Branch
    reviewer: Branch
    reviewed: Branch


def quarter_label(key: str) -> str:
    return task_texts.CROSSCHECK_QUARTER.format(year=key[:4], quarter=key[-1])


def rotation(branch_ids: list[int]) -> list[tuple[int, int]]:
    """(reviewer, reviewed) pairs: each branch reviews the next one, the last the first; none itself."""
    if len(branch_ids) < 2:
        return []
    return [(branch_ids[i], branch_ids[(i + 1) % len(branch_ids)]) for i in range(len(branch_ids))]


async def _related_locked(ctx: Context, unit: Branch) -> list[int]:
    """Ids of the unit, the units above it and below it, locked (PostgreSQL): two rounds over shared branches
    opened at once conflict here, and the second sees the first (SQLite serialises writers already)."""
    ids = [*org.path_ids(unit.ancestor_path), *await org.units_below(ctx.session, unit.id)]
    await ctx.session.execute(select(Branch.id).where(Branch.id.in_(ids)).with_for_update())
    return ids


async def _open_overlapping(ctx: Context, related: list[int]) -> CrosscheckRound | None:
    """An open round of one of the related units (this unit, a unit above it or a unit below it)."""
    return await ctx.session.scalar(
        select(CrosscheckRound)
        .where(CrosscheckRound.status == CrosscheckStatus.OPEN, CrosscheckRound.unit_id.in_(related))
        .limit(1)
    )


async def open_round(ctx: Context, unit: Branch, quarter: str, by: Member) -> tuple[CrosscheckRound, list[Assignment]]:
    """Open the unit's round for quarter, pair its branches and tell each reviewer's secretaries privately."""
    lists.quarter_bounds(quarter)  # validates the key (TaskInputError)
    if unit.kind == UnitKind.BRANCH:
        raise CrosscheckError(task_texts.CROSSCHECK_ONLY_HIGHER)
    related = await _related_locked(ctx, unit)
    branches = [u for u in await org.subtree(ctx.session, unit.id) if u.kind == UnitKind.BRANCH]
    if not branches:
        raise CrosscheckError(task_texts.CROSSCHECK_NO_BRANCHES.format(unit=unit.name))
    if len(branches) == 1:
        raise CrosscheckError(task_texts.CROSSCHECK_ONE_BRANCH.format(unit=unit.name))
    label = quarter_label(quarter)
    if await ctx.session.scalar(
        select(CrosscheckRound.id).where(CrosscheckRound.unit_id == unit.id, CrosscheckRound.quarter == quarter)
    ):
        raise CrosscheckError(task_texts.CROSSCHECK_ALREADY.format(unit=unit.name, quarter=label))
    busy = await _open_overlapping(ctx, related)
    if busy is not None:
        owner = await ctx.session.get(Branch, busy.unit_id)
        raise CrosscheckError(task_texts.CROSSCHECK_OVERLAP.format(unit=owner.name if owner else ""))
    round_ = CrosscheckRound(
        unit_id=unit.id, quarter=quarter, status=CrosscheckStatus.OPEN, opened_by=by.id, opened_at=ctx.clock()
    )
    ctx.session.add(round_)
    await ctx.session.flush()
    by_id = {b.id: b for b in branches}
    assignments = []
    for reviewer_id, reviewed_id in rotation([b.id for b in branches]):
        pair = CrosscheckPair(round_id=round_.id, reviewer_id=reviewer_id, reviewed_id=reviewed_id)
        ctx.session.add(pair)
        assignments.append(Assignment(round_, pair, unit, by_id[reviewer_id], by_id[reviewed_id]))
    await ctx.session.flush()
    for a in assignments:
        text = task_texts.CROSSCHECK_ASSIGNED.format(
            unit=unit.name, quarter=label, reviewer=a.reviewer.name, reviewed=a.reviewed.name
        )
        for secretary in await ctx.session.scalars(holders(a.reviewer.id, Role.SECRETARY)):
            await ctx.send_to_member(secretary, text)
    return round_, assignments


async def assignment_of(ctx: Context, reviewer_id: int, *, lock: bool = False) -> Assignment | None:
    """The open round's pair in which the unit reviewer_id reviews (at most one: rounds never overlap)."""
    query = (
        select(CrosscheckPair, CrosscheckRound)
        .join(CrosscheckRound, CrosscheckRound.id == CrosscheckPair.round_id)
        .where(CrosscheckPair.reviewer_id == reviewer_id, CrosscheckRound.status == CrosscheckStatus.OPEN)
        .order_by(CrosscheckRound.id)
        .limit(1)
    )
    if lock:  # a finding written while the round closes waits for the close, then sees the round closed
        query = query.with_for_update(of=CrosscheckRound)
    row = (await ctx.session.execute(query)).first()
    if row is None:
        return None
    pair, round_ = row
    if lock:
        await ctx.session.refresh(round_)
        if round_.status != CrosscheckStatus.OPEN:
            return None
    unit, reviewer, reviewed = (
        await ctx.session.get(Branch, round_.unit_id),
        await ctx.session.get(Branch, pair.reviewer_id),
        await ctx.session.get(Branch, pair.reviewed_id),
    )
    assert unit is not None and reviewer is not None and reviewed is not None
    return Assignment(round_, pair, unit, reviewer, reviewed)


async def finding_count(ctx: Context, pair_id: int) -> int:
    return (
        await ctx.session.scalar(
            select(func.count()).select_from(CrosscheckFinding).where(CrosscheckFinding.pair_id == pair_id)
        )
        or 0
    )


async def add_finding(ctx: Context, assignment: Assignment, member: Member, text: str) -> int:
    """Store a finding with who and when; the reviewer's count of findings so far."""
    ctx.session.add(
        CrosscheckFinding(pair_id=assignment.pair.id, text=text, author_id=member.id, created_at=ctx.clock())
    )
    await ctx.session.flush()
    return await finding_count(ctx, assignment.pair.id)


def _bounds(ctx: Context, quarter: str) -> tuple[datetime, datetime, date, date]:
    start, end = lists.quarter_bounds(quarter)
    return lists.local_midnight(start, ctx), lists.local_midnight(end, ctx), start, end


async def view_text(ctx: Context, assignment: Assignment) -> str:
    """The reviewed branch's quarter, read only: meetings by kind, study days, task items — counts and states."""
    reviewed, quarter = assignment.reviewed, assignment.round.quarter
    start, end, first_day, next_quarter = _bounds(ctx, quarter)
    lines = [
        task_texts.CROSSCHECK_VIEW_HEAD.format(
            reviewed=reviewed.name, quarter=quarter_label(quarter), reviewer=assignment.reviewer.name
        )
    ]
    meetings = await ctx.session.execute(
        select(Meeting.kind, RollCall)
        .join(RollCall, RollCall.id == Meeting.roll_call_id)
        .where(Meeting.branch_id == reviewed.id, held(ctx.clock()), Meeting.starts_at >= start, Meeting.starts_at < end)
        .order_by(Meeting.starts_at)
    )
    per_kind: dict[str, list[int]] = {}
    for kind, roll_call in meetings.all():
        counted = await tally(ctx.session, roll_call)
        row = per_kind.setdefault(kind, [0, 0, 0, 0])
        row[0] += 1
        row[1] += counted.expected
        row[2] += len(counted.done)
        row[3] += len(counted.leave)
    if per_kind:
        lines.append(task_texts.CROSSCHECK_VIEW_MEETINGS)
        for kind in MeetingKind.ALL:
            if kind in per_kind:
                count, expected, present, leave = per_kind[kind]
                lines.append(
                    task_texts.CROSSCHECK_VIEW_MEETING_LINE.format(
                        kind=texts.MEETING_KIND_NAMES[kind],
                        count=count,
                        expected=expected,
                        present=present,
                        leave=leave,
                    )
                )
    else:
        lines.append(task_texts.CROSSCHECK_VIEW_NO_MEETINGS)
    period = Period(start, min(end, ctx.clock()))
    weeks = await weeks_held(ctx, reviewed.id, period)
    study = await participation(ctx, reviewed.id, period)
    if weeks and study.expected:
        lines.append(
            task_texts.CROSSCHECK_VIEW_STUDY.format(
                weeks=len(weeks), rate=display.percent(study.rate), expected=study.expected, done=study.done
            )
        )
    else:
        lines.append(task_texts.CROSSCHECK_VIEW_NO_STUDY)
    items = list(
        await ctx.session.scalars(
            select(TaskItem)
            .where(TaskItem.branch_id == reviewed.id, TaskItem.due >= first_day, TaskItem.due < next_quarter)
            .order_by(TaskItem.seq)
        )
    )
    today = lists.local_today(ctx)
    if items:
        done = sum(i.status == TaskStatus.DONE for i in items)
        overdue = sum(i.status == TaskStatus.OPEN and i.due < today for i in items)
        lines.append(task_texts.CROSSCHECK_VIEW_TASKS.format(total=len(items), done=done, overdue=overdue))
        lines.extend(lists.item_line(i, today) for i in items)
    else:
        lines.append(task_texts.CROSSCHECK_VIEW_NO_TASKS)
    lines.append(task_texts.CROSSCHECK_VIEW_FOOTER.format(count=await finding_count(ctx, assignment.pair.id)))
    return "\n".join(lines)


async def open_round_of(ctx: Context, unit_id: int) -> CrosscheckRound | None:
    return await ctx.session.scalar(
        select(CrosscheckRound).where(
            CrosscheckRound.unit_id == unit_id, CrosscheckRound.status == CrosscheckStatus.OPEN
        )
    )


async def pair_counts(ctx: Context, round_id: int) -> list[tuple[Branch, Branch, int]]:
    """(reviewer, reviewed, findings) per pair of the round, in pairing order: one statement."""
    reviewer, reviewed = aliased(Branch), aliased(Branch)
    findings = (
        select(func.count())
        .select_from(CrosscheckFinding)
        .where(CrosscheckFinding.pair_id == CrosscheckPair.id)
        .scalar_subquery()
    )
    rows = await ctx.session.execute(
        select(reviewer, reviewed, findings)
        .select_from(CrosscheckPair)
        .join(reviewer, reviewer.id == CrosscheckPair.reviewer_id)
        .join(reviewed, reviewed.id == CrosscheckPair.reviewed_id)
        .where(CrosscheckPair.round_id == round_id)
        .order_by(CrosscheckPair.id)
    )
    return [(a, b, n) for a, b, n in rows]


async def status_text(ctx: Context, round_: CrosscheckRound, unit: Branch) -> str:
    lines = [task_texts.CROSSCHECK_STATUS_HEAD.format(unit=unit.name, quarter=quarter_label(round_.quarter))]
    lines += [
        task_texts.CROSSCHECK_STATUS_LINE.format(reviewer=a.name, reviewed=b.name, count=n)
        for a, b, n in await pair_counts(ctx, round_.id)
    ]
    return "\n".join(lines)


@dataclass
class Closed:
    round: CrosscheckRound
    items: list[TaskItem]
    units: int
    due: date
    summary: str


async def close_round(ctx: Context, round_: CrosscheckRound, unit: Branch, by: Member) -> Closed | None:
    """Close the round once (None if it was closed meanwhile): each finding becomes a 问题 item issued by the unit
    to the reviewed branch, due [tasks] crosscheck_due_days after today; the branches' chats are told."""
    result = await ctx.session.execute(
        update(CrosscheckRound)
        .where(CrosscheckRound.id == round_.id, CrosscheckRound.status == CrosscheckStatus.OPEN)
        .values(status=CrosscheckStatus.CLOSED, closed_by=by.id, closed_at=ctx.clock())
    )
    if affected(result) != 1:
        return None
    await ctx.session.refresh(round_)
    today = lists.local_today(ctx)
    due = today + timedelta(days=ctx.config.tasks.crosscheck_due_days)
    month = lists.month_key(today)
    label = quarter_label(round_.quarter)
    rows = (
        await ctx.session.execute(
            select(CrosscheckFinding, CrosscheckPair)
            .join(CrosscheckPair, CrosscheckPair.id == CrosscheckFinding.pair_id)
            .where(CrosscheckPair.round_id == round_.id)
            .order_by(CrosscheckPair.id, CrosscheckFinding.id)
        )
    ).all()
    issued = lists.Issued()
    for finding, pair in rows:
        draft = lists.Draft(
            task_texts.TASK_KIND_PROBLEM,
            [],
            due,
            task_texts.CROSSCHECK_TASK_TITLE.format(quarter=label, finding=finding.text),
            task_texts.CROSSCHECK_TASK_CRITERIA,
        )
        item = await lists.new_item(ctx, unit.id, pair.reviewed_id, month, draft, by.id)
        finding.task_item_id = item.id
        issued.items.append(item)
        reviewed = await ctx.session.get(Branch, pair.reviewed_id)
        if reviewed is not None and reviewed not in issued.units:
            issued.units.append(reviewed)
    await ctx.session.flush()
    if issued.items:
        await lists.announce(ctx, unit, month, issued)
    counts = await pair_counts(ctx, round_.id)
    summary = "\n".join(
        [
            task_texts.CROSSCHECK_SUMMARY_HEAD.format(unit=unit.name, quarter=label),
            *(
                task_texts.CROSSCHECK_SUMMARY_LINE.format(reviewer=a.name, reviewed=b.name, count=n)
                for a, b, n in counts
            ),
            task_texts.CROSSCHECK_SUMMARY_TOTAL.format(
                pairs=len(counts), findings=len(rows), due=lists.date_text(due, today)
            ),
        ]
    )
    return Closed(round_, issued.items, len(issued.units), due, summary)
