"""Quiz rules that must hold whatever the timing: one quiz per chat at a time (the 每日一题 waits for a live 抢答),
no answer scored after its deadline, only a real repeat read as "already answered", one bar per member."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.core.context import Context
from bot.core.db import transaction
from bot.core.models import Member, PointsEntry
from bot.quiz import engine
from bot.quiz import texts as quiz_texts
from bot.quiz.models import Question, QuizAttempt, QuizMode, QuizRound, QuizSession
from bot.quiz.state import RUNNING
from tests.conftest import TZ
from tests.quiz.test_quiz import TAG, add_questions, bot_lines, clock_tick
from tests.support import BotDriver, fire

DAILY_TIME = datetime(2026, 11, 20, 8, 30, tzinfo=TZ)


async def open_question(bot: BotDriver, mode: str) -> Question:
    """The question of the open round of this chat's session in `mode`."""
    async with bot.services.sessions() as session:
        question = await session.scalar(
            select(Question)
            .join(QuizRound, QuizRound.question_id == Question.id)
            .join(QuizSession, QuizSession.id == QuizRound.session_id)
            .where(QuizRound.status == "open", QuizSession.mode == mode)
        )
    assert question is not None, f"no open {mode} round"
    return question


def right_answer(question: Question) -> str:
    if question.type == "blank":
        return f"答 {question.answer[0] if isinstance(question.answer, list) else question.answer}"
    return str(question.answer)


async def attempts(bot: BotDriver) -> list[QuizAttempt]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(QuizAttempt).order_by(QuizAttempt.id)))


async def test_daily_question_waits_for_a_live_rush_and_answers_go_to_the_rush(bot, clock):
    """Finding 1: the 每日一题 posted during a 抢答 took its answers (a right 抢答 answer became a daily attempt)."""
    await add_questions(bot, 2)
    clock.set(DAILY_TIME - timedelta(seconds=10))
    await bot.say(f"抢答 1题 {TAG}", user="u00")
    clock.set(DAILY_TIME)
    await fire(bot, "post_daily_questions")
    assert not [t for t in bot_lines(await bot.transcript()) if t.startswith("【每日一题】")]  # queued, not posted
    rush = await open_question(bot, QuizMode.RUSH)
    await bot.say(rush.answer, user="u01")
    assert bot.replies_to("u01")[0].startswith("【抢答 第1题】张伟同志抢答正确。")
    assert bot_lines(await bot.transcript())[-1] == "【抢答结束】\n答对题数：\n1. 张伟 1题"
    # The rush is over: the quiz clock posts the day's question now, and answers go to it.
    clock.advance(seconds=1)
    await clock_tick(bot)
    assert bot_lines(await bot.transcript())[-1].startswith("【每日一题】")
    daily = await open_question(bot, QuizMode.DAILY)
    await bot.say(right_answer(daily), user="u02")
    received = quiz_texts.QUIZ_DAILY_RECEIVED.format(name="王芳", question="今天的每日一题", close="20:00")
    assert bot_lines(await bot.transcript("dm:u02")) == [received]
    await fire(bot, "post_daily_questions")  # still once a day
    assert len([t for t in bot_lines(await bot.transcript()) if t.startswith("【每日一题】")]) == 1


async def test_a_queued_daily_question_is_dropped_when_the_quiz_outlasts_the_day(bot, clock):
    await add_questions(bot, 1)
    clock.set(DAILY_TIME - timedelta(seconds=10))
    await bot.say(f"竞赛 1题 3600秒 {TAG}", user="u00")
    clock.set(DAILY_TIME)
    await fire(bot, "post_daily_questions")
    clock.set(datetime(2026, 11, 20, 20, 0, 1, tzinfo=TZ))
    await clock_tick(bot)  # the daily question's time is over before the 竞赛 ended: it is never posted
    async with bot.services.sessions() as session:
        daily = await session.scalar(select(QuizSession).where(QuizSession.mode == QuizMode.DAILY))
    assert daily is not None and daily.status != RUNNING
    lines = bot_lines(await bot.transcript())
    assert not [t for t in lines if t.startswith("【每日一题")]


async def test_starting_a_rush_during_the_daily_question_takes_the_answers(bot, clock):
    await add_questions(bot, 1)
    clock.set(DAILY_TIME)
    await fire(bot, "post_daily_questions")
    clock.advance(minutes=5)
    await bot.say(f"抢答 1题 {TAG}", user="u00")
    rush = await open_question(bot, QuizMode.RUSH)
    await bot.say(rush.answer, user="u03")
    assert bot.replies_to("u03")[0].startswith("【抢答 第1题】刘洋同志抢答正确。")
    daily = await open_question(bot, QuizMode.DAILY)  # still open, for the rest of the day
    await bot.say(right_answer(daily), user="u03")
    received = quiz_texts.QUIZ_DAILY_RECEIVED.format(name="刘洋", question="今天的每日一题", close="20:00")
    assert bot_lines(await bot.transcript("dm:u03")) == [received]


@pytest.mark.parametrize("mode", ["rush", "match"])
async def test_an_answer_after_the_deadline_is_refused_as_late(bot, clock, mode):
    """Finding 6: answers were checked for an open round but not its closes_at (a 竞赛 answer 25 s late scored 50)."""
    await add_questions(bot, 1)
    word = "抢答" if mode == "rush" else "竞赛"
    await bot.say(f"{word} 1题 20秒 {TAG}", user="u00")
    question = await open_question(bot, mode)
    clock.advance(seconds=25)  # the quiz clock has not closed the round yet
    await bot.say(question.answer, user="u01")
    assert bot.replies_to("u01") == []  # told privately, not in the group
    late = quiz_texts.QUIZ_ANSWER_LATE.format(name="张伟", question=f"{word}第1题")
    assert bot_lines(await bot.transcript("dm:u01")) == [late]
    assert await attempts(bot) == []
    async with bot.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PointsEntry)) == 0
        assert await session.scalar(select(QuizRound.winner_member_id)) is None
    await clock_tick(bot)
    final = bot_lines(await bot.transcript())[-1]
    assert final.startswith(f"【{word}结束】") and "张伟" not in final


async def test_a_daily_answer_after_the_close_is_refused_as_late(bot, clock):
    await add_questions(bot, 1)
    clock.set(DAILY_TIME)
    await fire(bot, "post_daily_questions")
    daily = await open_question(bot, QuizMode.DAILY)
    clock.set(datetime(2026, 11, 20, 20, 0, 5, tzinfo=TZ))  # closed at 20:00; the clock has not revealed it yet
    await bot.say(right_answer(daily), user="u01")
    assert bot.replies_to("u01") == []  # the daily question is answered directly
    late = quiz_texts.QUIZ_ANSWER_LATE.format(name="张伟", question="今天的每日一题")
    assert bot_lines(await bot.transcript("dm:u01")) == [late]
    assert await attempts(bot) == []


async def test_an_answer_just_in_time_counts(bot, clock):
    await add_questions(bot, 1)
    await bot.say(f"竞赛 1题 20秒 {TAG}", user="u00")
    question = await open_question(bot, QuizMode.MATCH)
    clock.advance(seconds=19.9)
    await bot.say(question.answer, user="u01")
    [attempt] = await attempts(bot)
    assert attempt.correct and attempt.score == 50


async def test_only_a_repeat_answer_is_read_as_already_answered(bot, clock):
    """Finding 9: any IntegrityError on the attempt was taken for "already answered" (here: a member who is gone)."""
    await add_questions(bot, 1)
    await bot.say(f"竞赛 1题 20秒 {TAG}", user="u00")
    async with bot.services.sessions() as session:
        quiz = await session.scalar(select(QuizSession))
        branch_id = quiz.branch_id
    gone = Member(id=987654, branch_id=branch_id, display_name="已删除", role="member", created_at=clock())
    with pytest.raises(IntegrityError):
        async with transaction(bot.services.sessions) as session:
            ctx = Context(config=bot.services.config, session=session, clock=clock)
            quiz = await session.scalar(select(QuizSession))
            live = await engine.live_round(ctx, quiz)
            assert live is not None
            await engine.submit(ctx, live, gone, live.question.answer)
    # A real repeat is still told politely.
    question = await open_question(bot, QuizMode.MATCH)
    await bot.say(question.answer, user="u01")
    await bot.say(question.answer, user="u01")
    assert bot.replies_to("u01") == []
    assert bot_lines(await bot.transcript("dm:u01"))[1:] == [
        quiz_texts.QUIZ_ALREADY_ANSWERED.format(name="张伟", question="竞赛第1题")
    ]


async def test_leaderboard_chart_keeps_two_members_of_the_same_name_apart(bot, clock, monkeypatch):
    """Finding 9: bars were keyed by name, so two 张伟 became one bar."""
    from matplotlib.axes import Axes

    from bot.quiz.chart import cjk_family
    from tests.conftest import IN_CI

    if cjk_family() is None:
        if IN_CI:
            pytest.fail("no CJK font: CI installs fonts-wqy-microhei")
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    await bot.say("大家好", user="x01", name="张伟")  # a second 张伟 (u01 is the first)
    async with bot.services.sessions() as session, session.begin():
        members = list(await session.scalars(select(Member).where(Member.display_name == "张伟").order_by(Member.id)))
        assert len(members) == 2
        for member, points in zip(members, (5, 3), strict=True):
            session.add(
                PointsEntry(
                    branch_id=member.branch_id,
                    member_id=member.id,
                    points=points,
                    rule="quiz_rush_win",
                    source=f"test:{member.id}",
                    created_at=clock(),
                )
            )
    drawn = []
    original = Axes.barh

    def spy(self, *args, **kwargs):
        bars = original(self, *args, **kwargs)
        drawn.append((self, bars))
        return bars

    monkeypatch.setattr(Axes, "barh", spy)
    await bot.say("排行榜", user="u03")
    board = bot.replies_to("u03")[-1]
    assert board.count("张伟") == 2
    [(axes, bars)] = drawn
    assert len({bar.get_y() for bar in bars}) == 2  # two bars, not one drawn twice in one place
    labels = [label.get_text() for label in axes.get_yticklabels()]
    assert len(labels) == 2 and len(set(labels)) == 2 and all("张伟" in label for label in labels)


async def test_the_migration_keeps_the_newest_of_two_running_quizzes_in_a_chat(tmp_path):
    """A database that ran two quizzes at once in a chat (the old race) still migrates: the newer one runs on."""
    from sqlalchemy import text

    from bot.core import db
    from bot.core.config import DatabaseConfig

    engine = db.create_engine(DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"))
    try:
        await db.upgrade(engine, "0007")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO branch (id, key, name) VALUES (1, 'b', '支部')"))
            await conn.execute(
                text("INSERT INTO chat (id, branch_id, channel, platform_chat_id, name) VALUES (1, 1, 'sim', 'g', '')")
            )
            for quiz_id, mode in ((1, "rush"), (2, "match"), (3, "daily")):
                await conn.execute(
                    text(
                        "INSERT INTO quiz_session (id, branch_id, chat_id, mode, status, tag, question_count,"
                        " seconds_per_question, started_at) VALUES (:id, 1, 1, :mode, 'running', '', 1, 20, :at)"
                    ),
                    {"id": quiz_id, "mode": mode, "at": "2026-11-20 02:00:00.000000"},
                )
            await conn.execute(
                text(
                    "INSERT INTO question (id, key, type, stem, options, answer, explanation, source, tags,"
                    " difficulty, active, created_at, updated_at) VALUES (1, 'q1', 'judge', '题', '[]', '\"对\"',"
                    " '', '', '[]', 1, 1, :at, :at)"
                ),
                {"at": "2026-11-20 02:00:00.000000"},
            )
            for round_id, quiz_id, position, status in ((1, 1, 1, "open"), (2, 1, 2, "pending"), (3, 2, 1, "open")):
                await conn.execute(
                    text(
                        "INSERT INTO quiz_round (id, session_id, position, question_id, status)"
                        " VALUES (:id, :quiz, :position, 1, :status)"
                    ),
                    {"id": round_id, "quiz": quiz_id, "position": position, "status": status},
                )
        await db.upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, status FROM quiz_session ORDER BY id"))).all()
            rounds = (await conn.execute(text("SELECT id, status FROM quiz_round ORDER BY id"))).all()
        assert rows == [(1, "finished"), (2, "running"), (3, "running")]
        # The finished quiz's rounds are closed with it; the running quiz's are untouched.
        assert rounds == [(1, "closed"), (2, "closed"), (3, "open")]
    finally:
        await engine.dispose()


async def test_the_live_quiz_and_round_read_at_once_are_those_read_one_by_one(bot, clock):
    """engine.live_in_chat (one statement on the answer path) agrees with live_session + live_round throughout."""
    from bot.core.models import Chat
    from bot.quiz.state import live_session

    async def both() -> tuple[tuple[object, object], tuple[object, object]]:
        async with transaction(bot.services.sessions) as session:
            ctx = Context(config=bot.services.config, session=session, clock=clock)
            chat = await session.scalar(select(Chat).where(Chat.platform_chat_id == "demo-group"))
            quiz, live = await engine.live_in_chat(ctx, chat)
            at_once = (quiz.id if quiz else None, (live.round.id, live.question.id) if live else None)
            quiz = await live_session(session, chat, include_daily=True)
            live = await engine.live_round(ctx, quiz) if quiz is not None else None
            one_by_one = (quiz.id if quiz else None, (live.round.id, live.question.id) if live else None)
            return at_once, one_by_one

    await add_questions(bot, 3)
    await bot.say("帮助", user="u01")  # the chat exists
    seen = [await both()]  # nothing running
    clock.set(DAILY_TIME - timedelta(seconds=10))
    await bot.say(f"竞赛 2题 20秒 {TAG}", user="u00")
    clock.set(DAILY_TIME)
    await fire(bot, "post_daily_questions")  # waits for the 竞赛
    seen.append(await both())  # the 竞赛's first round, not the waiting 每日一题
    clock.advance(seconds=20)
    await clock_tick(bot)
    seen.append(await both())  # between two rounds: the 竞赛, no live round
    clock.advance(seconds=3)
    await clock_tick(bot)
    seen.append(await both())  # the second round
    clock.advance(seconds=20)
    await clock_tick(bot)
    clock.advance(seconds=1)
    await clock_tick(bot)
    seen.append(await both())  # the 竞赛 is over: the 每日一题 is live
    assert all(at_once == one_by_one for at_once, one_by_one in seen)
    assert [quiz is not None for (quiz, _), _ in seen] == [False, True, True, True, True]
    assert [live is not None for (_, live), _ in seen] == [False, True, False, True, True]
    assert len({live for (_, live), _ in seen if live is not None}) == 3
