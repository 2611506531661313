"""Texts as a branch writes them (issue #15): statistics in report style, summaries that keep names private,
dates instead of week numbers, 第N号通知, 并列 places, and nothing-due said as such."""

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app import build_app
from bot.core import display
from bot.core.clock import FakeClock
from bot.core.models import Member, PointsEntry
from bot.notices import texts as notice_texts
from tests.conftest import TZ
from tests.support import BotDriver, fire


def bot_lines(lines):
    return [line["text"] for line in lines if line["sender"] == "bot"]


async def driver_at(aiohttp_client, config, when):
    clock = FakeClock(when)
    app = build_app(config, clock=clock, background=False)
    return BotDriver(await aiohttp_client(app), app), clock


# --- display helpers ---------------------------------------------------------------------


def test_equal_values_share_a_place_and_the_next_place_skips():
    rows = [("张三", 9), ("李四", 9), ("王五", 7), ("赵六", 5), ("钱七", 5)]
    places = display.ranking(rows, lambda row: row[1])
    assert [(p.place, p.item[0], p.mark) for p in places] == [
        (1, "张三", "（并列）"),
        (1, "李四", "（并列）"),
        (3, "王五", ""),
        (4, "赵六", "（并列）"),
        (4, "钱七", "（并列）"),
    ]
    assert display.ranking([], lambda row: row) == []


def test_durations_are_said_as_people_say_them():
    assert [display.duration(s) for s in (0, 59, 60, 754, 3600, 7500, 86400, 97200)] == [
        "不到1分钟",
        "不到1分钟",
        "1分钟",
        "12分钟",
        "1小时",
        "2小时5分钟",
        "1天",
        "1天3小时",
    ]


def test_weeks_are_dates_not_iso_numbers():
    assert display.week("2026-W47") == "11月16日至22日"
    assert display.week("2026-W49") == "11月30日至12月6日"
    assert display.week("2026-W53") == "12月28日至1月3日"


# --- 年度统计 / 本月统计 ------------------------------------------------------------------


async def test_yearly_statistics_read_as_a_report(aiohttp_client, config):
    # Two meetings in March: a 党员大会 (11 expected: 9 present, 1 on leave, 1 absent) and a 党课 (11: all present).
    bot, clock = await driver_at(aiohttp_client, config, datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    await bot.say("本月统计", user="u00")
    await bot.say("年度统计 全部", user="u00")
    assert bot.replies_to("u00") == [
        "2026年3月，支部尚未召开会议。",
        "2026年，本支部共召开支部党员大会0次、支委会0次、党小组会0次，上党课0次，开展主题党日活动0次；无应到人员。",
    ]
    await bot.say("发起党员大会 3月4日14:30 三楼会议室 主题：讨论接收预备党员", user="u00")
    await bot.say("发起党课 3月5日14:30 三楼会议室 主题：学习党章", user="u00")
    users = [f"u{i:02d}" for i in range(11)]
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=TZ))
    await bot.say("请假 在外执法", user="u10")
    clock.set(datetime(2026, 3, 4, 14, 20, tzinfo=TZ))
    for user in users[:9]:
        await bot.say("签到", user=user)
    clock.set(datetime(2026, 3, 4, 15, 5, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")
    clock.set(datetime(2026, 3, 5, 14, 20, tzinfo=TZ))
    for user in users:
        await bot.say("签到", user=user)
    clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")

    await bot.say("年度统计", user="u00")
    await bot.say("年度统计 全部", user="u00")
    await bot.say("本月统计", user="u00")
    # 出席率 = 实到人次 ÷ 应到人次 = 20 ÷ 22; the member on leave is expected and did not attend.
    assert bot.replies_to("u00")[-3:] == [
        "2026年，本支部共召开支部党员大会1次，上党课1次；党员出席率90.9%（应到22人次，实到20人次，请假1人次）。",
        "2026年，本支部共召开支部党员大会1次、支委会0次、党小组会0次，上党课1次，开展主题党日活动0次；"
        "党员出席率90.9%（应到22人次，实到20人次，请假1人次）。",
        "2026年3月，本支部共召开支部党员大会1次，上党课1次；党员出席率90.9%（应到22人次，实到20人次，请假1人次）。",
    ]


# --- the meeting summary: counts in the group, names to the 支委 -------------------------


async def test_group_sees_counts_and_the_committee_sees_names(aiohttp_client, config):
    bot, clock = await driver_at(aiohttp_client, config, datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    await bot.say("设为书记 @王芳", user="u00")  # a second 支委, who did not organise the meeting
    await bot.say("发起主题党日 11月27日14:30 三楼会议室 主题：学习党章", user="u00")
    clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=TZ))
    await bot.say("请假 在外执法", user="u03")
    clock.set(datetime(2026, 11, 27, 14, 20, tzinfo=TZ))
    for user in ("u00", "u01", "u02", "u05", "u06", "u07", "u08", "u09", "u10"):
        await bot.say("签到", user=user)
    clock.set(datetime(2026, 11, 27, 15, 1, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")

    public = "【主题党日#1 签到结果】应到11人，实到9人，请假1人，缺席1人。"
    private = "【主题党日#1 签到结果·仅支委可见】应到11人，实到9人，请假1人，缺席1人。\n请假：刘洋\n缺席：陈静"
    group = [t for t in bot_lines(await bot.transcript()) if t.startswith("【主题党日#1 签到结果")]
    assert group == [public]
    for secretary in ("u00", "u02"):
        direct = [t for t in bot_lines(await bot.transcript(f"dm:{secretary}")) if "签到结果" in t]
        assert direct == [private]
    assert not [t for t in bot_lines(await bot.transcript("dm:u01")) if "签到结果" in t]


# --- 第N号通知 -------------------------------------------------------------------------------


async def test_notices_are_numbered_as_secretaries_write_them(bot, clock):
    await bot.say("通知 周五下午三点交学习笔记", user="u00")
    await bot.say("通知 下周一上午九点开党员大会", user="u00")
    clock.advance(seconds=40)
    await bot.say("收到", user="u01")
    clock.advance(minutes=12)
    await bot.say("收到", user="u02")
    await bot.say("通知情况 第1号通知", user="u00", chat=None)
    await bot.say("回执 第2号", user="u00", chat=None)
    await bot.say("通知情况 #1", user="u00", chat=None)
    sent = bot.replies_to("u00")[-3:]
    assert sent[0] == sent[2]
    # Sent at 10:00; 张伟 at 10:00:40 and 王芳 at 10:12:40: the median is 6 minutes 40 seconds.
    assert sent[0] == (
        "第1号通知（全体党员）于11月20日（周五）10:00发出。应回执10人，已回执2人。"
        "\n未回执（8人）：刘洋、陈静、杨帆、赵磊、黄丽、周强、吴敏、孙涛"
        "\n回执用时中位数：6分钟。"
    )
    assert sent[1].startswith("第2号通知（全体党员）于11月20日（周五）10:00发出。应回执10人，已回执2人。")
    # Asked in the group, the group sees counts only; the names go to the secretary directly.
    await bot.say("通知情况 第1号通知", user="u00")
    assert bot.replies_to("u00")[-1] == (
        "第1号通知（全体党员）于11月20日（周五）10:00发出。应回执10人，已回执2人，未回执8人。"
        "\n回执用时中位数：6分钟。\n名单已私信发给您。"
    )
    assert bot_lines(await bot.transcript("dm:u00"))[-1] == sent[0]
    await bot.say("关闭第1号通知", user="u00")
    await bot.say("关闭通知 2", user="u00")
    await bot.say("关闭第9号通知", user="u00")
    assert bot.replies_to("u00")[-3:] == [
        "第1号通知已关闭：应回执10人，已回执2人。" + notice_texts.STATUS_NAMES_SENT,
        "第2号通知已关闭：应回执10人，已回执2人。" + notice_texts.STATUS_NAMES_SENT,
        notice_texts.NOTICE_NOT_FOUND.format(seq=9),
    ]
    assert bot_lines(await bot.transcript("dm:u00"))[-2:] == [
        "第1号通知已关闭：应回执10人，已回执2人。未回执：刘洋、陈静、杨帆、赵磊、黄丽、周强、吴敏、孙涛。",
        "第2号通知已关闭：应回执10人，已回执2人。未回执：刘洋、陈静、杨帆、赵磊、黄丽、周强、吴敏、孙涛。",
    ]
    assert notice_texts.NOTICE_NOT_FOUND.format(seq=9) == "未找到第9号通知。发送“通知列表”可查看进行中的通知。"


async def test_a_receipt_within_the_minute_is_under_a_minute(bot, clock):
    await bot.say("通知 明早七点集合", user="u00")
    clock.advance(seconds=20)
    await bot.say("收到", user="u01")
    await bot.say("通知情况", user="u00", chat=None)
    assert bot.replies_to("u00")[-1].endswith("\n回执用时中位数：不到1分钟。")


# --- 并列 in the leaderboard ---------------------------------------------------------------


async def test_leaderboard_shows_equal_points_as_a_shared_place(bot, clock):
    await bot.say("大家好", user="u01")
    async with bot.services.sessions() as session, session.begin():
        members = {m.display_name: m for m in await session.scalars(select(Member))}
        for name, points in (("张伟", 12), ("王芳", 12), ("刘洋", 8)):
            member = members[name]
            session.add(
                PointsEntry(
                    branch_id=member.branch_id,
                    member_id=member.id,
                    points=points,
                    rule="quiz_rush_win",
                    source=f"test:{name}",
                    created_at=clock() - timedelta(hours=1),
                )
            )
    await bot.say("排行榜", user="u03")
    board = bot.replies_to("u03")[-1]
    lines = board.split("\n")[1:]
    assert sorted(lines[:2]) == ["1. 张伟（并列） 12分", "1. 王芳（并列） 12分"]
    assert lines[2] == "3. 刘洋 8分"
