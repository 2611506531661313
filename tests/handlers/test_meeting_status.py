"""签到情况 (QA: no command showed a running meeting's 应到/实到 or who had not checked in): counts in the group, the
names to the secretary directly, as 通知情况 does."""

from datetime import timedelta

from bot.core import texts
from bot.meetings import texts as meeting_texts
from bot.notices import texts as notice_texts
from tests.handlers.test_meetings import MONDAY, START, bot_lines, in_process_at
from tests.support import fire

WHEN_1 = "11月27日（周五）14:30"
ABSENT = "刘洋、陈静、杨帆、周强、吴敏、孙涛"


async def running_theme_day(bot, clock) -> None:
    """主题党日#1 on Friday 14:30 (11 expected); ten minutes before it, 王芳 on leave and four checked in."""
    await bot.say("发起主题党日 11月27日14:30 三楼会议室 主题：学习党章", user="u00")
    await bot.say("请假 值班", user="u02")
    clock.set(START - timedelta(minutes=10))
    for user in ("u00", "u01", "u06", "u07"):
        await bot.say("签到", user=user)


def counts_1(present: int = 4, leave: int = 1, pending: int = 6, late_part: str = "") -> str:
    return meeting_texts.MEETING_STATUS.format(
        kind="主题党日",
        seq=1,
        when=WHEN_1,
        expected=11,
        present=present,
        late_part=late_part,
        leave=leave,
        pending=pending,
        requested_part="",
    )


async def test_status_in_the_group_shows_counts_and_sends_the_names_directly(in_process, config):
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await running_theme_day(bot, clock)
    full = counts_1() + "\n请假：王芳\n未签到：" + ABSENT
    for asked in ("签到情况", "@学习驿站 签到情况", "会议情况", "签到统计 #1"):
        await bot.say(asked, user="u00")
        assert bot.replies_to("u00")[-1] == counts_1() + notice_texts.STATUS_NAMES_SENT, asked
        assert bot_lines(await bot.transcript("dm:u00"))[-1] == full
    # The names of those not checked in are never in the group.
    assert not [line for line in bot_lines(await bot.transcript()) if "孙涛" in line]
    # Asked directly, the answer is the whole of it.
    await bot.say("签到情况", user="u00", chat=None)
    assert bot.replies_to("u00")[-1] == full


async def test_status_is_for_secretaries_and_listed_in_help(in_process, config):
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await running_theme_day(bot, clock)
    await bot.say("签到情况", user="u03")
    assert bot.replies_to("u03")[-1] == texts.NOT_ALLOWED.format(word="签到情况", role=texts.ROLE_NAMES["secretary"])
    await bot.say("帮助 会议", user="u00", chat=None)
    line = texts.HELP_LINE.format(word="签到情况", summary=meeting_texts.SUMMARY_MEETING_STATUS)
    assert line in bot.replies_to("u00")[-1].splitlines()


async def test_status_of_several_meetings_none_and_a_closed_one(in_process, config):
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("签到情况", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_STATUS_NONE
    await running_theme_day(bot, clock)
    clock.set(MONDAY + timedelta(hours=1))
    await bot.say("发起支委会 11月30日9:00 支部办公室", user="u00")  # the 支委: 李建国, 张伟, 赵磊
    clock.set(START - timedelta(minutes=5))
    await bot.say("签到情况", user="u00", chat=None)
    committee = meeting_texts.MEETING_STATUS.format(
        kind="支委会",
        seq=2,
        when="11月30日（周一）09:00",
        expected=3,
        present=0,
        late_part="",
        leave=0,
        pending=3,
        requested_part="",
    )
    assert bot.replies_to("u00")[-1] == "\n".join(
        [counts_1() + "\n请假：王芳\n未签到：" + ABSENT, committee + "\n未签到：李建国、张伟、赵磊"]
    )
    # After check-in closed: #1's result (the absent named directly only); the list no longer has it.
    clock.set(START + timedelta(minutes=31))
    await fire(bot, "tick_roll_calls")
    await bot.say("签到情况 #1", user="u00")
    result = meeting_texts.MEETING_SUMMARY.format(
        kind="主题党日", seq=1, expected=11, present=4, late_part="", leave=1, absent=6
    )
    assert bot.replies_to("u00")[-1] == result + notice_texts.STATUS_NAMES_SENT
    assert bot_lines(await bot.transcript("dm:u00"))[-1].startswith("【主题党日#1 签到结果·仅支委可见】")
    await bot.say("签到情况 #9", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_NOT_FOUND.format(seq=9)
    huge = "9" * 25  # a number no meeting can have (bot/core/numbering.py): not found, as any other
    await bot.say(f"签到情况 #{huge}", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_NOT_FOUND.format(seq=huge)


async def test_status_marks_leave_waiting_for_approval(in_process, config):
    bot, clock = await in_process_at(in_process, config.replace(meetings={"leave_needs_approval": True}), MONDAY)
    await running_theme_day(bot, clock)
    await bot.say("签到情况", user="u00", chat=None)
    waiting = meeting_texts.MEETING_STATUS_REQUESTED_PART.format(requested=1)
    assert bot.replies_to("u00")[-1] == (
        counts_1(leave=0, pending=7)[:-1] + waiting + "。\n未签到：王芳（请假待批准）、" + ABSENT
    )
