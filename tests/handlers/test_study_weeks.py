"""The study day around its edges: after the 小结, in a holiday week without a study day, after downtime; notes added
to a check-in, tags, invisible text."""

import dataclasses
from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.core.clock import FakeClock
from bot.core.config import Config
from bot.core.models import PointsEntry, RollCallEntry
from bot.notices.texts import STATUS_NAMES_SENT
from bot.study import texts as study_texts
from bot.study.domain import tag_of
from tests.conftest import TZ, StartInProcess
from tests.support import InProcessDriver, fire

JOB = "study_reminder.demo"
FRIDAY_9 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
SUNDAY_CLOSE = datetime(2026, 11, 22, 21, 1, tzinfo=TZ)  # Friday 09:00 + 60 hours, and a minute
OTHERS = "李建国、王芳、刘洋、陈静、杨帆、赵磊、黄丽、周强、吴敏、孙涛"


def bot_lines(lines: list[dict]) -> list[str]:
    return [line["text"] for line in lines if line["sender"] == "bot"]


def with_study(config: Config, **changes: object) -> Config:
    branch = config.branches[0]
    return config.replace(branches=(dataclasses.replace(branch, study=dataclasses.replace(branch.study, **changes)),))


async def start(in_process: StartInProcess, config: Config, when: datetime) -> tuple[InProcessDriver, FakeClock]:
    clock = FakeClock(when)
    return await in_process(build_app(config, clock=clock, background=False)), clock


async def test_after_the_summary_status_and_check_in_say_the_study_day_ended(bot_in_process, clock):
    """QA 1 and 7: on Sunday evening after the 小结, 学习情况 gives the study day's figures as ended (names only to
    the secretary), a late 学习打卡 is told the study day is over and when the next one is, and the 小结 thanks those
    who took part (参加学习), not those "on time"."""
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    await bot.say("学习打卡", user="u01")
    clock.set(SUNDAY_CLOSE)
    await fire(bot, "tick_roll_calls")
    summary = [t for t in bot_lines(await bot.transcript()) if t.startswith("【学习日小结】")]
    assert summary == [
        study_texts.STUDY_SUMMARY.format(
            day="11月20日（周五）",
            expected=11,
            done=1,
            rate="9.1%",
            names_part=study_texts.STUDY_SUMMARY_NAMES.format(names="张伟"),
        )
    ]
    assert "参加学习的同志：张伟。" in summary[0]

    await bot.say("学习情况", user="u00")
    month = "本月参学率9.1%（应参学11人次，已打卡1人次）。"
    figures = {"day": "11月20日（周五）", "expected": 11, "done": 1, "rate": "9.1%", "month": month}
    assert bot.replies_to("u00") == [
        study_texts.STUDY_STATUS_ENDED_COUNTS.format(**figures, pending_count=10) + STATUS_NAMES_SENT
    ]
    assert bot_lines(await bot.transcript("dm:u00"))[-1] == study_texts.STUDY_STATUS_ENDED.format(
        **figures, pending=OTHERS
    )

    await bot.say("学习打卡", user="u02")
    assert bot.replies_to("u02") == [
        study_texts.STUDY_ENDED.format(name="王芳", day="11月20日（周五）")
        + study_texts.STUDY_NEXT_DAY.format(day="11月27日（周五）")
    ]


async def test_holiday_week_skipped_by_rule_is_said_so(in_process, config):
    """QA 2: with holiday_rule = "skip", the National Day week has no study day. 本周学习 that Monday says so and sets
    the material for the next study day (10-09), whose reminder uses it; 学习打卡 and 学习情况 in that week say the
    study day falls on a holiday and name the next one."""
    bot, clock = await start(in_process, with_study(config, holiday_rule="skip"), datetime(2026, 9, 28, 10, tzinfo=TZ))
    await bot.say("本周学习 国庆前专题学习", user="u00")
    assert bot.replies_to("u00") == [
        study_texts.STUDY_WEEK_SKIPPED_SET.format(span="9月28日至10月4日")
        + study_texts.STUDY_MATERIAL_SET_FOR_DAY.format(day="10月9日（周五）", text="国庆前专题学习")
    ]

    clock.set(datetime(2026, 10, 2, 10, 0, tzinfo=TZ))
    holiday = study_texts.STUDY_WEEK_HOLIDAY.format(day="10月2日（周五）") + study_texts.STUDY_NEXT_DAY.format(
        day="10月9日（周五）"
    )
    await bot.say("学习打卡", user="u01")
    await bot.say("学习情况", user="u00")
    assert bot.replies_to("u01") == [holiday]
    assert bot.replies_to("u00")[1:] == [f"{holiday}\n{study_texts.STUDY_MONTH_NONE}"]

    clock.set(datetime(2026, 10, 9, 9, 0, tzinfo=TZ))
    assert await fire(bot, JOB)
    assert bot_lines(await bot.transcript())[-1] == study_texts.STUDY_REMINDER.format(
        date="10月9日（周五）", material="国庆前专题学习"
    )


async def test_material_set_after_the_study_day_skips_a_holiday_week(in_process, config):
    """本周学习 after this week's study day, when next week has none (skip rule; Spring Festival 2026): the study day
    after that, by date. (A week whose own study day is a holiday says so: Friday 9-25 is the Mid-Autumn Festival.)"""
    config = with_study(config, holiday_rule="skip")
    bot, clock = await start(in_process, config, datetime(2026, 2, 13, 9, tzinfo=TZ))
    assert await fire(bot, JOB)
    clock.set(datetime(2026, 2, 15, 21, 1, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")
    await bot.say("本周学习 新春专题学习", user="u00", chat=None)
    clock.set(datetime(2026, 9, 21, 9, 0, tzinfo=TZ))
    await bot.say("本周学习 中秋专题学习", user="u00", chat=None)
    assert bot.replies_to("u00") == [
        study_texts.STUDY_MATERIAL_SET_FOR_DAY.format(day="2月27日（周五）", text="新春专题学习"),
        study_texts.STUDY_WEEK_SKIPPED_SET.format(span="9月21日至27日")
        + study_texts.STUDY_MATERIAL_SET_FOR_DAY.format(day="10月9日（周五）", text="中秋专题学习"),
    ]


async def test_a_nudge_due_during_downtime_is_dropped(bot_in_process, clock):
    """QA 3: the tick first runs again at close time (or the day after the study day): no 【学习提醒】 in the group,
    no direct nudges — only the 小结."""
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    clock.set(SUNDAY_CLOSE)
    await fire(bot, "tick_roll_calls")
    group = bot_lines(await bot.transcript())
    assert not [t for t in group if t.startswith("【学习提醒】")]
    assert len([t for t in group if t.startswith("【学习日小结】")]) == 1
    assert study_texts.STUDY_NUDGE_DIRECT_ALL not in bot_lines(await bot.transcript("dm:u01"))


async def test_a_nudge_due_yesterday_is_dropped_before_close(bot_in_process, clock):
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    clock.set(datetime(2026, 11, 21, 10, 0, tzinfo=TZ))  # Saturday: "今天是学习日" would be untrue
    await fire(bot, "tick_roll_calls")
    assert not [t for t in bot_lines(await bot.transcript()) if t.startswith("【学习提醒】")]
    clock.set(datetime(2026, 11, 21, 10, 1, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")  # dropped once, not retried
    assert not [t for t in bot_lines(await bot.transcript()) if t.startswith("【学习提醒】")]


async def test_a_late_reminder_is_not_followed_by_a_nudge_or_sent_after_close(in_process, config):
    """A reminder sent after the nudge time (catch-up, manual run) is the day's reminder: no nudge right after it; one
    that would open after its own close time is not sent."""
    bot, clock = await start(in_process, config, datetime(2026, 11, 20, 17, 0, tzinfo=TZ))
    assert await fire(bot, JOB)
    clock.set(datetime(2026, 11, 20, 17, 1, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")
    group = bot_lines(await bot.transcript())
    assert [t[:5] for t in group] == ["【学习日】"]

    short, later = await start(
        in_process, with_study(config, close_after_hours=1), datetime(2026, 11, 27, 10, 30, tzinfo=TZ)
    )
    await fire(short, JOB)
    assert not [t for t in bot_lines(await short.transcript()) if t.startswith("【学习日】11月27日")]


@pytest.mark.parametrize("text", ["本周学习 \u200b\u200b", "添加学习材料 \u200b", "本周学习 \u2060\ufeff\u3164"])
async def test_invisible_material_is_no_material(bot_in_process, clock, text):
    """QA 4: a material of zero-width (or other invisible) characters is asked for again, not stored or pushed."""
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    await bot.say(text, user="u00")
    assert bot.replies_to("u00") == [study_texts.STUDY_NEED_TEXT]
    assert not [t for t in bot_lines(await bot.transcript()) if t.startswith("【本周学习内容更新】")]


async def test_a_second_check_in_adds_its_note(bot_in_process, clock):
    """QA 5: 学习打卡, then 学习打卡 纪录片《信仰》: the note and its tag go to the one check-in (one check-in, one
    point); a bare repeat is still "already checked in"."""
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    await bot.say("学习打卡", user="u01")
    await bot.say("学习打卡 纪录片《信仰》", user="u01")
    await bot.say("学习打卡", user="u01")
    await bot.say("学习打卡 读了原著《共产党宣言》", user="u01")
    await bot.say("学习打卡 纪录片《信仰》", user="u01")  # the same note again (a resend): nothing added
    await bot.say("学习打卡 信仰", user="u01")  # contained in a note, but a note of its own: added
    await bot.say("我的学习", user="u01")
    assert bot.replies_to("u01") == [
        study_texts.STUDY_CHECKED_IN.format(name="张伟", done=1, expected=11),
        study_texts.STUDY_NOTE_ADDED.format(name="张伟", note="纪录片《信仰》")
        + study_texts.STUDY_CHECKED_IN_TAG.format(tag="纪录片"),
        study_texts.STUDY_ALREADY.format(name="张伟"),
        study_texts.STUDY_NOTE_ADDED.format(name="张伟", note="读了原著《共产党宣言》"),
        study_texts.STUDY_ALREADY.format(name="张伟"),
        study_texts.STUDY_NOTE_ADDED.format(name="张伟", note="信仰"),
        "张伟同志的学习进度：\n· 本月学习日打卡：1/1次\n· 微党课（本月）：0/1次\n· 原著（本半年）：0/1次\n· 纪录片（本年）：1/3次",
    ]
    async with bot.services.sessions() as session:
        [entry] = (await session.scalars(select(RollCallEntry).where(RollCallEntry.note != ""))).all()
        assert (entry.note, entry.tag) == ("纪录片《信仰》；读了原著《共产党宣言》；信仰", "纪录片")
        assert await session.scalar(select(func.count()).select_from(PointsEntry)) == 1


@pytest.mark.parametrize(
    ("note", "tag"),
    [
        ("听了党课", None),  # a 党课 is one of 三会一课, not a 微党课
        ("参加支部党课", None),
        ("微党课《党章》", "微党课"),
        ("读完习近平总书记讲话", None),
        ("读书笔记", None),
        ("读了原著", "原著"),
        ("读完《共产党宣言》", "原著"),
        ("精读了《毛泽东选集》第一卷", "原著"),
        ("读了《人民日报》评论员文章", None),
        ("看了纪录片《榜样》", "纪录片"),
    ],
)
def test_tags_name_what_they_count(note, tag):
    """QA 6: a tag counts only what it names."""
    assert tag_of(note) == tag


async def test_a_lecture_check_in_carries_no_micro_lecture_tag(bot_in_process, clock):
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    await bot.say("学习打卡 听了党课", user="u01")
    assert bot.replies_to("u01") == [study_texts.STUDY_CHECKED_IN.format(name="张伟", done=1, expected=11)]
