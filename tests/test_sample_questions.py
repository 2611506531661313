"""Checks that the sample question bank (bot/quiz/data/sample_questions.json) is well-formed."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

BANK = Path(__file__).parent.parent / "bot/quiz/data/sample_questions.json"

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
    "党内政治生活",
}
REQUIRED = ("key", "type", "stem", "options", "answer", "explanation", "source", "tags", "difficulty")
LETTERS = "ABCDE"
KEY_RE = re.compile(r"^(dz|zb|fz|jl|zz|ds)-\d{4}$")
MIN_QUESTIONS = 350
# Options are listed in a fixed order, but explanations should name the option, not its position.
POSITIONAL_RE = re.compile(r"前[二三四五两]项|选项\s*[A-E]")
# The bot shows the question type itself; a stem must not carry its own tag.
TYPE_TAG_RE = re.compile(r"[（(]\s*(多选|单选|判断|填空|不定项)\s*[）)]")

# Citations must point into the document, not just name it (a chapter alone is not enough).
# Key prefix -> the document its source must name, and what must follow it.
_N = "[一二三四五六七八九十百零〇\\d]+"
ARTICLE = f"第{_N}条"
PREFIX_DOC = {
    "dz": "《中国共产党章程》",
    "zb": "《中国共产党支部工作条例（试行）》",
    "fz": "《中国共产党发展党员工作细则》",
    "jl": "《中国共产党纪律处分条例》",
    "zz": "《关于新形势下党内政治生活的若干准则》",
}
CITATION_RE = {
    # 党章: an article, or its 总纲 / 题注.
    "dz": re.compile(f"《中国共产党章程》.*({ARTICLE}|总纲|题注)"),
    # 条例 / 细则: an article (第X条, or a range 第X条至第Y条).
    "zb": re.compile(f"《中国共产党支部工作条例（试行）》.*{ARTICLE}"),
    "fz": re.compile(f"《中国共产党发展党员工作细则》.*{ARTICLE}"),
    "jl": re.compile(f"《中国共产党纪律处分条例》.*{ARTICLE}"),
    # 准则: one of its twelve numbered parts, its 序言 or its 题注.
    "zz": re.compile(f"《关于新形势下党内政治生活的若干准则》.*(第{_N}部分|序言|题注)"),
}
# 党史 items may cite any of these, each down to a findable place.
HISTORY_CITATIONS = (
    # the 党章's 总纲 / 题注 / an article
    re.compile(f"《中国共产党章程》.*({ARTICLE}|总纲|题注)"),
    # the histories: chapter and section with its title
    re.compile(f"《(中国共产党简史|中华人民共和国简史)》第{_N}章第{_N}节“[^”]+”"),
    # the 中共中央党史和文献研究院 chronicle: the dated entry
    re.compile(r"《中国共产党一百年大事记[^》]*》\d{4}年\d{1,2}月(至\d{1,2}月)?条"),
    # a plenary session's communiqué (short, no parts)
    re.compile(r"《中国共产党第[^》]+全体会议公报》"),
    # a congress's short resolution (no parts)
    re.compile(r"《中国共产党第[^》]+全国代表大会关于[^》]+的决议》"),
    # a 决议 / 决定 / congress report: its 序言, 题注, 开篇 or a numbered part
    re.compile(f"《[^》]*(决议|决定|报告)》.*(第{_N}部分|序言|题注|开篇)"),
)


def citation_problem(key: str, source: str) -> str | None:
    """Why `source` is not an article-level citation for a question keyed `key`, or None if it is."""
    prefix = key[:2]
    if prefix in PREFIX_DOC and PREFIX_DOC[prefix] not in source:
        return f"{prefix} questions must cite {PREFIX_DOC[prefix]}"
    if prefix in CITATION_RE:
        ok = bool(CITATION_RE[prefix].search(source))
    else:
        ok = any(pattern.search(source) for pattern in HISTORY_CITATIONS)
    return None if ok else f"source {source!r} is not cited down to the article/part/entry"


def normalized(text: str) -> str:
    """Text without spaces, punctuation and blanks, for comparing stems and options."""
    return re.sub(r"[\W_]+", "", text)


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
    elif TYPE_TAG_RE.search(q["stem"]):
        out.append("stem carries a type tag like （多选）")
    if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
        out.append("options must be a list of non-empty strings")
    elif len({normalized(o) for o in options}) != len(options):
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
    if not isinstance(source, str) or not source.strip():
        out.append("no source")
    tags = q["tags"]
    if not isinstance(tags, list) or not tags or len(set(tags)) != len(tags) or not set(tags) <= TAGS:
        out.append(f"tags {tags!r} must be distinct values from the fixed set")
    difficulty = q["difficulty"]
    if isinstance(difficulty, bool) or difficulty not in (1, 2, 3):
        out.append(f"difficulty {difficulty!r} must be 1, 2 or 3")
    key = q["key"]
    if not isinstance(key, str) or not KEY_RE.match(key):
        out.append(f"key {key!r} must look like dz-0001")
    elif isinstance(source, str) and (problem := citation_problem(key, source)):
        out.append(problem)
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


def test_stems_are_unique_after_normalising_punctuation_and_spaces():
    counts = Counter(normalized(q["stem"]) for q in questions())
    assert not [s for s, n in counts.items() if n > 1]


def test_at_least_350_questions():
    assert len(questions()) >= MIN_QUESTIONS


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
    assert problems_of({**good, "explanation": ""})
    assert problems_of({**good, "options": ["甲", "乙", "丙", "甲。"]})
    assert problems_of({**good, "stem": "示例（多选）"})
    assert problems_of({**good, "stem": "示例？(单选)"})
    # A chapter is not an article; each document has its own accepted citation forms.
    assert problems_of({**good, "source": "《中国共产党章程》第一章"})
    assert problems_of({**good, "source": "《中国共产党章程》总纲"}) == []
    zb = {**good, "key": "zb-9999", "source": "《中国共产党支部工作条例（试行）》第五章“组织生活”"}
    assert problems_of(zb)
    assert problems_of({**zb, "source": "《中国共产党支部工作条例（试行）》第五章第十六条"}) == []
    zz = {**good, "key": "zz-9999", "tags": ["党内政治生活"], "source": "《关于新形势下党内政治生活的若干准则》"}
    assert problems_of(zz)
    assert problems_of({**zz, "source": "《关于新形势下党内政治生活的若干准则》第九部分“严格党的组织生活制度”"}) == []
    jl = {**good, "key": "jl-9999", "source": "《中国共产党纪律处分条例》第二编"}
    assert problems_of(jl)
    assert problems_of({**jl, "source": "《中国共产党纪律处分条例》第八条"}) == []
    ds = {**good, "key": "ds-9999", "tags": ["党史"], "source": "《中国共产党简史》第一章"}
    assert problems_of(ds)
    assert problems_of({**ds, "source": "《中国共产党简史》第一章第二节“中国共产党的创建”"}) == []
    assert problems_of({**ds, "source": "《中共中央关于党的百年奋斗重大成就和历史经验的决议》"})
    assert problems_of({**ds, "source": "《中共中央关于党的百年奋斗重大成就和历史经验的决议》第六部分"}) == []
    assert problems_of({**ds, "source": "《中国共产党第二十届中央委员会第三次全体会议公报》"}) == []
    assert problems_of({**ds, "source": "《中国共产党一百年大事记（1921年7月—2021年6月）》1921年7月条"}) == []
