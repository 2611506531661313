"""Checks that the sample question bank (bot/data/sample_questions.json) is well-formed."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

BANK = Path(__file__).parent.parent / "bot/data/sample_questions.json"

TYPES = {"single", "multi", "judge", "blank"}
TAGS = {
    "党章",
    "党员",
    "入党程序",
    "组织制度",
    "基层组织",
    "组织生活",
    "三会一课",
    "主题党日",
    "民主评议",
    "纪律",
    "党史",
}
REQUIRED = ("key", "type", "stem", "options", "answer", "explanation", "source", "tags", "difficulty")
LETTERS = "ABCDE"
KEY_RE = re.compile(r"^(dz|zb|fz|ds)-\d{4}$")
# A document in 《》 followed by an article, chapter, section or part (or the constitution's 总纲 / 题注).
SOURCE_RE = re.compile(r"《[^》]+》.*(第[一二三四五六七八九十百零〇\d]+(条|章|节|部分)|总纲|题注)")
# Key prefix -> the document its source must name (党史 items may cite several works).
# Options are listed in a fixed order, but explanations should name the option, not its position.
POSITIONAL_RE = re.compile(r"前[二三四五两]项|选项\s*[A-E]")
PREFIX_DOC = {
    "dz": "《中国共产党章程》",
    "zb": "《中国共产党支部工作条例（试行）》",
    "fz": "《中国共产党发展党员工作细则》",
}


def load() -> dict[str, Any]:
    return json.loads(BANK.read_text(encoding="utf-8"))


def questions() -> list[dict[str, Any]]:
    return load()["questions"]


def problems_of(q: dict[str, Any]) -> list[str]:
    """Everything wrong with one question (empty if it is well-formed)."""
    missing = [f for f in REQUIRED if f not in q]
    if missing:
        return [f"missing fields {missing}"]
    out: list[str] = []
    qtype, options, answer = q["type"], q["options"], q["answer"]
    if qtype not in TYPES:
        return [f"unknown type {qtype!r}"]
    if not isinstance(q["stem"], str) or not q["stem"].strip():
        out.append("empty stem")
    if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
        out.append("options must be a list of non-empty strings")
    elif len(set(options)) != len(options):
        out.append("duplicate options")
    if qtype == "single":
        if len(options) != 4:
            out.append(f"single needs exactly 4 options, has {len(options)}")
        if not (isinstance(answer, str) and len(answer) == 1 and answer in LETTERS[: len(options)]):
            out.append(f"single answer {answer!r} is not one letter among the options")
    elif qtype == "multi":
        if not 4 <= len(options) <= 5:
            out.append(f"multi needs 4-5 options, has {len(options)}")
        valid = LETTERS[: len(options)]
        if not isinstance(answer, str) or not answer:
            out.append("multi answer must be a string of letters")
        else:
            if len(answer) < 2:
                out.append("multi needs at least 2 correct letters")
            if len(set(answer)) != len(answer) or list(answer) != sorted(answer):
                out.append(f"multi answer {answer!r} must be distinct letters in order")
            if any(ch not in valid for ch in answer):
                out.append(f"multi answer {answer!r} has letters outside the options")
            if len(set(answer)) >= len(options):
                out.append("multi answer must not mark every option correct")
    elif qtype == "judge":
        if answer not in ("对", "错"):
            out.append(f"judge answer {answer!r} must be 对 or 错")
        if options:
            out.append("judge must have no options")
    elif qtype == "blank":
        if not isinstance(answer, list) or not answer or not all(isinstance(a, str) and a.strip() for a in answer):
            out.append("blank answer must be a non-empty list of non-empty strings")
        if "____" not in q["stem"]:
            out.append("blank stem must contain ____")
        if options:
            out.append("blank must have no options")
    if not isinstance(q["explanation"], str) or not q["explanation"].strip():
        out.append("empty explanation")
    elif POSITIONAL_RE.search(q["explanation"]):
        out.append("explanation refers to options by position")
    source = q["source"]
    if not isinstance(source, str) or not SOURCE_RE.search(source):
        out.append(f"source {source!r} does not name a document and an article/chapter/section")
    tags = q["tags"]
    if not isinstance(tags, list) or not tags or len(set(tags)) != len(tags) or not set(tags) <= TAGS:
        out.append(f"tags {tags!r} must be distinct values from the fixed set")
    difficulty = q["difficulty"]
    if isinstance(difficulty, bool) or difficulty not in (1, 2, 3):
        out.append(f"difficulty {difficulty!r} must be 1, 2 or 3")
    key = q["key"]
    if not isinstance(key, str) or not KEY_RE.match(key):
        out.append(f"key {key!r} must look like dz-0001")
    elif key[:2] in PREFIX_DOC and isinstance(source, str) and PREFIX_DOC[key[:2]] not in source:
        out.append(f"{key[:2]} questions must cite {PREFIX_DOC[key[:2]]}")
    return out


def test_file_header():
    data = load()
    assert data["version"] == 1
    assert data["title"].strip()
    assert data["note"].strip()
    assert isinstance(data["questions"], list)


def test_every_question_is_well_formed():
    bad = {}
    for i, q in enumerate(questions()):
        problems = problems_of(q)
        if problems:
            bad[q.get("key", f"#{i}")] = problems
    assert not bad, bad


def test_keys_are_unique():
    counts = Counter(q["key"] for q in questions())
    assert not [k for k, n in counts.items() if n > 1]


def test_stems_are_unique():
    counts = Counter(q["stem"].strip() for q in questions())
    assert not [s for s, n in counts.items() if n > 1]


def test_at_least_200_questions():
    assert len(questions()) >= 200


def test_each_tag_has_at_least_10_questions():
    counts = Counter(tag for q in questions() for tag in q["tags"])
    thin = {tag: counts[tag] for tag in TAGS if counts[tag] < 10}
    assert not thin, thin


def test_all_four_types_present_and_judges_not_one_sided():
    qs = questions()
    assert {q["type"] for q in qs} == TYPES
    judges = Counter(q["answer"] for q in qs if q["type"] == "judge")
    total = sum(judges.values())
    assert judges["对"] * 3 <= total * 2 and judges["错"] * 3 <= total * 2, judges


def test_the_checker_catches_mistakes():
    good = {
        "key": "dz-9999",
        "type": "single",
        "stem": "示例？",
        "options": ["甲", "乙", "丙", "丁"],
        "answer": "B",
        "explanation": "说明。",
        "source": "《中国共产党章程》第一章第一条",
        "tags": ["党章"],
        "difficulty": 1,
    }
    assert problems_of(good) == []
    assert problems_of({**good, "answer": "E"})
    assert problems_of({**good, "options": ["甲", "乙", "丙"]})
    assert problems_of({**good, "source": "党章第一条"})
    assert problems_of({**good, "source": "《中国共产党章程》"})
    assert problems_of({**good, "tags": ["其他"]})
    assert problems_of({**good, "difficulty": 4})
    assert problems_of({**good, "type": "multi", "answer": "ABCD"})
    assert problems_of({**good, "type": "multi", "answer": "A"})
    assert problems_of({**good, "type": "judge", "answer": "对"})
    assert problems_of({**good, "type": "blank", "options": [], "answer": ["甲"]})
    assert problems_of({**good, "key": "zb-0001"})
    assert problems_of({**good, "explanation": "前四项都对。"})
