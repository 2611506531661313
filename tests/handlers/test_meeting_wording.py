"""Meeting texts as a QA pass read them: a 党小组会's pushes name the 党小组, the direct reminder carries the topic."""

from datetime import timedelta

from bot.meetings import texts as meeting_texts
from tests.handlers.test_meetings import MONDAY, START, bot_lines, in_process_at
from tests.support import fire

WHEN_1 = "11月27日（周五）14:30"


async def test_a_group_meeting_reminder_names_its_party_group_and_the_direct_one_its_topic(in_process, config):
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起党小组会 执法党小组 11月27日14:30 三楼会议室 主题：交流学习体会", user="u00")
    clock.set(START - timedelta(hours=1))
    await fire(bot, "tick_roll_calls")
    kind = meeting_texts.MEETING_KIND_OF_GROUP.format(kind="党小组会", group="执法党小组")
    parts = {
        "kind": kind,
        "when": WHEN_1,
        "location_part": meeting_texts.MEETING_LOCATION_PART.format(location="三楼会议室"),
        "topic_part": meeting_texts.MEETING_TOPIC_PART.format(topic="交流学习体会"),
        "window": "14:00至15:00",
    }
    in_group = [t for t in bot_lines(await bot.transcript()) if t.startswith("【会议提醒】")]
    assert in_group == [meeting_texts.MEETING_REMINDER.format(**parts)]
    assert in_group[0].startswith("【会议提醒】党小组会（执法党小组）将于")
    direct = [t for t in bot_lines(await bot.transcript("dm:u03")) if t.startswith("【会议提醒】")]
    leave = meeting_texts.MEETING_ANNOUNCE_LEAVE
    assert direct == [meeting_texts.MEETING_REMINDER_DIRECT_ALL.format(**parts, code_part="", leave=leave)]
    assert "主题：交流学习体会" in direct[0]
    assert not [t for t in bot_lines(await bot.transcript("dm:u06")) if t.startswith("【会议提醒】")]  # 环卫党小组
    # Cancelled, the group is told whose meeting it was.
    await bot.say("取消会议 1", user="u00")
    assert bot_lines(await bot.transcript())[-1] == meeting_texts.MEETING_CANCELLED.format(kind=kind, when=WHEN_1)
