"""抢答 / 竞赛 / 结束答题 / answers / 排行榜 / 不参加排名 / 参加排名 / 错题本 / 重做."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, select

from bot.core import display, texts
from bot.core.cards import quiz_round
from bot.core.context import Context
from bot.core.db import Prepared
from bot.core.members import group_named, party_groups
from bot.core.message import Message
from bot.core.models import Member, PointsEntry, Role
from bot.core.normalize import normalize
from bot.core.prepared import run
from bot.core.router import Router
from bot.core.timeparse import chinese_number
from bot.quiz import chart, engine
from bot.quiz import texts as quiz_texts
from bot.quiz.answers import is_correct, parse
from bot.quiz.chart import Bar, labels
from bot.quiz.models import Question, QuizAttempt, QuizMode, QuizRound, QuizSession, RankingOptOut
from bot.quiz.scoring import opted_out, standings
from bot.quiz.state import LATE_ANSWER_SECONDS, RUNNING, live_session

router = Router("quiz")

_COUNT = re.compile(r"(-?[0-9零〇一二两三四五六七八九十]+)\s*(?:道题|题|道)")
_SECONDS = re.compile(r"(-?[0-9]+)\s*(?:秒|s)")
_INDEX = re.compile(r"(\d+)")
LEADERBOARD_SIZE = 10
WRONG_BOOK_SIZE = 10


def _parse_setup(args: str) -> tuple[int | None, int | None, str]:
    """'5题 20秒 党章' → (5, 20, '党章'); None for what is not written. A count written that is no count ('-3题',
    '十十题') comes back as 0, to be refused as out of range as '0题' is."""
    count = seconds = None
    if match := _COUNT.search(args):
        count = chinese_number(match.group(1)) or 0
        args = args.replace(match.group(0), " ")
    if match := _SECONDS.search(args):
        seconds = int(match.group(1))
        args = args.replace(match.group(0), " ")
    return count, seconds, " ".join(args.split())


async def _start(msg: Message, ctx: Context, mode: str) -> None:
    assert ctx.command is not None and ctx.member is not None
    if ctx.chat is None:
        await ctx.reply(quiz_texts.QUIZ_NOT_IN_GROUP)
        return
    running = await live_session(ctx.session, ctx.chat)
    if running is not None:
        await ctx.reply(quiz_texts.QUIZ_ALREADY_RUNNING.format(mode=quiz_texts.QUIZ_MODE_NAMES[running.mode]))
        return
    config = ctx.config.quiz
    count, seconds, tag = _parse_setup(ctx.command.args)
    count = 5 if count is None else count
    default_seconds = config.rush_seconds_per_question if mode == QuizMode.RUSH else config.match_seconds_per_question
    seconds = default_seconds if seconds is None else seconds
    if not 1 <= count <= config.max_questions:
        await ctx.reply(quiz_texts.QUIZ_COUNT_INVALID.format(max=config.max_questions))
        return
    if not 5 <= seconds <= 3600:
        await ctx.reply(quiz_texts.QUIZ_SECONDS_INVALID)
        return
    questions = await engine.pick_questions(ctx, count, tag)
    if len(questions) < count:
        tag_part = quiz_texts.QUIZ_TAG_PART.format(tag=tag) if tag else ""
        await ctx.reply(quiz_texts.QUIZ_NOT_ENOUGH.format(tag_part=tag_part, available=len(questions)))
        return
    quiz = await engine.start(
        ctx, mode=mode, chat=ctx.chat, questions=questions, seconds=seconds, tag=tag, starter=ctx.member
    )
    if quiz is None:  # another one was started here a moment ago (the database keeps one per chat)
        running = await live_session(ctx.session, ctx.chat)
        shown = running.mode if running is not None else mode
        await ctx.reply(quiz_texts.QUIZ_ALREADY_RUNNING.format(mode=quiz_texts.QUIZ_MODE_NAMES[shown]))


@router.command(*quiz_texts.CMD_RUSH, role=Role.SECRETARY, summary=quiz_texts.SUMMARY_RUSH)
async def handle_rush(msg: Message, ctx: Context) -> None:
    """Start a 抢答: first correct answer to each question wins it."""
    await _start(msg, ctx, QuizMode.RUSH)


@router.command(*quiz_texts.CMD_MATCH, role=Role.SECRETARY, summary=quiz_texts.SUMMARY_MATCH)
async def handle_match(msg: Message, ctx: Context) -> None:
    """Start a timed 竞赛: everyone answers each question; faster correct answers score more."""
    await _start(msg, ctx, QuizMode.MATCH)


@router.command(*quiz_texts.CMD_STOP_QUIZ, role=Role.SECRETARY, summary=quiz_texts.SUMMARY_STOP_QUIZ)
async def handle_stop_quiz(msg: Message, ctx: Context) -> None:
    """End this chat's 抢答 or 竞赛 now, with the ranking so far."""
    quiz = await live_session(ctx.session, ctx.chat)
    if quiz is None or not await engine.finish(ctx, quiz, stopped=True):  # not: ended a moment ago, elsewhere
        await ctx.reply(quiz_texts.QUIZ_NOTHING_RUNNING)


async def _answer_target(msg: Message, ctx: Context) -> tuple[engine.Live, str] | None:
    """The live (or, during the pause after a 抢答 was won, the last) round this text answers."""
    if ctx.member is None or ctx.quiz_idle:
        return None
    text, mentioned, _names = normalize(msg.text, (ctx.config.bot.name, *ctx.config.bot.aliases))
    if ctx.quiz_gate is not None and msg.card_key is None and ctx.quiz_gate.rules_out(text):
        return None  # e.g. '收到' while a 竞赛 of choice questions is live
    if msg.is_direct:
        quiz = await ctx.session.scalar(
            select(QuizSession)
            .where(
                QuizSession.mode == QuizMode.PRACTICE,
                QuizSession.member_id == ctx.member.id,
                QuizSession.status == RUNNING,
            )
            .order_by(QuizSession.id.desc())
            .limit(1)
        )
        live = await engine.live_round(ctx, quiz) if quiz is not None else None
    else:
        quiz, live = await engine.live_in_chat(ctx, ctx.chat)
    if live is None and not msg.is_direct and (quiz is None or quiz.mode == QuizMode.DAILY):
        quiz = await _just_finished_rush(ctx)  # (a waiting 每日一题 has no live round either)
    if quiz is None:
        return None
    tapped = quiz_round(msg.card_key)
    if tapped is not None and (live is None or live.round.id != tapped):
        # A tap on the card of a question that is over (bot/core/cards.py) answers nothing; a late tap on the
        # question just won still hears who was faster, as a late typed answer does.
        last = await engine.last_closed(ctx, quiz) if live is None and quiz.mode == QuizMode.RUSH else None
        if last is None or last.round.id != tapped:
            return None
    if live is not None:
        canonical = engine.accepts(live, text, mentioned or msg.mentions_bot)
        return (live, canonical) if canonical is not None else None
    if quiz.mode == QuizMode.RUSH:
        last = await engine.last_closed(ctx, quiz)
        if last is not None and last.round.winner_member_id is not None:
            canonical = parse(text, last.question)
            if canonical is not None and is_correct(canonical, last.question):
                return last, canonical
    return None


async def _just_finished_rush(ctx: Context) -> QuizSession | None:
    """A 抢答 in this chat that ended moments ago: late correct answers still hear who was faster."""
    if ctx.chat is None:
        return None
    since = ctx.clock() - timedelta(seconds=LATE_ANSWER_SECONDS)
    return await ctx.session.scalar(
        select(QuizSession)
        .where(
            QuizSession.chat_id == ctx.chat.id,
            QuizSession.mode == QuizMode.RUSH,
            QuizSession.status != RUNNING,
            QuizSession.finished_at >= since,
        )
        .order_by(QuizSession.id.desc())
        .limit(1)
    )


async def _is_answer(msg: Message, ctx: Context) -> bool:
    found = await _answer_target(msg, ctx)
    ctx.memo[_ANSWER_TARGET] = (msg, found)  # handle_answer() asks the same of the same message next
    return found is not None


_ANSWER_TARGET = "quiz.answer_target"


# Any text may answer a live question (a blank's answer is free text): only no quiz at all rules it out.
@router.message(_is_answer, precheck=lambda msg, hints: not hints.quiz_idle)
async def handle_answer(msg: Message, ctx: Context) -> None:
    """An answer to the live question (one attempt per member per question)."""
    assert ctx.member is not None
    known = ctx.memo.get(_ANSWER_TARGET)
    found = known[1] if known is not None and known[0] is msg else await _answer_target(msg, ctx)
    if found is None:
        return
    live, canonical = found
    if live.round.status == engine.CLOSED:
        await engine.too_slow(ctx, live, ctx.member)
        return
    await engine.submit(ctx, live, ctx.member, canonical)


# --- leaderboards ------------------------------------------------------------------------


@cache
def _totals_statement(chat: bool, group: bool, since: bool) -> Prepared:
    """Quiz points per member of a branch (in one chat, of one 党小组, since a time): built once per form."""
    query = (
        select(PointsEntry.member_id, func.sum(PointsEntry.points).label("points"))
        .join(Member, Member.id == PointsEntry.member_id)
        .where(Member.branch_id == bindparam("branch"), PointsEntry.rule.like("quiz_%"))
        .group_by(PointsEntry.member_id)
    )
    if chat:
        query = query.where(PointsEntry.chat_id == bindparam("chat"))
    if group:
        query = query.where(Member.party_group_id == bindparam("group"))
    if since:
        query = query.where(PointsEntry.created_at >= bindparam("since"))
    return Prepared(lambda _: query)


def _period_start(now: datetime, period: str) -> datetime | None:
    local = now
    if period == "week":
        day = local - timedelta(days=local.weekday())
        return day.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if period == "year":
        return local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return None


@router.command(*quiz_texts.CMD_LEADERBOARD, role=Role.GUEST, summary=quiz_texts.SUMMARY_LEADERBOARD)
async def handle_leaderboard(msg: Message, ctx: Context) -> None:
    """Quiz points by member for a period, for the branch, this chat, or one 党小组."""
    assert ctx.command is not None and ctx.branch is not None
    spec = ctx.config.branch(ctx.branch.key)
    if spec is not None and not spec.rankings:
        await ctx.reply(quiz_texts.LEADERBOARD_OFF)
        return
    words = ctx.command.args.split()
    period = next(
        (quiz_texts.LEADERBOARD_PERIOD_WORDS[w] for w in words if w in quiz_texts.LEADERBOARD_PERIOD_WORDS), "month"
    )
    rest = [w for w in words if w not in quiz_texts.LEADERBOARD_PERIOD_WORDS]
    params: dict[str, object] = {"branch": ctx.branch.id}
    scope = quiz_texts.LEADERBOARD_SCOPE_BRANCH
    if any(w in quiz_texts.LEADERBOARD_CHAT_WORDS for w in rest):
        if ctx.chat is not None:  # (asked directly: the branch)
            params["chat"], scope = ctx.chat.id, quiz_texts.LEADERBOARD_SCOPE_CHAT
    elif rest and rest[0] not in quiz_texts.LEADERBOARD_BRANCH_WORDS:
        groups = await party_groups(ctx.session, ctx.branch.id)
        group = group_named(groups, rest[0])
        if group is not None:
            params["group"], scope = group.id, group.name
        elif rest[0].endswith(quiz_texts.PARTY_GROUP_SUFFIX):  # a 党小组 asked for: not the branch under its name
            names = texts.LIST_SEPARATOR.join(g.name for g in groups) or texts.NONE_LISTED
            await ctx.reply(texts.GROUP_UNKNOWN.format(group=rest[0], groups=names))
            return
    since = _period_start(ctx.clock().astimezone(ctx.config.tz), period)
    if since is not None:
        params["since"] = since
    query = _totals_statement("chat" in params, "group" in params, since is not None)
    totals = {member_id: int(points) for member_id, points in await run(ctx.session, query, params)}
    hidden = await opted_out(ctx.session, list(totals))
    ranked = [row for row in await standings(ctx.session, totals) if row.member.id not in hidden and row.value > 0]
    period_name = quiz_texts.LEADERBOARD_PERIODS[period]
    if not ranked:
        await ctx.reply(quiz_texts.LEADERBOARD_EMPTY.format(scope=scope, period=period_name))
        return
    bars = [Bar(row.member.id, row.member.display_name, row.value, row.group) for row in ranked[:LEADERBOARD_SIZE]]
    title = quiz_texts.LEADERBOARD_HEADER.format(scope=scope, period=period_name)
    # Equal points share a place (并列): bot/display.ranking.
    lines = "".join(
        quiz_texts.LEADERBOARD_LINE.format(place=row.place, name=row.item[1] + row.mark, points=row.item[0].points)
        for row in display.ranking(list(zip(bars, labels(bars), strict=True)), lambda pair: pair[0].points)
    )
    # Drawn once per change of the standings: asked again meanwhile, the same chart is sent.
    known, image = chart.rendered(title, bars)
    if not known:
        image = await asyncio.to_thread(chart.leaderboard_png, title, bars)
        chart.remember(title, bars, image)
    await ctx.reply(title + lines, image=image)


@router.command(*quiz_texts.CMD_OPT_OUT, role=Role.GUEST, summary=quiz_texts.SUMMARY_OPT_OUT)
async def handle_opt_out(msg: Message, ctx: Context) -> None:
    """Leave public rankings (points are still kept)."""
    assert ctx.member is not None
    if await ctx.session.get(RankingOptOut, ctx.member.id) is None:
        ctx.session.add(RankingOptOut(member_id=ctx.member.id, created_at=ctx.clock()))
    await ctx.reply(quiz_texts.RANKING_OPTED_OUT.format(name=ctx.member.display_name))


@router.command(*quiz_texts.CMD_OPT_IN, role=Role.GUEST, hidden=True)
async def handle_opt_in(msg: Message, ctx: Context) -> None:
    """Appear in public rankings again."""
    assert ctx.member is not None
    row = await ctx.session.get(RankingOptOut, ctx.member.id)
    if row is not None:
        await ctx.session.delete(row)
    await ctx.reply(quiz_texts.RANKING_OPTED_IN.format(name=ctx.member.display_name))


# --- 错题本 --------------------------------------------------------------------------------


async def wrong_questions(ctx: Context, member: Member) -> list[Question]:
    """Questions whose latest attempt by this member was wrong, most recent first."""
    rows = await ctx.session.execute(
        select(QuizRound.question_id, QuizAttempt.correct, QuizAttempt.answered_at)
        .join(QuizAttempt, QuizAttempt.round_id == QuizRound.id)
        .where(QuizAttempt.member_id == member.id)
        .order_by(QuizAttempt.answered_at.desc(), QuizAttempt.id.desc())
    )
    latest: dict[int, bool] = {}
    for question_id, correct, _at in rows:
        latest.setdefault(question_id, correct)
    wrong_ids = [qid for qid, correct in latest.items() if not correct][:WRONG_BOOK_SIZE]
    questions = {q.id: q for q in await ctx.session.scalars(select(Question).where(Question.id.in_(wrong_ids)))}
    return [questions[qid] for qid in wrong_ids if qid in questions]


@router.command(*quiz_texts.CMD_WRONG_BOOK, role=Role.GUEST, summary=quiz_texts.SUMMARY_WRONG_BOOK)
async def handle_wrong_book(msg: Message, ctx: Context) -> None:
    """The questions this member got wrong (and has not yet got right): never shown in a group.

    Asked in a group, the book goes to the member privately with a one-line note in the group (as 我的积分 does).
    """
    assert ctx.member is not None
    name = ctx.member.display_name
    questions = await wrong_questions(ctx, ctx.member)
    if questions:
        lines = "".join(
            quiz_texts.WRONG_BOOK_LINE.format(index=i, stem=q.stem) for i, q in enumerate(questions, start=1)
        )
        text = (
            quiz_texts.WRONG_BOOK_HEADER.format(name=name, count=len(questions)) + lines + quiz_texts.WRONG_BOOK_FOOTER
        )
    else:
        text = quiz_texts.WRONG_BOOK_EMPTY.format(name=name)
    if msg.is_direct:
        await ctx.reply(text)
        return
    sent = await ctx.send_to_member(ctx.member, text)
    await ctx.reply(quiz_texts.WRONG_BOOK_SENT_DIRECT.format(name=name) if sent else quiz_texts.WRONG_BOOK_ASK_DIRECT)


@router.command(*quiz_texts.CMD_RETRY, role=Role.GUEST, hidden=True)
async def handle_retry(msg: Message, ctx: Context) -> None:
    """重做 N: ask question N of the 错题本 again, directly (asked in a group, with a one-line note there); a right
    answer takes it out of the book."""
    assert ctx.command is not None and ctx.member is not None
    questions = await wrong_questions(ctx, ctx.member)
    match = _INDEX.search(ctx.command.args)
    index = int(match.group(1)) if match else 1
    if not questions or not 1 <= index <= len(questions):
        empty = quiz_texts.WRONG_BOOK_EMPTY.format(name=ctx.member.display_name)
        await ctx.reply(quiz_texts.WRONG_BOOK_BAD_INDEX if questions else empty)
        return
    if not ctx.reaches_sender_directly:  # the question could not reach them: say where to ask instead
        await ctx.reply(quiz_texts.RETRY_ASK_DIRECT.format(index=index))
        return
    running = await ctx.session.scalars(
        select(QuizSession).where(
            QuizSession.mode == QuizMode.PRACTICE, QuizSession.member_id == ctx.member.id, QuizSession.status == RUNNING
        )
    )
    for old in running:
        await engine.finish(ctx, old)
    await engine.start(
        ctx, mode=QuizMode.PRACTICE, chat=None, questions=[questions[index - 1]], seconds=0, member=ctx.member
    )
    if not msg.is_direct:  # the question went to the member directly: the group is told it was not ignored
        await ctx.reply(quiz_texts.RETRY_SENT_DIRECT.format(name=ctx.member.display_name))
