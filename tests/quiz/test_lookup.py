"""搜题 through the real app: accuracy on paraphrased stems, "not found", addressed questions, no cheating."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update

from bot.cli import main
from bot.core import texts
from bot.core.db import transaction
from bot.core.models import Chat, InboundMessage, Outbox
from bot.quiz import texts as quiz_texts
from bot.quiz.bank import QuestionData, import_questions, sample_bank
from bot.quiz.lookup import Entry, LookupIndex
from bot.quiz.models import Question, QuizRound, QuizSession
from bot.quiz.state import live_for_member
from bot.quiz.timer import tick
from tests.conftest import ROOT
from tests.core.test_org import populated, tree_config

QUERIES = json.loads((ROOT / "tests/data/lookup_queries.json").read_text(encoding="utf-8"))
STEMS = {q.key: q.stem for _, q in sample_bank().questions}
REQUIRED_ACCURACY = 0.90


def config_for(db_url: str, tmp_path: Path) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text.replace('url = "sqlite+aiosqlite:///yizhan.db"', f'url = "{db_url}"'), encoding="utf-8")
    return path


def found_stem(reply: str) -> str | None:
    """The stem a 搜题 answer shows (its second line), or None for any other reply."""
    if not reply.startswith(quiz_texts.LOOKUP_RESULT.split("{", 1)[0]):
        return None
    return reply.split("\n")[1].split("）", 1)[1]


async def test_top1_accuracy_on_paraphrased_truncated_and_typod_stems(bot):
    queries = QUERIES["queries"]
    assert len(queries) == 100
    misses = []
    for item in queries:
        before = len(bot.replies_to("u01"))
        await bot.say(f"搜题 {item['query']}", user="u01")
        replies = bot.replies_to("u01")[before:]
        assert len(replies) == 1
        stem = found_stem(replies[0])
        if stem != STEMS[item["key"]]:
            misses.append(f"{item['kind']:<11} {item['query']} -> {stem or replies[0]} (want {item['key']})")
    accuracy = 1 - len(misses) / len(queries)
    print(f"\n搜题 top-1 accuracy {accuracy:.0%}; misses:\n" + "\n".join(misses))
    assert accuracy >= REQUIRED_ACCURACY, "\n".join(misses)


async def test_nonsense_is_not_guessed(bot):
    for text in QUERIES["nonsense"]:
        await bot.say(f"查题 {text}", user="u02")
    assert bot.replies_to("u02") == [quiz_texts.LOOKUP_NOT_FOUND] * len(QUERIES["nonsense"])


async def test_answer_shows_options_answer_explanation_and_source(bot):
    await bot.say("搜题：年满多少岁可以申请入党？", user="u01")
    await bot.say("搜题 与正式党员相比，预备党员没有哪些权利", user="u01")
    await bot.say("搜题 党章规定党禁止任何形式的个人崇拜", user="u01")
    blank, multi, judge = bot.replies_to("u01")
    assert "（填空）" in blank and "答案：十八 或 18 或 十八岁" in blank
    assert "\n出处：《中国共产党章程》" in blank and "\n解析：" in blank
    assert "（多选）" in multi and "答案：A. 被选举权；C. 表决权；D. 选举权" in multi
    assert "\nE. 参加党的有关会议" in multi
    assert "（判断）" in judge and "答案：对（正确）" in judge


async def test_question_addressed_to_the_bot(bot):
    await bot.say("@学习驿站 预备党员的预备期为多长时间？", user="u01")
    await bot.say("预备党员的预备期为多长时间？", user="u02")  # not addressed: ordinary group talk
    await bot.say("支部党员大会一般多长时间召开一次", user="u03", chat=None)  # a direct message
    await bot.say("@学习驿站 你好", user="u04")  # too short to be a question
    await bot.say("@学习驿站 今天中午食堂吃什么好呢", user="u05")
    assert found_stem(bot.replies_to("u01")[0]) == STEMS["dz-0047"]
    assert bot.replies_to("u02") == []
    assert found_stem(bot.replies_to("u03")[0]) == STEMS["zb-0018"]
    assert bot.replies_to("u04") == [texts.HELP_SHORT]
    assert bot.replies_to("u05") == [texts.HELP_UNKNOWN]  # nothing in the bank: not taken for a question


async def test_lookup_needs_a_question(bot):
    await bot.say("搜题", user="u01")
    await bot.say("查题 党员？", user="u01")
    await bot.say("搜题 " + "党" * 1990, user="u01")  # long, but one character: every stem with 党 resembles it
    await bot.say("搜题 党员党员党员党员", user="u01")
    assert bot.replies_to("u01") == [quiz_texts.LOOKUP_NEED_QUERY] + [quiz_texts.LOOKUP_TOO_SHORT] * 3
    await bot.say("搜题 三严三实", user="u02")  # three different characters in four: a term, looked up
    assert bot.replies_to("u02")[-1] != quiz_texts.LOOKUP_TOO_SHORT


async def test_refused_during_a_live_quiz_in_that_chat_and_directly(bot, clock):
    services = bot.services
    async with transaction(services.sessions) as session:
        chat = await session.scalar(select(Chat).where(Chat.platform_chat_id == "demo-group"))
        assert chat is not None
        quiz = QuizSession(
            branch_id=chat.branch_id,
            chat_id=chat.id,
            mode="rush",
            status="running",
            question_count=5,
            seconds_per_question=60,
            started_at=clock(),
        )
        session.add(quiz)
    await bot.say("搜题 预备党员的预备期为多长时间", user="u01")
    await bot.say("预备党员的预备期为多长时间", user="u01", chat=None)  # directly: the same branch's quiz
    assert bot.replies_to("u01")[0] == quiz_texts.LOOKUP_QUIZ_RUNNING
    assert bot.replies_to("u01")[1] == quiz_texts.LOOKUP_QUIZ_RUNNING_ELSEWHERE

    async with transaction(services.sessions) as session:
        stored = await session.get(QuizSession, quiz.id)
        assert stored is not None
        stored.status, stored.finished_at = "finished", clock()
    await bot.say("搜题 预备党员的预备期为多长时间", user="u01")
    await bot.say("搜题 预备党员的预备期为多长时间", user="u01", chat=None)
    assert found_stem(bot.replies_to("u01")[2]) == found_stem(bot.replies_to("u01")[3]) == STEMS["dz-0047"]


async def test_index_follows_an_import_by_another_process(bot, db_url, tmp_path):
    question = "学习驿站测试题：支部书记每季度至少要给党员讲几次微党课？"
    await bot.say(f"搜题 {question}", user="u01")
    assert bot.replies_to("u01") == [quiz_texts.LOOKUP_NOT_FOUND]

    bank = tmp_path / "extra.json"
    item = {"key": "t-1", "type": "单选", "stem": question, "options": ["一次", "两次"], "answer": "A"}
    bank.write_text(json.dumps([item], ensure_ascii=False), encoding="utf-8")
    args = ["--config", str(config_for(db_url, tmp_path)), "questions", "import", str(bank)]
    assert await asyncio.to_thread(main, args) == 0
    assert found_stem(await search_after_change(bot, question[8:], stale=quiz_texts.LOOKUP_NOT_FOUND)) == question

    item["options"] = ["一次", "三次"]  # changed in place: same key, updated row
    bank.write_text(json.dumps([item], ensure_ascii=False), encoding="utf-8")
    assert await asyncio.to_thread(main, args) == 0
    assert "B. 三次" in await search_after_change(bot, question[8:], stale="B. 两次")


async def search_after_change(bot, query: str, stale: str, user: str = "u01") -> str:
    """The answer to 搜题 query once the bank changed: the search starts the index's refresh and waits for it a
    moment (REFRESH_WAIT); on a loaded machine the refresh can take longer, and the search answers from the index
    as it was (an answer holding `stale`) — then the next search, after the refresh it started, must see the change."""
    await bot.say(f"搜题 {query}", user=user)
    first = bot.replies_to(user)[-1]
    if stale not in first:
        return first
    await bot.services.lookup.refresh(bot.services.engine)  # the refresh the search started, until it ends
    await bot.say(f"搜题 {query}", user=user)
    return bot.replies_to(user)[-1]


def test_index_ranks_without_the_database():
    """The index alone, built once: every truncated stem of the sample bank finds its own question."""
    questions = [q for _, q in sample_bank().questions]
    index = LookupIndex.of((n, q.key, q.stem, q.options) for n, q in enumerate(questions))
    wrong = []
    for q in questions:
        found = index.search(q.stem[len(q.stem) // 4 :], limit=1)
        if not found or STEMS[found[0].key] != q.stem:
            wrong.append(q.key)
    # Near-duplicates (the same sentence asked as a choice and as a blank) may swap places.
    assert len(wrong) <= len(questions) // 20, wrong
    assert index.search("党员") == []


def test_jieba_stays_quiet():
    """jieba's 'Building prefix dict' log lines must not reach the console."""
    code = (
        "from bot.quiz.lookup import LookupIndex\n"
        "LookupIndex.of([(1, 'k', '党章规定的党员义务有哪些', [])]).search('党员的义务有哪些')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "prefix dict" not in done.stderr and "Loading model" not in done.stderr
    assert done.stdout == ""


# --- A large bank: the index is refreshed off the event loop, incrementally ---------------------
BIG_BANK = 20_000
# Seconds a message or a 搜题 may wait while the bank changes. The acceptance bound is 1 s, measured by
# bench/bank.py; here twice that, to hold on a busy shared machine — before the change this test measured ≈ 6 s.
WAIT_LIMIT = 2.0


def big_bank(size: int, seed: int = 3) -> list[QuestionData]:
    """size distinct questions with stems of varied Chinese characters (segmenting them is the real work)."""
    rng = random.Random(seed)
    alphabet = "".join(sorted({ch for stem in STEMS.values() for ch in stem if "\u4e00" <= ch <= "\u9fff"}))
    questions = []
    for i in range(size):
        stem = f"第{i}题：" + "".join(rng.choice(alphabet) for _ in range(24)) + "？"
        questions.append(QuestionData(f"big-{i:06d}", "judge", stem, (), "对"))
    return questions


async def add_questions(services: Any, questions: list[QuestionData], now: datetime) -> None:
    async with transaction(services.sessions) as session:
        await import_questions(session, questions, now)


class LoopLag:
    """How the event loop keeps up with a 10 ms timer while it is probed: how often the timer ran (turns), how late
    it ran at worst, and for how long the loop was probed."""

    def __init__(self) -> None:
        self.turns = 0
        self.worst = 0.0
        self.elapsed = 0.0
        self._started = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def rate(self) -> float:
        """Turns a second."""
        return self.turns / self.elapsed

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(0.01)
            self.turns += 1
            self.worst = max(self.worst, loop.time() - start - 0.01)

    def __enter__(self) -> LoopLag:
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        self._task = loop.create_task(self._probe())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.elapsed = asyncio.get_running_loop().time() - self._started


async def idle_loop_rate(seconds: float = 1.0) -> float:
    """The probe's turns a second on this loop with nothing else to do: what this machine's load allows now."""
    with LoopLag() as idle:
        await asyncio.sleep(seconds)
    return idle.rate


async def timed_say(bot: Any, text: str, user: str) -> float:
    start = time.perf_counter()
    await bot.say(text, user=user)
    return time.perf_counter() - start


@pytest.mark.timed
async def test_a_large_bank_change_does_not_stall_messages(bot, clock):
    """Finding 12: after a large import the first 搜题 rebuilt the whole index inside its message's write
    transaction — every other message waited for it. Now the refresh runs beside the messages: a 搜题 waits
    for it a bounded time, a 帮助 meanwhile is answered at once, and the event loop keeps turning throughout."""
    await bot.say("搜题 预备党员的预备期为多长时间", user="u01")  # the index of the sample bank is built
    questions = big_bank(BIG_BANK)
    await add_questions(bot.services, questions, clock())
    wanted = questions[BIG_BANK // 2].stem
    idle_rate = await idle_loop_rate()
    with LoopLag() as lag:
        search = asyncio.create_task(timed_say(bot, f"搜题 {wanted[2:]}", "u01"))
        await asyncio.sleep(0.05)
        help_wait = await timed_say(bot, "帮助", "u02")
        search_wait = await search
        assert help_wait < WAIT_LIMIT and search_wait < WAIT_LIMIT, (help_wait, search_wait)
        for _ in range(120):  # the refresh goes on in the background: each 搜题 answers within the bound
            assert await timed_say(bot, f"搜题 {wanted[2:]}", "u01") < WAIT_LIMIT
            if found_stem(bot.replies_to("u01")[-1]) == wanted:
                break
            await asyncio.sleep(0.5)
    assert found_stem(bot.replies_to("u01")[-1]) == wanted
    # The refresh segments in a worker process and applies its batches on the loop between messages, so the loop
    # keeps turning while it runs. Judged against this machine's own pace just before (idle_rate), not in absolute
    # seconds: a fixed bound on the worst lag (< 1 s) failed under load (load average 9 on 2 cores: the process was
    # not scheduled), yet passed with the segmenting moved onto the loop (held a batch at a time for nearly the
    # whole refresh, 0.2-0.4 s at worst). Here the loop must turn at least a third as often as when idle (0.6-1.0
    # of it was seen, loaded or not; segmenting on the loop gave 0.07-0.12), and no single hold-up may last a
    # quarter of the run (a refresh that held the loop from start to end would).
    assert lag.rate > idle_rate / 3, (lag.rate, idle_rate)
    assert lag.worst < lag.elapsed / 4, (lag.worst, lag.elapsed)


async def test_refresh_follows_added_changed_and_deleted_questions(bot, clock):
    await bot.say("搜题 预备党员的预备期为多长时间", user="u01")
    old_stem = "学习驿站测试题：党支部每年至少召开几次组织生活会进行党性分析？"
    gone_stem = "学习驿站测试题：社区党组织书记每月要走访多少户困难党员家庭？"
    retired_stem = "学习驿站测试题：机关党委每半年要检查几次党费收缴台账记录？"
    first = [
        QuestionData("t-change", "judge", old_stem, (), "对"),
        QuestionData("t-delete", "judge", gone_stem, (), "对"),
        QuestionData("t-retire", "judge", retired_stem, (), "对"),
    ]
    await add_questions(bot.services, first, clock())
    for stem in (old_stem, gone_stem, retired_stem):
        await bot.say(f"搜题 {stem[8:]}", user="u01")
        assert found_stem(bot.replies_to("u01")[-1]) == stem

    new_stem = "学习驿站测试题：流动党员外出务工期间应当向哪个党组织按时交纳党费？"
    added_stem = "学习驿站测试题：党员志愿服务每季度至少应当参加多少小时为合格？"
    clock.advance(seconds=1)
    await add_questions(
        bot.services,
        [QuestionData("t-change", "judge", new_stem, (), "错"), QuestionData("t-add", "judge", added_stem, (), "对")],
        clock(),
    )
    async with transaction(bot.services.sessions) as session:
        await session.execute(delete(Question).where(Question.key == "t-delete"))
        await session.execute(update(Question).where(Question.key == "t-retire").values(active=False))
    for stem in (new_stem, added_stem):
        await bot.say(f"搜题 {stem[8:]}", user="u01")
        assert found_stem(bot.replies_to("u01")[-1]) == stem
    for stem in (old_stem, gone_stem, retired_stem):
        await bot.say(f"搜题 {stem[8:]}", user="u01")
        assert found_stem(bot.replies_to("u01")[-1]) != stem  # not found, or a sample question like it


def test_index_updates_in_place_and_compacts():
    """Replaced and removed questions leave empty slots; once they outnumber the live ones the postings are
    rebuilt step by step, and searches find the same questions before, between and after."""
    questions = [q for _, q in sample_bank().questions]
    index = LookupIndex.of((n, q.key, q.stem, q.options) for n, q in enumerate(questions))
    probe = questions[10].stem[3:]
    before = index.search(probe)[0].key
    # Segmented once: an Entry is plain strings, and the index only reads it.
    replacements = [(Entry.of(n, q.key, q.stem, q.options), 1.0) for n, q in enumerate(questions)]
    for _ in range(30):  # every question replaced 30 times: well past the compaction threshold
        index.apply(replacements, ())
    assert index.size == len(questions) and index.wasteful
    assert index.search(probe)[0].key == before
    for _ in index.compaction():
        assert index.search(probe)[0].key == before
    assert not index.wasteful and index.size == len(questions)
    assert index.search(probe)[0].key == before
    index.apply((), range(len(questions) // 2))
    assert index.size == len(questions) - len(questions) // 2
    assert all(m.question_id >= len(questions) // 2 for m in index.search(probe, limit=5))


async def test_a_quiz_start_loads_only_the_questions_it_asks(bot, clock):
    """Finding 12: a 抢答 start read the whole bank as ORM objects (≈ 13 s with 200,000 questions)."""
    await add_questions(bot.services, big_bank(2_000), clock())
    loaded: list[int] = []

    def count(target: Question, _context: object) -> None:
        loaded.append(target.id)

    event.listen(Question, "load", count)
    try:
        await bot.say("抢答 3题", user="u00")
    finally:
        event.remove(Question, "load", count)
    assert quiz_texts.QUIZ_NOT_ENOUGH.split("{", 1)[0] not in bot.replies_to("u00")[0]
    assert len(set(loaded)) <= 3, len(loaded)


def test_search_after_a_change_ranks_as_a_fresh_index():
    """What a search keeps between searches (each candidate's summed IDF) is forgotten when the index changes: after
    questions are added and removed, searches rank as an index built from the same questions does."""
    questions = [q for _, q in sample_bank().questions]
    rows = [(n, q.key, q.stem, q.options) for n, q in enumerate(questions)]
    index = LookupIndex.of(rows[: len(rows) // 2])
    probes = [q.stem[2:12] for q in questions[::7]]
    for probe in probes:  # every probe's candidates searched (and their weights kept) before the change
        index.search(probe, limit=10)
    index.apply([(Entry.of(*row), 1.0) for row in rows[len(rows) // 2 :]], range(0, len(rows) // 2, 3))
    fresh = LookupIndex.of(row for row in rows if row[0] >= len(rows) // 2 or row[0] % 3)
    assert [index.search(p, limit=10) for p in probes] == [fresh.search(p, limit=10) for p in probes]


async def open_question(bot: Any) -> Question:
    """The question of the round open now."""
    async with bot.services.sessions() as session:
        question = await session.scalar(
            select(Question).join(QuizRound, QuizRound.question_id == Question.id).where(QuizRound.status == "open")
        )
    assert question is not None
    return question


async def stored_lookup(bot: Any, user: str) -> tuple[str | None, list[str]]:
    """What the last message of user stored: the handler that took it, and the texts written for it to send."""
    async with bot.services.sessions() as session:
        inbound = await session.scalar(
            select(InboundMessage)
            .where(InboundMessage.platform_user_id == user)
            .order_by(InboundMessage.id.desc())
            .limit(1)
        )
        assert inbound is not None
        sent = await session.scalars(select(Outbox.text).where(Outbox.cause_inbound_id == inbound.id))
        return inbound.handled_by, list(sent)


async def test_a_direct_lookup_gives_away_no_live_rush_answer(bot_in_process, clock):
    """QA: with question 2 of a 抢答 on screen in the group, a member's 私聊 搜题 of its stem is refused as in the
    group; a 每日一题 does not count, and once the 抢答 is over the answer is found again."""
    bot = bot_in_process
    await bot.say("抢答 3题 党章", user="u00")
    first = await open_question(bot)
    for seconds in (bot.services.config.quiz.rush_seconds_per_question, 3):  # question 1 times out, 2 follows
        clock.advance(seconds=seconds)
        await tick(bot.services.config, bot.services.sessions, bot.services.clock)
    second = await open_question(bot)
    assert second.id != first.id
    await bot.say(f"搜题 {second.stem}", user="u01", chat=None)
    assert bot.replies_to("u01") == [quiz_texts.LOOKUP_QUIZ_RUNNING_ELSEWHERE]
    assert await stored_lookup(bot, "u01") == ("handle_lookup", [quiz_texts.LOOKUP_QUIZ_RUNNING_ELSEWHERE])
    await bot.say(f"{second.stem}？", user="u01", chat=None)  # a question put to the bot directly, no command word
    assert bot.replies_to("u01")[-1] == quiz_texts.LOOKUP_QUIZ_RUNNING_ELSEWHERE

    await bot.say("结束答题", user="u00")
    await bot.say(f"搜题 {second.stem}", user="u01", chat=None)
    assert found_stem(bot.replies_to("u01")[-1]) == second.stem
    handled_by, sent = await stored_lookup(bot, "u01")
    assert handled_by == "handle_lookup" and len(sent) == 1 and "\n答案：" in sent[0]


async def test_a_direct_lookup_is_answered_beside_a_daily_question(bot, clock):
    async with transaction(bot.services.sessions) as session:
        chat = await session.scalar(select(Chat).where(Chat.platform_chat_id == "demo-group"))
        assert chat is not None
        session.add(
            QuizSession(
                branch_id=chat.branch_id,
                chat_id=chat.id,
                mode="daily",
                status="running",
                question_count=1,
                seconds_per_question=0,
                started_at=clock(),
            )
        )
    await bot.say("搜题 预备党员的预备期为多长时间", user="u01", chat=None)
    await bot.say("搜题 预备党员的预备期为多长时间", user="u01")
    assert [found_stem(reply) for reply in bot.replies_to("u01")] == [STEMS["dz-0047"]] * 2


async def test_a_quiz_refuses_lookups_of_those_who_may_answer_it_only(aiohttp_client, db_url, clock):
    """A 抢答 in 第一党支部's group: its members and the secretaries of the units above (who may answer there) are
    refused, in 私聊 and in any other group; a member of 第二党支部 is not."""
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    await bot.say("抢答 3题 党章", user="b100", chat="b1-group")
    query = "搜题 预备党员的预备期为多长时间"
    refused = quiz_texts.LOOKUP_QUIZ_RUNNING_ELSEWHERE
    for user, chat in [("b1m001", None), ("b1m001", "dw-group"), ("zz100", None), ("dw00", "dw-group")]:
        answer = await bot.say(query, user=user, chat=chat)
        assert [r["text"] for r in answer["replies"]] == [refused], (user, chat)
    for user, chat in [("b2m001", None), ("zz200", None), ("b4m001", "b4-group")]:
        answer = await bot.say(query, user=user, chat=chat)
        assert found_stem(answer["replies"][-1]["text"]) == STEMS["dz-0047"], (user, chat)
    answer = await bot.say(query, user="b2m001", chat="b1-group")  # a guest in the quiz's own group
    assert [r["text"] for r in answer["replies"]] == [quiz_texts.LOOKUP_QUIZ_RUNNING]


async def test_the_live_quiz_of_a_member_is_found_on_the_partial_index(bot):
    """搜题 asks on every message which 抢答/竞赛 the member may answer: on the index of live quizzes alone, never
    a scan of quiz_session (a branch's every past 每日一题)."""
    engine = bot.services.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    ran: list[tuple[str, Any]] = []

    def note(_conn: object, _cursor: object, statement: str, parameters: Any, *_args: object) -> None:
        ran.append((statement, parameters))

    async with bot.services.sessions() as session:
        event.listen(engine.sync_engine, "before_cursor_execute", note)
        try:
            assert await live_for_member(session, 1, None) is None
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", note)
        statement, parameters = ran[-1]
        assert "quiz_session" in statement
        connection = await session.connection()
        plan = [row[-1] for row in await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert plan[0] == "SCAN quiz_session USING INDEX uq_quiz_session_live_chat", plan
    assert plan[1] == "SEARCH branch USING INTEGER PRIMARY KEY (rowid=?)", plan
