"""Answer parsing, forgiving as people type on phones: 'B', 'ｂ', '选B', '答案是B', 'B.', 'B、C', '对', '√', …"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.core.normalize import fold, strip_edges
from bot.quiz.models import Question, QuestionType

LETTERS = "ABCDEF"
_PREFIX = re.compile(r"^(?:我|俺)?(?:的)?(?:选择?|答案?(?:是|为|选)?|答|选项)\s*[:：]?\s*")
_SINGLE = re.compile(r"^([a-f])\s*[.。、)）,，]?$")
_MULTI = re.compile(r"^([a-f](?:\s*[,，、/ 和及与]?\s*[a-f])*)$")
_TRUE = {"对", "√", "✓", "✔", "正确", "是", "对的", "t", "true", "yes", "y", "o", "〇", "⭕"}
_FALSE = {"错", "×", "✗", "✘", "x", "错误", "否", "错的", "不对", "f", "false", "no", "n"}
_BLANK_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def _core(text: str) -> str:
    """Folded text without surrounding punctuation or an answer prefix ('选', '答案是', …)."""
    folded = strip_edges(fold(text))
    return strip_edges(_PREFIX.sub("", folded)) if _PREFIX.match(folded) else folded


def has_answer_prefix(text: str) -> bool:
    """Did the member mark this as an answer ('答 …', '答案是…', '选B')?"""
    return bool(_PREFIX.match(strip_edges(fold(text))))


def may_answer(text: str, *, any_text: bool, marked_text: bool, addressed: bool) -> bool:
    """Whether text could answer a live question whose type is unknown (False only when it certainly cannot).

    Any answer-shaped text could (a letter or letters, 对/错, √/×); other text only where a blank is live:
    any text (any_text: a 抢答/竞赛/practice blank), or text marked as an answer ('答 …') or addressed to the bot
    (marked_text: a 每日一题 blank, see engine.accepts).
    """
    symbol = fold(text).strip()
    if symbol and symbol[-1] in "√✓✔×✗✘":
        return True
    core = _core(text)
    if not core:
        return False
    if core in _TRUE or core in _FALSE or _SINGLE.match(core) or _MULTI.match(core):
        return True
    return any_text or (marked_text and (addressed or has_answer_prefix(text)))


def normalize_blank(text: str) -> str:
    """Blank answers compare without width, case, spaces or punctuation."""
    return _BLANK_NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def parse(text: str, question: Question) -> str | None:
    """The canonical answer ('B', 'AC', '对', or a blank's text), or None if this is not an answer."""
    kind = question.type
    symbol = fold(text).strip()
    if kind == QuestionType.JUDGE and symbol and symbol[-1] in "√✓✔×✗✘":  # symbols are trimmed as punctuation below
        return "对" if symbol[-1] in "√✓✔" else "错"
    core = _core(text)
    if not core:
        return None
    if kind == QuestionType.JUDGE:
        if core in _TRUE:
            return "对"
        if core in _FALSE:
            return "错"
        return None
    if kind in (QuestionType.SINGLE, QuestionType.MULTI):
        allowed = LETTERS[: len(question.options)].lower()
        match = _SINGLE.match(core) if kind == QuestionType.SINGLE else _MULTI.match(core)
        if match is None:
            return None
        letters = sorted({ch for ch in match.group(1) if ch in LETTERS.lower()})
        if not letters or any(ch not in allowed for ch in letters):
            return None
        return "".join(letters).upper()
    value = normalize_blank(core)
    return value or None


def accepted(question: Question) -> list[str]:
    """Every accepted answer of a question, canonical."""
    answer: Any = question.answer
    if question.type == QuestionType.BLANK:
        values = answer if isinstance(answer, list) else [answer]
        return [normalize_blank(str(v)) for v in values]
    if question.type == QuestionType.MULTI:
        return ["".join(sorted(str(answer).upper()))]
    return [str(answer).upper() if question.type == QuestionType.SINGLE else str(answer)]


def is_correct(canonical: str, question: Question) -> bool:
    return canonical in accepted(question)


def display_answer(question: Question) -> str:
    """The answer as members should read it: 'B. 党旗', '对', or the first accepted blank."""
    answer: Any = question.answer
    if question.type == QuestionType.BLANK:
        values = answer if isinstance(answer, list) else [answer]
        return str(values[0])
    if question.type in (QuestionType.SINGLE, QuestionType.MULTI):
        letters = "".join(sorted(str(answer).upper()))
        parts = [
            f"{ch}. {question.options[LETTERS.index(ch)]}"
            for ch in letters
            if LETTERS.index(ch) < len(question.options)
        ]
        return "；".join(parts)
    return str(answer)
