"""搜题 / 查题, and a question addressed to the bot: the closest question of the bank, with its answer."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import bindparam, select

from bot.core import texts
from bot.core.context import Context
from bot.core.db import Prepared
from bot.core.message import Message
from bot.core.models import Role
from bot.core.normalize import normalize, remove_mentions
from bot.core.prepared import run
from bot.core.router import Hints, Router
from bot.quiz import texts as quiz_texts
from bot.quiz.bank import LETTERS
from bot.quiz.lookup import Match, Query, cjk_count, query_of, too_short
from bot.quiz.models import Question, QuestionType, QuizMode, QuizSession
from bot.quiz.state import RUNNING, live_for_member, live_session

router = Router("lookup")
# ctx.memo keys of _search() and _query(), with the query after a colon.
_SEARCHED = "lookup.searched"
_QUERY = "lookup.query"


@router.command(*texts.CMD_LOOKUP, role=Role.GUEST, summary=quiz_texts.SUMMARY_LOOKUP)
async def handle_lookup(msg: Message, ctx: Context) -> None:
    """搜题 <题目>: the best match from the bank, or a plain "not found"."""
    assert ctx.command is not None
    await _answer(ctx, ctx.command.raw_args)


async def _is_question(msg: Message, ctx: Context) -> bool:
    """A message to the bot (@-mention or direct) that matched no command, reads like a question and
    matches a question of the bank well; anything else goes on to the other filters (or the short help).

    Quizzes come first: during a 抢答/竞赛 such text is left to the quiz (it may be a blank's answer), and
    during a 每日一题 or a 错题 retry only text with a question mark or word counts as a question.
    """
    if ctx.member is None or ctx.lookup is None:
        return False
    text, mentioned, _names = normalize(msg.text, (ctx.config.bot.name, *ctx.config.bot.aliases))
    if not (mentioned or msg.mentions_bot or msg.is_direct):
        return False
    query = remove_mentions(text)
    if cjk_count(query) < texts.LOOKUP_MIN_QUESTION_CHARS:
        return False
    if msg.is_direct:
        busy = await _practising(ctx)
    else:
        live = await live_session(ctx.session, ctx.chat, include_daily=True)
        if live is not None and live.mode != QuizMode.DAILY:
            return False
        busy = live is not None
    if busy and not any(mark in query for mark in quiz_texts.LOOKUP_QUESTION_MARKS):
        return False
    match = await _search(ctx, query)
    return match is not None and match.score >= ctx.config.quiz.lookup_min_score


async def _search(ctx: Context, query: str) -> Match | None:
    """The best match for query — searched once per message: a question put to the bot is searched by its filter
    (_is_question) and again by its handler, with nothing written in between."""
    assert ctx.lookup is not None, "the pipeline hands every handler the app's LookupCache"
    key = f"{_SEARCHED}:{query}"
    if key not in ctx.memo:
        ctx.memo[key] = await ctx.lookup.search(ctx.session, _query(ctx, query))
    found: Match | None = ctx.memo[key]
    return found


def _query(ctx: Context, text: str) -> Query:
    """text cut into words once per message (too_short() and the search both need them)."""
    key = f"{_QUERY}:{text}"
    query: Query | None = ctx.memo.get(key)
    if query is None:
        query = ctx.memo[key] = query_of(text)
    return query


async def _practising(ctx: Context) -> bool:
    """Is this member retrying a question from their 错题本 (answers come as direct messages)?"""
    assert ctx.member is not None
    found = await ctx.session.scalar(
        select(QuizSession.id)
        .where(
            QuizSession.mode == QuizMode.PRACTICE,
            QuizSession.member_id == ctx.member.id,
            QuizSession.status == RUNNING,
        )
        .limit(1)
    )
    return found is not None


def _may_be_question(msg: Message, hints: Hints) -> bool:
    """Only text put to the bot with enough Chinese characters can be a question."""
    return hints.addressed and cjk_count(remove_mentions(hints.text)) >= texts.LOOKUP_MIN_QUESTION_CHARS


@router.message(_is_question, role=Role.GUEST, precheck=_may_be_question)
async def handle_question(msg: Message, ctx: Context) -> None:
    """A question put to the bot without a command word is looked up like 搜题."""
    text, _mentioned, _names = normalize(msg.text, (ctx.config.bot.name, *ctx.config.bot.aliases))
    await _answer(ctx, remove_mentions(text))


async def _answer(ctx: Context, query: str) -> None:
    if not query.strip():
        await ctx.reply(quiz_texts.LOOKUP_NEED_QUERY)
        return
    # Nor elsewhere (私聊, another branch's group) while a 抢答/竞赛 runs that the member may answer.
    assert ctx.member is not None
    live_chat = await live_for_member(ctx.session, ctx.member.branch_id, ctx.chat)
    if live_chat is not None:
        here = ctx.chat is not None and live_chat == ctx.chat.id
        await ctx.reply(quiz_texts.LOOKUP_QUIZ_RUNNING if here else quiz_texts.LOOKUP_QUIZ_RUNNING_ELSEWHERE)
        return
    if too_short(_query(ctx, query)):
        await ctx.reply(quiz_texts.LOOKUP_TOO_SHORT)
        return
    assert ctx.lookup is not None, "the pipeline hands every handler the app's LookupCache"
    match = await _search(ctx, query)
    if match is None and not ctx.lookup.ready:
        await ctx.reply(quiz_texts.LOOKUP_NOT_READY)
        return
    found = await run(ctx.session, _SHOWN, {"id": match.question_id}) if match else []
    if match is None or not found or match.score < ctx.config.quiz.lookup_min_score:
        await ctx.reply(quiz_texts.LOOKUP_NOT_FOUND)
        return
    await ctx.reply(result_text(found[0], match.score))


class Shown(Protocol):
    """What a 搜题 answer shows of a question (a Question, or a row of _SHOWN)."""

    type: str
    stem: str
    options: list[str]
    answer: Any
    explanation: str
    source: str


# The question a 搜题 found, as it is shown (its columns, no ORM object: nothing else reads or changes it).
_SHOWN = Prepared(
    lambda _: select(
        Question.type, Question.stem, Question.options, Question.answer, Question.explanation, Question.source
    ).where(Question.id == bindparam("id"))
)


def result_text(question: Shown, score: float) -> str:
    """The question with its options, answer, explanation and source."""
    options = list(question.options or ())
    lines = "".join(quiz_texts.LOOKUP_OPTION_LINE.format(letter=LETTERS[i], text=o) for i, o in enumerate(options))
    if question.type in (QuestionType.SINGLE, QuestionType.MULTI):
        answer = quiz_texts.LOOKUP_ANSWER_SEPARATOR.join(
            quiz_texts.LOOKUP_ANSWER_CHOICE.format(letter=letter, text=options[LETTERS.index(letter)])
            for letter in str(question.answer)
            if letter in LETTERS[: len(options)]
        )
    elif question.type == QuestionType.JUDGE:
        answer = quiz_texts.LOOKUP_JUDGE_ANSWERS.get(str(question.answer), str(question.answer))
    else:
        accepted = question.answer if isinstance(question.answer, list) else [str(question.answer)]
        answer = quiz_texts.LOOKUP_BLANK_SEPARATOR.join(accepted)
    return quiz_texts.LOOKUP_RESULT.format(
        score=f"{score:.0f}",
        type=quiz_texts.QUESTION_TYPE_NAMES.get(question.type, question.type),
        stem=question.stem,
        options=lines if question.type in (QuestionType.SINGLE, QuestionType.MULTI) else "",
        answer=answer,
        explanation=quiz_texts.LOOKUP_EXPLANATION.format(text=question.explanation) if question.explanation else "",
        source=quiz_texts.LOOKUP_SOURCE.format(text=question.source) if question.source else "",
    )
