"""搜题: an in-memory index of the active questions, tolerant of partial stems, typos and word order.

Retrieval: an inverted index over jieba words (three or more characters) and character bigrams,
weighted by IDF, picks a few dozen candidates. Re-ranking: rapidfuzz `partial_ratio` (a truncated or
slightly wrong stem, a stem pasted with its options), `token_set_ratio` over jieba words (a different
word order) and the share of the query's weight the candidate covers, blended into a 0-100 score.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import multiprocessing
import re
import unicodedata
from array import array
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import jieba
from rapidfuzz import fuzz
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.core.db import read_only, session_factory
from bot.quiz.bank import active_count, fingerprint
from bot.quiz.models import Question

log = logging.getLogger(__name__)

# jieba logs "Building prefix dict …" at DEBUG through its own stderr handler; members never see it,
# and neither should the operator's console. Its dictionary ships inside the package: nothing is fetched.
jieba.setLogLevel(logging.WARNING)


def warm_up() -> None:
    """Load jieba's dictionary now (about 1.5 s), so the first 搜题 does not wait for it."""
    jieba.initialize()


MIN_QUERY_CHARS = 4  # fewer characters than this match too many questions to mean anything
MIN_DISTINCT_CHARS = 3  # … and fewer different ones ("党党党党", "党员党员党员")
CANDIDATES = 40
_MAX_FEATURES = 48  # of a long query (a stem pasted with its options), the rarest features are plenty
_COMMON_SHARE = 0.2  # features in more than this share of questions are only checked on candidates
_MIN_RARE = 6
_POSTINGS_BUDGET = 30_000  # postings a search walks at most (beyond its two rarest features)
# Weights of the blended score; tuned on tests/data/lookup_queries.json (see bench/README.md).
_W_PARTIAL = 0.3
_W_TOKENS = 0.3
_W_COVERAGE = 0.4
# Refreshing the index (see LookupCache).
REFRESH_WAIT = 0.3  # seconds a search waits for a refresh before answering from the index as it is
FIRST_BUILD_WAIT = 10.0  # … for the first build after start (the warm-up starts it at once)
_READ_BATCH = 500  # questions read, segmented and applied per step (one step's apply holds the loop ≈ 15 ms)
_APPLY_BATCH = 500
_PROCESS_FROM = 2_000  # questions to segment in one refresh from which a worker process does it
_OVERLAP = timedelta(seconds=5)  # changes stamped this long before the newest one read are read again
_COMPACT_MIN = 5_000  # empty slots tolerated before the postings are rebuilt (also: at most one per live one)

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


def query_of(text: str) -> Query:
    """A query as searched: cleaned and cut into words (jieba) once, for too_short() and search() both."""
    return _Text.of(text)


def too_short(query: str | Query) -> bool:
    """Too little left of the query (without punctuation and question words) to look it up: fewer than
    MIN_QUERY_CHARS characters, or fewer than MIN_DISTINCT_CHARS different ones — "党党党…" (which every stem with
    党 in it resembles) is no query, "三严三实" is."""
    return _too_short(query if isinstance(query, _Text) else _Text.of(query))


def _too_short(text: _Text) -> bool:
    return len(text.compact) < MIN_QUERY_CHARS or len(set(text.compact)) < MIN_DISTINCT_CHARS


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


@dataclass(frozen=True, slots=True)
class Entry:
    """One question prepared for the index: two strings, not a set of features per question (a bank of
    200,000 questions would spend most of a gigabyte on those sets); the features are recomputed from the
    words when needed, which takes microseconds."""

    question_id: int
    key: str
    tokens: str  # the stem's words without stop words, separated by spaces
    options: str  # the options' words run together, "|" between options

    @property
    def compact(self) -> str:
        """The stem's words run together."""
        return self.tokens.replace(" ", "")

    @property
    def context(self) -> str:
        """compact, then the options' words: a pasted option counts as covered."""
        return f"{self.compact}|{self.options}" if self.options else self.compact

    def features(self) -> set[str]:
        return features(self.compact, self.tokens.split())

    @classmethod
    def of(cls, question_id: int, key: str, stem: str, options: Iterable[str]) -> Entry:
        text = _Text.of(stem)
        return cls(question_id, key, " ".join(text.tokens), "|".join(_Text.of(option).compact for option in options))


@dataclass(frozen=True)
class _Text:
    compact: str
    tokens: list[str]

    @classmethod
    def of(cls, text: str) -> _Text:
        tokens = words(clean(text))
        return cls("".join(tokens), tokens)


Query = _Text


class LookupIndex:
    """An inverted index over the bank, updated in place between searches (all on the event loop's thread).

    Postings are arrays of slot numbers (4 bytes each, not a Python int object each). A changed question gets a
    new slot and its old slot is emptied; postings pointing at empty slots are skipped, and once empty slots
    outnumber the live ones the postings are rebuilt step by step (`compaction`) and swapped in.
    """

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        # Per slot: (id, key, tokens, options) — a plain tuple of strings, which the garbage collector stops
        # tracking, so 200,000 of them do not lengthen its full collections — or None once emptied.
        self._docs: list[tuple[int, str, str, str] | None] = []
        self._stamps = array("d")  # per slot: the question's updated_at (a POSIX timestamp) when it was read
        self._slots: dict[int, int] = {}  # question id → slot
        self._postings: dict[str, array[int]] = {}
        self._df: dict[str, int] = {}  # live questions per feature
        # Per slot: its features' summed IDF (the retrieval score's denominator) once it was a candidate, NaN
        # before, kept between searches — a search would otherwise spend most of its time on it — and forgotten
        # whenever the index changes (every IDF depends on the whole bank). An array: 8 bytes a slot, where a dict
        # of floats took about 100 (20 MB for a 200,000-question bank).
        self._weights = array("d")
        self.apply([(entry, 0.0) for entry in entries], ())

    @classmethod
    def of(cls, questions: Iterable[tuple[int, str, str, Iterable[str]]]) -> LookupIndex:
        """An index of (id, key, stem, options) tuples."""
        return cls(Entry.of(*question) for question in questions)

    @property
    def size(self) -> int:
        """How many questions the index holds."""
        return len(self._slots)

    @property
    def wasteful(self) -> bool:
        """Do empty slots outnumber the live ones (and a few thousand)?"""
        return len(self._docs) - len(self._slots) > max(_COMPACT_MIN, len(self._slots))

    def stamp(self, question_id: int) -> float | None:
        """The updated_at (POSIX timestamp) the index holds for a question, or None if it does not hold it."""
        slot = self._slots.get(question_id)
        return None if slot is None else self._stamps[slot]

    def question_ids(self) -> set[int]:
        return set(self._slots)

    def apply(self, added: Sequence[tuple[Entry, float]], removed: Iterable[int]) -> None:
        """Add (or replace) entries with their updated_at stamps and drop removed question ids."""
        self._weights = array("d")
        for question_id in removed:
            self._remove(question_id)
        for entry, stamp in added:
            self._remove(entry.question_id)
            self._add(entry, stamp)

    def _add(self, entry: Entry, stamp: float) -> None:
        slot = len(self._docs)
        self._docs.append((entry.question_id, entry.key, entry.tokens, entry.options))
        self._stamps.append(stamp)
        self._slots[entry.question_id] = slot
        postings, df = self._postings, self._df
        for feature in entry.features():
            found = postings.get(feature)
            if found is None:
                postings[feature] = array("i", (slot,))
            else:
                found.append(slot)
            df[feature] = df.get(feature, 0) + 1

    def _remove(self, question_id: int) -> None:
        slot = self._slots.pop(question_id, None)
        if slot is None:
            return
        doc = self._docs[slot]
        self._docs[slot] = None
        assert doc is not None
        entry = Entry(*doc)
        df = self._df
        for feature in entry.features():
            left = df[feature] - 1
            if left:
                df[feature] = left
            else:
                del df[feature]
                del self._postings[feature]

    def compaction(self) -> Iterator[None]:
        """Renumber the live entries without empty slots, a batch per step (searches may run between steps;
        nothing may be applied until the last step has swapped the new structures in)."""
        fresh = LookupIndex()
        live = [(Entry(*doc), self._stamps[slot]) for slot, doc in enumerate(self._docs) if doc is not None]
        for start in range(0, len(live), _APPLY_BATCH):
            fresh.apply(live[start : start + _APPLY_BATCH], ())
            yield
        self._docs, self._stamps, self._slots = fresh._docs, fresh._stamps, fresh._slots
        self._postings, self._df = fresh._postings, fresh._df
        self._weights = array("d")  # by the old slot numbers

    def _weight(self, slot: int, doc: Entry) -> float:
        weights = self._weights
        if len(weights) != len(self._docs):  # the first search since the index changed
            weights = self._weights = array("d", (math.nan,)) * len(self._docs)
        weight = weights[slot]
        if math.isnan(weight):
            df = self._df
            weight = weights[slot] = sum(self._idf(df[f]) for f in doc.features())
        return weight

    def _idf(self, df: int) -> float:
        return math.log((len(self._slots) + 1) / (df + 0.5))

    def search(self, query: str | Query, limit: int = 1) -> list[Match]:
        """The best matches for query, best first (scores are not filtered here)."""
        text = query if isinstance(query, _Text) else _Text.of(query)
        if _too_short(text):
            return []
        return self._search(text, limit)

    def _search(self, text: _Text, limit: int) -> list[Match]:
        if not self._slots:
            return []
        df, docs, postings = self._df, self._docs, self._postings
        wanted = {f: self._idf(df.get(f, 0)) for f in features(text.compact, text.tokens)}
        total = sum(wanted.values())
        # Rarest first; common features (e.g. "党员") only count once candidates are chosen.
        ranked = sorted((f for f in wanted if f in df), key=df.__getitem__)[:_MAX_FEATURES]
        common = max(50, int(len(self._slots) * _COMMON_SHARE))
        used = [f for f in ranked if df[f] <= common]
        if len(used) < _MIN_RARE:
            used = ranked[:_MIN_RARE]
        # In a large bank of similar questions even "rare" features can list tens of thousands of questions:
        # the rarest ones (two at least) up to a budget of postings choose the candidates well enough.
        visited = 0
        for count, feature in enumerate(used):
            visited += len(postings[feature])
            if count >= 2 and visited > _POSTINGS_BUDGET:
                used = used[:count]
                break
        scores: dict[int, float] = {}
        get = scores.get
        for feature in used:
            weight = wanted[feature]
            for slot in postings[feature]:
                scores[slot] = get(slot, 0.0) + weight
        live = ((slot, score) for slot, score in scores.items() if docs[slot] is not None)
        chosen = heapq.nlargest(CANDIDATES, live, key=lambda item: item[1])
        query_tokens = " ".join(text.tokens)
        results: list[tuple[float, float, Entry]] = []
        for slot, retrieval in chosen:
            fields = docs[slot]
            assert fields is not None
            doc = Entry(*fields)
            weight = self._weight(slot, doc)
            context = doc.context
            coverage = sum(idf for f, idf in wanted.items() if f in context) / total
            score = (
                _W_PARTIAL * fuzz.partial_ratio(text.compact, doc.compact)
                + _W_TOKENS * fuzz.token_set_ratio(query_tokens, doc.tokens)
                + _W_COVERAGE * 100 * coverage
            )
            results.append((score, retrieval / weight if weight else 0.0, doc))
        results.sort(key=lambda r: (r[0], r[1]), reverse=True)
        return [Match(doc.question_id, doc.key, round(score, 1)) for score, _, doc in results[:limit]]


def segment(rows: Sequence[tuple[int, str, str, Sequence[str]]]) -> list[tuple[int, str, str, str]]:
    """(id, key, stem, options) rows as Entry fields (id, key, tokens, options): the slow part of indexing, run
    in a worker process for a large refresh."""
    entries = (Entry.of(*row) for row in rows)
    return [(entry.question_id, entry.key, entry.tokens, entry.options) for entry in entries]


def _engine_of(session: AsyncSession) -> AsyncEngine:
    """The engine under a session bound to an engine or to one of its connections."""
    bind = session.bind
    return bind.engine if isinstance(bind, AsyncConnection) else cast(AsyncEngine, bind)


class LookupCache:
    """This process's 搜题 index, kept up to date with the bank (changed by this process or another, e.g. a CLI
    import) by a background refresh.

    Created once per app in `open_services` and handed to handlers on the Context. Before each search a cheap
    fingerprint query (row count and newest change, from indexes) says whether the index is current; if not, the search starts
    a refresh and waits for it at most `refresh_wait` seconds (if a refresh is already under way, not at all),
    then answers from the index as it is. A search never builds anything itself: handlers run inside a write
    transaction, and on SQLite that would hold up every other message's write.

    A refresh reads in a transaction of its own (on SQLite a reader that neither waits for writers nor blocks
    them), in batches: the questions changed since the last refresh by `updated_at` (with an overlap for
    writers whose clocks or commits lag). Only when the count of active questions still disagrees (a row
    deleted outright) does it compare every id and stamp. Segmenting (jieba, pure Python) runs in a worker
    thread for a few questions and in a worker process for many — a thread would hold the interpreter lock the
    event loop needs for tens of seconds — and each batch is applied on the event loop between messages.
    """

    def __init__(
        self,
        refresh_wait: float = REFRESH_WAIT,
        first_wait: float = FIRST_BUILD_WAIT,
        engine: AsyncEngine | None = None,
    ) -> None:
        # The engine a refresh reads with (the app's): never a handler's session, which is a savepoint of the
        # group commit's transaction and ends with it.
        self.engine = engine
        self.refresh_wait = refresh_wait
        self.first_wait = first_wait
        self._index = LookupIndex()
        self._version: object = None  # the fingerprint the index reflects
        self._built = False
        self._newest: datetime | None = None  # the newest updated_at read
        self._task: asyncio.Task[None] | None = None
        self._pool: ProcessPoolExecutor | None = None

    @property
    def ready(self) -> bool:
        """Has the whole bank been indexed once?"""
        return self._built

    def refresh(self, engine: AsyncEngine) -> asyncio.Task[None]:
        """Start a refresh unless one is running; the running (or new) refresh task."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._refresh(engine), name="lookup-refresh")
        return self._task

    async def close(self) -> None:
        """Stop a refresh in progress and the worker process."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def index(self, session: AsyncSession) -> LookupIndex | None:
        """The index, refreshed if the bank changed and the refresh ends in time; None before the first build."""
        version = await fingerprint(session)
        if version != self._version:
            running = self._task is not None and not self._task.done()
            task = self.refresh(self.engine if self.engine is not None else _engine_of(session))
            if not self._built:
                await asyncio.wait({task}, timeout=self.first_wait)
            elif not running:
                await asyncio.wait({task}, timeout=self.refresh_wait)
        return self._index if self._built else None

    async def search(self, session: AsyncSession, query: str | Query) -> Match | None:
        """The best match for query in the bank, or None if the query is too short, the bank empty or not
        indexed yet (see `ready`)."""
        index = await self.index(session)
        found = index.search(query) if index is not None else []
        return found[0] if found else None

    async def _refresh(self, engine: AsyncEngine) -> None:
        sessions = session_factory(engine)
        try:
            while True:
                async with read_only(sessions) as session:
                    version = await fingerprint(session)
                    if version == self._version:
                        return
                    if self._built:
                        await self._read_changes(session)
                    else:
                        await self._read_all(session, many=version[0] >= _PROCESS_FROM)
                    if self._index.size != await active_count(session):
                        await self._reconcile(session)
                if self._index.wasteful:
                    for _ in self._index.compaction():
                        await asyncio.sleep(0)
                self._version, self._built = version, True
        except Exception:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Stopped (shutdown): the rollback of a cancelled read can fail in its turn; that is no failure.
                raise asyncio.CancelledError from None
            # The next search starts another refresh; until then the index stays as it was.
            log.exception("搜题 index refresh failed")

    async def _read_all(self, session: AsyncSession, many: bool) -> None:
        query = select(*_COLUMNS).where(Question.active).order_by(Question.id)
        async for rows in (await session.stream(query.execution_options(yield_per=_READ_BATCH))).partitions():
            await self._apply(rows, (), many)

    async def _read_changes(self, session: AsyncSession) -> None:
        """The questions whose updated_at is at or after the newest one read before (less an overlap)."""
        since = (self._newest - _OVERLAP) if self._newest is not None else datetime.min.replace(tzinfo=UTC)
        query = select(Question.id, Question.active, Question.updated_at).where(Question.updated_at >= since)
        changed: list[int] = []
        removed: list[int] = []
        async for rows in (await session.stream(query.execution_options(yield_per=_READ_BATCH))).partitions():
            for question_id, active, updated_at in rows:
                self._saw(updated_at)
                if not active:
                    removed.append(question_id)
                elif self._index.stamp(question_id) != updated_at.timestamp():
                    changed.append(question_id)
        await self._fetch(session, changed, removed)

    async def _reconcile(self, session: AsyncSession) -> None:
        """Compare every active id and stamp with the index (after a question was deleted outright)."""
        present: set[int] = set()
        changed: list[int] = []
        query = select(Question.id, Question.updated_at).where(Question.active)
        async for rows in (await session.stream(query.execution_options(yield_per=_READ_BATCH))).partitions():
            for question_id, updated_at in rows:
                present.add(question_id)
                if self._index.stamp(question_id) != updated_at.timestamp():
                    changed.append(question_id)
        await self._fetch(session, changed, self._index.question_ids() - present)

    async def _fetch(self, session: AsyncSession, changed: Sequence[int], removed: Iterable[int]) -> None:
        self._index.apply((), removed)
        many = len(changed) >= _PROCESS_FROM
        for start in range(0, len(changed), _READ_BATCH):
            ids = changed[start : start + _READ_BATCH]
            rows = (await session.execute(select(*_COLUMNS).where(Question.id.in_(ids), Question.active))).all()
            await self._apply(rows, (), many)

    async def _apply(
        self, rows: Sequence[Row[int, str, str, list[str], datetime]], removed: Sequence[int], many: bool
    ) -> None:
        plain = [(row.id, row.key, row.stem, row.options or []) for row in rows]
        stamps = {row.id: row.updated_at.timestamp() for row in rows}
        for row in rows:
            self._saw(row.updated_at)
        if many:
            segmented = await asyncio.get_running_loop().run_in_executor(self._workers(), segment, plain)
        else:
            segmented = await asyncio.to_thread(segment, plain)
        self._index.apply([(Entry(*fields), stamps[fields[0]]) for fields in segmented], removed)

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the bot's process has threads (aiosqlite's, the outbox's) a fork would copy mid-step.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=warm_up)
        return self._pool

    def _saw(self, updated_at: datetime) -> None:
        if self._newest is None or updated_at > self._newest:
            self._newest = updated_at


_COLUMNS = (Question.id, Question.key, Question.stem, Question.options, Question.updated_at)
