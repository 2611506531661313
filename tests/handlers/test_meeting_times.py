"""Meeting times as secretaries write them, end to end through the simulator (clock: Friday 2026-11-20 10:00)."""

from datetime import datetime

from sqlalchemy import func, select

from bot.core import texts
from bot.core.models import RollCall
from bot.meetings import texts as meeting_texts
from bot.meetings.models import Meeting
from tests.conftest import TZ

FORMS = [
    # (what the secretary writes after 发起主题党日, start, location, how the bot confirms the time)
    ("11.28 14:30 三楼会议室", datetime(2026, 11, 28, 14, 30, tzinfo=TZ), "三楼会议室", "11月28日（周六）14:30"),
    ("12/28 14:30 三楼会议室", datetime(2026, 12, 28, 14, 30, tzinfo=TZ), "三楼会议室", "12月28日（周一）14:30"),
    ("12-28 14:30 三楼会议室", datetime(2026, 12, 28, 14, 30, tzinfo=TZ), "三楼会议室", "12月28日（周一）14:30"),
    ("2026.12.3 下午2:30 礼堂", datetime(2026, 12, 3, 14, 30, tzinfo=TZ), "礼堂", "12月3日（周四）14:30"),
    ("12月3日（周四）14:30 礼堂", datetime(2026, 12, 3, 14, 30, tzinfo=TZ), "礼堂", "12月3日（周四）14:30"),
    ("周四下午两点半 礼堂", datetime(2026, 11, 26, 14, 30, tzinfo=TZ), "礼堂", "11月26日（周四）14:30"),
    ("下周一上午九点 礼堂", datetime(2026, 11, 23, 9, 0, tzinfo=TZ), "礼堂", "11月23日（周一）09:00"),
    ("3号下午3点 礼堂", datetime(2026, 12, 3, 15, 0, tzinfo=TZ), "礼堂", "12月3日（周四）15:00"),
    ("明早8点半 礼堂", datetime(2026, 11, 21, 8, 30, tzinfo=TZ), "礼堂", "11月21日（周六）08:30"),
    ("今晚七点 礼堂", datetime(2026, 11, 20, 19, 0, tzinfo=TZ), "礼堂", "11月20日（周五）19:00"),
    ("后天上午10时 礼堂", datetime(2026, 11, 22, 10, 0, tzinfo=TZ), "礼堂", "11月22日（周日）10:00"),
    ("１２月３日　１４：３０　礼堂", datetime(2026, 12, 3, 14, 30, tzinfo=TZ), "礼堂", "12月3日（周四）14:30"),
    # A range is taken by its start (a meeting has a start and a check-in window, not an end).
    ("明天下午2点-4点 礼堂", datetime(2026, 11, 21, 14, 0, tzinfo=TZ), "礼堂", "11月21日（周六）14:00"),
    ("明天14:30—16:00 礼堂", datetime(2026, 11, 21, 14, 30, tzinfo=TZ), "礼堂", "11月21日（周六）14:30"),
]


async def test_meetings_are_created_from_the_forms_secretaries_write(bot):
    for seq, (form, _start, location, shown) in enumerate(FORMS, start=1):
        await bot.say(f"发起主题党日 {form} 主题：学习党章", user="u00")
        # The time as understood is confirmed back by the announcement the secretary reads in the group, once.
        announcement, confirmation = bot.replies_to("u00")[-2:]
        assert announcement.startswith(f"【主题党日】{shown}，地点：{location}，主题：学习党章。"), form
        assert confirmation == meeting_texts.MEETING_CREATED_SHORT.format(kind="主题党日", seq=seq, expected=11), form
    async with bot.services.sessions() as session:
        meetings = list(await session.scalars(select(Meeting).order_by(Meeting.id)))
    assert [(m.starts_at, m.location) for m in meetings] == [(start, loc) for _f, start, loc, _s in FORMS]


async def test_an_unclear_time_is_answered_with_what_was_understood_and_an_example_of_the_kind(bot):
    await bot.say("发起党员大会 12月3日 三楼会议室", user="u00")
    example = meeting_texts.MEETING_TIME_EXAMPLES["member_assembly"].format(day="12月3日", group="")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_TIME_UNCLEAR.format(
        understood=meeting_texts.MEETING_TIME_UNDERSTOOD_DAY.format(day="12月3日（周四）"), example=example
    )
    await bot.say("发起支委会 尽快开会", user="u00")
    example = meeting_texts.MEETING_TIME_EXAMPLES["committee"].format(
        day=meeting_texts.MEETING_TIME_EXAMPLE_NEXT, group=""
    )
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_TIME_UNCLEAR.format(
        understood=meeting_texts.MEETING_TIME_UNDERSTOOD_NONE, example=example
    )
    await bot.say("发起主题党日 12月3日（周三）14:30 礼堂", user="u00")
    assert bot.replies_to("u00")[-1].startswith(
        meeting_texts.MEETING_TIME_WEEKDAY.format(month=12, day=3, weekday="四")
        + "请写明会议日期和时间，例如：发起主题党日"
    )
    await bot.say("发起党课 2月30日 14:30", user="u00")
    assert bot.replies_to("u00")[-1].startswith(meeting_texts.MEETING_TIME_NOT_VALID.format(text="2月30日"))
    await bot.say("发起党小组会 执法党小组 明天 三楼", user="u00")
    example = meeting_texts.MEETING_TIME_EXAMPLES["group_meeting"].format(day="11月21日", group="执法党小组")
    assert bot.replies_to("u00")[-1].endswith(example)
    async with bot.services.sessions() as session:
        assert list(await session.scalars(select(Meeting))) == []


async def test_each_kinds_example_is_accepted(bot):
    for kind, words in meeting_texts.CMD_CREATE_MEETING.items():
        group = " 执法党小组" if kind == "group_meeting" else ""
        await bot.say(f"{words[0]}{group} 过几天", user="u00")
        example = bot.replies_to("u00")[-1].split("例如：")[1]
        await bot.say(example, user="u00")
        assert bot.replies_to("u00")[-1].startswith(f"已发起{texts.MEETING_KIND_NAMES[kind]}#"), example


async def test_past_and_ambiguous_times_are_asked_again(bot):
    await bot.say("发起主题党日 昨天下午3点 礼堂", user="u00")
    assert bot.replies_to("u00")[-1] == texts.NOTICE_TIME_PAST.format(when="11月19日（周四）15:00")
    await bot.say("发起主题党日 06:13 礼堂", user="u00")  # a 24-hour time: past, not "上午还是下午？"
    assert bot.replies_to("u00")[-1] == texts.NOTICE_TIME_PAST.format(when="11月20日（周五）06:13")
    await bot.say("发起主题党日 明天 3点 礼堂", user="u00")
    assert bot.replies_to("u00")[-1] == texts.NOTICE_TIME_AMBIGUOUS.format(text="明天3点")
    async with bot.services.sessions() as session:
        assert list(await session.scalars(select(Meeting))) == []


async def test_a_time_a_year_ahead_or_more_is_refused_with_its_year(bot_in_process):
    bot = bot_in_process
    await bot.say("发起主题党日 2099年1月1日14:30 礼堂", user="u00")
    await bot.say("发起主题党日 2027年11月20日14:30 礼堂", user="u00")  # this day next year: "11月20日" is today's
    await bot.say("定时通知 2099年1月1日9:00 请按时参加主题党日", user="u00")
    assert bot.replies_to("u00") == [
        texts.NOTICE_TIME_TOO_FAR.format(when="2099年1月1日（周四）14:30"),
        texts.NOTICE_TIME_TOO_FAR.format(when="2027年11月20日（周六）14:30"),
        texts.NOTICE_TIME_TOO_FAR.format(when="2099年1月1日（周四）09:00"),
    ]
    await bot.say("发起主题党日 2027年11月19日14:30 礼堂", user="u00")  # the day before: within a year
    assert bot.replies_to("u00")[-2].startswith("【主题党日】11月19日（周五）14:30，地点：礼堂")
    async with bot.services.sessions() as session:
        assert [m.starts_at for m in await session.scalars(select(Meeting))] == [
            datetime(2027, 11, 19, 14, 30, tzinfo=TZ)
        ]
        assert await session.scalar(select(func.count()).select_from(RollCall).where(RollCall.kind == "notice")) == 0


async def test_a_day_or_month_number_past_any_date_is_no_date(bot_in_process):
    bot = bot_in_process
    for form in ("99999999999999999999号下午3点", "11月99999999999999999999日14:30"):
        await bot.say(f"发起主题党日 {form} 礼堂", user="u00")
        shown = form.removesuffix("下午3点").removesuffix("14:30")
        assert bot.replies_to("u00")[-1].startswith(meeting_texts.MEETING_TIME_NOT_VALID.format(text=shown)), form
    await bot.say("定时通知 99999999999999999999号9:00 请按时参加主题党日", user="u00")
    assert bot.replies_to("u00")[-1] == texts.NOTICE_TIME_INVALID
    async with bot.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RollCall)) == 0
