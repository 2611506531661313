"""The group commit's quiz gates in the savepoints: a message where no quiz is live skips the quiz's queries, and
whatever starts a quiz in the batch, or in another process before it, is still seen (bot/core/groupcommit.py)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import ROUTERS, build_app, open_services
from bot.core.router import Router
from bot.core.services import Services
from bot.quiz import engine
from bot.quiz.models import QuizAttempt, QuizMode, QuizSession
from bot.quiz.state import RUNNING
from tests.conftest import make_config
from tests.core.test_savepoint_reads import group
from tests.quiz.test_quiz import TAG, add_questions, current_answer
from tests.support import BotDriver, statements_run


async def attempts(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(QuizAttempt))


async def test_a_quiz_started_earlier_in_a_batch_takes_an_answer_later_in_it(bot: BotDriver):
    await add_questions(bot)
    pipeline = bot.services.pipeline
    await pipeline.process(group("warm", "u02", "帮助"))
    before = pipeline.commits.batches
    # Both run their handlers in the batch's savepoints (a command that writes; a member whose new name is written
    # by resolve()), the 抢答 first: the quiz gates read at the start of the batch knew no quiz in the chat.
    started, answer = await asyncio.gather(
        pipeline.process(group("start", "u00", f"抢答 1题 {TAG}")),
        pipeline.process(group("answer", "u01", "A", name="张伟（执法）")),
    )
    assert pipeline.commits.batches - before == 1
    assert started.handled_by == "handle_rush"
    assert answer.handled_by == "handle_answer"
    assert await attempts(bot.services.sessions) == 1


async def test_a_quiz_session_added_by_a_handler_makes_the_gates_stale_for_the_rest_of_the_batch(
    aiohttp_client, config, clock
):
    probe = Router("probe")
    seen: list[bool] = []

    @probe.command("开一个")
    async def handle_open(msg, ctx):
        ctx.session.add(
            QuizSession(
                branch_id=ctx.chat.branch_id,
                chat_id=ctx.chat.id,
                mode=QuizMode.RUSH,
                status=RUNNING,
                question_count=1,
                seconds_per_question=30,
                started_at=ctx.now(),
            )
        )

    @probe.command("看看")
    async def handle_look(msg, ctx):
        seen.append(ctx.quiz_idle)

    app = build_app(config, clock=clock, background=False, routers=(*ROUTERS, probe))
    driver = BotDriver(await aiohttp_client(app), app)
    pipeline = driver.services.pipeline
    await pipeline.process(group("alone", "u01", "看看"))
    assert seen == [True]  # no quiz in the chat: the handler's filters need not ask
    before = pipeline.commits.batches
    await asyncio.gather(
        pipeline.process(group("open", "u02", "开一个")),
        pipeline.process(group("look", "u01", "看看")),
    )
    assert pipeline.commits.batches - before == 1
    assert seen == [True, False]  # an ORM quiz session flushed before it: ask the database
    await pipeline.process(group("after", "u01", "看看"))
    assert seen == [True, False, False]  # read again in the next batch: the quiz is live


@contextlib.asynccontextmanager
async def two_instances(db_url, clock) -> AsyncIterator[tuple[Services, Services]]:
    """Two processes' services on one database, the quiz bank seeded and the first's directory warm."""
    config = make_config(db_url)
    one = await open_services(config, clock=clock, jobs=())
    two = await open_services(config, clock=clock, migrate=False, jobs=())
    try:
        await add_questions(BotDriverLike(one))
        await one.pipeline.process(group("warm", "u02", "帮助"))
        yield one, two
    finally:
        await one.close()
        await two.close()


async def test_a_quiz_started_by_another_instance_takes_the_answers_of_this_one(db_url, clock):
    """This process's last batch saw no quiz; another started one since: read in this transaction, the gates
    know it (a copy kept from the last batch would not)."""
    async with two_instances(db_url, clock) as (one, two):
        assert not one.pipeline.commits.busy_chats
        assert (await two.pipeline.process(group("start", "u00", f"竞赛 1题 {TAG}"))).handled_by == "handle_match"
        renamed = await one.pipeline.process(group("a1", "u01", "A", name="张伟（执法）"))
        assert renamed.handled_by == "handle_answer"  # in a savepoint from the start (resolve() writes the name)
        decided = await one.pipeline.process(group("a2", "u03", "B"))
        assert decided.handled_by == "handle_answer"
        assert await attempts(one.sessions) == 2


class BotDriverLike:
    """What add_questions() uses of a BotDriver, for services opened without an app."""

    def __init__(self, services) -> None:
        self.services = services


async def test_a_chat_without_a_quiz_runs_no_quiz_query(bot: BotDriver):
    """A member's renamed message (handled in a savepoint) in a chat with no quiz: routed without asking."""
    pipeline = bot.services.pipeline
    await pipeline.process(group("warm", "u02", "帮助"))
    with statements_run(pipeline.engine) as statements:
        outcome = await pipeline.process(group("chat", "u01", "A", name="张伟（执法）"))
    assert outcome.handled_by is None
    # The batch's gates only (on SQLite their prepared statement does not pass through the engine's events).
    assert statements and [s for s in statements if "quiz_" in s and "AS daily" not in s] == []


async def test_a_quiz_another_instance_starts_while_a_batch_is_written_counts_from_the_next_batch(db_url, clock):
    """PostgreSQL, READ COMMITTED: a quiz another instance commits after this batch read its gates (while its
    handlers run) is not seen by them — its question is sent only after that commit, and every message of the batch
    arrived before the batch began, so none of them can answer it; the next batch reads the gates again."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite: the batch holds the write lock, so no other writer commits while it is written")
    async with two_instances(db_url, clock) as (one, two):
        handle_in = one.pipeline.commits.handle_in
        started: list[str | None] = []

        async def quiz_started_meanwhile(session, msg, inbound_id, seen):
            if not started:
                started.append((await two.pipeline.process(group("start", "u00", f"竞赛 1题 {TAG}"))).handled_by)
            return await handle_in(session, msg, inbound_id, seen)

        one.pipeline.commits.handle_in = quiz_started_meanwhile
        early = await one.pipeline.process(group("a1", "u01", "A", name="张伟（执法）"))
        assert started == ["handle_match"]
        assert early.handled_by is None  # group talk, taken by no quiz
        later = await one.pipeline.process(group("a2", "u03", "B"))
        assert later.handled_by == "handle_answer"
        assert await attempts(one.sessions) == 1


async def test_while_a_quiz_of_choices_is_live_what_is_not_shaped_as_an_answer_runs_no_quiz_query(bot: BotDriver):
    await add_questions(bot)  # single-choice questions only
    pipeline = bot.services.pipeline
    assert (await pipeline.process(group("start", "u00", f"竞赛 2题 {TAG}"))).handled_by == "handle_match"
    with statements_run(pipeline.engine) as statements:
        talk = await pipeline.process(group("talk", "u01", "哈哈", name="张伟（执法）"))
    assert talk.handled_by is None
    assert statements and [s for s in statements if "quiz_" in s and "AS daily" not in s] == []
    answer = await pipeline.process(group("answer", "u02", "A", name="王芳（环卫）"))
    assert answer.handled_by == "handle_answer"  # an answer's shape: asked, and taken
    assert await attempts(bot.services.sessions) == 1


def live_reads(monkeypatch) -> list[int]:
    """Counts the executions of the live quiz's statement (bot/quiz/engine.py live_in_chat)."""
    reads: list[int] = []
    statement = engine._LIVE_IN_CHAT
    rows = statement.rows

    def counted(conn, params):
        reads.append(params["chat_id"])
        return rows(conn, params)

    monkeypatch.setattr(statement, "rows", counted)
    return reads


async def test_the_answers_of_a_batch_read_the_live_quiz_once(bot: BotDriver, monkeypatch):
    await add_questions(bot)
    pipeline = bot.services.pipeline
    assert (await pipeline.process(group("start", "u00", f"竞赛 1题 {TAG}"))).handled_by == "handle_match"
    reads = live_reads(monkeypatch)
    before = pipeline.commits.batches
    outcomes = await asyncio.gather(
        *(pipeline.process(group(f"a{i}", user, "A", name=f"改名{i}")) for i, user in enumerate(("u01", "u02", "u03")))
    )
    assert pipeline.commits.batches - before == 1
    assert [outcome.handled_by for outcome in outcomes] == ["handle_answer"] * 3
    assert await attempts(bot.services.sessions) == 3
    assert len(reads) == 1


async def test_a_rush_won_in_a_batch_is_read_again_by_the_answers_after_it(bot: BotDriver, monkeypatch):
    """The win writes the round: what the batch's first answer read no longer holds."""
    await add_questions(bot)
    pipeline = bot.services.pipeline
    assert (await pipeline.process(group("start", "u00", f"抢答 2题 {TAG}"))).handled_by == "handle_rush"
    right = await current_answer(bot)
    reads = live_reads(monkeypatch)
    before = pipeline.commits.batches
    outcomes = await asyncio.gather(
        pipeline.process(group("win", "u01", right)), pipeline.process(group("slow", "u02", right))
    )
    assert pipeline.commits.batches - before == 1
    assert [outcome.handled_by for outcome in outcomes] == ["handle_answer"] * 2
    assert len(reads) == 2
    assert await attempts(bot.services.sessions) == 1  # the second found the round closed: too slow, no attempt
