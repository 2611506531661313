"""Question bank files: read xlsx / csv / json into rows, and write the bank back as xlsx."""

from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import json
import logging
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import texts
from bot.quiz import texts as quiz_texts
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
from bot.quiz.models import Question

log = logging.getLogger(__name__)

SUFFIXES = (".xlsx", ".xlsm", ".csv", ".json")
# Bounds of a bank file, checked before reading it (an xlsx from its zip directory) or while streaming it.
MAX_ROWS = 500_000  # records of a sheet or CSV, the header and blank rows included
MAX_COLUMNS = 64  # cells of a row read; a bank uses at most 17
MAX_XLSX_BYTES = 256 * 2**20  # an xlsx's parts unpacked, together (200,000 questions take about 150 MB)
MAX_XLSX_ENTRIES = 1_000  # parts of an xlsx archive (a workbook has a dozen or two)
MAX_XLSX_RATIO = 100  # unpacked ÷ packed size of one part: spreadsheet XML packs 5-20 times, a bomb 1,000
_RATIO_FROM_BYTES = 2**20  # the ratio is checked on parts unpacking to more than this
_REQUIRED_COLUMNS = ("type", "stem", "answer")
_MIN_EXPORT_OPTIONS = 4


def read_bank(path: Path) -> ParsedBank:
    """Read and validate a bank file; raise BankFileError if the file as a whole is unusable.

    Rows are streamed, never all held as text: a file of 200,000 questions costs the questions, not the file
    several times over. Files are bounded (see the limits above) before anything is decompressed.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        suffixes = texts.LIST_SEPARATOR.join(SUFFIXES)
        raise BankFileError(quiz_texts.BANK_FILE_SUFFIX.format(name=path.name, suffixes=suffixes))
    try:
        if suffix == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
                raise BankFileError(_json_error(path.name, exc)) from None
            return parse_rows(rows_from_json(data, path.name), unit="item")
        if suffix == ".csv":
            return parse_rows(_sheet_rows(_csv_rows(path), path.name))
        with _xlsx_sheet(path) as rows:
            return parse_rows(_sheet_rows(rows, path.name))
    except OSError as exc:
        raise BankFileError(_os_error(path, exc)) from None


def _json_error(name: str, exc: Exception) -> str:
    """The JSON parser's complaint, said in Chinese: where it is, not what the parser expected there."""
    if isinstance(exc, json.JSONDecodeError):
        return quiz_texts.BANK_FILE_JSON_AT.format(name=name, line=exc.lineno, column=exc.colno)
    if isinstance(exc, UnicodeDecodeError):
        return quiz_texts.BANK_FILE_JSON_ENCODING.format(name=name)
    return quiz_texts.BANK_FILE_JSON_DEEP.format(name=name)


_OS_ERRORS = {
    errno.ENOENT: quiz_texts.BANK_FILE_NOT_FOUND,
    errno.EACCES: quiz_texts.BANK_FILE_NO_ACCESS,
    errno.EPERM: quiz_texts.BANK_FILE_NO_ACCESS,
    errno.EISDIR: quiz_texts.BANK_FILE_IS_DIR,
}


def _os_error(path: Path, exc: OSError) -> str:
    """A file that cannot be opened or read, in Chinese where the cause is a common one (else the system's words)."""
    template = _OS_ERRORS.get(exc.errno or 0)
    if template is not None:
        return template.format(name=path)
    return quiz_texts.BANK_FILE_UNREADABLE.format(name=path, reason=exc.strerror or exc)


def check_xlsx(path: Path) -> None:
    """Refuse a file that is not a zip archive, or whose entries would decompress to more than the limits
    allow, from the zip's directory alone (reading an entry stops at its declared size)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise BankFileError(quiz_texts.BANK_FILE_NOT_ZIP.format(name=path.name)) from None
    if len(entries) > MAX_XLSX_ENTRIES:
        raise BankFileError(quiz_texts.BANK_FILE_TOO_MANY_PARTS.format(name=path.name, limit=MAX_XLSX_ENTRIES))
    total = sum(entry.file_size for entry in entries)
    if total > MAX_XLSX_BYTES:
        raise BankFileError(
            quiz_texts.BANK_FILE_TOO_BIG.format(name=path.name, size=total // 2**20, limit=MAX_XLSX_BYTES // 2**20)
        )
    for entry in entries:
        if entry.file_size > _RATIO_FROM_BYTES and entry.file_size > MAX_XLSX_RATIO * max(entry.compress_size, 1):
            ratio = entry.file_size // max(entry.compress_size, 1)
            raise BankFileError(quiz_texts.BANK_FILE_RATIO.format(name=path.name, part=entry.filename, ratio=ratio))


@contextlib.contextmanager
def _xlsx_sheet(path: Path) -> Iterator[Iterator[tuple[int, Sequence[object]]]]:
    """The first sheet's rows, streamed (openpyxl's read-only mode), at most MAX_COLUMNS cells each."""
    check_xlsx(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises whatever its parsers meet in a malformed file
        log.debug("%s: openpyxl cannot open it", path.name, exc_info=exc)
        raise BankFileError(quiz_texts.BANK_FILE_BAD_XLSX.format(name=path.name)) from None
    try:
        if not book.worksheets:
            raise BankFileError(quiz_texts.BANK_FILE_NO_SHEET.format(name=path.name))
        sheet = book.worksheets[0]
        # Explicit bounds: a read-only sheet pads every row to the width its <dimension> claims (up to 16,384)
        # and fills gaps between row numbers with empty rows.
        cells = sheet.iter_rows(max_col=MAX_COLUMNS, max_row=MAX_ROWS + 1, values_only=True)
        yield _guarded(enumerate(cells, start=1), path.name)
    finally:
        book.close()


def _guarded(rows: Iterator[tuple[int, Sequence[object]]], name: str) -> Iterator[tuple[int, Sequence[object]]]:
    """rows, with a parser's failure half-way through (a truncated or corrupt part) as a BankFileError."""
    while True:
        try:
            item = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # as in _xlsx_sheet: zipfile, zlib, XML and openpyxl errors alike
            log.debug("%s: reading the sheet failed", name, exc_info=exc)
            raise BankFileError(quiz_texts.BANK_FILE_BAD_XLSX.format(name=name)) from None
        yield item


def _csv_rows(path: Path) -> Iterator[tuple[int, Sequence[object]]]:
    encoding = "utf-8-sig" if _is_utf8(path) else "gb18030"  # Excel on Chinese Windows saves CSV as GBK
    with path.open(encoding=encoding, errors="replace", newline="") as source:
        # A spreadsheet numbers records, not lines: a quoted cell may span several lines.
        reader = csv.reader(source)
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                log.debug("%s: record %d: %s", path.name, number + 1, exc)
                raise BankFileError(quiz_texts.BANK_FILE_BAD_CSV.format(name=path.name, record=number + 1)) from None
            number += 1
            yield number, cells[:MAX_COLUMNS]


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as source:
        try:
            while chunk := source.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _sheet_rows(rows: Iterable[tuple[int, Sequence[object]]], name: str) -> Iterator[tuple[int, dict[str, object]]]:
    """Map the header row's columns to fields; the data rows as field → cell, blank rows skipped."""
    iterator = iter(rows)
    header: list[str | None] | None = None
    for _number, cells in iterator:
        if any(cell_text(c) for c in cells):
            header = [column_of(c) for c in cells]
            break
    if header is None:
        raise BankFileError(quiz_texts.BANK_FILE_EMPTY.format(name=name))
    missing = [
        quiz_texts.BANK_FILE_COLUMN.format(chinese=HEADER_NAMES[field], english=field)
        for field in _REQUIRED_COLUMNS
        if field not in header
    ]
    if missing:
        columns = texts.LIST_SEPARATOR.join(missing)
        raise BankFileError(quiz_texts.BANK_FILE_NO_COLUMNS.format(name=name, columns=columns))
    for number, cells in iterator:
        if number > MAX_ROWS:
            raise BankFileError(quiz_texts.BANK_FILE_TOO_MANY_ROWS.format(name=name, limit=MAX_ROWS))
        if not any(cell_text(c) for c in cells):
            continue
        row: dict[str, object] = {}
        for column, value in zip(header, cells, strict=False):
            if column is not None and column not in row:
                row[column] = value
        yield number, row


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
        quiz_texts.QUESTION_TYPE_NAMES[question.type],
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
    sheet.title = quiz_texts.BANK_SHEET_TITLE
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
