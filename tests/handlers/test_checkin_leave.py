"""签到码 and leave approval as a QA tester found them: wrong codes limited (counted in the database), 签到码1234 from
a member, the code announced as needed, a bare 准假 with several requests, a request lapsed at close, approved leave
withdrawn."""

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.core import texts
from bot.core.models import MemberIdentity, RollCall, RollCallEntry
from bot.meetings import texts as meeting_texts
from bot.meetings.domain import CODE_TRIES, LAPSED_REQUEST_DAYS
from tests.conftest import TZ
from tests.handlers.test_meetings import MONDAY, SATURDAY_15, START, bot_lines, in_process_at
from tests.support import fire

WHEN_1 = "11月27日（周五）14:30"


async def entry(bot, user: str, seq: int = 1) -> tuple[str, str, int]:
    """This user's entry in meeting #seq: (status, note, wrong codes counted)."""
    async with bot.services.sessions() as session:
        row = (
            await session.execute(
                select(RollCallEntry.status, RollCallEntry.note, RollCallEntry.code_misses)
                .join(RollCall, RollCall.id == RollCallEntry.roll_call_id)
                .join(MemberIdentity, MemberIdentity.member_id == RollCallEntry.member_id)
                .where(MemberIdentity.platform_user_id == user, RollCall.seq == seq)
            )
        ).one()
        return row.status, row.note, row.code_misses


async def meeting_with_code(bot) -> str:
    """A 主题党日 on Friday 14:30 with a 签到码 (#1): the code, as the secretary receives it."""
    await bot.say("发起主题党日 11月27日14:30 三楼会议室 签到码", user="u00")
    [secret] = [t for t in bot_lines(await bot.transcript("dm:u00")) if "签到码是" in t]
    return secret.split("签到码是 ")[1][:4]


def wrong_codes(code: str, n: int) -> list[str]:
    return [c for c in (f"{i:04d}" for i in range(1000, 1000 + n + 1)) if c != code][:n]


def locked_notices(lines: list[str]) -> list[str]:
    return [t for t in lines if t.startswith("【签到码】")]


async def test_wrong_codes_are_limited_then_the_secretary_is_told_once(in_process, config):
    """After CODE_TRIES wrong codes even the right one is refused with one sentence pointing to the secretary; the
    secretary is told once; the count is stored; another member is not affected."""
    bot, clock = await in_process_at(in_process, config, MONDAY)
    code = await meeting_with_code(bot)
    clock.set(START - timedelta(minutes=10))
    for wrong in wrong_codes(code, CODE_TRIES):
        await bot.say(f"签到 {wrong}", user="u06")
    locked = meeting_texts.MEETING_CODE_LOCKED.format(name="赵磊", tries=CODE_TRIES)
    assert bot.replies_to("u06") == [meeting_texts.MEETING_CODE_WRONG] * (CODE_TRIES - 1) + [locked]
    await bot.say(f"签到 {code}", user="u06")  # the right code, too late
    await bot.say("签到 9999" if code != "9999" else "签到 9998", user="u06")
    assert bot.replies_to("u06")[-2:] == [locked, locked]
    assert await entry(bot, "u06") == ("pending", "", CODE_TRIES + 1)
    notice = meeting_texts.MEETING_CODE_LOCKED_TO_SECRETARY.format(
        name="赵磊", kind="主题党日", seq=1, tries=CODE_TRIES
    )
    assert locked_notices(bot_lines(await bot.transcript("dm:u00"))) == [notice]
    assert "补签 #1 @赵磊 原因" in notice
    assert not locked_notices(bot_lines(await bot.transcript()))  # never in the group
    # Another member's tries are their own.
    await bot.say(f"签到 {code}", user="u07")
    assert bot.replies_to("u07") == [
        meeting_texts.MEETING_CHECKED_IN.format(name="黄丽", kind="主题党日", time="14:20")
    ]
    assert await entry(bot, "u07") == ("done", "", 0)


async def test_wrong_codes_sent_at_once_each_count(in_process, config):
    """Wrong codes sent at the same moment (several instances on PostgreSQL): each is counted by one atomic update,
    so none gets a try past the limit and the secretary is told once."""
    bot, clock = await in_process_at(in_process, config, MONDAY)
    code = await meeting_with_code(bot)
    clock.set(START - timedelta(minutes=10))
    tries = CODE_TRIES + 3
    await asyncio.gather(*(bot.say(f"签到 {wrong}", user="u06") for wrong in wrong_codes(code, tries)))
    replies = bot.replies_to("u06")
    locked = meeting_texts.MEETING_CODE_LOCKED.format(name="赵磊", tries=CODE_TRIES)
    assert sorted(replies) == sorted([meeting_texts.MEETING_CODE_WRONG] * (CODE_TRIES - 1) + [locked] * 4)
    assert await entry(bot, "u06") == ("pending", "", tries)
    assert len(locked_notices(bot_lines(await bot.transcript("dm:u00")))) == 1
    await bot.say(f"签到 {code}", user="u06")
    assert bot.replies_to("u06")[-1] == locked
    assert (await entry(bot, "u06"))[0] == "pending"


async def test_code_word_with_digits_from_a_member_is_a_check_in(in_process, config):
    """`签到码1324` from a member is `签到 1324` (no refusal for the secretary's command); `签到码` alone from the
    secretary still sends the code."""
    bot, clock = await in_process_at(in_process, config, MONDAY)
    code = await meeting_with_code(bot)
    clock.set(START - timedelta(minutes=10))
    wrong = wrong_codes(code, 1)[0]
    await bot.say(f"签到码{wrong}", user="u06")
    await bot.say(f"签到码 {code}", user="u06")
    assert bot.replies_to("u06") == [
        meeting_texts.MEETING_CODE_WRONG,
        meeting_texts.MEETING_CHECKED_IN.format(name="赵磊", kind="主题党日", time="14:20"),
    ]
    assert await entry(bot, "u06") == ("done", "", 1)
    await bot.say(f"签到码{code}", user="u07")
    assert bot.replies_to("u07") == [
        meeting_texts.MEETING_CHECKED_IN.format(name="黄丽", kind="主题党日", time="14:20")
    ]
    await bot.say("签到码", user="u00")
    shown = meeting_texts.MEETING_CODE_SHOWN.format(kind="主题党日", seq=1, code=code)
    assert bot_lines(await bot.transcript("dm:u00"))[-1] == shown
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_CODE_SENT
    await bot.say("签到码", user="u07")  # the bare word is still the secretary's
    assert bot.replies_to("u07")[-1] == texts.NOT_ALLOWED.format(word="签到码", role=texts.ROLE_NAMES["secretary"])


async def test_code_asked_in_the_group_is_acknowledged_there_without_the_code(in_process, config):
    """QA #17: 签到码 in the group sends the codes directly and tells the group in one line that shows no code;
    asked directly, the codes are the answer; with no code set, that is said where asked."""
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("签到码", user="u00")
    assert bot.replies_to("u00") == [meeting_texts.MEETING_NO_CODE]
    code = await meeting_with_code(bot)
    direct_before = len(bot_lines(await bot.transcript("dm:u00")))
    await bot.say("签到码", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_CODE_SENT
    shown = meeting_texts.MEETING_CODE_SHOWN.format(kind="主题党日", seq=1, code=code)
    assert bot_lines(await bot.transcript("dm:u00"))[direct_before:] == [shown]
    assert not any(code in t for t in bot_lines(await bot.transcript()))
    await bot.say("签到码", user="u00", chat=None)
    assert bot.replies_to("u00")[-1] == shown


async def test_announcement_and_direct_reminder_say_a_code_is_needed(in_process, config):
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await meeting_with_code(bot)
    await bot.say("发起党课 11月28日15:00 主题：学习党章", user="u00")  # #2, no code
    first, second = [t for t in bot_lines(await bot.transcript()) if t.startswith("【")]
    assert first == meeting_texts.MEETING_ANNOUNCE.format(
        kind="主题党日",
        when=WHEN_1,
        location_part="，地点：三楼会议室",
        topic_part="",
        audience="全体党员",
        window="14:00至15:00",
        code_part=meeting_texts.MEETING_CODE_PART,
        leave=meeting_texts.MEETING_ANNOUNCE_LEAVE,
    )
    assert "签到时间14:00至15:00，签到需输入会场公布的四位签到码，不能参加请回复" in first
    assert meeting_texts.MEETING_CODE_PART not in second
    clock.set(START - timedelta(hours=1))
    await fire(bot, "tick_roll_calls")
    [direct] = [t for t in bot_lines(await bot.transcript("dm:u05")) if t.startswith("【会议提醒】")]
    assert direct == meeting_texts.MEETING_REMINDER_DIRECT_ALL.format(
        kind="主题党日",
        when=WHEN_1,
        location_part="，地点：三楼会议室",
        topic_part="",
        window="14:00至15:00",
        code_part=meeting_texts.MEETING_CODE_PART,
        leave=meeting_texts.MEETING_ANNOUNCE_LEAVE_FOR.format(seq=1),
    )


async def test_bare_approval_with_several_requests_asks_which(in_process, config):
    """The first request told the secretary `准假 @杨帆`; with a second one waiting, that bare form lists both and
    approves nothing; naming one approves it."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")  # #1
    await bot.say("发起主题党日 11月28日15:00 三楼会议室", user="u00")  # #2
    await bot.say("请假 #2 外勤", user="u05")
    await bot.say("请假 #1 值班", user="u05")
    assert [t for t in bot_lines(await bot.transcript("dm:u00")) if t.startswith("【请假申请】")][0].endswith(
        "同意请回复“准假 @杨帆”。"
    )
    await bot.say("准假 @杨帆", user="u00")
    items = "、".join(
        [
            meeting_texts.MEETING_REQUEST_ITEM.format(kind="党课", seq=1, when=WHEN_1),
            meeting_texts.MEETING_REQUEST_ITEM.format(kind="主题党日", seq=2, when=SATURDAY_15),
        ]
    )
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_REQUEST_WHICH_BARE.format(name="杨帆", items=items, seq=1)
    assert [(await entry(bot, "u05", seq))[0] for seq in (1, 2)] == ["leave_req", "leave_req"]
    await bot.say("准假 #2 @杨帆", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_LEAVE_APPROVED.format(
        name="杨帆", when=SATURDAY_15, kind="主题党日"
    )
    await bot.say("准假 @杨帆", user="u00")  # one request left: the bare form approves it
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_LEAVE_APPROVED.format(
        name="杨帆", when=WHEN_1, kind="党课"
    )
    assert [(await entry(bot, "u05", seq))[0] for seq in (1, 2)] == ["leave", "leave"]


async def test_a_request_lapsed_at_close_is_said_so(in_process, config):
    """A request still waiting when check-in closes: the 支委's result marks the member 缺席（请假未批）, and a later
    准假 says the request lapsed and points to 记请假, storing nothing."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")  # #1
    await bot.say("请假 值班", user="u08")
    clock.set(START + timedelta(minutes=31))
    await fire(bot, "tick_roll_calls")
    [private] = [t for t in bot_lines(await bot.transcript("dm:u00")) if t.startswith("【主题党日#1 签到结果")]
    assert f"周强{meeting_texts.MEETING_SUMMARY_UNAPPROVED}" in private
    assert "缺席：" in private and "周强（请假未批）" in private.split("缺席：")[1]
    [public] = [t for t in bot_lines(await bot.transcript()) if t.startswith("【主题党日#1 签到结果")]
    assert "周强" not in public
    for text in ("准假 @周强", "准假 #1 @周强"):
        await bot.say(text, user="u00")
        assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_REQUEST_LAPSED.format(
            name="周强", when=WHEN_1, kind="主题党日", seq=1
        ), text
    assert "记请假 #1 @周强 原因" in bot.replies_to("u00")[-1]
    assert await entry(bot, "u08") == ("leave_req", "值班", 0)
    await bot.say("准假 @黄丽", user="u00")  # no request at all: as before
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_NO_REQUEST.format(name="黄丽")


async def test_a_lapsed_request_is_told_for_thirty_days_after_check_in_closed(in_process, config):
    """准假 tells of a lapsed request while its meeting's check-in closed LAPSED_REQUEST_DAYS ago or less; later it
    answers as for no request (and stores nothing either way)."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")  # #1
    await bot.say("请假 值班", user="u08")
    closed = START + timedelta(minutes=config.meetings.check_in_after_minutes)
    clock.set(closed + timedelta(minutes=1))
    await fire(bot, "tick_roll_calls")
    lapsed = meeting_texts.MEETING_REQUEST_LAPSED.format(name="周强", when=WHEN_1, kind="主题党日", seq=1)
    clock.set(closed + timedelta(days=LAPSED_REQUEST_DAYS))
    for text in ("准假 @周强", "准假 #1 @周强"):
        await bot.say(text, user="u00")
        assert bot.replies_to("u00")[-1] == lapsed, text
    clock.set(closed + timedelta(days=LAPSED_REQUEST_DAYS, minutes=1))
    for text in ("准假 @周强", "准假 #1 @周强"):
        await bot.say(text, user="u00")
        assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_NO_REQUEST.format(name="周强"), text
    assert await entry(bot, "u08") == ("leave_req", "值班", 0)


async def test_withdrawn_approved_leave_is_told_to_the_secretaries(in_process, config):
    """取消请假 of approved leave tells the secretaries in one line; withdrawing a request not yet approved does not."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")  # #1
    await bot.say("发起党课 11月28日15:00", user="u00")  # #2
    await bot.say("请假 #1 外勤", user="u05")
    await bot.say("准假 @杨帆", user="u00")
    await bot.say("请假 #2 值班", user="u05")
    await bot.say("取消请假 #2", user="u05")  # a request only
    await bot.say("取消请假 #1", user="u05")  # approved
    notice = meeting_texts.MEETING_LEAVE_WITHDRAWN_TO_SECRETARY.format(name="杨帆", when=WHEN_1, kind="主题党日", seq=1)
    assert [t for t in bot_lines(await bot.transcript("dm:u00")) if t.startswith("【请假撤回】")] == [notice]
    assert bot.replies_to("u05")[-1] == meeting_texts.MEETING_LEAVE_CANCELLED.format(
        name="杨帆", when=WHEN_1, kind="主题党日"
    )
    assert [(await entry(bot, "u05", seq))[0] for seq in (1, 2)] == ["pending", "pending"]


async def test_lapsed_request_not_confused_with_an_open_one(in_process, config):
    """A lapsed request for #1 and a waiting one for #2: the bare 准假 approves #2 (the only one waiting)."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")  # #1
    await bot.say("发起党课 11月28日15:00", user="u00")  # #2
    await bot.say("请假 #1 值班", user="u08")
    await bot.say("请假 #2 外勤", user="u08")
    clock.set(datetime(2026, 11, 27, 15, 1, tzinfo=TZ))
    await bot.say("准假 @周强", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_LEAVE_APPROVED.format(
        name="周强", when=SATURDAY_15, kind="党课"
    )
    await bot.say("准假 #1 @周强", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_REQUEST_LAPSED.format(
        name="周强", when=WHEN_1, kind="主题党日", seq=1
    )
