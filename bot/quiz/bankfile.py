"""Question bank files: read xlsx / csv / json into rows, and write the bank back as xlsx."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.models import Question
from bot.quiz.bank import (
    HEADER_NAMES,
    LETTERS,
    BankFileError,
    ParsedBank,
    QuestionData,
    cell_text,
    column_of,
    parse_rows,
    rows_from_json,
)

SUFFIXES = (".xlsx", ".xlsm", ".csv", ".json")
_REQUIRED_COLUMNS = ("type", "stem", "answer")
_MIN_EXPORT_OPTIONS = 4


def read_bank(path: Path) -> ParsedBank:
    """Read and validate a bank file; raise BankFileError if the file as a whole is unusable."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BankFileError(f"{path.name}: expected one of {', '.join(SUFFIXES)} (save .xls files as .xlsx)")
    try:
        if suffix == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except json.JSONDecodeError as exc:
                raise BankFileError(f"{path.name}: not valid JSON ({exc})") from None
            return parse_rows(rows_from_json(data), unit="item")
        rows = _csv_rows(path) if suffix == ".csv" else _xlsx_rows(path)
    except OSError as exc:
        raise BankFileError(f"{path}: {exc.strerror or exc}") from None
    return parse_rows(_sheet_rows(rows))


def _xlsx_rows(path: Path) -> Iterable[tuple[int, Sequence[object]]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (KeyError, ValueError, OSError) as exc:
        raise BankFileError(f"{path.name}: not a readable xlsx file ({exc})") from None
    try:
        sheet = book.worksheets[0]
        return [(number, row) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        book.close()


def _csv_rows(path: Path) -> Iterable[tuple[int, Sequence[object]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")  # Excel on Chinese Windows saves CSV as GBK
    # A spreadsheet numbers records, not lines: a quoted cell may span several lines.
    return list(enumerate(csv.reader(io.StringIO(text, newline="")), start=1))


def _sheet_rows(rows: Iterable[tuple[int, Sequence[object]]]) -> list[tuple[int, dict[str, object]]]:
    """Map the header row's columns to fields; the data rows as field → cell, blank rows skipped."""
    iterator = iter(rows)
    header: list[str | None] | None = None
    for _number, cells in iterator:
        if any(cell_text(c) for c in cells):
            header = [column_of(c) for c in cells]
            break
    if header is None:
        raise BankFileError("the file is empty")
    missing = [HEADER_NAMES[name] + "/" + name for name in _REQUIRED_COLUMNS if name not in header]
    if missing:
        raise BankFileError(f"the header row lacks the column(s) {', '.join(missing)}")
    out: list[tuple[int, dict[str, object]]] = []
    for number, cells in iterator:
        if not any(cell_text(c) for c in cells):
            continue
        row: dict[str, object] = {}
        for column, value in zip(header, cells, strict=False):
            if column is not None and column not in row:
                row[column] = value
        out.append((number, row))
    return out


# --- Export -------------------------------------------------------------------------------------
async def stored_questions(session: AsyncSession) -> list[QuestionData]:
    """The active questions in key order."""
    rows = await session.scalars(select(Question).where(Question.active).order_by(Question.key))
    return [QuestionData.of(q) for q in rows]


def export_row(question: QuestionData, option_columns: int) -> list[object]:
    """One question as a sheet row the importer reads back unchanged."""
    options = list(question.options) + [""] * (option_columns - len(question.options))
    answer = "|".join(question.answer) if isinstance(question.answer, tuple) else question.answer
    return [
        question.key,
        texts.QUESTION_TYPE_NAMES[question.type],
        question.stem,
        *options,
        answer,
        question.explanation,
        question.source,
        texts.LIST_SEPARATOR.join(question.tags),
        question.difficulty,
    ]


def write_xlsx(questions: Sequence[QuestionData], path: Path) -> None:
    """One question per row after a header row: 编号, 题型, 题干, A…, 答案, 解析, 出处, 标签, 难度."""
    option_columns = max([_MIN_EXPORT_OPTIONS, *(len(q.options) for q in questions)])
    header = [
        HEADER_NAMES["key"],
        HEADER_NAMES["type"],
        HEADER_NAMES["stem"],
        *LETTERS[:option_columns],
        *(HEADER_NAMES[name] for name in ("answer", "explanation", "source", "tags", "difficulty")),
    ]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = texts.BANK_SHEET_TITLE
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for question in questions:
        sheet.append(export_row(question, option_columns))
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            # openpyxl treats text starting with "=" as a formula; a question is always text.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    widths = {"A": 14, "B": 6, "C": 60}
    for index in range(1, len(header) + 1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(letter, 24)
    sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def write_json(questions: Sequence[QuestionData], path: Path) -> None:
    """The questions in the JSON bank format (the shipped sample bank's format)."""
    data = {"version": 1, "questions": [q.columns() for q in questions]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_bank(questions: Sequence[QuestionData], path: Path) -> None:
    """Write questions as .json or (any other suffix) .xlsx."""
    if path.suffix.lower() == ".json":
        write_json(questions, path)
    else:
        write_xlsx(questions, path)
