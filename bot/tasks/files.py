"""月清单 as xlsx: the import template, reading a filled template (bounded), 季调度 and 年评比 workbooks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook

from bot.core import display, texts
from bot.core.sheets import add_sheet, local_minute
from bot.quiz.bank import BankFileError
from bot.quiz.bankfile import check_xlsx
from bot.tasks import texts as task_texts
from bot.tasks.lists import Draft, QuarterRow, TaskInputError, on_time, parse_due, parse_item, parse_month
from bot.tasks.models import TaskItem, TaskStatus
from bot.tasks.scoring import RULES, BranchScore

MAX_ROWS = 2_000  # a month's list of a large 党委 is a few hundred items
COLUMNS = 6


def write_template(path: Path, today: date) -> None:
    """An xlsx with the header row and two example rows for the month after today's (importable as they are)."""
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    fields = {"month": f"{first:%Y-%m}", "day20": f"{first:%Y-%m}-20", "last": f"{last:%Y-%m-%d}"}
    rows = [tuple(cell.format(**fields) for cell in row) for row in task_texts.TASK_TEMPLATE_EXAMPLES]
    book = Workbook()
    add_sheet(book, task_texts.TASK_SHEET_LIST, list(task_texts.TASK_TEMPLATE_HEADER), rows, first=True)
    book.save(path)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value).strip()


def read_list(path: Path, today: date) -> tuple[list[tuple[str, Draft]], list[str]]:
    """The filled template's items as (month, draft), and one line per bad row (then nothing should be issued).

    The file is bounded before it is unpacked (bot/quiz/bankfile.py check_xlsx) and read streaming, at most
    MAX_ROWS rows of COLUMNS cells.
    """
    if path.suffix.lower() != ".xlsx":
        raise TaskInputError(task_texts.TASK_FILE_NOT_XLSX.format(name=path.name))
    try:
        check_xlsx(path)
    except BankFileError as exc:
        raise TaskInputError(str(exc)) from None
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises whatever its parsers meet in a malformed file
        raise TaskInputError(task_texts.TASK_FILE_UNREADABLE.format(name=path.name, reason=str(exc)[:200])) from None
    items: list[tuple[str, Draft]] = []
    errors: list[str] = []
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(max_col=COLUMNS, max_row=MAX_ROWS + 2, values_only=True)
        header = [_cell(v) for v in next(rows, ())]
        if tuple(header[: len(task_texts.TASK_TEMPLATE_HEADER)]) != task_texts.TASK_TEMPLATE_HEADER:
            raise TaskInputError(
                task_texts.TASK_FILE_HEADER.format(header=texts.LIST_SEPARATOR.join(task_texts.TASK_TEMPLATE_HEADER))
            )
        for number, values in enumerate(rows, start=2):
            if number > MAX_ROWS + 1:
                raise TaskInputError(task_texts.TASK_TOO_MANY.format(limit=MAX_ROWS))
            cells = [_cell(v) for v in values] + [""] * COLUMNS
            if not any(cells[:COLUMNS]):
                continue
            month_text, kind, owners, due, title, criteria = cells[:COLUMNS]
            month = parse_month(month_text, today) or (month_text if _is_month_key(month_text) else None)
            if month is None:
                errors.append(
                    task_texts.TASK_FILE_ROW.format(
                        row=number, reason=task_texts.TASK_BAD_MONTH.format(month=month_text)
                    )
                )
                continue
            try:
                if parse_due(due, month) is None:
                    raise TaskInputError(task_texts.TASK_BAD_DUE.format(due=due))
                line = f"{kind} {owners.replace(' ', '')} {due} {title}"
                draft = parse_item(line, month, today, number)
                draft.criteria = criteria
                items.append((month, draft))
            except TaskInputError as exc:
                errors.append(task_texts.TASK_FILE_ROW.format(row=number, reason=str(exc)))
    finally:
        book.close()
    return items, errors


def _is_month_key(text: str) -> bool:
    parts = text.split("-")
    return (
        len(parts) == 2
        and parts[0].isdigit()
        and parts[1].isdigit()
        and 1 <= int(parts[1]) <= 12
        and len(parts[0]) == 4
    )


def item_state(item: TaskItem, tz: ZoneInfo) -> str:
    if item.status != TaskStatus.DONE:
        return task_texts.TASK_XLSX_OPEN
    return task_texts.TASK_XLSX_ON_TIME if on_time(item, tz) else task_texts.TASK_XLSX_LATE


def write_quarter(
    path: Path,
    rows: list[QuarterRow],
    items: list[TaskItem],
    names: dict[int, str],
    members: dict[int, str],
    tz: ZoneInfo,
) -> None:
    """季调度: a summary sheet (a line per unit) and every item with who did what when."""
    book = Workbook()
    summary = [[r.unit.name, r.total, r.on_time, r.late, r.open] for r in rows]
    add_sheet(book, task_texts.TASK_SHEET_SUMMARY, list(task_texts.TASK_QUARTER_HEADER), summary, first=True)
    detail = [
        [
            names.get(item.branch_id, ""),
            item.seq,
            names.get(item.issuer_id, ""),
            item.kind,
            item.title,
            item.criteria,
            f"{item.original_due:%Y-%m-%d}",
            f"{item.due:%Y-%m-%d}",
            item_state(item, tz),
            local_minute(item.done_at, tz),
            members.get(item.done_by or 0, ""),
            item.done_note,
            task_texts.TASK_EXTENSION_STATES.get(item.extension_status or "", ""),
            f"{item.extension_due:%Y-%m-%d}" if item.extension_due else "",
            item.extension_reason,
            members.get(item.extension_requested_by or 0, ""),
            local_minute(item.extension_requested_at, tz),
            members.get(item.extension_decided_by or 0, ""),
            local_minute(item.extension_decided_at, tz),
        ]
        for item in items
    ]
    add_sheet(book, task_texts.TASK_SHEET_DETAIL, list(task_texts.TASK_DETAIL_HEADER), detail)
    book.save(path)


def write_scores(path: Path, scores: list[BranchScore], year: int) -> None:
    """年评比: the ranking with each rule's score, and each rule's inputs."""
    book = Workbook()
    names = [task_texts.SCORE_RULE_NAMES[rule] for rule in RULES]
    table = [
        [row.place, row.item.unit.name, *(r.score for r in row.item.rules), row.item.total]
        for row in display.ranking(scores, lambda s: s.total)
    ]
    add_sheet(
        book,
        task_texts.SCORE_SHEET_RANKING.format(year=year),
        [task_texts.SCORE_COL_RANK, task_texts.SCORE_COL_UNIT, *names, task_texts.SCORE_COL_TOTAL],
        table,
        first=True,
    )
    detail = [
        [s.unit.name, task_texts.SCORE_RULE_NAMES[r.rule], r.score, r.full, r.detail] for s in scores for r in s.rules
    ]
    add_sheet(book, task_texts.SCORE_SHEET_DETAIL, list(task_texts.SCORE_DETAIL_HEADER), detail)
    book.save(path)
