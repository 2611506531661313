"""A live quiz does not slow the rest of the chat down (issue 13, finding 19).

While a 抢答 was live, every message in its chat had its handlers run in the transaction (~10 statements,
holding SQLite's write lock), because any text might have answered it. Text that cannot answer the live
question (no letter, 对/错, √/× — unless a blank is live) is decided from the directory before the write again;
answers still run their handler in the group commit.
"""

from datetime import timedelta

from sqlalchemy import select

from bot.core.db import transaction
from bot.core.models import Chat
from bot.quiz.engine import OPEN
from bot.quiz.models import Question, QuestionType, QuizMode, QuizRound, QuizSession
from bot.quiz.state import RUNNING
from tests.conftest import START
from tests.support import BotDriver


async def live_rush(bot: BotDriver, question_type: str) -> None:
    """A 抢答 live in demo-group whose open question is of this type."""
    async with transaction(bot.services.sessions) as session:
        chat = await session.scalar(select(Chat).where(Chat.platform_chat_id == "demo-group"))
        question = await session.scalar(select(Question).where(Question.type == question_type).limit(1))
        assert chat is not None and question is not None
        quiz = QuizSession(
            branch_id=chat.branch_id,
            chat_id=chat.id,
            mode=QuizMode.RUSH,
            status=RUNNING,
            question_count=1,
            seconds_per_question=60,
            started_at=START,
        )
        session.add(quiz)
        await session.flush()
        session.add(
            QuizRound(
                session_id=quiz.id,
                position=1,
                question_id=question.id,
                status=OPEN,
                opened_at=START,
                closes_at=START + timedelta(seconds=60),
            )
        )
    await bot.say("哈哈", user="u03")  # the next group commit sees the quiz


async def test_chatter_during_a_choice_rush_is_decided_before_the_write_and_answers_are_not(bot: BotDriver):
    commits = bot.services.pipeline.commits
    await live_rush(bot, QuestionType.SINGLE)
    handled = commits.in_savepoints
    assert (await bot.say("大家辛苦了", user="u02"))["handled_by"] is None
    assert commits.in_savepoints == handled  # decided from the directory: no handler, no reads
    assert (await bot.say("B", user="u02"))["handled_by"] == "handle_answer"
    assert commits.in_savepoints == handled + 1  # an answer: its handler in the transaction


async def test_during_a_blank_rush_any_text_may_be_an_answer(bot: BotDriver):
    commits = bot.services.pipeline.commits
    await live_rush(bot, QuestionType.BLANK)
    handled = commits.in_savepoints
    await bot.say("大家辛苦了", user="u02")
    assert commits.in_savepoints == handled + 1  # through the filters in the transaction: it might be the answer


async def test_whatever_parses_as_a_choice_or_judge_answer_is_let_through(bot: BotDriver):
    """The directory's quiz gate never keeps an answer from the quiz: parse() ⇒ may_answer()."""
    from bot.quiz.answers import may_answer, parse

    texts_ = [
        "B",
        "ｂ",
        "选B",
        "答案是B",
        "B.",
        "B、C",
        "a c",
        "ACD",
        "对",
        "√",
        "错误",
        "x",
        "×",
        "答：对",
        "大家好",
        "收到",
    ]
    async with bot.services.sessions() as session:
        questions = (await session.scalars(select(Question).where(Question.type != QuestionType.BLANK))).all()
    assert questions
    for question in questions:
        for text in texts_:
            if parse(text, question) is not None:
                assert may_answer(text, any_text=False, marked_text=False, addressed=False), (text, question.type)
    assert not may_answer("收到", any_text=False, marked_text=False, addressed=False)
