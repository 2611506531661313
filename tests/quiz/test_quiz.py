"""Quizzes through the HTTP pipeline: 抢答 decided once in the database, 竞赛 scoring, 每日一题, rankings, 错题本."""

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core import texts
from bot.core.models import Member, MemberIdentity, PointsEntry
from bot.quiz import texts as quiz_texts
from bot.quiz.answers import display_answer
from bot.quiz.models import Question, QuizAttempt, QuizRound
from bot.quiz.timer import tick
from tests.conftest import TZ
from tests.support import BotDriver, fire, names_by_user, register

TAG = "测试"


async def add_questions(bot: BotDriver, count: int = 6) -> None:
    now = bot.services.clock()
    async with bot.services.sessions() as session, session.begin():
        for i in range(count):
            session.add(
                Question(
                    key=f"test-{i}",
                    type="single",
                    stem=f"测试题{i + 1}：党的最高领导机关是？",
                    options=["党的全国代表大会和它所产生的中央委员会", "党的全国代表大会", "中央委员会", "中央政治局"],
                    answer="B" if i % 2 else "A",
                    explanation="党章第十条。",
                    source="《中国共产党章程》第二章第十条",
                    tags=[TAG],
                    difficulty=1,
                    created_at=now,
                    updated_at=now,
                )
            )


# The explanation every test question carries, as it follows an answer.
EXPLANATION = quiz_texts.QUIZ_EXPLANATION.format(explanation="党章第十条。", source="《中国共产党章程》第二章第十条")


async def current_question(bot: BotDriver) -> Question:
    """The question of the round that is open now."""
    async with bot.services.sessions() as session:
        return await session.scalar(
            select(Question).join(QuizRound, QuizRound.question_id == Question.id).where(QuizRound.status == "open")
        )


async def current_answer(bot: BotDriver) -> str:
    """The correct letter of the round that is open now."""
    async with bot.services.sessions() as session:
        question = await session.scalar(
            select(Question).join(QuizRound, QuizRound.question_id == Question.id).where(QuizRound.status == "open")
        )
    return question.answer


async def clock_tick(bot: BotDriver) -> None:
    await tick(bot.services.config, bot.services.sessions, bot.services.clock)
    await bot.drain_outbox()


def bot_lines(lines):
    return [line["text"] for line in lines if line["sender"] == "bot"]


async def test_two_hundred_concurrent_correct_answers_have_one_winner(bot, clock):
    await add_questions(bot)
    users = [f"u{i:02d}" for i in range(1, 11)] + await register(bot, 190)
    await bot.say(f"抢答 1题 {TAG}", user="u00")
    clock.advance(seconds=2)
    question = await current_question(bot)
    results = await asyncio.gather(*(bot.say(question.answer, user=u) for u in users))
    names = await names_by_user(bot)
    # The group hears the winner's line (and, the quiz being over, the ranking); the 199 others are told
    # privately that they were too slow.
    in_group = [(u, r["text"]) for u, res in zip(users, results, strict=True) for r in res["replies"] if r["to"] != u]
    assert len({u for u, _ in in_group}) == 1
    winner_user = in_group[0][0]
    winner = names[winner_user]
    answer = display_answer(question)
    ranking = quiz_texts.QUIZ_RUSH_HEADER + quiz_texts.QUIZ_RANK_LINE.format(place=1, name=winner, value="1题")
    assert [text for _, text in in_group] == [
        quiz_texts.QUIZ_RUSH_WIN.format(position=1, name=winner, answer=answer, explanation=EXPLANATION),
        quiz_texts.QUIZ_FINAL.format(mode="抢答", stopped="", body=ranking),
    ]
    private = {u: [r["text"] for r in res["replies"] if r["to"] == u] for u, res in zip(users, results, strict=True)}
    for user in users:
        if user != winner_user:
            slow = quiz_texts.QUIZ_RUSH_TOO_SLOW.format(name=names[user], question="抢答第1题", winner=winner)
            assert private[user] == [slow]
    async with bot.services.sessions() as session:
        winners = (await session.scalars(select(QuizRound.winner_member_id))).all()
        points = await session.scalar(select(func.count()).select_from(PointsEntry))
    assert len(winners) == 1 and winners[0] is not None
    assert points == 1
    assert quiz_texts.QUIZ_FINAL.format(mode="抢答", stopped="", body=ranking) in bot_lines(await bot.transcript())


async def test_rush_wrong_answers_are_told_privately_and_the_winner_hears_the_explanation(bot, clock):
    await add_questions(bot)
    await bot.say(f"抢答 2题 {TAG}", user="u00")
    first = await current_question(bot)
    wrong = "C"
    await bot.say(wrong, user="u01")
    await bot.say(first.answer, user="u01")  # one attempt per question
    await bot.say("今天天气不错", user="u02")  # chatter is not an answer
    # Nothing about 张伟's answers in the group; he alone is told, privately.
    assert bot.replies_to("u01") == []
    assert bot_lines(await bot.transcript("dm:u01")) == [
        quiz_texts.QUIZ_WRONG.format(name="张伟", question="抢答第1题"),
        quiz_texts.QUIZ_ALREADY_ANSWERED.format(name="张伟", question="抢答第1题"),
    ]
    assert bot.replies_to("u02") == []
    clock.advance(seconds=60)
    await clock_tick(bot)
    timeout = quiz_texts.QUIZ_TIMEOUT.format(position=1, answer=display_answer(first), explanation=EXPLANATION)
    assert bot_lines(await bot.transcript())[-1] == timeout
    clock.advance(seconds=3)
    await clock_tick(bot)
    assert bot_lines(await bot.transcript())[-1].startswith("【抢答 第2/2题】（单选）测试题")
    second = await current_question(bot)
    await bot.say(second.answer, user="u03")
    # The winner's line carries the answer and its explanation, as the time-out line does.
    win = quiz_texts.QUIZ_RUSH_WIN.format(
        position=2, name="刘洋", answer=display_answer(second), explanation=EXPLANATION
    )
    assert bot.replies_to("u03")[-2] == win
    assert win.startswith("【抢答 第2题】刘洋同志抢答正确。正确答案：") and "\n解析：党章第十条。" in win
    ranking = quiz_texts.QUIZ_RUSH_HEADER + quiz_texts.QUIZ_RANK_LINE.format(place=1, name="刘洋", value="1题")
    assert bot_lines(await bot.transcript())[-1] == quiz_texts.QUIZ_FINAL.format(mode="抢答", stopped="", body=ranking)
    assert not [line for line in bot_lines(await bot.transcript()) if "张伟" in line]


async def test_each_match_answer_is_acknowledged_privately(bot, clock):
    await add_questions(bot, 1)
    await bot.say(f"竞赛 1题 20秒 {TAG}", user="u00")
    question = await current_question(bot)
    opened = clock()
    clock.set(opened + timedelta(seconds=3))
    await bot.say(question.answer, user="u01")
    clock.set(opened + timedelta(seconds=5.5))
    await bot.say("C" if question.answer != "C" else "D", user="u02")
    # The same receipt whether right or wrong, to the member alone; nothing in the group per answer.
    assert bot.replies_to("u01") == bot.replies_to("u02") == []
    assert bot_lines(await bot.transcript("dm:u01")) == [
        quiz_texts.QUIZ_MATCH_RECEIVED.format(name="张伟", question="竞赛第1题", seconds=3)
    ]
    assert bot_lines(await bot.transcript("dm:u02")) == [
        quiz_texts.QUIZ_MATCH_RECEIVED.format(name="王芳", question="竞赛第1题", seconds=5.5)
    ]
    assert bot_lines(await bot.transcript("dm:u01"))[0].endswith("（用时3.0秒），本题结束后在群内公布答案。")
    group = bot_lines(await bot.transcript())
    assert not [line for line in group if "张伟" in line or "王芳" in line]
    clock.set(opened + timedelta(seconds=20))
    await clock_tick(bot)
    reveal = bot_lines(await bot.transcript())[-2]
    assert reveal == quiz_texts.QUIZ_MATCH_REVEAL.format(
        position=1,
        answer=display_answer(question),
        explanation=EXPLANATION,
        tally=quiz_texts.QUIZ_MATCH_TALLY.format(
            answered=2,
            correct=1,
            rate="50%",
            fastest=quiz_texts.QUIZ_MATCH_FASTEST.format(name="张伟", seconds=3),
        ),
    )
    assert reveal.endswith("\n本题2人作答，1人答对，正确率50%；用时最短：张伟（3.0秒）。")
    assert "王芳" not in reveal


async def test_a_match_question_nobody_answered_says_so(bot, clock):
    """QA: not "本题0人作答，0人答对，正确率0%。"."""
    await add_questions(bot, 2)
    await bot.say(f"竞赛 2题 20秒 {TAG}", user="u00")
    first = await current_question(bot)
    clock.advance(seconds=20)
    await clock_tick(bot)
    reveal = quiz_texts.QUIZ_MATCH_REVEAL.format(
        position=1, answer=display_answer(first), explanation=EXPLANATION, tally=quiz_texts.QUIZ_MATCH_NOBODY
    )
    assert reveal.endswith("\n本题无人作答。")
    assert reveal in bot_lines(await bot.transcript())
    assert not [line for line in bot_lines(await bot.transcript()) if "0人作答" in line or "正确率0%" in line]
    async with bot.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(QuizAttempt)) == 0
        assert await session.scalar(select(QuizRound.status).where(QuizRound.position == 1)) == "closed"


async def test_match_scores_follow_the_documented_rule(bot, clock):
    await add_questions(bot, 5)
    await bot.say(f"竞赛 5题 20秒 {TAG}", user="u00")
    # (user, seconds after the question opens, answers correctly?) per round
    plan = {
        "u01": [(2, True)] * 5,  # 95, 95+10, 95+20, 95+30, 95+30 (bonus capped) = 565
        "u02": [(10, True)] * 5,  # 75, 85, 95, 105, 105 = 465
        "u03": [(1, False)] + [(20, True)] * 4,  # 0, 50, 60, 70, 80 = 260
        "u05": [(3, False)] * 5,  # 0
        "u06": [(4, True)] * 5,  # 90, 100, 110, 120, 120 = 540
        "u07": [(5, False)] * 5,  # 0
        "u08": [(6, True), (6, False), (6, True), (6, False), (6, True)],  # 85 × 3, never a streak = 255
        "u09": [(0, True)] + [(1, False)] * 4,  # 100
        "u10": [(7, False)] * 3 + [(18, True)] * 2,  # 55, 55+10 = 120
        # u04 never answers.
    }
    for position in range(5):
        opened = clock()
        right = await current_answer(bot)
        wrong = "C"
        for second in sorted({s for rounds in plan.values() for s, _ in [rounds[position]]}):
            clock.set(opened + timedelta(seconds=second))
            for user, rounds in plan.items():
                at, ok = rounds[position]
                if at == second:
                    await bot.say(right if ok else wrong, user=user)
        clock.set(opened + timedelta(seconds=20))
        await clock_tick(bot)
        if position < 4:
            clock.advance(seconds=3)
            await clock_tick(bot)
    lines = bot_lines(await bot.transcript())
    assert "\n本题9人作答，6人答对，正确率66.7%；用时最短：张伟（2.0秒）。" in lines[-2]
    assert lines[-1] == (
        "【竞赛结束】\n前三名：\n1. 张伟 565分\n2. 赵磊 540分\n3. 王芳 465分"
        "\n党小组总分：\n· 执法党小组 1290分\n· 环卫党小组 1015分"
    )
    async with bot.services.sessions() as session:
        scores = dict(
            (
                await session.execute(
                    select(QuizAttempt.member_id, func.sum(QuizAttempt.score)).group_by(QuizAttempt.member_id)
                )
            ).all()
        )
    assert sorted(scores.values()) == [0, 0, 100, 120, 255, 260, 465, 540, 565]  # u04 never answered


async def test_match_ranking_respects_opt_out_and_branch_setting(bot, clock):
    await add_questions(bot, 1)
    await bot.say("不参加排名", user="u01")
    assert bot.replies_to("u01") == [quiz_texts.RANKING_OPTED_OUT.format(name="张伟")]
    await bot.say(f"竞赛 1题 {TAG}", user="u00")
    right = await current_answer(bot)
    await bot.say(right, user="u01")
    await bot.say(right, user="u02")
    clock.advance(seconds=30)
    await clock_tick(bot)
    *_, reveal, final = bot_lines(await bot.transcript())
    assert "王芳" in final and "张伟" not in final.split("党小组总分")[0]
    # 张伟 answered first: the fastest is not named at all (王芳 was not the fastest).
    assert reveal.endswith("\n本题2人作答，2人答对，正确率100%。")
    await bot.say("排行榜", user="u02")
    board = bot.replies_to("u02")[-1]
    assert board.startswith("【答题积分榜·全支部·本月】") and "王芳" in board and "张伟" not in board


async def test_winners_who_opted_out_are_neither_named_nor_said_to_be_missing(bot, clock):
    await add_questions(bot, 2)
    await bot.say("不参加排名", user="u01")
    await bot.say(f"抢答 1题 {TAG}", user="u00")
    question = await current_question(bot)
    await bot.say(question.answer, user="u01")
    *_, win, final = bot_lines(await bot.transcript())
    body = quiz_texts.QUIZ_WINNERS_UNLISTED
    assert final == quiz_texts.QUIZ_FINAL.format(mode="抢答", stopped="", body=body)
    # The question's result names no one in the group; the winner is told privately.
    assert win == quiz_texts.QUIZ_RUSH_WIN_UNNAMED.format(
        position=1, answer=display_answer(question), explanation=EXPLANATION
    )
    private = quiz_texts.QUIZ_RUSH_WON_PRIVATELY.format(name="张伟", question="抢答第1题")
    assert private in bot_lines(await bot.transcript("dm:u01"))
    # A 竞赛 where the only one who scored opted out: no podium, and no "无人答对" either.
    await bot.say(f"竞赛 1题 {TAG}", user="u00")
    await bot.say(await current_answer(bot), user="u01")
    clock.advance(seconds=30)
    await clock_tick(bot)
    final = bot_lines(await bot.transcript())[-1]
    assert quiz_texts.QUIZ_WINNERS_UNLISTED in final and quiz_texts.QUIZ_NO_WINNERS not in final
    assert "张伟" not in final


async def test_members_in_no_party_group_are_not_a_team(bot, clock):
    await add_questions(bot, 1)
    [newcomer] = await register(bot, 1)  # in no 党小组
    await bot.say(f"竞赛 1题 {TAG}", user="u00")
    right = await current_answer(bot)
    await bot.say(right, user=newcomer)
    await bot.say(right, user="u02")
    clock.advance(seconds=30)
    await clock_tick(bot)
    final = bot_lines(await bot.transcript())[-1]
    assert "党小组总分" in final and "未分组" not in final
    assert final.count("\n· ") == 1  # 王芳's 党小组 alone


async def test_a_leaderboard_of_an_unknown_party_group_says_so(bot):
    await bot.say("排行榜 不存在党小组", user="u02")
    reply = bot.replies_to("u02")[-1]
    assert reply.startswith(texts.GROUP_UNKNOWN.format(group="不存在党小组", groups="")[:-1].rstrip("。"))
    assert "执法党小组" in reply and "答题积分榜" not in reply
    for branch in ("排行榜 全支部", "排行榜 本群", "排行榜 本月 好"):  # the branch: said, 本群 asked directly, a word
        await bot.say(branch, user="u02", chat=None)
        assert bot.replies_to("u02")[-1].startswith("【答题积分榜·全支部·本月】"), branch
    for year in ("排行榜 年度", "积分排行 本年度", "排行榜 全年"):
        await bot.say(year, user="u02")
        assert bot.replies_to("u02")[-1].startswith("【答题积分榜·全支部·本年】"), year


async def test_daily_question(bot, clock):
    await add_questions(bot, 1)  # the shipped sample bank may be there too; any question will do
    clock.set(datetime(2026, 11, 20, 8, 30, tzinfo=TZ))
    await fire(bot, "post_daily_questions")
    question = bot_lines(await bot.transcript())[-1]
    assert question.startswith("【每日一题】（") and question.endswith("20:00公布答案。")
    async with bot.services.sessions() as session:
        asked = await session.scalar(
            select(Question).join(QuizRound, QuizRound.question_id == Question.id).where(QuizRound.status == "open")
        )
    assert asked.stem in question
    right = display_answer(asked)
    answer = {"single": asked.answer, "multi": asked.answer, "judge": asked.answer}.get(asked.type)
    answer = answer or f"答 {asked.answer[0]}"
    wrong = {"judge": "错" if asked.answer == "对" else "对"}.get(asked.type, "答 不知道")
    if asked.type in ("single", "multi"):
        wrong = next(letter for letter in "ABCD" if letter not in asked.answer)
    await bot.say("大家早上好", user="u02")
    await bot.say(answer, user="u01")
    await bot.say(wrong, user="u03")
    assert bot.replies_to("u01") == bot.replies_to("u03") == []  # answered quietly; the receipt comes directly
    received = [quiz_texts.QUIZ_DAILY_RECEIVED.format(name="张伟", question="今天的每日一题", close="20:00")]
    assert bot_lines(await bot.transcript("dm:u01")) == received
    await fire(bot, "post_daily_questions")  # once a day
    assert len([t for t in bot_lines(await bot.transcript()) if t.startswith("【每日一题】")]) == 1
    clock.set(datetime(2026, 11, 20, 20, 0, tzinfo=TZ))
    await clock_tick(bot)
    reveal = bot_lines(await bot.transcript())[-1]
    assert reveal.startswith(f"【每日一题·揭晓】正确答案：{right}") and reveal.endswith(
        "\n本题2人作答，答对的同志：张伟。"
    )
    assert "刘洋" not in reveal  # who answered wrong is not said
    await bot.say("排行榜 本周", user="u03")
    assert bot.replies_to("u03")[-1] == quiz_texts.LEADERBOARD_HEADER.format(
        scope="全支部", period="本周"
    ) + quiz_texts.LEADERBOARD_LINE.format(place=1, name="张伟", points=1)


async def test_the_daily_reveal_counts_but_does_not_name_those_who_opted_out(bot, clock):
    await add_questions(bot, 1)
    clock.set(datetime(2026, 11, 20, 8, 30, tzinfo=TZ))
    await fire(bot, "post_daily_questions")
    asked = await current_question(bot)
    answer = asked.answer if asked.type in ("single", "multi", "judge") else f"答 {asked.answer[0]}"
    await bot.say("不参加排名", user="u01")
    await bot.say(answer, user="u01")
    await bot.say(answer, user="u02")
    clock.set(datetime(2026, 11, 20, 20, 0, tzinfo=TZ))
    await clock_tick(bot)
    reveal = bot_lines(await bot.transcript())[-1]
    assert reveal.endswith("\n本题2人作答，答对的同志：王芳等2人。") and "张伟" not in reveal


async def test_wrong_book_and_retry(bot, clock):
    await add_questions(bot, 1)
    await bot.say(f"抢答 1题 {TAG}", user="u00")
    question = await current_question(bot)
    await bot.say("D", user="u04")
    clock.advance(seconds=60)
    await clock_tick(bot)
    # Asked in the group, the 错题本 goes to the member privately; the group reads only that it was sent.
    await bot.say("错题本", user="u04")
    assert bot.replies_to("u04")[-1] == quiz_texts.WRONG_BOOK_SENT_DIRECT.format(name="陈静")
    book = bot_lines(await bot.transcript("dm:u04"))[-1]
    assert book.startswith("陈静同志的错题本（最近1道）：\n1. 测试题1") and book.endswith(quiz_texts.WRONG_BOOK_FOOTER)
    assert not [line for line in bot_lines(await bot.transcript()) if "测试题1" in line and "错题本" in line]
    # 重做 in the group: the question goes directly, and the group is told so in one line.
    await bot.say("重做 1", user="u04")
    assert bot.replies_to("u04")[-1] == quiz_texts.RETRY_SENT_DIRECT.format(name="陈静")
    assert bot_lines(await bot.transcript("dm:u04"))[-1].startswith("【错题重做】（单选）测试题1")
    await bot.say("重做 1", user="u04", chat=None)
    practice = bot_lines(await bot.transcript("dm:u04"))[-1]
    assert practice.startswith("【错题重做】（单选）测试题1")
    assert bot.replies_to("u04")[-1] == practice  # directly, the question is the answer: no note
    await bot.say("A", user="u04", chat=None)
    assert bot.replies_to("u04")[-1] == quiz_texts.PRACTICE_RIGHT.format(answer=display_answer(question))
    await bot.say("错题本", user="u04", chat=None)
    assert bot.replies_to("u04")[-1] == quiz_texts.WRONG_BOOK_EMPTY.format(name="陈静")


async def test_members_cannot_start_quizzes(bot):
    await bot.say(f"抢答 3题 {TAG}", user="u05")
    assert bot.replies_to("u05") == [texts.NOT_ALLOWED.format(word="抢答", role=texts.ROLE_NAMES["secretary"])]


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("抢答 0题", quiz_texts.QUIZ_COUNT_INVALID.format(max=20)),
        ("抢答 零题", quiz_texts.QUIZ_COUNT_INVALID.format(max=20)),
        ("抢答 -3题", quiz_texts.QUIZ_COUNT_INVALID.format(max=20)),
        ("竞赛 3题 0秒", quiz_texts.QUIZ_SECONDS_INVALID),
        ("竞赛 3题 -30秒", quiz_texts.QUIZ_SECONDS_INVALID),
    ],
)
async def test_a_zero_or_negative_count_or_time_is_refused_not_replaced_by_the_default(bot_in_process, text, refusal):
    await add_questions(bot_in_process)
    await bot_in_process.say(text, user="u00")
    assert bot_in_process.replies_to("u00") == [refusal]
    async with bot_in_process.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(QuizRound)) == 0


async def test_leaderboard_png_in_the_simulator(bot, clock):
    from bot.quiz.chart import cjk_family
    from tests.conftest import IN_CI

    if cjk_family() is None:
        if IN_CI:
            pytest.fail("no CJK font: CI installs fonts-wqy-microhei")
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    await add_questions(bot, 2)
    await bot.say(f"竞赛 2题 20秒 {TAG}", user="u00")
    for _ in range(2):
        opened = clock()
        right = await current_answer(bot)
        for i, user in enumerate(("u01", "u02", "u06")):
            clock.set(opened + timedelta(seconds=2 + 3 * i))
            await bot.say(right, user=user)
        clock.set(opened + timedelta(seconds=20))
        await clock_tick(bot)
        clock.advance(seconds=3)
        await clock_tick(bot)
    await bot.say("排行榜", user="u03")
    [line] = [x for x in await bot.transcript() if x["text"].startswith("【答题积分榜")]
    assert line["image"].startswith("/api/sim/media/")
    resp = await bot.get(line["image"])
    assert resp.status == 200 and resp.content_type == "image/png"
    png = await resp.read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    assert (await bot.get("/api/sim/media/999999")).status == 404


async def test_a_leaderboard_is_drawn_once_per_change_of_the_standings(bot, clock, monkeypatch):
    from bot.quiz import chart

    def points(member, n):
        return PointsEntry(
            branch_id=member.branch_id,
            member_id=member.id,
            points=n,
            rule="quiz_rush",
            source=f"t{n}",
            created_at=clock(),
        )

    drawn = []
    monkeypatch.setattr(chart, "leaderboard_png", lambda title, bars: drawn.append(bars) or b"png")
    monkeypatch.setattr(chart, "_RENDERED", chart.OrderedDict())
    async with bot.services.sessions() as session, session.begin():
        member = await session.scalar(
            select(Member).join(MemberIdentity).where(MemberIdentity.platform_user_id == "u01")
        )
        session.add(points(member, 3))
    for user in ("u02", "u03", "u04"):
        await bot.say("排行榜", user=user)
    assert len(drawn) == 1  # asked three times, drawn once
    async with bot.services.sessions() as session, session.begin():
        session.add(points(member, 2))
    await bot.say("排行榜", user="u02")
    assert len(drawn) == 2 and drawn[1][0].points == 5  # the standings changed: drawn again


async def test_the_quiz_clock_stops_when_a_cancelled_step_fails_on_its_way_out(bot: BotDriver, monkeypatch):
    """A step cancelled mid-transaction whose clean-up then raises (as a rollback on an invalidated connection did:
    PendingRollbackError) is stopped, not logged and retried every second on an engine about to be disposed."""
    from bot.quiz import timer as timer_module

    stepping = asyncio.Event()
    failing = [True]

    async def step(*_args: object) -> int:
        stepping.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if failing:
                raise RuntimeError("Can't reconnect until invalid transaction is rolled back") from None
            raise
        return 0

    monkeypatch.setattr(timer_module, "tick", step)
    services = bot.services
    clock = timer_module.QuizTimer(services.config, services.sessions, services.clock, services.sender)
    clock.start()
    await asyncio.wait_for(stepping.wait(), 5)
    stopping = asyncio.create_task(clock.stop())
    done, _ = await asyncio.wait({stopping}, timeout=5)
    if not done:  # let the loop go, so that the test ends
        failing.clear()
        stopping.cancel()
    assert done, "the quiz clock kept going after it was stopped"


def test_every_column_a_partial_index_names_is_compared_with_constants_written_into_the_sql():
    """SQLite prepares a statement again at every execution when a bound value is compared with a column a partial
    index's WHERE names (and PostgreSQL cannot use such an index for a bound value): those columns are IndexedWord."""
    import re

    from bot.core.models import Base, IndexedWord

    named = []
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]._non_defaults.get("where")
            if where is None:
                continue
            for word in re.findall(r"[a-z_]+", str(where)):
                if word in table.c:
                    named.append((table.name, word, isinstance(table.c[word].type, IndexedWord)))
    assert named and all(ok for *_, ok in named), named
    from sqlalchemy import select
    from sqlalchemy.dialects import sqlite

    from bot.quiz.models import QuizSession

    def sql(*where):
        return str(select(QuizSession.id).where(*where).compile(dialect=sqlite.dialect()))

    # Every form of comparing with constants writes them in (one bound value would make SQLite prepare anew)…
    for where in (
        QuizSession.status == "running",
        QuizSession.status != "running",
        QuizSession.mode.in_(["rush", "match"]),
        QuizSession.mode.in_({"rush", "match"}),
        QuizSession.mode.not_in(("daily",)),
    ):
        assert "?" not in sql(where), sql(where)
    # … and the column stays a string (concatenation).
    assert "||" in str(select(QuizSession.status + "x").compile(dialect=sqlite.dialect()))


async def test_the_quiz_reads_write_the_live_status_into_the_sql(bot, clock):
    """The reads a 抢答 and its answers make compare quiz_session.status and .mode with constants in the SQL."""
    import re

    from sqlalchemy import event

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engines = {bot.services.engine.sync_engine, bot.services.pipeline.engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        await add_questions(bot)
        await bot.say(f"抢答 1题 {TAG}", user="u00")
        clock.advance(seconds=2)
        question = await current_question(bot)
        await bot.say("A" if question.answer != "A" else "B", user="u01")
        await bot.say(question.answer, user="u02")
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    on_status = [s for s in seen if re.search(r"quiz_session\.(status|mode) (=|!=|IN|NOT IN) ", s)]
    assert any("quiz_session.status = 'running'" in s for s in on_status), on_status
    bound = [s for s in on_status if re.search(r"quiz_session\.(status|mode) (=|!=|IN \(|NOT IN \()\s*(\?|\$|%\()", s)]
    assert bound == []


async def test_where_rankings_are_off_no_result_names_anyone_in_the_group(in_process, config, clock):
    from dataclasses import replace

    from bot.app import build_app

    branches = tuple(replace(b, rankings=False) if b.id == "demo" else b for b in config.branches)
    bot = await in_process(build_app(config.replace(branches=branches), clock=clock, background=False))
    await add_questions(bot, 1)
    clock.set(datetime(2026, 11, 20, 8, 30, tzinfo=TZ))
    await fire(bot, "post_daily_questions")
    asked = await current_question(bot)
    answer = asked.answer if asked.type in ("single", "multi", "judge") else f"答 {asked.answer[0]}"
    await bot.say(answer, user="u01")
    await bot.say(answer, user="u02")
    clock.set(datetime(2026, 11, 20, 20, 0, tzinfo=TZ))
    await clock_tick(bot)
    reveal = bot_lines(await bot.transcript())[-1]
    assert reveal.endswith("\n本题2人作答，答对的同志：2人。"), reveal
    await bot.say(f"抢答 1题 {TAG}", user="u00")
    question = await current_question(bot)
    await bot.say(question.answer, user="u02")
    lines = bot_lines(await bot.transcript())
    assert (
        quiz_texts.QUIZ_RUSH_WIN_UNNAMED.format(position=1, answer=display_answer(question), explanation=EXPLANATION)
        in lines
    )
    assert not [line for line in lines if "王芳" in line or "张伟" in line]
