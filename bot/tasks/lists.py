"""月清单: issuing items to the units below, a branch's list, completion, extension, reminders, overdue, 季调度.

Authority (bot/core/authority.py, bot/core/org.py): a unit issues only to units strictly below it; an extension is decided by
a secretary of the issuing unit or of a unit above it; a branch reports on and asks about its own items only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, or_, select

from bot.core import authority, org, texts
from bot.core.authority import holders
from bot.core.context import Context
from bot.core.holidays import is_workday
from bot.core.models import Branch, Chat, Member, Role, UnitKind
from bot.meetings.domain import period_of
from bot.tasks import texts as task_texts
from bot.tasks.models import ExtensionStatus, TaskItem, TaskStatus

_MONTH = re.compile(task_texts.TASK_MONTH_PATTERN)
_DATE = re.compile(task_texts.TASK_DUE_PATTERN)
_CRITERIA = re.compile(task_texts.TASK_CRITERIA_PATTERN)
_OWNER_SEPARATORS = re.compile(f"[{re.escape(task_texts.TASK_OWNER_SEPARATORS)}]")
MAX_ITEMS = 200  # one message, or one file: a list is never longer


class TaskInputError(ValueError):
    """An item the issuer wrote that cannot be issued; the message is shown to them."""


@dataclass
class Draft:
    """An item as written, before it is issued: owners are unit names (or 全部支部) still to resolve."""

    kind: str
    owners: list[str]
    due: date
    title: str
    criteria: str = ""
    line: int = 0


@dataclass
class Issued:
    items: list[TaskItem] = field(default_factory=list)
    units: list[Branch] = field(default_factory=list)


def local_today(ctx: Context) -> date:
    return ctx.clock().astimezone(ctx.config.tz).date()


def month_key(day: date) -> str:
    return f"{day:%Y-%m}"


def _month_parts(token: str) -> tuple[int | None, int] | None:
    """'12月' / '2026年12月' as (year or None, month)."""
    match = _MONTH.match(unicodedata.normalize("NFKC", token))
    if not match:
        return None
    month = int(match.group(2))
    if not 1 <= month <= 12:
        return None
    return (int(match.group(1)) if match.group(1) else None), month


def parse_month(token: str, today: date) -> str | None:
    """'12月' / '2026年12月' as "2026-12": a month without a year is last month (a late list), this month, or the
    next one of that name (on 3 January '12月' is the December just past; on 25 November '10月' is this October and
    '9月' next September)."""
    parts = _month_parts(token)
    if parts is None:
        return None
    year, month = parts
    if year is None:
        if (month - today.month) % 12 == 11:  # last month, across the year end too
            year = today.year - (month > today.month)
        else:
            year = today.year + (month < today.month)
    return f"{year}-{month:02d}"


def view_month(token: str, today: date) -> str | None:
    """The month a 本月清单 asks for: a month without a year is the nearest of that name, before or after today
    (on 25 November '12月' is next month, '1月' next January, '9月' this September; six months either way is the
    past one)."""
    parts = _month_parts(token)
    if parts is None:
        return None
    year, month = parts
    if year is None:
        ahead = (month - today.month) % 12
        year = today.year + (month < today.month) if ahead < 6 else today.year - (month > today.month)
    return f"{year}-{month:02d}"


def parse_due(token: str, month: str) -> date | None:
    """'12月20日前', '12-20', '2026-12-20' within a list of month. Without a year the date is in the list's year,
    or in the next one when that is less than six months after the list's month (a 12月 list's '1月10日前' is next
    January); otherwise a due month before the list's month stays in its year, and check_due refuses it."""
    match = _DATE.match(unicodedata.normalize("NFKC", token))
    if not match:
        return None
    list_year, list_month = (int(part) for part in month.split("-"))
    due_month, day = int(match.group(2)), int(match.group(3))
    next_year = due_month < list_month and due_month + 12 - list_month < 6
    year = int(match.group(1)) if match.group(1) else list_year + next_year
    return _date_or_none(year, due_month, day)


def parse_extension_due(token: str, today: date) -> date | None:
    """The new time limit a 延期 asks for; one with a year is taken as written. Without a year: this year's date
    unless it passed more than a month ago, then next year's (asked in December, a 12月 item's '6月30日' is next June;
    '1月12日' on 1月15日 is the date just past, which the caller refuses, as it does '12月30日' for an item due
    12月31日: not later than its due date)."""
    match = _DATE.match(unicodedata.normalize("NFKC", token))
    if not match:
        return None
    month, day = int(match.group(2)), int(match.group(3))
    if match.group(1):
        return _date_or_none(int(match.group(1)), month, day)
    if _date_or_none(today.year, month, day) is None:  # (2月29日 in a common year: no date, not a later leap year)
        return None
    for year in (today.year - 1, today.year, today.year + 1):  # ('12月31日' on 1月5日: the one just past)
        asked = _date_or_none(year, month, day)
        if asked is not None and asked >= today - _JUST_PAST:
            return asked
    return None


def _date_or_none(year: int, month: int, day: int) -> date | None:
    """The date, or None when the calendar has no such day (2月30日, 2月29日 in a common year)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


_JUST_PAST = timedelta(days=31)  # a date without a year this recent is the one just past (a slip), not next year's


def check_due(due: date, month: str, today: date, line: str) -> None:
    """A due date before the list's month, or already past, is a slip: the line is refused, named."""
    list_year, list_month = (int(part) for part in month.split("-"))
    if due < date(list_year, list_month, 1):
        raise TaskInputError(
            task_texts.TASK_DUE_BEFORE_MONTH.format(line=line, due=date_text(due, today), month=month_label(month))
        )
    if due < today:
        raise TaskInputError(task_texts.TASK_DUE_PAST.format(line=line, due=date_text(due, today)))


def parse_item(line: str, month: str, today: date, number: int = 0) -> Draft:
    """One item: '<类别> <责任单位[、单位…]|全部支部> <时限> <内容> [完成标准：…]', due in or after its month."""
    parts = unicodedata.normalize("NFKC", line).split(maxsplit=3)
    if len(parts) < 4:
        raise TaskInputError(task_texts.TASK_ITEM_FORMAT.format(line=line.strip()))
    kind, owners, due_text, rest = parts
    if kind not in task_texts.TASK_KINDS:
        raise TaskInputError(
            task_texts.TASK_BAD_KIND.format(kind=kind, kinds=texts.LIST_SEPARATOR.join(task_texts.TASK_KINDS))
        )
    due = parse_due(due_text, month)
    if due is None:
        raise TaskInputError(task_texts.TASK_BAD_DUE.format(due=due_text))
    check_due(due, month, today, line.strip())
    title, _, criteria = (piece.strip() for piece in _split_criteria(rest))
    if not title:
        raise TaskInputError(task_texts.TASK_ITEM_FORMAT.format(line=line.strip()))
    names = [name for name in _OWNER_SEPARATORS.split(owners) if name]
    return Draft(kind, names, due, title, criteria, number)


def _split_criteria(rest: str) -> tuple[str, str, str]:
    match = _CRITERIA.search(rest)
    if match is None:
        return rest, "", ""
    return rest[: match.start()], "", rest[match.end() :]


def parse_list(text: str, today: date) -> tuple[str, list[Draft]]:
    """A 下发清单 message: '[月份] item' on one line, or '[月份]' then an item per line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise TaskInputError(task_texts.TASK_ISSUE_USAGE)
    head, _, rest = lines[0].partition(" ")
    month = parse_month(head, today)
    if month is None:
        month, first = month_key(today), lines[0]
    else:
        first = rest.strip()
    item_lines = ([first] if first else []) + lines[1:]
    if not item_lines:
        raise TaskInputError(task_texts.TASK_ISSUE_USAGE)
    if len(item_lines) > MAX_ITEMS:
        raise TaskInputError(task_texts.TASK_TOO_MANY.format(limit=MAX_ITEMS))
    return month, [parse_item(line, month, today, i + 1) for i, line in enumerate(item_lines)]


async def resolve_owners(ctx: Context, issuer: Branch, names: list[str]) -> list[Branch]:
    """The units named (or every 党支部 below issuer for 全部支部); each must be strictly below the issuer."""
    below = [unit for unit in await org.subtree(ctx.session, issuer.id) if unit.id != issuer.id]
    units: list[Branch] = []
    for name in names:
        if name in task_texts.TASK_ALL_BRANCHES:
            chosen = [unit for unit in below if unit.kind == UnitKind.BRANCH]
            if not chosen:
                raise TaskInputError(task_texts.TASK_NO_UNITS_BELOW.format(unit=issuer.name))
        else:
            found = next((unit for unit in below if name in (unit.name, unit.key)), None)
            if found is None:
                raise TaskInputError(task_texts.TASK_OWNER_NOT_BELOW.format(name=name, unit=issuer.name))
            chosen = [found]
        units.extend(unit for unit in chosen if unit not in units)
    return units


async def next_seq(ctx: Context, branch_id: int) -> int:
    return (await ctx.session.scalar(select(func.max(TaskItem.seq)).where(TaskItem.branch_id == branch_id)) or 0) + 1


async def new_item(
    ctx: Context,
    issuer_id: int,
    branch_id: int,
    month: str,
    draft: Draft,
    by_id: int | None,
    recurring_key: str | None = None,
) -> TaskItem:
    """Write one open item of the unit branch_id, numbered next in its list (the one place a TaskItem is made)."""
    item = TaskItem(
        issuer_id=issuer_id,
        branch_id=branch_id,
        seq=await next_seq(ctx, branch_id),
        month=month,
        kind=draft.kind,
        title=draft.title,
        criteria=draft.criteria,
        due=draft.due,
        original_due=draft.due,
        status=TaskStatus.OPEN,
        done_note="",
        extension_reason="",
        reminders_sent=[],
        recurring_key=recurring_key,
        created_by=by_id,
        created_at=ctx.clock(),
    )
    ctx.session.add(item)
    await ctx.session.flush()
    return item


async def issue(
    ctx: Context, issuer: Branch, month: str, drafts: list[Draft], by: Member | None, recurring_key: str | None = None
) -> Issued:
    """Write the items (one row per owner unit); every owner is checked before anything is written."""
    resolved = [(draft, await resolve_owners(ctx, issuer, draft.owners)) for draft in drafts]
    result = Issued()
    for draft, units in resolved:
        for unit in units:
            if recurring_key is not None and await ctx.session.scalar(
                select(TaskItem.id).where(TaskItem.branch_id == unit.id, TaskItem.recurring_key == recurring_key)
            ):
                continue
            item = await new_item(
                ctx, issuer.id, unit.id, month, draft, by.id if by is not None else None, recurring_key
            )
            result.items.append(item)
            if unit not in result.units:
                result.units.append(unit)
    return result


async def unit_chats(ctx: Context, unit_id: int) -> list[Chat]:
    return list(await ctx.session.scalars(select(Chat).where(Chat.branch_id == unit_id).order_by(Chat.id)))


def item_line(item: TaskItem, today: date) -> str:
    """One item as a branch sees it, with its state."""
    if item.status == TaskStatus.DONE:
        state = task_texts.TASK_STATE_DONE
    elif item.due < today:
        state = task_texts.TASK_STATE_OVERDUE
    elif item.extension_status == ExtensionStatus.REQUESTED:
        state = task_texts.TASK_STATE_EXTENSION_ASKED
    else:
        state = task_texts.TASK_STATE_OPEN
    criteria = task_texts.TASK_CRITERIA.format(criteria=item.criteria) if item.criteria else ""
    return task_texts.TASK_LINE.format(
        seq=item.seq, kind=item.kind, title=item.title, due=date_text(item.due, today), criteria=criteria, state=state
    )


def date_text(day: date, today: date) -> str:
    """'12月20日'; with its year when that is not today's ('2027年1月10日')."""
    if day.year != today.year:
        return task_texts.TASK_DATE_YEAR.format(year=day.year, month=day.month, day=day.day)
    return task_texts.TASK_DATE.format(month=day.month, day=day.day)


async def announce(ctx: Context, issuer: Branch, month: str, issued: Issued) -> None:
    """Tell each owner unit's chats its new items."""
    today = local_today(ctx)
    for unit in issued.units:
        items = [item for item in issued.items if item.branch_id == unit.id]
        text = task_texts.TASK_ANNOUNCE.format(
            issuer=issuer.name,
            unit=unit.name,
            month=month_label(month),
            lines="\n".join(item_line(item, today) for item in items),
        )
        for chat in await unit_chats(ctx, unit.id):
            await ctx.send_to_chat(chat, text)


def month_label(month: str) -> str:
    """'2026-12' as '2026年12月'."""
    year, number = month.split("-")
    return task_texts.TASK_MONTH.format(year=int(year), month=int(number))


def month_arg(month: str, today: date) -> str:
    """What to write after 本月清单 for month: '12月', with the year when it is not this year's."""
    year, number = (int(part) for part in month.split("-"))
    return task_texts.TASK_MONTH_ARG.format(month=number) if year == today.year else month_label(month)


def _later_lines(months: list[str], today: date) -> str:
    """One line per later month whose list is already issued (a 党委 issues December's on 25 November)."""
    return "".join(
        "\n" + task_texts.TASK_LIST_LATER.format(month=month_label(m), arg=month_arg(m, today)) for m in months
    )


async def branch_list(ctx: Context, unit: Branch, month: str | None = None) -> str:
    """本月清单 of a unit: its items of this month and any earlier ones still open, and which later months' lists
    are issued already; 本月清单 12月: that month's items."""
    today = local_today(ctx)
    current = month_key(today)
    month = month or current
    shown = TaskItem.month == month
    if month == current:
        shown = or_(TaskItem.month == month, TaskItem.status == TaskStatus.OPEN) & (TaskItem.month <= month)
    items = list(
        await ctx.session.scalars(select(TaskItem).where(TaskItem.branch_id == unit.id, shown).order_by(TaskItem.seq))
    )
    later = ""
    if month == current:
        months = await ctx.session.scalars(
            select(TaskItem.month)
            .where(TaskItem.branch_id == unit.id, TaskItem.month > month)
            .distinct()
            .order_by(TaskItem.month)
        )
        later = _later_lines(list(months), today)
    if not items:
        return task_texts.TASK_LIST_EMPTY.format(unit=unit.name, month=month_label(month)) + later
    lines = "\n".join(item_line(item, today) for item in items)
    return task_texts.TASK_LIST_HEAD.format(unit=unit.name, month=month_label(month)) + lines + later


async def issued_overview(ctx: Context, unit: Branch, month: str | None = None) -> str:
    """本月清单 of a higher unit: the month's items it (or a unit below it) issued, counted per owner unit, and which
    later months' lists are issued already; 本月清单 12月: that month's."""
    today = local_today(ctx)
    current = month_key(today)
    month = month or current
    below = await org.subtree(ctx.session, unit.id)
    ids = [u.id for u in below]
    mine_below = TaskItem.issuer_id.in_(ids) & TaskItem.branch_id.in_(ids)
    items = list(await ctx.session.scalars(select(TaskItem).where(mine_below, TaskItem.month == month)))
    later = ""
    if month == current:
        months = await ctx.session.scalars(
            select(TaskItem.month).where(mine_below, TaskItem.month > month).distinct().order_by(TaskItem.month)
        )
        later = _later_lines(list(months), today)
    if not items:
        return task_texts.TASK_OVERVIEW_EMPTY.format(unit=unit.name, month=month_label(month)) + later
    lines = []
    for owner in below:
        mine = [item for item in items if item.branch_id == owner.id]
        if not mine:
            continue
        done = sum(item.status == TaskStatus.DONE for item in mine)
        overdue = sum(item.status == TaskStatus.OPEN and item.due < today for item in mine)
        lines.append(task_texts.TASK_OVERVIEW_LINE.format(unit=owner.name, total=len(mine), done=done, overdue=overdue))
    return task_texts.TASK_OVERVIEW_HEAD.format(unit=unit.name, month=month_label(month)) + "\n".join(lines) + later


async def own_item(ctx: Context, member: Member, seq: int) -> TaskItem | None:
    """Item seq of the member's own unit: a unit acts on its own items only (never a sibling's or one below)."""
    return await ctx.session.scalar(select(TaskItem).where(TaskItem.branch_id == member.branch_id, TaskItem.seq == seq))


async def complete(ctx: Context, item: TaskItem, member: Member, note: str) -> bool:
    """Record the item done with who, when and the note; False if it already was."""
    if item.status == TaskStatus.DONE:
        return False
    item.status = TaskStatus.DONE
    item.done_at = ctx.clock()
    item.done_by = member.id
    item.done_note = note
    await ctx.session.flush()
    return True


async def request_extension(ctx: Context, item: TaskItem, member: Member, new_due: date, reason: str) -> bool:
    """Record the request and tell the issuing unit's secretaries privately; whether any of them was reached."""
    item.extension_status = ExtensionStatus.REQUESTED
    item.extension_due = new_due
    item.extension_reason = reason
    item.extension_requested_by = member.id
    item.extension_requested_at = ctx.clock()
    item.extension_decided_by = None
    item.extension_decided_at = None
    await ctx.session.flush()
    unit = await ctx.session.get(Branch, item.branch_id)
    today = local_today(ctx)
    text = task_texts.TASK_EXTENSION_TO_ISSUER.format(
        unit=unit.name if unit else "",
        seq=item.seq,
        title=item.title,
        due=date_text(item.due, today),
        new_due=date_text(new_due, today),
        reason=reason,
    )
    reached = False
    for secretary in await ctx.session.scalars(holders(item.issuer_id, Role.SECRETARY)):
        if await ctx.send_to_member(secretary, text):
            reached = True
    return reached


async def decide_extension(ctx: Context, item: TaskItem, member: Member, approve: bool) -> None:
    """A secretary of the issuing unit (or above) approves (the due date moves) or refuses; the branch is told."""
    item.extension_status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    item.extension_decided_by = member.id
    item.extension_decided_at = ctx.clock()
    if approve and item.extension_due is not None:
        item.due = item.extension_due
        item.reminders_sent = []
        item.overdue_reported_at = None
    await ctx.session.flush()
    template = task_texts.TASK_EXTENSION_APPROVED_NOTE if approve else task_texts.TASK_EXTENSION_REFUSED_NOTE
    text = template.format(seq=item.seq, title=item.title, due=date_text(item.due, local_today(ctx)))
    for chat in await unit_chats(ctx, item.branch_id):
        await ctx.send_to_chat(chat, text)


def may_decide(member: Member, issuer: Branch) -> bool:
    """Only a secretary of the issuing unit or of a unit above it decides on an extension."""
    return authority.may(member, Role.SECRETARY, issuer)


# --- Reminders and overdue reports (schedules/tasks.py) --------------------------------------------------------


def workdays_before(due: date, count: int) -> date:
    """The day `count` workdays before due (holidays and 调休 from bot/core/holidays.py); due itself for 0."""
    day = due
    while count > 0:
        day -= timedelta(days=1)
        if is_workday(day):
            count -= 1
    return day


def reminder_days(due: date, count: int) -> list[date]:
    """When to remind: `count` workdays before due, and on the due day (the last workday before it, if due falls
    on a holiday or a weekend). At most these two."""
    last = due
    while not is_workday(last) and last > due - timedelta(days=14):
        last -= timedelta(days=1)
    days = [workdays_before(due, count), last] if count else [last]
    return sorted(set(days))


async def send_reminders(ctx: Context) -> int:
    """Remind each open item's unit (its secretaries, privately) on its reminder days, once per day and item."""
    today = local_today(ctx)
    horizon = today + timedelta(days=40)
    items = list(
        await ctx.session.scalars(
            select(TaskItem)
            .where(TaskItem.status == TaskStatus.OPEN, TaskItem.due >= today, TaskItem.due <= horizon)
            .order_by(TaskItem.branch_id, TaskItem.seq)
        )
    )
    due_now: dict[int, list[TaskItem]] = {}
    for item in items:
        days = reminder_days(item.due, ctx.config.tasks.remind_workdays_before)
        if today in days and today.isoformat() not in item.reminders_sent and len(item.reminders_sent) < len(days):
            item.reminders_sent = [*item.reminders_sent, today.isoformat()]
            due_now.setdefault(item.branch_id, []).append(item)
    for branch_id, mine in due_now.items():
        lines = "\n".join(
            task_texts.TASK_REMINDER_LINE.format(
                seq=i.seq, title=i.title, due=date_text(i.due, today), days=_days_left(i, today)
            )
            for i in mine
        )
        text = task_texts.TASK_REMINDER.format(lines=lines)
        for secretary in await ctx.session.scalars(holders(branch_id, Role.SECRETARY)):
            await ctx.send_to_member(secretary, text)
    await ctx.session.flush()
    return sum(len(mine) for mine in due_now.values())


def _days_left(item: TaskItem, today: date) -> str:
    return (
        task_texts.TASK_DUE_TODAY if item.due == today else task_texts.TASK_DUE_IN.format(days=(item.due - today).days)
    )


async def report_overdue(ctx: Context) -> int:
    """Items past their due day and not done: once each, to the issuing unit's secretaries, privately."""
    today = local_today(ctx)
    items = list(
        await ctx.session.scalars(
            select(TaskItem)
            .where(TaskItem.status == TaskStatus.OPEN, TaskItem.due < today, TaskItem.overdue_reported_at.is_(None))
            .order_by(TaskItem.issuer_id, TaskItem.branch_id, TaskItem.seq)
        )
    )
    by_issuer: dict[int, list[TaskItem]] = {}
    for item in items:
        item.overdue_reported_at = ctx.clock()
        by_issuer.setdefault(item.issuer_id, []).append(item)
    for issuer_id, mine in by_issuer.items():
        names = {
            u.id: u.name
            for u in await ctx.session.scalars(select(Branch).where(Branch.id.in_({i.branch_id for i in mine})))
        }
        lines = "\n".join(
            task_texts.TASK_OVERDUE_LINE.format(
                unit=names.get(i.branch_id, ""), seq=i.seq, title=i.title, due=date_text(i.due, today)
            )
            for i in mine
        )
        for secretary in await ctx.session.scalars(holders(issuer_id, Role.SECRETARY)):
            await ctx.send_to_member(secretary, task_texts.TASK_OVERDUE.format(lines=lines))
    await ctx.session.flush()
    return len(items)


async def issue_recurring(ctx: Context) -> int:
    """[[tasks.recurring]]: this month's items, once per rule, owner and month."""
    today = local_today(ctx)
    month = month_key(today)
    written = 0
    for i, rule in enumerate(ctx.config.tasks.recurring):
        issuer = await ctx.session.scalar(select(Branch).where(Branch.key == rule.unit))
        if issuer is None:
            continue
        owners = list(rule.owners) or [task_texts.TASK_ALL_BRANCHES[0]]
        names = [(await ctx.session.scalar(select(Branch.name).where(Branch.key == key))) or key for key in owners]
        draft = Draft(rule.kind, names, date(today.year, today.month, rule.due_day), rule.title, rule.criteria)
        try:
            issued = await issue(ctx, issuer, month, [draft], None, recurring_key=f"{i + 1}:{month}")
        except TaskInputError:
            continue
        if issued.items:
            await announce(ctx, issuer, month, issued)
        written += len(issued.items)
    return written


# --- 季调度 ---------------------------------------------------------------------------------------------------


@dataclass
class QuarterRow:
    unit: Branch
    total: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0


def quarter_bounds(key: str) -> tuple[date, date]:
    """'2026Q4' → [first day, first day of the next quarter)."""
    match = re.fullmatch(r"(\d{4})\s*[Qq]([1-4])", key.strip())
    if match is None:
        raise TaskInputError(task_texts.TASK_BAD_QUARTER.format(quarter=key))
    _, start, end, _ = period_of(date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1), "quarter")
    return start, end


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def on_time(item: TaskItem, tz: tzinfo) -> bool:
    """Done by the due date in force (an approved extension counts)."""
    assert item.done_at is not None
    return item.done_at.astimezone(tz).date() <= item.due


async def quarter_items(ctx: Context, unit: Branch, start: date, end: date) -> list[TaskItem]:
    """Items of the units below the unit (issued by it, by a unit above or below it) due in [start, end)."""
    ids = await org.units_below(ctx.session, unit.id)
    return list(
        await ctx.session.scalars(
            select(TaskItem)
            .where(
                TaskItem.branch_id.in_(ids), TaskItem.branch_id != unit.id, TaskItem.due >= start, TaskItem.due < end
            )
            .order_by(TaskItem.branch_id, TaskItem.seq)
        )
    )


async def quarter_summary(ctx: Context, unit: Branch, key: str) -> tuple[list[QuarterRow], list[TaskItem]]:
    """Per unit below: items due in the quarter done on time, done late, still open (as of now)."""
    start, end = quarter_bounds(key)
    items = await quarter_items(ctx, unit, start, end)
    rows = {u.id: QuarterRow(u) for u in await org.subtree(ctx.session, unit.id) if u.id != unit.id}
    for item in items:
        row = rows.get(item.branch_id)
        if row is None:
            continue
        row.total += 1
        if item.status != TaskStatus.DONE:
            row.open += 1
        elif on_time(item, ctx.config.tz):
            row.on_time += 1
        else:
            row.late += 1
    return [row for row in rows.values() if row.total], items


async def quarter_text(ctx: Context, unit: Branch, key: str) -> str:
    rows, _ = await quarter_summary(ctx, unit, key)
    year, quarter = key[:4], key[-1]
    if not rows:
        return task_texts.TASK_QUARTER_EMPTY.format(unit=unit.name, year=year, quarter=quarter)
    lines = "\n".join(
        task_texts.TASK_QUARTER_LINE.format(
            unit=r.unit.name, total=r.total, on_time=r.on_time, late=r.late, open=r.open
        )
        for r in rows
    )
    return (
        task_texts.TASK_QUARTER_HEAD.format(unit=unit.name, year=year, quarter=quarter)
        + lines
        + task_texts.TASK_QUARTER_TOTAL.format(
            total=sum(r.total for r in rows),
            on_time=sum(r.on_time for r in rows),
            late=sum(r.late for r in rows),
            open=sum(r.open for r in rows),
        )
    )


async def push_quarter(ctx: Context) -> int:
    """On the first day of a quarter: last quarter's 季调度 to each higher unit's secretaries that issued items."""
    today = local_today(ctx)
    last = quarter_of(today - timedelta(days=1))
    start, end = quarter_bounds(last)
    issuers = set(
        await ctx.session.scalars(select(TaskItem.issuer_id).where(TaskItem.due >= start, TaskItem.due < end))
    )
    sent = 0
    for unit in await ctx.session.scalars(select(Branch).where(Branch.id.in_(issuers)).order_by(Branch.id)):
        text = await quarter_text(ctx, unit, last)
        for secretary in await ctx.session.scalars(holders(unit.id, Role.SECRETARY)):
            sent += await ctx.send_to_member(secretary, text)
    return sent


def local_midnight(day: date, ctx: Context) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.config.tz)
