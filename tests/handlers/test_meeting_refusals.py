"""Meeting refusals as a QA pass found them pointing at the wrong thing: each says what is actually the case, with an
example of the command that was sent."""

from datetime import timedelta

from sqlalchemy import func, select

from bot.core.models import RollCall, RollCallEntry
from bot.meetings import texts as meeting_texts
from bot.meetings.models import AttendanceAudit, Meeting
from tests.handlers.test_checkin_leave import entry
from tests.handlers.test_meetings import MONDAY, START, in_process_at
from tests.support import fire

WHEN_1 = "11月27日（周五）14:30"


async def audits(bot) -> int:
    async with bot.services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(AttendanceAudit)) or 0


async def test_corrections_and_approval_without_a_mention_or_reason_answer_with_their_own_example(in_process, config):
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")
    clock.set(START + timedelta(hours=1))
    await fire(bot, "tick_roll_calls")
    for sent in ("补签", "记请假 #1", "准假", "记请假 @刘洋", "记请假 #1 @刘洋", "补签 @刘洋"):
        await bot.say(sent, user="u00")
    assert bot.replies_to("u00")[-6:] == [
        meeting_texts.MEETING_MAKE_UP_NEED_MENTION,
        meeting_texts.MEETING_MARK_LEAVE_NEED_MENTION,
        meeting_texts.MEETING_APPROVE_NEED_MENTION,
        meeting_texts.MEETING_MARK_LEAVE_NEED_REASON.format(name="刘洋", seq_part=""),
        meeting_texts.MEETING_MARK_LEAVE_NEED_REASON.format(name="刘洋", seq_part="#1 "),
        meeting_texts.MEETING_MAKE_UP_NEED_REASON.format(name="刘洋", seq_part=""),
    ]
    assert "记请假 #1 @刘洋 临时执勤" in bot.replies_to("u00")[-2]
    assert await audits(bot) == 0 and (await entry(bot, "u03"))[0] == "pending"


async def test_approving_leave_that_needs_no_approval_says_it_is_registered(in_process, config):
    assert not config.meetings.leave_needs_approval
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")
    await bot.say("请假 值班", user="u02")
    await bot.say("准假 @王芳", user="u00")
    await bot.say("准假 @刘洋", user="u00")
    assert bot.replies_to("u00")[-2:] == [
        meeting_texts.MEETING_APPROVE_NOT_NEEDED.format(name="王芳", items=f"主题党日#1 {WHEN_1}"),
        meeting_texts.MEETING_APPROVE_NOT_NEEDED_NONE.format(name="刘洋"),
    ]
    assert await entry(bot, "u02") == ("leave", "值班", 0)


async def test_leave_for_a_meeting_that_does_not_expect_the_member_says_so(in_process, config):
    """#1 is the 执法党小组's: a 环卫党小组 member's 请假 #1 is told whose it is — with a meeting of their own open
    (#2) and without one — and nothing is stored."""
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起党小组会 执法党小组 11月27日14:30 三楼会议室", user="u00")
    not_theirs = meeting_texts.LEAVE_FOR_NOT_AUDIENCE.format(kind="党小组会", seq=1, audience="执法党小组")
    await bot.say("请假 #1 外出", user="u06")
    assert bot.replies_to("u06")[-1] == not_theirs
    await bot.say("发起主题党日 11月28日15:00 三楼会议室", user="u00")
    await bot.say("请假 #1 外出", user="u06")
    assert bot.replies_to("u06")[-1] == not_theirs
    async with bot.services.sessions() as session:
        stored = await session.scalar(
            select(func.count()).select_from(RollCallEntry).where(RollCallEntry.status != "pending")
        )
    assert stored == 0
    # A meeting of theirs whose check-in has closed (the roll call not yet closed): said so too.
    await bot.say("请假 #2 外出", user="u06")
    assert bot.replies_to("u06")[-1].startswith("赵磊同志，已登记")
    clock.set(START.replace(day=28, hour=15, minute=31))
    await bot.say("请假 #2 外出", user="u07")
    assert bot.replies_to("u07")[-1] == meeting_texts.LEAVE_FOR_CLOSED.format(kind="主题党日", seq=2)


async def test_cancelling_a_held_or_cancelled_meeting_says_which(in_process, config):
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")
    await bot.say("发起党课 11月30日14:30 三楼会议室", user="u00")
    await bot.say("取消会议 2", user="u00")
    clock.set(START + timedelta(minutes=31))
    await fire(bot, "tick_roll_calls")
    for sent in ("取消会议 1", "取消会议 2", "取消会议 5"):
        await bot.say(sent, user="u00")
    assert bot.replies_to("u00")[-3:] == [
        meeting_texts.MEETING_ALREADY_HELD.format(kind="主题党日", seq=1, when=WHEN_1),
        meeting_texts.MEETING_ALREADY_CANCELLED.format(kind="党课", seq=2),
        meeting_texts.MEETING_NOT_FOUND.format(seq=5),
    ]
    async with bot.services.sessions() as session:
        rows = (await session.execute(select(RollCall.seq, Meeting.cancelled).join(Meeting))).all()
    assert sorted(rows) == [(1, False), (2, True)]
