"""搜题: an in-memory index of the active questions, tolerant of partial stems, typos and word order.

Retrieval: an inverted index over jieba words (three or more characters) and character bigrams,
weighted by IDF, picks a few dozen candidates. Re-ranking: rapidfuzz `partial_ratio` (a truncated or
slightly wrong stem, a stem pasted with its options), `token_set_ratio` over jieba words (a different
word order) and the share of the query's weight the candidate covers, blended into a 0-100 score.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import jieba
from rapidfuzz import fuzz
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Question
from bot.quiz.bank import fingerprint

# jieba logs "Building prefix dict …" at DEBUG through its own stderr handler; members never see it,
# and neither should the operator's console. Its dictionary ships inside the package: nothing is fetched.
jieba.setLogLevel(logging.WARNING)


def warm_up() -> None:
    """Load jieba's dictionary now (about 1.5 s), so the first 搜题 does not wait for it."""
    jieba.initialize()


MIN_QUERY_CHARS = 4  # fewer characters than this match too many questions to mean anything
CANDIDATES = 40
_MAX_FEATURES = 48  # of a long query (a stem pasted with its options), the rarest features are plenty
_COMMON_SHARE = 0.2  # features in more than this share of questions are only checked on candidates
_MIN_RARE = 6
# Weights of the blended score; tuned on tests/data/lookup_queries.json (see bench/README.md).
_W_PARTIAL = 0.3
_W_TOKENS = 0.3
_W_COVERAGE = 0.4

_TYPE_MARK = re.compile(r"[（(]\s*(?:单选|多选|判断|填空|单项选择|多项选择)题?\s*[)）]")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# "二〇三五年" and "2035年", "1次" and "一次" are the same to a reader.
_DIGITS = str.maketrans("〇零一二两三四五六七八九", "001223456789")
_NUMERALS = re.compile(r"[〇零一二三四五六七八九]{2,}|[一二两三四五六七八九](?=[次个名人年天种条项届周])")
# Function and question words: they say how something is asked, not what is asked about.
_STOP_TEXT = (
    "的 了 是 吗 呢 啊 吧 和 与 及 或 在 对 把 被 为 由 有 之 其 这 那 哪 哪些 哪个 哪里 哪一 什么 多少 几 个 "
    "怎么 怎样 如何 怎么办 请问 请 下列 以下 下面 一下 应当 应该 可以 需要 规定 指出 要求 根据 按照 "
    "属于 包括 说 问 题 一般"
)
STOP_WORDS = frozenset(_STOP_TEXT.split())
_ASKING = re.compile(r"^(?:多少|哪几|哪一|几)(?=.)")
# Short names members type for the bank's full names (applied to stems and queries alike).
SHORT_NAMES = (
    ("中国共产主义青年团", "共青团"),
    ("中国共产党", "党"),
    ("加入党", "入党"),
    ("中央军事委员会", "中央军委"),
    ("纪律检查委员会", "纪委"),
    ("支部委员会", "支委会"),
    ("党支部党员大会", "党员大会"),
    ("支部党员大会", "党员大会"),
    ("全国代表大会", "全国党代会"),
    ("多久", "多长时间"),
)


def clean(text: str) -> str:
    """Width, case, punctuation, blanks and '(多选)' marks removed; words separated by single spaces."""
    text = _TYPE_MARK.sub(" ", unicodedata.normalize("NFKC", text).lower())
    text = _NUMERALS.sub(lambda m: m.group().translate(_DIGITS), text)
    for full, short in SHORT_NAMES:
        text = text.replace(full, short)
    return _NOT_WORD.sub(" ", text).strip()


def cjk_count(text: str) -> int:
    """How many Chinese characters the text has."""
    return len(_CJK.findall(text))


def too_short(query: str) -> bool:
    """Too little left of the query (without punctuation and question words) to look it up."""
    return len(_Text.of(query).compact) < MIN_QUERY_CHARS


def words(cleaned: str) -> list[str]:
    """jieba words of cleaned text (precise mode, no HMM: stable and fast), without stop words;
    a question word fused with its measure word ("多少岁", "几名") keeps only the measure word."""
    out = []
    for word in jieba.lcut(cleaned, HMM=False):
        word = _ASKING.sub("", word.strip())
        if word and word not in STOP_WORDS:
            out.append(word)
    return out


def features(compact: str, tokens: Iterable[str]) -> set[str]:
    """Character bigrams of the text without spaces, plus its words of three or more characters."""
    grams = {compact[i : i + 2] for i in range(len(compact) - 1)}
    return grams | {w for w in tokens if len(w) >= 3}


@dataclass(frozen=True)
class Match:
    """A question found for a query, with a 0-100 score."""

    question_id: int
    key: str
    score: float


@dataclass(frozen=True)
class Entry:
    """One question prepared for the index (segmenting is the slow part of building it, so a rebuild
    reuses the entries of questions that did not change)."""

    question_id: int
    key: str
    compact: str  # the stem's words without stop words, run together
    tokens: str  # the same words separated by spaces
    context: str  # compact, then the options' words: a pasted option counts as covered
    features: frozenset[str]

    @classmethod
    def of(cls, question_id: int, key: str, stem: str, options: Iterable[str]) -> Entry:
        text = _Text.of(stem)
        context = "|".join([text.compact, *(_Text.of(option).compact for option in options)])
        return cls(
            question_id,
            key,
            text.compact,
            " ".join(text.tokens),
            context,
            frozenset(features(text.compact, text.tokens)),
        )


@dataclass(frozen=True)
class _Text:
    compact: str
    tokens: list[str]

    @classmethod
    def of(cls, text: str) -> _Text:
        tokens = words(clean(text))
        return cls("".join(tokens), tokens)


class LookupIndex:
    """Search structures over one snapshot of the bank; read-only once built."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._docs = list(entries)
        postings: dict[str, list[int]] = {}
        for number, entry in enumerate(self._docs):
            for feature in entry.features:
                postings.setdefault(feature, []).append(number)
        self.size = len(self._docs)
        self._postings = postings
        self._idf = {f: self._idf_of(len(p)) for f, p in postings.items()}
        self._common = max(50, int(self.size * _COMMON_SHARE))
        self._weights = [sum(self._idf[f] for f in entry.features) for entry in self._docs]

    @classmethod
    def of(cls, questions: Iterable[tuple[int, str, str, Iterable[str]]]) -> LookupIndex:
        """An index of (id, key, stem, options) tuples."""
        return cls(Entry.of(*question) for question in questions)

    def _idf_of(self, df: int) -> float:
        return math.log((self.size + 1) / (df + 0.5))

    def search(self, query: str, limit: int = 1) -> list[Match]:
        """The best matches for query, best first (scores are not filtered here)."""
        text = _Text.of(query)
        if len(text.compact) < MIN_QUERY_CHARS or not self._docs:
            return []
        wanted = {f: self._idf.get(f, self._idf_of(0)) for f in features(text.compact, text.tokens)}
        total = sum(wanted.values())
        # Rarest first; common features (e.g. "党员") only count once candidates are chosen.
        ranked = sorted((f for f in wanted if f in self._postings), key=lambda f: len(self._postings[f]))
        ranked = ranked[:_MAX_FEATURES]
        used = [f for f in ranked if len(self._postings[f]) <= self._common]
        if len(used) < _MIN_RARE:
            used = ranked[:_MIN_RARE]
        scores: dict[int, float] = {}
        get = scores.get
        for feature in used:
            weight = self._idf[feature]
            for number in self._postings[feature]:
                scores[number] = get(number, 0.0) + weight
        chosen = heapq.nlargest(CANDIDATES, scores.items(), key=lambda item: item[1])
        query_tokens = " ".join(text.tokens)
        results: list[tuple[float, float, Entry]] = []
        for number, retrieval in chosen:
            doc, weight = self._docs[number], self._weights[number]
            coverage = sum(idf for f, idf in wanted.items() if f in doc.context) / total
            score = (
                _W_PARTIAL * fuzz.partial_ratio(text.compact, doc.compact)
                + _W_TOKENS * fuzz.token_set_ratio(query_tokens, doc.tokens)
                + _W_COVERAGE * 100 * coverage
            )
            results.append((score, retrieval / weight if weight else 0.0, doc))
        results.sort(key=lambda r: (r[0], r[1]), reverse=True)
        return [Match(doc.question_id, doc.key, round(score, 1)) for score, _, doc in results[:limit]]


class LookupCache:
    """This process's index, rebuilt when the bank changed (by this process or another, e.g. a CLI import).

    Created once per app in `open_services` and handed to handlers on the Context; a cheap fingerprint
    query (counts and newest change) before each search decides whether the snapshot is still current.
    A rebuild segments only new and changed questions.
    """

    def __init__(self) -> None:
        self._index: LookupIndex | None = None
        self._version: object = None
        self._entries: dict[int, tuple[datetime, Entry]] = {}
        self._lock = asyncio.Lock()

    async def index(self, session: AsyncSession) -> LookupIndex:
        """The index of the bank as it is in the database now."""
        version = await fingerprint(session)
        if self._index is not None and version == self._version:
            return self._index
        async with self._lock:
            if self._index is None or version != self._version:
                rows = (
                    await session.execute(
                        select(Question.id, Question.key, Question.stem, Question.options, Question.updated_at)
                        .where(Question.active)
                        .order_by(Question.id)
                    )
                ).all()
                # Segmenting thousands of stems takes a moment: keep the event loop free meanwhile.
                self._index = await asyncio.to_thread(self._build, rows)
                self._version = version
            return self._index

    def _build(self, rows: Sequence[Row[int, str, str, list[str], datetime]]) -> LookupIndex:
        entries: dict[int, tuple[datetime, Entry]] = {}
        for question_id, key, stem, options, updated_at in rows:
            known = self._entries.get(question_id)
            if known is not None and known[0] == updated_at and known[1].key == key:
                entries[question_id] = known
            else:
                entries[question_id] = (updated_at, Entry.of(question_id, key, stem, options or ()))
        self._entries = entries
        return LookupIndex(entry for _, entry in entries.values())

    async def search(self, session: AsyncSession, query: str) -> Match | None:
        """The best match for query in the current bank, or None if the query is too short or the bank empty."""
        found = (await self.index(session)).search(query)
        return found[0] if found else None
