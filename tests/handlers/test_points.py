"""积分: a member's own points by source and period, summed from the ledger the features write; 积分规则."""

from datetime import datetime

from sqlalchemy import select

from bot.app import build_app
from bot.core import texts
from bot.core.clock import FakeClock
from bot.core.models import Chat, Member, MemberIdentity, PointsEntry
from bot.points import texts as points_texts
from bot.quiz import texts as quiz_texts
from tests.conftest import START, TZ, make_config
from tests.quiz.test_quiz import TAG, add_questions, current_answer
from tests.support import BotDriver, fire


def bot_lines(lines):
    return [line["text"] for line in lines if line["sender"] == "bot"]


async def ledger_sums(bot: BotDriver, user: str, now: datetime) -> tuple[int, int, int]:
    """(this month, this year, in all) straight from the ledger rows of a sim user."""
    async with bot.services.sessions() as session:
        member_id = await session.scalar(
            select(MemberIdentity.member_id).where(MemberIdentity.platform_user_id == user)
        )
        rows = (await session.scalars(select(PointsEntry).where(PointsEntry.member_id == member_id))).all()
    local = [(row.created_at.astimezone(TZ), row.points) for row in rows]
    month = sum(p for at, p in local if (at.year, at.month) == (now.year, now.month))
    year = sum(p for at, p in local if at.year == now.year)
    return month, year, sum(p for _at, p in local)


def line(source: str, month: int, year: int, total: int) -> str:
    return points_texts.POINTS_MINE_LINE.format(source=source, month=month, year=year, total=total)


async def test_points_by_source_and_period_equal_the_ledger_and_stay_private(bot, clock):
    # Last December and last month: timely receipts (notices answered at once).
    for when in (datetime(2025, 12, 10, 10, 0, tzinfo=TZ), datetime(2026, 10, 15, 10, 0, tzinfo=TZ)):
        clock.set(when)
        await bot.say("通知 请学习党章第一章", user="u00")
        await bot.say("收到", user="u05")
    await bot.say("收到", user="u06")
    # This month (Friday 2026-11-20, the study day): a study check-in, a 抢答 won, a meeting attended.
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=TZ))
    assert await fire(bot, "study_reminder.demo")
    clock.set(START)
    await bot.say("学习打卡 党章第一章", user="u05")
    await add_questions(bot)
    await bot.say(f"抢答 1题 {TAG}", user="u00")
    clock.advance(seconds=2)
    await bot.say(await current_answer(bot), user="u05")
    await bot.say("发起主题党日 今天14:30 礼堂", user="u00")
    clock.set(datetime(2026, 11, 20, 14, 20, tzinfo=TZ))
    await bot.say("签到", user="u05")

    now = clock()
    assert await ledger_sums(bot, "u05", now) == (6, 7, 8)
    asked = await bot.say("积分", user="u05")
    assert asked["handled_by"] == "handle_my_points"
    assert bot.replies_to("u05")[-1] == points_texts.POINTS_SENT_DIRECT.format(name="杨帆")
    await bot.drain_outbox()
    expected = points_texts.POINTS_MINE.format(
        name="杨帆",
        date="11月20日",
        month=6,
        year=7,
        total=8,
        lines=line("答题", 3, 3, 3) + line("学习打卡", 1, 1, 1) + line("会议出勤", 2, 2, 2) + line("及时回执", 0, 1, 2),
    )
    assert bot_lines(await bot.transcript("dm:u05"))[-1] == expected
    assert not any("累计" in text for text in bot_lines(await bot.transcript()))  # nothing in the group

    # Another member, directly: only their own points.
    assert await ledger_sums(bot, "u06", now) == (0, 1, 1)
    await bot.say("我的积分", user="u06", chat=None)
    assert bot.replies_to("u06")[-1] == points_texts.POINTS_MINE.format(
        name="赵磊", date="11月20日", month=0, year=1, total=1, lines=line("及时回执", 0, 1, 1)
    )
    await bot.say("查积分", user="u07", chat=None)
    assert bot.replies_to("u07")[-1] == points_texts.POINTS_MINE_EMPTY.format(name="黄丽")


async def test_rules_follow_the_config_and_a_rule_set_to_zero_is_not_shown(aiohttp_client, db_url):
    config = make_config(db_url, points={"timely_receipt": 0, "quiz_rush_win": 5})
    app = build_app(config, clock=FakeClock(START), background=False)
    bot = BotDriver(await aiohttp_client(app), app)
    await bot.say("积分规则", user="u05")
    await bot.say("积分 规则", user="u05")
    expected = points_texts.POINTS_RULES_HEADER + "".join(
        points_texts.POINTS_RULE_LINE.format(text=t)
        for t in (
            points_texts.POINTS_RULES["study_check_in"].format(points=1),
            points_texts.POINTS_RULES["meeting_attendance"].format(points=2),
            points_texts.POINTS_RULES["quiz_daily_correct"].format(points=1),
            points_texts.POINTS_RULES["quiz_rush_win"].format(points=5),
            points_texts.POINTS_RULES["quiz_match_per_100"].format(points=1),
        )
    )
    assert bot.replies_to("u05") == [expected, expected]
    assert "及时回执" not in expected


async def test_points_off(aiohttp_client, db_url):
    config = make_config(db_url, points={"enabled": False})
    app = build_app(config, clock=FakeClock(START), background=False)
    bot = BotDriver(await aiohttp_client(app), app)
    await bot.say("我的积分", user="u05")
    await bot.say("积分规则", user="u05")
    assert bot.replies_to("u05") == [points_texts.POINTS_OFF, points_texts.POINTS_OFF]


async def test_points_words_do_not_take_the_leaderboard_or_chatter(bot, clock):
    routes = {}
    for text in (
        "积分",
        "@学习驿站 积分",
        "我的积分",
        "查积分",
        "积分规则",
        "积分排行",
        "积分排名",
        "积分榜",
        "排行榜",
    ):
        routes[text] = (await bot.say(text, user="u05"))["handled_by"]
        clock.advance(seconds=1)
    assert routes == {
        "积分": "handle_my_points",
        "@学习驿站 积分": "handle_my_points",
        "我的积分": "handle_my_points",
        "查积分": "handle_my_points",
        "积分规则": "handle_points_rules",
        "积分排行": "handle_leaderboard",
        "积分排名": "handle_leaderboard",
        "积分榜": "handle_leaderboard",
        "排行榜": "handle_leaderboard",
    }
    chatter = await bot.say("积分制管理挺好的", user="u05")
    assert chatter["handled_by"] != "handle_my_points"


async def test_help_lists_the_points_command(bot):
    await bot.say("帮助 积分", user="u05")
    assert texts.HELP_LINE.format(word="我的积分", summary=points_texts.SUMMARY_MY_POINTS) in bot.replies_to("u05")[-1]


async def test_points_answer_uses_the_member_month(bot, clock):
    """At 00:30 on 1 December in Beijing (still November in UTC) last month's points are not this month's."""
    clock.set(datetime(2026, 11, 30, 23, 0, tzinfo=TZ))
    await bot.say("通知 请学习党章第二章", user="u00")
    await bot.say("收到", user="u05")
    clock.set(datetime(2026, 12, 1, 0, 30, tzinfo=TZ))
    await bot.say("我的积分", user="u05", chat=None)
    assert bot.replies_to("u05")[-1] == points_texts.POINTS_MINE.format(
        name="杨帆", date="12月1日", month=0, year=1, total=1, lines=line("及时回执", 0, 1, 1)
    )


async def test_leaderboard_scopes_and_periods(bot, clock):
    """排行榜 for the branch this month (the default), 全部, 本群 (points won in this chat) and one 党小组."""

    async with bot.services.sessions() as session, session.begin():
        members = dict((await session.execute(select(MemberIdentity.platform_user_id, MemberIdentity.member_id))).all())
        chat_id = await session.scalar(select(Chat.id).where(Chat.platform_chat_id == "demo-group"))
        branch_id = await session.scalar(select(Member.branch_id).where(Member.id == members["u01"]))
        for user, points, rule, at, chat in (
            ("u01", 5, "quiz_rush_win", START, chat_id),  # 执法党小组, won in this chat
            ("u06", 4, "quiz_daily_correct", START, None),  # 环卫党小组
            ("u02", 9, "quiz_daily_correct", datetime(2025, 6, 1, 9, 0, tzinfo=TZ), None),  # last year
            ("u03", 7, "study_check_in", START, None),  # not a quiz rule
        ):
            session.add(
                PointsEntry(
                    branch_id=branch_id,
                    member_id=members[user],
                    points=points,
                    rule=rule,
                    source=f"test:{user}",
                    created_at=at,
                    chat_id=chat,
                )
            )

    def board(scope: str, period: str, *lines: tuple[str, int]) -> str:
        return quiz_texts.LEADERBOARD_HEADER.format(scope=scope, period=period) + "".join(
            quiz_texts.LEADERBOARD_LINE.format(place=place, name=name, points=points)
            for place, (name, points) in enumerate(lines, start=1)
        )

    for text in ("排行榜", "排行榜 全部", "排行榜 本群", "排行榜 环卫党小组"):
        await bot.say(text, user="u05")
    assert [reply.split("\n\n")[0] for reply in bot.replies_to("u05")] == [
        board("全支部", "本月", ("张伟", 5), ("赵磊", 4)),
        board("全支部", "全部", ("王芳", 9), ("张伟", 5), ("赵磊", 4)),
        board("本群", "本月", ("张伟", 5)),
        board("环卫党小组", "本月", ("赵磊", 4)),
    ]
