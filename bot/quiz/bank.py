"""The question bank: validate rows, import them by stable key, export them, seed the sample bank."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.db import transaction
from bot.quiz import texts as quiz_texts
from bot.quiz.models import Question, QuestionType

LETTERS = "ABCDEFGH"
SINGLE_OPTIONS = (2, 6)
MULTI_OPTIONS = (2, 8)
KEY_MAX = 80
_HASH_PREFIX = "q-"
_LIST_SEPARATORS = re.compile(r"[|｜]")
_BLANK_SEPARATORS = re.compile(r"[|｜;；]")
_TAG_SEPARATORS = re.compile(r"[、,，;；\s]+")
_ANSWER_SEPARATORS = re.compile(r"[\s,，、;；.．/|｜]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_UNDERSCORES = re.compile(r"_{2,}")
_CHUNK = 500
CELL_MAX = 10_000  # characters of one cell; a row with a longer one is rejected
IMPORT_CHUNK = 500  # questions per transaction of an import
IMPORT_PAUSE_SQLITE = 0.12  # seconds between an import's transactions on SQLite (its busy handler polls every 0.1 s)


@dataclass(frozen=True)
class QuestionData:
    """One validated question, as the importer stores it."""

    key: str
    type: str
    stem: str
    options: tuple[str, ...]
    answer: str | tuple[str, ...]  # a tuple of accepted answers for blanks
    explanation: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    difficulty: int = 1

    @classmethod
    def of(cls, question: Question) -> QuestionData:
        """The stored question in the importer's form, for comparing and exporting."""
        answer = question.answer
        return cls(
            key=question.key,
            type=question.type,
            stem=question.stem,
            options=tuple(question.options or ()),
            answer=tuple(answer) if isinstance(answer, list) else str(answer),
            explanation=question.explanation or "",
            source=question.source or "",
            tags=tuple(question.tags or ()),
            difficulty=question.difficulty,
        )

    def columns(self) -> dict[str, Any]:
        """These fields as the question table stores them (JSON lists, not tuples)."""
        return {
            "key": self.key,
            "type": self.type,
            "stem": self.stem,
            "options": list(self.options),
            "answer": list(self.answer) if isinstance(self.answer, tuple) else self.answer,
            "explanation": self.explanation,
            "source": self.source,
            "tags": list(self.tags),
            "difficulty": self.difficulty,
        }


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported: its number as the user sees it (a sheet's header is row 1) and why."""

    row: int
    reason: str


@dataclass
class ParsedBank:
    """Good questions (with their rows) and rejected rows of one file."""

    questions: list[tuple[int, QuestionData]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    unit: str = "row"  # what the numbers count: sheet rows, or a JSON bank's items


@dataclass
class ImportResult:
    """What an import did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.added + self.updated + self.unchanged


class BankFileError(Exception):
    """The file as a whole cannot be read (unknown format, no header, missing columns)."""


class RowError(Exception):
    """One row is invalid; the message is the reason shown to the user."""


# --- Column names ---------------------------------------------------------------------------
_ALIASES: dict[str, tuple[str, ...]] = {
    "key": ("key", "id", "编号", "题号", "题目编号"),
    "type": ("type", "题型", "类型", "题目类型"),
    "stem": ("stem", "question", "题干", "题目", "题目内容"),
    "options": ("options", "选项"),
    "answer": ("answer", "答案", "正确答案", "参考答案"),
    "explanation": ("explanation", "解析", "答案解析", "说明"),
    "source": ("source", "出处", "来源", "依据"),
    "tags": ("tags", "tag", "标签", "分类"),
    "difficulty": ("difficulty", "难度"),
}
HEADER_NAMES = {
    "key": "编号",
    "type": "题型",
    "stem": "题干",
    "answer": "答案",
    "explanation": "解析",
    "source": "出处",
    "tags": "标签",
    "difficulty": "难度",
}


def _fold(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).lower()


def _column_names() -> dict[str, str]:
    names = {_fold(alias): name for name, aliases in _ALIASES.items() for alias in aliases}
    for letter in LETTERS:
        for alias in (letter, f"选项{letter}", f"{letter}选项", f"option{letter}"):
            names[_fold(alias)] = letter
    return names


_COLUMNS = _column_names()


def column_of(header: object) -> str | None:
    """The field (or option letter) a header cell names, in English or Chinese; None if unknown."""
    return _COLUMNS.get(_fold(cell_text(header)))


def cell_text(value: object) -> str:
    """A cell as text: integral floats without '.0', control characters removed, ends trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "对" if value else "错"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _CONTROL.sub("", str(value)).strip()


# --- Validation -----------------------------------------------------------------------------
def stable_key(qtype: str, stem: str) -> str:
    """A key derived from the type and the normalised stem, so an unkeyed row re-imports to itself."""
    folded = _UNDERSCORES.sub("__", _SPACES.sub("", unicodedata.normalize("NFKC", stem)))
    digest = hashlib.sha1(f"{qtype}\n{folded}".encode()).hexdigest()[:16]
    return _HASH_PREFIX + digest


def _text_list(value: object, separators: re.Pattern[str], *, lines: bool = False) -> list[str]:
    """A list cell (JSON list, or text split on newlines or the separators), without empty items."""
    if isinstance(value, list | tuple):
        return [cell_text(v) for v in value if cell_text(v)]
    text = cell_text(value)
    if not text:
        return []
    parts = text.splitlines() if lines and "\n" in text else separators.split(text)
    return [p.strip() for p in parts if p.strip()]


def _strip_label(option: str, letter: str) -> str:
    """'A. 实现共产主义' → '实现共产主义' (only the label of this option's own letter)."""
    match = re.match(rf"^[{letter}{letter.lower()}{chr(ord(letter) + 0xFEE0)}]\s*[.．、:：)）]\s*", option)
    return option[match.end() :].strip() if match else option


def _options(row: Mapping[str, object]) -> list[str]:
    if row.get("options") not in (None, "", [], ()):
        raw = _text_list(row["options"], _LIST_SEPARATORS, lines=True)
    else:
        raw = [cell_text(row.get(letter)) for letter in LETTERS]
        while raw and not raw[-1]:
            raw.pop()
        if "" in raw:
            raise RowError(quiz_texts.BANK_ROW_OPTION_GAP.format(letter=LETTERS[raw.index("")]))
    return [_strip_label(option, LETTERS[i]) if i < len(LETTERS) else option for i, option in enumerate(raw)]


def _letters(answer: object) -> str:
    text = unicodedata.normalize("NFKC", cell_text(answer)).upper()
    letters = _ANSWER_SEPARATORS.sub("", text)
    if not letters or not letters.isascii() or not letters.isalpha():
        raise RowError(quiz_texts.BANK_ROW_NOT_LETTERS.format(answer=cell_text(answer)))
    return letters


def _choice(qtype: str, options: list[str], answer: object) -> str:
    low, high = SINGLE_OPTIONS if qtype == QuestionType.SINGLE else MULTI_OPTIONS
    if not low <= len(options) <= high:
        raise RowError(
            quiz_texts.BANK_ROW_OPTION_COUNT.format(
                type=quiz_texts.QUESTION_TYPE_NAMES[qtype], low=low, high=high, count=len(options)
            )
        )
    if len(set(options)) != len(options):
        raise RowError(quiz_texts.BANK_ROW_OPTIONS_SAME)
    letters = _letters(answer)
    valid = LETTERS[: len(options)]
    outside = [ch for ch in letters if ch not in valid]
    if outside:
        raise RowError(
            quiz_texts.BANK_ROW_ANSWER_OUTSIDE.format(letters="".join(outside), first=valid[0], last=valid[-1])
        )
    if qtype == QuestionType.SINGLE:
        if len(letters) != 1:
            raise RowError(quiz_texts.BANK_ROW_SINGLE_ONE_LETTER.format(letters=letters))
        return letters
    if len(set(letters)) != len(letters):
        raise RowError(quiz_texts.BANK_ROW_MULTI_REPEATS.format(letters=letters))
    if len(letters) < 2:
        raise RowError(quiz_texts.BANK_ROW_MULTI_TWO_LETTERS)
    return "".join(sorted(letters))


def _judge(answer: object) -> str:
    word = _fold(cell_text(answer)).rstrip("。.")
    if word in quiz_texts.BANK_JUDGE_TRUE:
        return quiz_texts.BANK_JUDGE_TRUE[0]
    if word in quiz_texts.BANK_JUDGE_FALSE:
        return quiz_texts.BANK_JUDGE_FALSE[0]
    raise RowError(quiz_texts.BANK_ROW_JUDGE_ANSWER.format(answer=cell_text(answer)))


def _difficulty(value: object) -> int:
    text = cell_text(value)
    if not text:
        return 1
    if text in quiz_texts.BANK_DIFFICULTY_WORDS:
        return quiz_texts.BANK_DIFFICULTY_WORDS[text]
    if not text.isdigit() or not 1 <= int(text) <= 3:
        raise RowError(quiz_texts.BANK_ROW_DIFFICULTY.format(value=text))
    return int(text)


def question_from_row(row: Mapping[str, object]) -> QuestionData:
    """Validate one row (field name → cell value); raise RowError with a short reason."""
    if any(len(value) > CELL_MAX for value in row.values() if isinstance(value, str)):
        raise RowError(quiz_texts.BANK_ROW_TOO_LONG.format(limit=CELL_MAX))
    type_text = cell_text(row.get("type"))
    stem = cell_text(row.get("stem"))
    missing = [HEADER_NAMES[name] for name, value in (("type", type_text), ("stem", stem)) if not value]
    answer = row.get("answer")
    if answer in (None, [], ()) or (not isinstance(answer, list | tuple) and not cell_text(answer)):
        missing.append(HEADER_NAMES["answer"])
    if missing:
        raise RowError(quiz_texts.BANK_ROW_MISSING.format(fields=quiz_texts.BANK_ROW_FIELD_SEPARATOR.join(missing)))
    qtype = quiz_texts.BANK_TYPE_WORDS.get(_fold(type_text))
    if qtype is None:
        raise RowError(quiz_texts.BANK_ROW_UNKNOWN_TYPE.format(type=type_text))
    options: list[str] = []
    parsed: str | tuple[str, ...]
    if qtype in (QuestionType.SINGLE, QuestionType.MULTI):
        options = _options(row)
        parsed = _choice(qtype, options, answer)
    elif qtype == QuestionType.JUDGE:
        parsed = _judge(answer)
    else:
        accepted = _text_list(answer, _BLANK_SEPARATORS)
        if not accepted:
            raise RowError(quiz_texts.BANK_ROW_BLANK_ANSWER)
        parsed = tuple(dict.fromkeys(accepted))
    key = cell_text(row.get("key")) or stable_key(qtype, stem)
    if len(key) > KEY_MAX:
        raise RowError(quiz_texts.BANK_ROW_KEY_TOO_LONG.format(limit=KEY_MAX))
    return QuestionData(
        key=key,
        type=qtype,
        stem=stem,
        options=tuple(options),
        answer=parsed,
        explanation=cell_text(row.get("explanation")),
        source=cell_text(row.get("source")),
        tags=tuple(dict.fromkeys(_text_list(row.get("tags"), _TAG_SEPARATORS))),
        difficulty=_difficulty(row.get("difficulty")),
    )


def parse_rows(rows: Iterable[tuple[int, Mapping[str, object]]], unit: str = "row") -> ParsedBank:
    """Validate numbered rows; a key seen twice in one file rejects the later row."""
    bank = ParsedBank(unit=unit)
    seen: dict[str, int] = {}
    for number, row in rows:
        try:
            question = question_from_row(row)
        except RowError as exc:
            bank.rejected.append(Rejected(number, str(exc)))
            continue
        if question.key in seen:
            unit_word = quiz_texts.BANK_ROW_UNITS.get(unit, unit)
            reason = quiz_texts.BANK_ROW_DUPLICATE.format(row=seen[question.key], unit=unit_word)
            bank.rejected.append(Rejected(number, reason))
            continue
        seen[question.key] = number
        bank.questions.append((number, question))
    return bank


def rows_from_json(data: object, name: str = "") -> list[tuple[int, dict[str, object]]]:
    """The questions of a JSON bank ({"questions": [...]} or a bare list), numbered from 1; name is the file's."""
    items = data.get("questions") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise BankFileError(quiz_texts.BANK_FILE_JSON_SHAPE.format(name=name))
    rows: list[tuple[int, dict[str, object]]] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append((number, {}))
            continue
        row: dict[str, object] = {}
        for name, value in item.items():
            column = column_of(name)
            if column is not None:
                row[column] = value
        rows.append((number, row))
    return rows


# --- Import -----------------------------------------------------------------------------------
async def fingerprint(session: AsyncSession) -> tuple[int, datetime | None]:
    """A cheap version of the bank: row count and the newest change — both read from indexes, not the table
    (200,000 questions are a table of 100 MB, and a 搜题 asks this inside its message's transaction)."""
    total, newest = (await session.execute(select(func.count(Question.id), func.max(Question.updated_at)))).one()
    return int(total or 0), newest


async def active_count(session: AsyncSession) -> int:
    """How many questions are active (this one reads the table)."""
    return int(await session.scalar(select(func.count(Question.id)).where(Question.active)) or 0)


async def _stamp(session: AsyncSession, now: datetime) -> datetime:
    """now, or just after the newest change if that is later (another process's clock), so the
    bank's fingerprint always moves forward when something changes."""
    newest = await session.scalar(select(func.max(Question.updated_at)))
    return max(now, newest + timedelta(milliseconds=1)) if newest is not None else now


async def import_bank(
    sessions: async_sessionmaker[AsyncSession], questions: Sequence[QuestionData], now: datetime
) -> ImportResult:
    """Import in short transactions of IMPORT_CHUNK questions each, so that a bot running on the same database
    keeps writing meanwhile: on SQLite a transaction holds the only write lock, so after each chunk the import
    pauses long enough (IMPORT_PAUSE_SQLITE) for a writer polling in SQLite's busy handler to get in.

    Not atomic: an import stopped half-way leaves the chunks it committed; importing the file again (keys are
    stable) adds the rest and leaves those unchanged.
    """
    result = ImportResult()
    for start in range(0, len(questions), IMPORT_CHUNK):
        async with transaction(sessions) as session:
            sqlite = session.get_bind().dialect.name == "sqlite"
            part = await import_questions(session, questions[start : start + IMPORT_CHUNK], now)
        result.added += part.added
        result.updated += part.updated
        result.unchanged += part.unchanged
        if sqlite and start + IMPORT_CHUNK < len(questions):
            await asyncio.sleep(IMPORT_PAUSE_SQLITE)
    return result


async def import_questions(session: AsyncSession, questions: Sequence[QuestionData], now: datetime) -> ImportResult:
    """Add new keys, update changed ones, leave identical ones; reactivate any that were retired."""
    result = ImportResult()
    if not questions:
        return result
    stamp = await _stamp(session, now)
    keys = [q.key for q in questions]
    existing: dict[str, Question] = {}
    for start in range(0, len(keys), _CHUNK):
        found = await session.scalars(select(Question).where(Question.key.in_(keys[start : start + _CHUNK])))
        existing.update((q.key, q) for q in found)
    new_rows: list[dict[str, Any]] = []
    for data in questions:
        stored = existing.get(data.key)
        if stored is None:
            new_rows.append({**data.columns(), "active": True, "created_at": stamp, "updated_at": stamp})
            result.added += 1
        elif QuestionData.of(stored) == data and stored.active:
            result.unchanged += 1
        else:
            for name, value in data.columns().items():
                setattr(stored, name, value)
            stored.active = True
            stored.updated_at = stamp
            result.updated += 1
    await session.flush()
    if new_rows:
        # One multi-row INSERT: the ORM's per-object bookkeeping costs more than the insert itself.
        await session.execute(insert(Question), new_rows)
    return result


# --- The shipped sample bank ------------------------------------------------------------------
def sample_bank() -> ParsedBank:
    """The sample questions shipped in bot/quiz/data/sample_questions.json."""
    text = resources.files("bot.quiz").joinpath("data/sample_questions.json").read_text(encoding="utf-8")
    return parse_rows(rows_from_json(json.loads(text)), unit="item")


@functools.cache
def _sample_questions() -> tuple[QuestionData, ...]:
    """The sample bank's questions, parsed once per process (a shipped file; QuestionData is immutable)."""
    return tuple(q for _, q in sample_bank().questions)


async def seed_sample_bank(session: AsyncSession, now: datetime) -> int:
    """Import the sample bank if the question table is empty; return how many were added.

    A savepoint keeps a second process seeding at the same moment from failing start-up.
    """
    if await session.scalar(select(Question.id).limit(1)) is not None:
        return 0
    try:
        async with session.begin_nested():
            result = await import_questions(session, _sample_questions(), now)
    except IntegrityError:
        return 0
    return result.added
