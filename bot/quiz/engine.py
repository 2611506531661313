"""Quiz sessions: start, post questions, take answers (抢答 decided in the database), close, finish."""

from __future__ import annotations

import functools
import json
import random
import typing
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from bot.core import display
from bot.core.cards import Card, quiz_card
from bot.core.context import Context
from bot.core.db import Prepared, affected, binds, insert_for
from bot.core.intent import may_be_blank_answer
from bot.core.members import as_loaded
from bot.core.models import Chat, Member
from bot.core.prepared import run
from bot.core.rollcall import award_points
from bot.quiz import texts as quiz_texts
from bot.quiz.answers import LETTERS, display_answer, has_answer_prefix, is_correct, parse
from bot.quiz.models import LIVE_QUIZ_WHERE, Question, QuestionType, QuizAttempt, QuizMode, QuizRound, QuizSession
from bot.quiz.scoring import match_score, opted_out, previous_streak, standings, team_totals
from bot.quiz.state import FINISHED, RUNNING, running_first

PENDING, OPEN, CLOSED = "pending", "open", "closed"
# Seconds between one question's result and the next question, so everyone sees the result first.
NEXT_QUESTION_DELAY = 3
LIVE_MODES = (QuizMode.RUSH, QuizMode.MATCH)

# Lock order on PostgreSQL, so that no two quiz changes deadlock: a quiz's rounds (by id), then its session.
# Answers, the quiz clock and a 抢答 win change one round (and a following one, or then the session); finish()
# locks the rounds it closes before it touches the session.


class Refusal(Enum):
    """Why an answer was not recorded."""

    ALREADY = "already"  # this member answered this question before
    LATE = "late"  # the question's time was up (or the quiz ended) when the answer arrived


@dataclass
class Live:
    """A session's round that is taking answers, with its question."""

    quiz: QuizSession
    round: QuizRound
    question: Question


def question_text(ctx: Context, live: Live) -> str:
    question, quiz = live.question, live.quiz
    options = "".join(
        quiz_texts.QUIZ_OPTION_LINE.format(letter=LETTERS[i], text=text) for i, text in enumerate(question.options)
    )
    common = {"type": quiz_texts.QUESTION_TYPE_NAMES[question.type], "stem": question.stem, "options": options}
    if quiz.mode == QuizMode.DAILY:
        how = (
            quiz_texts.QUIZ_HOW_TO_DAILY_BLANK
            if question.type == QuestionType.BLANK
            else quiz_texts.QUIZ_HOW_TO[question.type]
        )
        close = live.round.closes_at.astimezone(ctx.config.tz).strftime("%H:%M") if live.round.closes_at else ""
        return quiz_texts.QUIZ_DAILY_QUESTION.format(**common, how=how, close=close)
    if quiz.mode == QuizMode.PRACTICE:
        return quiz_texts.QUIZ_PRACTICE_QUESTION.format(**common, how=quiz_texts.QUIZ_HOW_TO[question.type])
    return quiz_texts.QUIZ_QUESTION.format(
        **common,
        mode=quiz_texts.QUIZ_MODE_NAMES[quiz.mode],
        position=live.round.position,
        count=quiz.question_count,
        how=quiz_texts.QUIZ_HOW_TO[question.type],
        seconds=quiz.seconds_per_question,
    )


def explanation(question: Question) -> str:
    """The explanation line(s) shown with an answer: explanation and source as the question has them."""
    if question.explanation and question.source:
        return quiz_texts.QUIZ_EXPLANATION.format(explanation=question.explanation, source=question.source)
    if question.explanation:
        return quiz_texts.QUIZ_EXPLANATION_ONLY.format(explanation=question.explanation)
    if question.source:
        return quiz_texts.QUIZ_SOURCE_ONLY.format(source=question.source)
    return ""


def question_ref(live: Live) -> str:
    """How a private message names the question: '抢答第2题', '今天的每日一题'."""
    return quiz_texts.QUIZ_QUESTION_REF[live.quiz.mode].format(position=live.round.position)


async def tell(ctx: Context, member: Member, text: str) -> None:
    """What concerns one member alone (a wrong answer, a repeat, a late one, a receipt) goes to them privately.

    Never into the group: a group of hundreds must not read who answered wrong, nor a line per answer.
    """
    await ctx.send_to_member(member, text)


async def pick_questions(ctx: Context, count: int, tag: str, rng: random.Random | None = None) -> list[Question]:
    """count random active questions, those tagged `tag` (or mentioning it in the stem) if given.

    Only ids are read to choose from (a bank can hold hundreds of thousands of questions), then the chosen
    questions, in the order chosen.
    """
    active = Question.active.is_(True)
    if tag:
        # A loose filter in SQL (the tag in the stem, or in the tags' JSON text, as stored or \u-escaped),
        # then the exact rule on what it let through.
        tags_text = cast(Question.tags, Text)
        loose = or_(
            Question.stem.contains(tag, autoescape=True),
            tags_text.contains(tag, autoescape=True),
            tags_text.contains(json.dumps(tag)[1:-1], autoescape=True),
        )
        found = await ctx.session.execute(
            select(Question.id, Question.tags, Question.stem).where(active, loose).order_by(Question.id)
        )
        ids = [question_id for question_id, tags, stem in found if tag in (tags or []) or tag in stem]
    else:
        ids = list(await ctx.session.scalars(select(Question.id).where(active).order_by(Question.id)))
    chosen = ids if len(ids) < count else (rng or random.Random()).sample(ids, count)
    loaded = {q.id: q for q in await ctx.session.scalars(select(Question).where(Question.id.in_(chosen)))}
    return [loaded[question_id] for question_id in chosen if question_id in loaded]


async def _say(ctx: Context, quiz: QuizSession, text: str, card: Card | None = None) -> None:
    """Post to the quiz's chat (with the card, where the channel shows one), or, for practice, to its member."""
    if quiz.chat_id is not None:
        chat = await ctx.session.get(Chat, quiz.chat_id)
        if chat is not None:
            await ctx.send_to_chat(chat, text, card=card)
    elif quiz.member_id is not None:
        member = await ctx.session.get(Member, quiz.member_id)
        if member is not None:
            await ctx.send_to_member(member, text)


async def start(
    ctx: Context,
    *,
    mode: str,
    chat: Chat | None,
    questions: list[Question],
    seconds: int,
    tag: str = "",
    starter: Member | None = None,
    closes_at: datetime | None = None,
    period_key: str | None = None,
    member: Member | None = None,
    waiting: bool = False,
) -> QuizSession | None:
    """Create the session and its rounds; the first round opens now and its question is posted.

    None if the database already holds what this would duplicate: a running 抢答/竞赛 in the chat (one at a
    time, by a partial unique index) or the 每日一题 of this period_key — also when another process made it
    a moment ago. waiting: a 每日一题 that waits for the chat's live quiz to end (the quiz clock posts it then).
    """
    now = ctx.clock()
    values: dict[str, Any] = {
        "branch_id": chat.branch_id if chat else member.branch_id if member else 0,
        "chat_id": chat.id if chat else None,
        "member_id": member.id if member else None,
        "mode": mode,
        "status": RUNNING,
        "tag": tag,
        "question_count": len(questions),
        "seconds_per_question": seconds,
        "period_key": period_key,
        "started_by": starter.id if starter else None,
        "started_at": now,
        "finished_at": None,
    }
    statement = insert_for(ctx.session.get_bind().dialect.name, QuizSession).values(**values)
    if mode in LIVE_MODES:
        statement = statement.on_conflict_do_nothing(index_elements=["chat_id"], index_where=text(LIVE_QUIZ_WHERE))
    elif period_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["period_key"])
    quiz_id = await ctx.session.scalar(statement.returning(QuizSession.id))
    if quiz_id is None:
        return None
    quiz = await ctx.session.get(QuizSession, quiz_id)
    assert quiz is not None
    for position, question in enumerate(questions, start=1):
        ctx.session.add(QuizRound(session_id=quiz.id, position=position, question_id=question.id, status=PENDING))
    await ctx.session.flush()
    if mode in (QuizMode.RUSH, QuizMode.MATCH):
        await _say(
            ctx,
            quiz,
            quiz_texts.QUIZ_STARTED.format(
                mode=quiz_texts.QUIZ_MODE_NAMES[mode],
                count=len(questions),
                tag_part=quiz_texts.QUIZ_TAG_PART.format(tag=tag) if tag else "",
                seconds=seconds,
            ),
        )
    first = await ctx.session.scalar(select(QuizRound).where(QuizRound.session_id == quiz.id, QuizRound.position == 1))
    assert first is not None
    if waiting:
        first.closes_at = closes_at  # pending with no opened_at: see advance()
    else:
        await _open(ctx, quiz, first, now, closes_at)
    return quiz


async def _open(
    ctx: Context, quiz: QuizSession, rnd: QuizRound, now: datetime, closes_at: datetime | None = None
) -> None:
    rnd.status = OPEN
    rnd.opened_at = now
    if closes_at is not None:
        rnd.closes_at = closes_at
    elif quiz.mode != QuizMode.PRACTICE:
        rnd.closes_at = now + timedelta(seconds=quiz.seconds_per_question)
    question = await ctx.session.get(Question, rnd.question_id)
    assert question is not None
    card = quiz_card(rnd.id, question, quiz_texts.CARD_TITLE_QUIZ.format(position=rnd.position))
    if card is not None and quiz.mode in (QuizMode.RUSH, QuizMode.MATCH):
        card["live"] = True  # the next question of a running exchange (bot/core/cards.py asks_a_live_question)
    await _say(ctx, quiz, question_text(ctx, Live(quiz, rnd, question)), card)


async def live_round(ctx: Context, quiz: QuizSession) -> Live | None:
    rnd = await ctx.session.scalar(
        select(QuizRound).where(QuizRound.session_id == quiz.id, QuizRound.status == OPEN).limit(1)
    )
    if rnd is None:
        return None
    question = await ctx.session.get(Question, rnd.question_id)
    return Live(quiz, rnd, question) if question else None


async def live_in_chat(ctx: Context, chat: Chat | None) -> tuple[QuizSession | None, Live | None]:
    """The chat's running quiz (state.live_session with include_daily) and its live round (live_round), read at once."""
    if chat is None:
        return None, None
    # Asked of every answer, so read once per group commit transaction for all the answers to the chat in it
    # (Seen.live_rows, until a handler writes a quiz; as the batch's other reads, its messages all arrived before),
    # by a compiled statement whose row is made into the three objects as the ORM's loading would make them (ORM
    # execution and loading cost several times what the statement takes).
    seen = ctx.session.info.get("seen")
    cached: dict[int, Any] = seen.live_rows if seen is not None else {}
    row = cached.get(chat.id)
    if row is None:
        found = await run(ctx.session, _LIVE_IN_CHAT, {"chat_id": chat.id})
        if not found:
            return None, None
        row = cached[chat.id] = found[0]
    held = ctx.session.identity_map
    if any(
        row[start] is not None and model.__mapper__.identity_key_from_primary_key((row[start],)) in held
        for model, start, _end in _LIVE_SPANS
    ):
        # The session holds one of them already (never on the group commit's answer path: a handler's session
        # starts with its sender's member, chat and unit only): the ORM loads them, merging into what it holds.
        orm = (await ctx.session.execute(_live_in_chat_query(), {"chat_id": chat.id})).first()
        if orm is None:
            return None, None
        return orm[0], Live(orm[0], orm[1], orm[2]) if orm[1] is not None and orm[2] is not None else None
    made = [
        as_loaded(ctx.session, model, zip(_LIVE_COLUMNS[model], row[start:end], strict=True))
        if row[start] is not None
        else None
        for model, start, end in _LIVE_SPANS
    ]
    quiz = typing.cast(QuizSession, made[0])  # never None: the row is a running quiz's
    rnd, question = made[1], made[2]
    return quiz, Live(quiz, rnd, question) if rnd is not None and question is not None else None


@functools.cache
def _live_in_chat_query() -> Select[QuizSession, QuizRound, Question]:
    """Built once (its construction costs more than its execution); the chat is :chat_id."""
    return (
        select(QuizSession, QuizRound, Question)
        .outerjoin(QuizRound, and_(QuizRound.session_id == QuizSession.id, QuizRound.status == OPEN))
        .outerjoin(Question, Question.id == QuizRound.question_id)
        .where(QuizSession.chat_id == bindparam("chat_id"), QuizSession.status == RUNNING)
        .order_by(*running_first(), QuizRound.id)
        .limit(1)
    )


# The attributes of each model's columns, and where they sit in _LIVE_IN_CHAT's row: (model, first, after the
# last); the first is its id (None: no open round, or no question).
_LIVE_COLUMNS: dict[Any, tuple[str, ...]] = {
    model: tuple(attr.key for attr in model.__mapper__.column_attrs) for model in (QuizSession, QuizRound, Question)
}
_LIVE_SPANS: list[tuple[Any, int, int]] = []
for _model, _keys in _LIVE_COLUMNS.items():
    _start = _LIVE_SPANS[-1][2] if _LIVE_SPANS else 0
    assert _keys[0] == "id"
    _LIVE_SPANS.append((_model, _start, _start + len(_keys)))

# _live_in_chat_query()'s statement with the three tables' columns, each labelled with its table's name.
_LIVE_IN_CHAT = Prepared(
    lambda _: _live_in_chat_query().with_only_columns(
        *(
            getattr(model, key).label(f"{model.__tablename__}_{key}")
            for model, keys in _LIVE_COLUMNS.items()
            for key in keys
        ),
        maintain_column_froms=True,
    )
)


async def last_closed(ctx: Context, quiz: QuizSession) -> Live | None:
    rnd = await ctx.session.scalar(
        select(QuizRound)
        .where(QuizRound.session_id == quiz.id, QuizRound.status == CLOSED)
        .order_by(QuizRound.position.desc())
        .limit(1)
    )
    question = await ctx.session.get(Question, rnd.question_id) if rnd else None
    return Live(quiz, rnd, question) if rnd and question else None


def accepts(live: Live, text: str, addressed: bool) -> str | None:
    """The canonical answer if this text answers the live question (a daily blank needs '答 …' or @; an unmarked
    blank answer must look like one, bot/core/intent.py)."""
    blank = live.question.type == QuestionType.BLANK
    marked = has_answer_prefix(text)
    if blank and live.quiz.mode == QuizMode.DAILY and not (addressed or marked):
        return None  # a whole day of group chatter must not count as answers
    if blank and not marked and not may_be_blank_answer(text):
        # Talk during a blank ('哈哈这题好难', '收到') is neither graded nor uses the attempt — also when it @s the
        # bot, as every message a WeCom group's bot hears does.
        return None
    return parse(text, live.question)


async def _attempt(
    ctx: Context, live: Live, member: Member, canonical: str, correct: bool, now: datetime, score: int
) -> int | None:
    """Record the one attempt if the round is open and its time not up; its id, or None if not recorded.

    One statement decides, in the database: INSERT … SELECT from the round WHERE it is open and closes_at is not
    before now, ON CONFLICT on (round, member) DO NOTHING. Any other integrity error is a real error.
    """
    elapsed_ms = max(0, int((now - (live.round.opened_at or now)).total_seconds() * 1000))
    statement = _ATTEMPT_LOCKED if live.quiz.mode != QuizMode.RUSH else _ATTEMPT
    values = {
        "round_id": live.round.id,
        "member_id": member.id,
        "answer": canonical[:200],
        "correct": correct,
        "answered_at": now,
        "elapsed_ms": elapsed_ms,
        "score": score,
    }
    # Compiled once per dialect and run on the cursor (Prepared): through Session.scalar() the statement cost
    # several times what the database takes to run it.
    inserted = await run(ctx.session, statement, values)
    return int(inserted[0].id) if inserted else None


@functools.cache
def _attempt_statement(dialect: str, *, locked: bool) -> Any:
    """_attempt()'s INSERT … SELECT, built once per dialect (its construction costs more than its execution)."""
    table = typing.cast(Table, QuizAttempt.__table__)
    given = binds(table, "round_id", "member_id", "answer", "correct", "answered_at", "elapsed_ms", "score")
    row = select(*given.values()).where(QuizRound.id == given["round_id"], taking_answers(given["answered_at"]))
    if locked:
        # PostgreSQL: wait for a finish() or the clock's close that holds the round, then see it closed —
        # otherwise an answer racing 结束答题 is scored after the ranking and the ledger were written. (A 抢答
        # needs no lock: its winner is decided by the conditional UPDATE; a shared lock there would deadlock
        # the winner's own update.) SQLite renders nothing: its writers take turns.
        row = row.with_for_update(read=True)
    return (
        # The table, not the entity: an ORM INSERT given parameters would take them for rows to insert.
        insert_for(dialect, table)
        .from_select(list(given), row)
        .on_conflict_do_nothing(index_elements=["round_id", "member_id"])
        .returning(table.c.id)
    )


_ATTEMPT = Prepared(lambda _, dialect: _attempt_statement(dialect, locked=False), per_dialect=True)
_ATTEMPT_LOCKED = Prepared(lambda _, dialect: _attempt_statement(dialect, locked=True), per_dialect=True)


def taking_answers(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """A round takes answers while it is open and its time is not up (an answer at the last instant counts).

    The quiz clock closes the round a moment later; until then this is what keeps late answers out.
    """
    return and_(QuizRound.status == OPEN, or_(QuizRound.closes_at.is_(None), QuizRound.closes_at >= now))


async def _refusal(ctx: Context, live: Live, member: Member) -> Refusal:
    answered = await ctx.session.scalar(
        select(exists().where(QuizAttempt.round_id == live.round.id, QuizAttempt.member_id == member.id))
    )
    return Refusal.ALREADY if answered else Refusal.LATE


async def submit(ctx: Context, live: Live, member: Member, canonical: str) -> None:
    """Take one member's answer to the live round and answer them as the mode requires."""
    correct = is_correct(canonical, live.question)
    mode = live.quiz.mode
    now = ctx.clock()
    score = 0
    if correct and mode == QuizMode.MATCH:
        elapsed_ms = max(0, int((now - (live.round.opened_at or now)).total_seconds() * 1000))
        streak = await previous_streak(ctx.session, live.quiz.id, live.round.position, member.id)
        score = match_score(ctx.config.quiz, elapsed_ms, live.quiz.seconds_per_question, streak)
    elif correct and mode == QuizMode.DAILY:
        score = ctx.config.points.quiz_daily_correct
    attempt_id = await _attempt(ctx, live, member, canonical, correct, now, score)
    name, question = member.display_name, question_ref(live)
    if attempt_id is None:
        refusal = await _refusal(ctx, live, member)
        if refusal == Refusal.ALREADY:
            await tell(ctx, member, quiz_texts.QUIZ_ALREADY_ANSWERED.format(name=name, question=question))
        elif mode == QuizMode.RUSH and await _winner(ctx, live) is not None:
            await too_slow(ctx, live, member)  # the question was won while this answer was on its way
        else:
            await tell(ctx, member, quiz_texts.QUIZ_ANSWER_LATE.format(name=name, question=question))
        return
    if mode == QuizMode.RUSH:
        await _submit_rush(ctx, live, member, attempt_id, correct)
    elif mode == QuizMode.MATCH:
        # A receipt for every answer, privately and the same whether right or wrong: the group learns the answer
        # (and the 正确率) when the question closes, and no one learns another member's result.
        elapsed = max(0.0, (now - (live.round.opened_at or now)).total_seconds())
        await tell(ctx, member, quiz_texts.QUIZ_MATCH_RECEIVED.format(name=name, question=question, seconds=elapsed))
    elif mode == QuizMode.DAILY:
        close = live.round.closes_at.astimezone(ctx.config.tz).strftime("%H:%M") if live.round.closes_at else ""
        await tell(ctx, member, quiz_texts.QUIZ_DAILY_RECEIVED.format(name=name, question=question, close=close))
    elif mode == QuizMode.PRACTICE:
        answer = display_answer(live.question)
        text = (
            quiz_texts.PRACTICE_RIGHT.format(answer=answer)
            if correct
            else quiz_texts.PRACTICE_WRONG.format(answer=answer, explanation=explanation(live.question))
        )
        await ctx.reply(text)
        await close_round(ctx, live)


async def _submit_rush(ctx: Context, live: Live, member: Member, attempt_id: int, correct: bool) -> None:
    if not correct:
        await tell(ctx, member, quiz_texts.QUIZ_WRONG.format(name=member.display_name, question=question_ref(live)))
        return
    # The one place the winner is decided: a conditional update, atomic in the database (deadline included).
    won = await ctx.session.execute(
        update(QuizRound)
        .where(QuizRound.id == live.round.id, QuizRound.winner_member_id.is_(None), taking_answers(ctx.clock()))
        .values(winner_member_id=member.id)
    )
    if affected(won) != 1:
        if await _winner(ctx, live) is not None:
            await too_slow(ctx, live, member)
        else:  # closed meanwhile without a winner: time up, or the quiz was stopped
            late = quiz_texts.QUIZ_ANSWER_LATE.format(name=member.display_name, question=question_ref(live))
            await tell(ctx, member, late)
        return
    score = ctx.config.points.quiz_rush_win
    await ctx.session.execute(update(QuizAttempt).where(QuizAttempt.id == attempt_id).values(score=score))
    await award_quiz_points(ctx, live.quiz, member, score, "quiz_rush_win", f"quiz_round:{live.round.id}")
    named = await _named_in_group(ctx, live.quiz, member.id)
    win = quiz_texts.QUIZ_RUSH_WIN if named else quiz_texts.QUIZ_RUSH_WIN_UNNAMED
    await ctx.reply(
        win.format(
            position=live.round.position,
            name=member.display_name,
            answer=display_answer(live.question),
            explanation=explanation(live.question),
        )
    )
    if not named:
        private = quiz_texts.QUIZ_RUSH_WON_PRIVATELY.format(name=member.display_name, question=question_ref(live))
        await tell(ctx, member, private)
    live.round.winner_member_id = member.id
    await close_round(ctx, live, announce=False)


async def _winner(ctx: Context, live: Live) -> int | None:
    winner: int | None = await ctx.session.scalar(
        select(QuizRound.winner_member_id).where(QuizRound.id == live.round.id)
    )
    return winner


async def too_slow(ctx: Context, live: Live, member: Member) -> None:
    """Tell a member, privately, that the 抢答 question they answered was already won (the group saw by whom)."""
    winner_id = await _winner(ctx, live)
    winner = await ctx.session.get(Member, winner_id) if winner_id else None
    if winner is not None and await _named_in_group(ctx, live.quiz, winner.id):
        text = quiz_texts.QUIZ_RUSH_TOO_SLOW.format(
            name=member.display_name, question=question_ref(live), winner=winner.display_name
        )
    else:
        text = quiz_texts.QUIZ_RUSH_TOO_SLOW_UNNAMED.format(name=member.display_name, question=question_ref(live))
    await tell(ctx, member, text)


async def award_quiz_points(
    ctx: Context, quiz: QuizSession, member: Member, points: int, rule: str, source: str
) -> None:
    if not ctx.config.points.enabled or points <= 0:
        return
    await award_points(ctx.session, member, points, rule, source, ctx.clock(), chat_id=quiz.chat_id)


async def close_round(ctx: Context, live: Live, *, announce: bool = True) -> bool:
    """Close a round once (conditional update), reveal as the mode does, then open the next or finish."""
    now = ctx.clock()
    closed = await ctx.session.execute(
        update(QuizRound).where(QuizRound.id == live.round.id, QuizRound.status == OPEN).values(status=CLOSED)
    )
    if affected(closed) != 1:
        return False
    live.round.status = CLOSED
    mode = live.quiz.mode
    if announce and mode == QuizMode.RUSH:
        timeout = quiz_texts.QUIZ_TIMEOUT.format(
            position=live.round.position, answer=display_answer(live.question), explanation=explanation(live.question)
        )
        await _say(ctx, live.quiz, timeout)
    elif mode == QuizMode.MATCH:
        await _reveal_match(ctx, live)
    elif mode == QuizMode.DAILY:
        await _reveal_daily(ctx, live)
    following = await ctx.session.scalar(
        select(QuizRound).where(QuizRound.session_id == live.quiz.id, QuizRound.position == live.round.position + 1)
    )
    if following is None:
        await finish(ctx, live.quiz)
    else:
        following.opened_at = now + timedelta(seconds=NEXT_QUESTION_DELAY)
    return True


async def _attempts(ctx: Context, round_id: int) -> list[tuple[QuizAttempt, Member]]:
    rows = await ctx.session.execute(
        select(QuizAttempt, Member)
        .join(Member, Member.id == QuizAttempt.member_id)
        .where(QuizAttempt.round_id == round_id)
        .order_by(QuizAttempt.elapsed_ms, QuizAttempt.id)
    )
    return [(a, m) for a, m in rows]


async def _reveal_match(ctx: Context, live: Live) -> None:
    attempts = await _attempts(ctx, live.round.id)
    correct = [(a, m) for a, m in attempts if a.correct]
    fastest = ""
    # The fastest is named only where rankings are public and they have not asked to be left out of them (then no
    # one is named: the next fastest would not be the fastest).
    if correct and await _named_in_group(ctx, live.quiz, correct[0][1].id):
        a, m = correct[0]
        fastest = quiz_texts.QUIZ_MATCH_FASTEST.format(name=m.display_name, seconds=a.elapsed_ms / 1000)
    tally = quiz_texts.QUIZ_MATCH_NOBODY
    if attempts:
        tally = quiz_texts.QUIZ_MATCH_TALLY.format(
            answered=len(attempts),
            correct=len(correct),
            rate=display.percent(len(correct) / len(attempts)),
            fastest=fastest,
        )
    await _say(
        ctx,
        live.quiz,
        quiz_texts.QUIZ_MATCH_REVEAL.format(
            position=live.round.position,
            answer=display_answer(live.question),
            explanation=explanation(live.question),
            tally=tally,
        ),
    )


async def _reveal_daily(ctx: Context, live: Live) -> None:
    attempts = await _attempts(ctx, live.round.id)
    winners = [m for a, m in sorted(attempts, key=lambda pair: pair[0].answered_at) if a.correct]
    for attempt, member in attempts:
        if attempt.correct:
            await award_quiz_points(
                ctx, live.quiz, member, attempt.score, "quiz_daily_correct", f"quiz_round:{live.round.id}"
            )
    # Named in the group where rankings are public, but not those who asked to be left out of them (they are counted).
    ids = [m.id for m in winners]
    hidden = await opted_out(ctx.session, ids) if await _public(ctx, live.quiz) else set(ids)
    named = [m for m in winners if m.id not in hidden]
    names = display.names(named) if winners else quiz_texts.QUIZ_DAILY_NOBODY
    if hidden:  # those who asked not to be ranked are counted, not named
        some = quiz_texts.QUIZ_DAILY_SOME_NAMED if named else quiz_texts.QUIZ_DAILY_NONE_NAMED
        names = some.format(names=names, count=len(winners))
    await _say(
        ctx,
        live.quiz,
        quiz_texts.QUIZ_DAILY_REVEAL.format(
            answer=display_answer(live.question),
            explanation=explanation(live.question),
            names=names,
            answered=len(attempts),
        ),
    )


async def finish(ctx: Context, quiz: QuizSession, *, stopped: bool = False) -> bool:
    """Finish a running session once; a 抢答 or 竞赛 ends with its ranking (where rankings are public).

    A conditional update decides: of two 结束答题 (or a 结束答题 and the quiz clock) at once, only the one
    that changes the status posts the ranking; the others get False.
    """
    now = ctx.clock()
    await ctx.session.execute(  # the lock order (see the top): the rounds first
        select(QuizRound.id)
        .where(QuizRound.session_id == quiz.id, QuizRound.status != CLOSED)
        .order_by(QuizRound.id)
        .with_for_update(key_share=True)
    )
    ended = await ctx.session.execute(
        update(QuizSession)
        .where(QuizSession.id == quiz.id, QuizSession.status == RUNNING)
        .values(status=FINISHED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if affected(ended) != 1:
        return False
    set_committed_value(quiz, "status", FINISHED)
    set_committed_value(quiz, "finished_at", now)
    await ctx.session.execute(
        update(QuizRound).where(QuizRound.session_id == quiz.id, QuizRound.status != CLOSED).values(status=CLOSED)
    )
    if quiz.mode not in LIVE_MODES:
        return True
    rows = await ctx.session.execute(
        select(QuizAttempt.member_id, func.sum(QuizAttempt.score), func.count())
        .join(QuizRound, QuizRound.id == QuizAttempt.round_id)
        .where(QuizRound.session_id == quiz.id)
        .group_by(QuizAttempt.member_id)
    )
    totals, players = {}, 0
    for member_id, total, _count in rows:
        players += 1
        if quiz.mode == QuizMode.MATCH:
            totals[member_id] = int(total or 0)
        else:
            wins = await ctx.session.scalar(
                select(func.count())
                .select_from(QuizRound)
                .where(QuizRound.session_id == quiz.id, QuizRound.winner_member_id == member_id)
            )
            if wins:
                totals[member_id] = int(wins)
    table = await standings(ctx.session, totals)
    if quiz.mode == QuizMode.MATCH:
        for row in table:
            points = row.value * ctx.config.points.quiz_match_per_100 // 100
            await award_quiz_points(ctx, quiz, row.member, points, "quiz_match", f"quiz_session:{quiz.id}")
    public = await _public(ctx, quiz)
    hidden = await opted_out(ctx.session, [row.member.id for row in table]) if public else set()
    shown = [row for row in table if row.member.id not in hidden and row.value > 0]
    mode_name = quiz_texts.QUIZ_MODE_NAMES[quiz.mode]
    stopped_part = quiz_texts.QUIZ_STOPPED.format(mode=mode_name) if stopped else ""
    if not public:
        body = quiz_texts.QUIZ_NO_RANKING.format(count=players)
    elif not any(row.value > 0 for row in table):
        body = quiz_texts.QUIZ_NO_WINNERS
    elif quiz.mode == QuizMode.RUSH and not shown:  # the winners all asked not to be ranked: no false "无人答对"
        body = quiz_texts.QUIZ_WINNERS_UNLISTED
    elif quiz.mode == QuizMode.RUSH:
        # Equal results share a place (并列): bot/display.ranking.
        body = quiz_texts.QUIZ_RUSH_HEADER + "".join(
            quiz_texts.QUIZ_RANK_LINE.format(
                place=r.place,
                name=r.item.member.display_name + r.mark,
                value=quiz_texts.QUIZ_RUSH_VALUE.format(wins=r.item.value),
            )
            for r in display.ranking(shown, lambda row: row.value)
        )
    else:
        podium = quiz_texts.QUIZ_WINNERS_UNLISTED
        if shown:
            podium = quiz_texts.QUIZ_PODIUM_HEADER + "".join(
                quiz_texts.QUIZ_RANK_LINE.format(
                    place=r.place,
                    name=r.item.member.display_name + r.mark,
                    value=quiz_texts.QUIZ_MATCH_VALUE.format(score=r.item.value),
                )
                for r in display.ranking(shown, lambda row: row.value)[:3]
            )
        # The 党小组 as teams (everyone's points, no names); members in no 党小组 are no team of their own.
        groups = [(group, score) for group, score in team_totals(table) if group]
        teams = ""
        if groups:
            teams = quiz_texts.QUIZ_TEAM_HEADER + "".join(
                quiz_texts.QUIZ_TEAM_LINE.format(group=group, score=score) for group, score in groups
            )
        body = podium + teams
    await _say(ctx, quiz, quiz_texts.QUIZ_FINAL.format(mode=mode_name, stopped=stopped_part, body=body))
    return True


async def _named_in_group(ctx: Context, quiz: QuizSession, member_id: int) -> bool:
    """Whether a member's result may carry their name in the group: the branch's rankings are public and they have
    not asked to be left out of them (不参加排名)."""
    return await _public(ctx, quiz) and not await opted_out(ctx.session, [member_id])


async def _public(ctx: Context, quiz: QuizSession) -> bool:
    from bot.core.models import Branch

    branch = await ctx.session.get(Branch, quiz.branch_id)
    spec = ctx.config.branch(branch.key) if branch else None
    return spec.rankings if spec else True


async def due(session: AsyncSession, now: datetime) -> bool:
    """Has any running quiz a round to open or close by now (what advance() would act on)?"""
    found = await session.scalar(
        select(QuizRound.id)
        .join(QuizSession, QuizSession.id == QuizRound.session_id)
        .where(
            QuizSession.status == RUNNING,
            or_(
                and_(QuizRound.status == OPEN, QuizRound.closes_at <= now),
                and_(QuizRound.status == PENDING, QuizRound.opened_at <= now),
            ),
        )
        .limit(1)
    )
    return found is not None or bool(await _waiting(session))


async def _waiting(session: AsyncSession) -> list[tuple[QuizRound, QuizSession]]:
    """Waiting 每日一题 rounds (pending, never given an opening time) whose chat has no 抢答/竞赛 running now."""
    other = aliased(QuizSession)
    live = select(other.id).where(
        other.chat_id == QuizSession.chat_id, other.status == RUNNING, other.mode.in_(LIVE_MODES)
    )
    rows = await session.execute(
        select(QuizRound, QuizSession)
        .join(QuizSession, QuizSession.id == QuizRound.session_id)
        .where(
            QuizSession.status == RUNNING,
            QuizSession.mode == QuizMode.DAILY,
            QuizRound.status == PENDING,
            QuizRound.opened_at.is_(None),
            ~live.exists(),
        )
        .order_by(QuizRound.id)
    )
    return [(rnd, quiz) for rnd, quiz in rows]


async def advance(ctx: Context) -> int:
    """The quiz clock: open rounds whose time has come, close rounds whose time is up. Returns steps taken."""
    now = ctx.clock()
    steps = 0
    due_close = await ctx.session.execute(
        select(QuizRound, QuizSession)
        .join(QuizSession, QuizSession.id == QuizRound.session_id)
        .where(QuizRound.status == OPEN, QuizRound.closes_at <= now, QuizSession.status == RUNNING)
        .order_by(QuizRound.id)
    )
    for rnd, quiz in list(due_close):
        question = await ctx.session.get(Question, rnd.question_id)
        if question is not None and await close_round(ctx, Live(quiz, rnd, question)):
            steps += 1
    due_open = await ctx.session.execute(
        select(QuizRound, QuizSession)
        .join(QuizSession, QuizSession.id == QuizRound.session_id)
        .where(QuizRound.status == PENDING, QuizRound.opened_at <= now, QuizSession.status == RUNNING)
        .order_by(QuizRound.id)
    )
    for rnd, quiz in list(due_open):
        claimed = await ctx.session.execute(
            update(QuizRound).where(QuizRound.id == rnd.id, QuizRound.status == PENDING).values(status=OPEN)
        )
        if affected(claimed) == 1:
            await _open(ctx, quiz, rnd, now)
            steps += 1
    for rnd, quiz in await _waiting(ctx.session):
        if rnd.closes_at is not None and rnd.closes_at <= now:
            # The quiz outlasted the day's question: it is dropped unseen (nobody could have answered it).
            steps += await finish(ctx, quiz)
            continue
        claimed = await ctx.session.execute(
            update(QuizRound)
            .where(QuizRound.id == rnd.id, QuizRound.status == PENDING, QuizRound.opened_at.is_(None))
            .values(status=OPEN)
        )
        if affected(claimed) == 1:
            await _open(ctx, quiz, rnd, now, rnd.closes_at)
            steps += 1
    return steps


def at(ctx: Context, day: datetime, hhmm: str) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day.astimezone(ctx.config.tz).date(), time(hour, minute), tzinfo=ctx.config.tz)
