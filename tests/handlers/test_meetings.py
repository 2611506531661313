"""Meetings: create in chat, remind, check in, leave, summary, corrections, records, recurring rules."""

import asyncio
import dataclasses
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.app import build_app
from bot.core import texts
from bot.core.cards import LEAVE
from bot.core.clock import FakeClock
from bot.core.config import RecurringMeetingConfig
from bot.core.message import Message
from bot.core.models import MemberIdentity, RollCall, RollCallEntry
from bot.meetings import texts as meeting_texts
from bot.meetings.models import AttendanceAudit, Meeting
from tests.conftest import TZ, StartInProcess
from tests.core.test_export import config_for, run_cli
from tests.support import BotDriver, fire, register

# Monday 2026-11-23 10:00; the meeting is on Friday 2026-11-27 14:30.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
START = datetime(2026, 11, 27, 14, 30, tzinfo=TZ)
SATURDAY_15 = "11月28日（周六）15:00"  # the second meeting of several tests, as replies name it


def bot_lines(lines):
    return [line["text"] for line in lines if line["sender"] == "bot"]


async def driver_at(aiohttp_client, config, when):
    clock = FakeClock(when)
    app = build_app(config, clock=clock, background=False)
    return BotDriver(await aiohttp_client(app), app), clock


async def entries(bot) -> dict[str, int]:
    async with bot.services.sessions() as session:
        rows = await session.execute(select(RollCallEntry.status, func.count()).group_by(RollCallEntry.status))
        return dict(rows.all())


async def test_theme_day_end_to_end(aiohttp_client, config, tmp_path, db_url):
    bot, clock = await driver_at(aiohttp_client, config, MONDAY)
    newcomers = await register(bot, 25)  # 11 demo members + 25 = 36 expected
    await bot.say("发起主题党日 11月27日14:30 三楼会议室 主题：学习党章", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_CREATED_SHORT.format(kind="主题党日", seq=1, expected=36)
    assert bot_lines(await bot.transcript())[-2].startswith("【主题党日】11月27日（周五）14:30，地点：三楼会议室")

    # Reminders: one day and one hour before, in the group and to each member directly.
    for when in (START - timedelta(days=1), START - timedelta(hours=1)):
        clock.set(when)
        await fire(bot, "tick_roll_calls")
    reminders = [t for t in bot_lines(await bot.transcript()) if t.startswith("【会议提醒】")]
    assert len(reminders) == 2
    assert len([t for t in bot_lines(await bot.transcript("dm:u05")) if t.startswith("【会议提醒】")]) == 2

    members = [f"u{i:02d}" for i in range(11)] + newcomers
    leavers, present = members[:3], members[6:]  # members[3:6] stay away
    clock.set(START - timedelta(hours=2))
    for user, reason in zip(leavers, ("在外执法", "值班", "家中有事"), strict=True):
        await bot.say(f"请假 {reason}", user=user)
    clock.set(START - timedelta(minutes=20))
    variants = ["签到", "签到！", "【签到】", "到", "到了", "@学习驿站 签到", "签个到", "报到"]
    for i, user in enumerate(present[:25]):
        await bot.say(variants[i % len(variants)], user=user)
    clock.set(START + timedelta(minutes=10))
    for user in present[25:]:
        await bot.say("签到", user=user)
    assert bot.replies_to(present[-1])[-1].endswith("迟到）。")
    await bot.say("签到", user="u06")
    assert bot.replies_to(present[0])[-1] == meeting_texts.MEETING_ALREADY.format(
        name="刘洋" if present[0] == "u03" else bot.replies_to(present[0])[-1].split("同志，")[0]
    )

    clock.set(START + timedelta(minutes=31))
    await fire(bot, "tick_roll_calls")
    # The group sees the counts only; the names of those on leave and absent go to the 支委 directly.
    [summary] = [t for t in bot_lines(await bot.transcript()) if t.startswith("【主题党日#1 签到结果")]
    assert summary == meeting_texts.MEETING_SUMMARY.format(
        kind="主题党日", seq=1, expected=36, present=30, late_part="（其中迟到5人）", leave=3, absent=3
    )
    assert summary == "【主题党日#1 签到结果】应到36人，实到30人（其中迟到5人），请假3人，缺席3人。"
    for name in ("刘洋", "陈静", "杨帆", "李建国"):
        assert name not in summary
    [private] = [t for t in bot_lines(await bot.transcript("dm:u00")) if t.startswith("【主题党日#1 签到结果")]
    assert private.startswith("【主题党日#1 签到结果·仅支委可见】应到36人，实到30人（其中迟到5人），请假3人，缺席3人。")
    assert private.endswith("\n缺席：刘洋、陈静、杨帆")
    assert "\n请假：李建国、" in private
    assert await entries(bot) == {"done": 30, "leave": 3, "pending": 3}

    out = tmp_path / "attendance.xlsx"
    path = config_for(db_url, tmp_path)
    assert (
        await run_cli(
            [
                "--config",
                str(path),
                "export",
                "attendance",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    book = load_workbook(out)
    summary_rows = [list(r) for r in book["汇总"].iter_rows(values_only=True)]
    assert summary_rows[0] == ["姓名", "党小组", "应到", "实到", "请假", "缺席", "出席率"]
    assert ["李建国", None, 1, 0, 1, 0, "0%"] in summary_rows
    assert ["刘洋", "执法党小组", 1, 0, 0, 1, "0%"] in summary_rows
    counts = {row[0]: row[1] for row in summary_rows if row[0] in texts.MEETING_KIND_NAMES.values()}
    assert counts == {"主题党日": 1, "支部党员大会": 0, "支委会": 0, "党小组会": 0, "党课": 0}
    sheet = [list(r) for r in book["主题党日#1 11-27"].iter_rows(values_only=True)]
    statuses = [row[2] for row in sheet[1:]]
    assert (statuses.count("出席"), statuses.count("请假"), statuses.count("缺席")) == (30, 3, 3)
    assert ["李建国", None, "请假", "2026-11-27 12:30", None, "在外执法", None] in sheet


async def test_hundred_check_ins_within_a_second(aiohttp_client, config):
    bot, clock = await driver_at(aiohttp_client, config, MONDAY)
    newcomers = await register(bot, 89)
    await bot.say("发起党员大会 11月27日14:30 礼堂", user="u00")
    clock.set(START - timedelta(minutes=5))
    users = [f"u{i:02d}" for i in range(11)] + newcomers
    results = await asyncio.gather(*(bot.say("签到", user=u) for u in users))
    assert all(r["handled_by"] == "handle_check_in" for r in results)
    assert await entries(bot) == {"done": 100}
    async with bot.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RollCallEntry)) == 100


async def test_refusals_record_nothing(aiohttp_client, config):
    bot, clock = await driver_at(aiohttp_client, config, MONDAY)
    await bot.say("发起党小组会 环卫党小组 11月27日14:30 签到码 三楼小会议室", user="u00")
    [secret] = [t for t in bot_lines(await bot.transcript("dm:u00")) if "签到码是" in t]
    code = secret.split("签到码是 ")[1][:4]
    clock.set(START - timedelta(hours=2))
    await bot.say("签到", user="u06")  # too early
    clock.set(START - timedelta(minutes=10))
    await bot.say("签到", user="u01")  # 张伟 is in 执法党小组, not this audience
    await bot.say("签到", user="u06")  # no code
    wrong = "0000" if code != "0000" else "1111"
    await bot.say(f"签到 {wrong}", user="u06")
    assert bot.replies_to("u06") == [
        meeting_texts.MEETING_NOT_YET.format(kind="党小组会", start="11月27日（周五）14:00"),
        meeting_texts.MEETING_CODE_NEEDED.format(kind="党小组会"),
        meeting_texts.MEETING_CODE_WRONG,
    ]
    assert bot.replies_to("u01") == [meeting_texts.MEETING_NOT_AUDIENCE.format(kind="党小组会", audience="环卫党小组")]
    assert await entries(bot) == {"pending": 5}
    await bot.say(f"签到 {code}", user="u06")
    assert bot.replies_to("u06")[-1] == meeting_texts.MEETING_CHECKED_IN.format(
        name="赵磊", kind="党小组会", time="14:20"
    )
    clock.set(START + timedelta(minutes=31))
    await bot.say("签到", user="u07")  # after the window
    assert bot.replies_to("u07") == [meeting_texts.MEETING_NO_WINDOW]
    assert await entries(bot) == {"done": 1, "pending": 4}


async def test_group_chatter_to_is_not_a_check_in(bot):
    data = await bot.say("到", user="u02")
    assert data["replies"] == [] and data["handled_by"] is None


async def test_short_check_in_reads_the_open_meetings_once(aiohttp_client, config, monkeypatch):
    """A '到' in a check-in window: the filter that lets it through and the 签到 it makes read the open meetings
    once between them (ctx.memo), and it is a check-in."""
    from sqlalchemy import event

    from bot.meetings import domain

    bot, clock = await driver_at(aiohttp_client, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")
    clock.set(START - timedelta(minutes=10))
    reads: list[object] = []
    prepared = domain.run  # on SQLite, Prepared statements run on the DBAPI cursor, past the engine's events
    running: list[object] = []

    async def counted_run(session, statement, params):
        if statement is domain._OPEN_FOR_CHECK_IN:
            reads.append(statement)
        running.append(statement)
        try:
            return await prepared(session, statement, params)
        finally:
            running.pop()

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM meeting JOIN roll_call" in statement and not running:  # through the ORM
            reads.append(statement)

    monkeypatch.setattr(domain, "run", counted_run)
    engine = bot.services.pipeline.engine.sync_engine  # the messages' own engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await bot.say("到", user="u02")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert bot.replies_to("u02") == [
        meeting_texts.MEETING_CHECKED_IN.format(name="王芳", kind="主题党日", time="14:20")
    ]
    assert len(reads) == 1, reads


async def test_cancel_leave_for_any_upcoming_meeting(aiohttp_client, config):
    """取消请假 finds leave for whichever upcoming meeting it was asked for, and asks which when there are several."""
    bot, _clock = await driver_at(aiohttp_client, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")  # #1
    await bot.say("请假 参加业务培训", user="u02")  # leave for #1, the only meeting
    await bot.say("请假 值班", user="u03")  # leave for #1
    await bot.say("发起主题党日 11月25日15:00 三楼会议室", user="u00")  # #2, now the next meeting
    await bot.say("请假 外出执勤", user="u03")  # leave for #2 as well
    # 王芳 has leave for the later meeting only: it is found, though it is not the next one.
    await bot.say("取消请假", user="u02")
    assert bot.replies_to("u02")[-1] == meeting_texts.MEETING_LEAVE_CANCELLED.format(
        name="王芳", when="11月27日（周五）14:30", kind="党课"
    )
    # 刘洋 has leave for both: the bot asks which, soonest first.
    await bot.say("取消请假", user="u03")
    lines = "\n".join(
        [
            meeting_texts.LEAVE_CHOICE_LINE.format(kind="主题党日", seq=2, when="11月25日（周三）15:00"),
            meeting_texts.LEAVE_CHOICE_LINE.format(kind="党课", seq=1, when="11月27日（周五）14:30"),
        ]
    )
    assert bot.replies_to("u03")[-1] == meeting_texts.LEAVE_CANCEL_WHICH.format(lines=lines, seq=2, day="11月25日")
    await bot.say("取消请假 #7", user="u03")
    assert bot.replies_to("u03")[-1] == meeting_texts.LEAVE_CANCEL_NOT_FOUND.format(
        text="#7", lines=lines, seq=2, day="11月25日"
    )
    await bot.say("取消请假 11月27日", user="u03")
    assert bot.replies_to("u03")[-1] == meeting_texts.LEAVE_CANCELLED_ONE.format(
        name="刘洋", kind="党课", seq=1, when="11月27日（周五）14:30"
    )
    await bot.say("取消请假", user="u03")  # one left: no question
    assert bot.replies_to("u03")[-1] == meeting_texts.MEETING_LEAVE_CANCELLED.format(
        name="刘洋", when="11月25日（周三）15:00", kind="主题党日"
    )
    await bot.say("取消请假", user="u03")
    assert bot.replies_to("u03")[-1] == meeting_texts.MEETING_NO_LEAVE
    assert await entries(bot) == {"pending": 22}  # 11 members × 2 meetings, every leave withdrawn
    # By number, and by kind.
    await bot.say("请假 值班", user="u04")
    await bot.say("取消请假 2", user="u04")
    assert bot.replies_to("u04")[-1] == meeting_texts.MEETING_LEAVE_CANCELLED.format(
        name="陈静", when="11月25日（周三）15:00", kind="主题党日"
    )
    await bot.say("请假 培训", user="u05")
    await bot.say("取消请假 能参加了", user="u05")  # words that name no meeting: the one leave there is
    assert bot.replies_to("u05")[-1] == meeting_texts.MEETING_LEAVE_CANCELLED.format(
        name="杨帆", when="11月25日（周三）15:00", kind="主题党日"
    )
    await bot.say("请假 培训", user="u05")
    await bot.say("取消请假 党课", user="u05")  # a leave for 党课 there is not
    not_found = meeting_texts.LEAVE_CANCEL_NOT_FOUND.format(text="党课", lines="", seq=0, day="").splitlines()[0]
    assert bot.replies_to("u05")[-1].startswith(not_found)


async def test_approval_finds_the_meeting_whose_leave_awaits_it(aiohttp_client, config):
    """A 请假 tap asks leave for its own card's meeting, which need not be the soonest: 准假 approves that request."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, _clock = await driver_at(aiohttp_client, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")  # #1, the soonest
    await bot.say("发起主题党日 11月28日15:00 三楼会议室", user="u00")  # #2
    await bot.say("请假 值班", user="u02")  # for #1
    await bot.say("准假 @王芳", user="u00")
    async with bot.services.sessions() as session:
        second = await session.scalar(select(Meeting.roll_call_id).order_by(Meeting.starts_at.desc()).limit(1))
    tap = Message(
        channel="sim",
        platform_msg_id="tap-leave-2",
        sender_id="u02",
        text="请假",
        sent_at=MONDAY,
        chat_id="demo-group",
        card_key=f"{LEAVE}:{second}",
    )
    assert (await bot.services.pipeline.process(tap)).handled_by == "handle_leave"
    await bot.say("准假 @王芳", user="u00")
    assert bot.replies_to("u00")[-2:] == [
        meeting_texts.MEETING_LEAVE_APPROVED.format(name="王芳", when="11月27日（周五）14:30", kind="党课"),
        meeting_texts.MEETING_LEAVE_APPROVED.format(name="王芳", when="11月28日（周六）15:00", kind="主题党日"),
    ]
    assert await entries(bot) == {"pending": 20, "leave": 2}


async def in_process_at(in_process: StartInProcess, config, when):
    clock = FakeClock(when)
    return await in_process(build_app(config, clock=clock, background=False)), clock


async def test_a_meeting_created_in_the_group_is_announced_there_once(in_process, config):
    """QA #12: in the group the meeting is announced once; the secretary's confirmation there is one line with its
    number and does not repeat the time, place or topic. Typed directly, the confirmation keeps the meeting in full
    (the secretary's chat did not have the announcement, the group did, once)."""
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室 主题：学习党章", user="u00")
    announcement, confirmation = bot.replies_to("u00")
    assert announcement.startswith("【主题党日】11月27日（周五）14:30，地点：三楼会议室，主题：学习党章。")
    assert confirmation == meeting_texts.MEETING_CREATED_SHORT.format(kind="主题党日", seq=1, expected=11)
    assert "\n" not in confirmation
    assert not any(word in confirmation for word in ("14:30", "三楼会议室", "学习党章"))
    assert [t for t in bot_lines(await bot.transcript()) if "学习党章" in t] == [announcement]

    await bot.say("发起党课 11月28日15:00 主题：党的二十大精神", user="u00", chat=None)
    assert bot.replies_to("u00")[2:] == [
        meeting_texts.MEETING_CREATED.format(
            kind="党课",
            seq=2,
            when=SATURDAY_15,
            location_part="",
            topic_part="，主题：党的二十大精神",
            expected=11,
            window="14:30至15:30",
        )
    ]
    assert len([t for t in bot_lines(await bot.transcript()) if "党的二十大精神" in t]) == 1
    assert len(bot_lines(await bot.transcript())) == 3  # in the group: two announcements and one confirmation


async def test_a_meeting_announced_directly_is_confirmed_where_it_was_not_seen(in_process, config):
    """A 支委会 is announced to the 支委 directly: typed there by a 支委, the confirmation is the short line; typed in
    the group (which has no announcement), it is the meeting in full. A 签到码 goes directly, and the group's
    confirmation says so without showing it."""
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起支委会 11月27日9:00 支部办公室", user="u00", chat=None)
    announcement, confirmation = bot.replies_to("u00")
    assert announcement.startswith("【支委会】11月27日（周五）09:00，地点：支部办公室。")
    assert confirmation == meeting_texts.MEETING_CREATED_SHORT.format(kind="支委会", seq=1, expected=3)
    await bot.say("发起支委会 11月28日15:00 支部办公室 签到码", user="u00")
    [code_line] = [t for t in bot_lines(await bot.transcript("dm:u00")) if "签到码是" in t]
    code = code_line.split("签到码是 ")[1][:4]
    assert bot.replies_to("u00")[2:] == [
        meeting_texts.MEETING_CREATED.format(
            kind="支委会",
            seq=2,
            when=SATURDAY_15,
            location_part="，地点：支部办公室",
            topic_part="",
            expected=3,
            window="14:30至15:30",
        )
        + meeting_texts.MEETING_CODE_SENT
    ]
    assert not any(code in t for t in bot_lines(await bot.transcript()))
    await bot.say("发起主题党日 11月29日15:00 三楼会议室 签到码", user="u00")
    assert bot.replies_to("u00")[-1] == (
        meeting_texts.MEETING_CREATED_SHORT.format(kind="主题党日", seq=3, expected=11)
        + meeting_texts.MEETING_CODE_SENT
    )
    assert len([t for t in bot_lines(await bot.transcript("dm:u00")) if "签到码是" in t]) == 2


async def entries_of(bot, user: str) -> dict[int, tuple[str, str, str | None, object]]:
    """This user's entries by meeting number: (status, note, tag, responded_at)."""
    async with bot.services.sessions() as session:
        rows = await session.execute(
            select(
                RollCall.seq, RollCallEntry.status, RollCallEntry.note, RollCallEntry.tag, RollCallEntry.responded_at
            )
            .join(RollCall, RollCall.id == RollCallEntry.roll_call_id)
            .join(MemberIdentity, MemberIdentity.member_id == RollCallEntry.member_id)
            .where(MemberIdentity.platform_user_id == user)
        )
        return {seq: (status, note, tag, responded_at) for seq, status, note, tag, responded_at in rows}


async def attend_the_first_of_two(bot, clock, first: str) -> None:
    """Meeting #1 (the secretary's `first`, 11月27日14:30) and a 主题党日 #2 on 11月28日15:00; 王芳 (u02) checks in to #1."""
    await bot.say(first, user="u00")
    await bot.say("发起主题党日 11月28日15:00 三楼会议室", user="u00")
    clock.set(START - timedelta(minutes=10))
    await bot.say("签到", user="u02")


async def test_typed_leave_skips_a_meeting_already_attended(in_process, config):
    """Checked in to the meeting under way, a member's typed 请假 is for the next meeting that expects them (it was
    refused with 已签到, the soonest meeting's answer); repeated, it replaces the reason there; 取消请假 finds it."""
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await attend_the_first_of_two(bot, clock, "发起党课 11月27日14:30 主题：党的二十大精神")
    attended = (await entries_of(bot, "u02"))[1]
    assert attended[0] == "done"
    await bot.say("请假 外勤", user="u02")
    await bot.say("请假 参加培训", user="u02")  # the reason replaced, on the same meeting
    assert bot.replies_to("u02") == [
        meeting_texts.MEETING_CHECKED_IN.format(name="王芳", kind="党课", time="14:20"),
        meeting_texts.MEETING_LEAVE_OK.format(name="王芳", when=SATURDAY_15, kind="主题党日", reason="外勤"),
        meeting_texts.MEETING_LEAVE_OK.format(name="王芳", when=SATURDAY_15, kind="主题党日", reason="参加培训"),
    ]
    stored = await entries_of(bot, "u02")
    assert stored[1] == attended  # the attendance stands, untouched
    assert stored[2][:3] == ("leave", "参加培训", None)
    await bot.say("取消请假", user="u02")
    assert bot.replies_to("u02")[-1] == meeting_texts.MEETING_LEAVE_CANCELLED.format(
        name="王芳", when=SATURDAY_15, kind="主题党日"
    )
    assert (await entries_of(bot, "u02"))[2][:2] == ("pending", "")


async def test_typed_leave_request_for_a_later_meeting_is_approved_there(in_process, config):
    """With approval: the request a typed 请假 makes for the meeting after one attended is the one 准假 approves."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await attend_the_first_of_two(bot, clock, "发起党课 11月27日14:30 主题：党的二十大精神")
    await bot.say("请假 外勤", user="u02")
    assert bot.replies_to("u02")[-1] == meeting_texts.MEETING_LEAVE_ASKED.format(
        name="王芳", when=SATURDAY_15, kind="主题党日", reason="外勤"
    )
    assert (await entries_of(bot, "u02"))[2][:2] == ("leave_req", "外勤")
    await bot.say("准假 @王芳", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_LEAVE_APPROVED.format(
        name="王芳", when=SATURDAY_15, kind="主题党日"
    )
    stored = await entries_of(bot, "u02")
    assert (stored[1][0], stored[2][:2]) == ("done", ("leave", "外勤"))


def announcement(kind: str, when: str, part: str, window: str, leave: str) -> str:
    """A meeting's announcement to the whole branch, as the group reads it."""
    return meeting_texts.MEETING_ANNOUNCE.format(
        kind=kind,
        when=when,
        location_part="",
        topic_part=part,
        audience="全体党员",
        window=window,
        code_part="",
        leave=leave,
    )


async def test_announcement_names_its_meeting_when_another_is_open_for_leave(in_process, config):
    """A plain 请假 is for the soonest open meeting: a meeting announced while another is open for leave asks for
    `请假 #N 原因`, and a member who replies so gets leave for it; alone (or once the other's check-in has closed),
    the announcement asks for the plain `请假 原因`."""
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")  # #1
    await bot.say("发起主题党日 11月28日15:00 主题：学习党章", user="u00")  # #2, while #1 is open
    first, second = [t for t in bot_lines(await bot.transcript()) if t.startswith("【")]
    assert first == announcement(
        "党课", "11月27日（周五）14:30", "，主题：党的二十大精神", "14:00至15:00", meeting_texts.MEETING_ANNOUNCE_LEAVE
    )
    assert first.endswith("不能参加请回复“请假 原因”。")
    assert second == announcement(
        "主题党日",
        SATURDAY_15,
        "，主题：学习党章",
        "14:30至15:30",
        meeting_texts.MEETING_ANNOUNCE_LEAVE_FOR.format(seq=2),
    )
    assert second.endswith("不能参加请回复“请假 #2 原因”。")
    # The reply the announcement asks for is leave for its own meeting, not the soonest.
    await bot.say("请假 #2 外勤", user="u02")
    assert bot.replies_to("u02")[-1] == meeting_texts.MEETING_LEAVE_OK.format(
        name="王芳", when=SATURDAY_15, kind="主题党日", reason="外勤"
    )
    stored = await entries_of(bot, "u02")
    assert (stored[1][0], stored[2][:2]) == ("pending", ("leave", "外勤"))
    # Both check-ins closed (the roll calls not yet closed by the job): nothing else is open for leave.
    clock.set(datetime(2026, 11, 28, 15, 31, tzinfo=TZ))
    await bot.say("发起党课 11月30日15:00 主题：学习党章", user="u00")  # #3
    third = [t for t in bot_lines(await bot.transcript()) if t.startswith("【")][-1]
    assert third == announcement(
        "党课", "11月30日（周一）15:00", "，主题：学习党章", "14:30至15:30", meeting_texts.MEETING_ANNOUNCE_LEAVE
    )


async def test_approve_leave_for_the_meeting_named(in_process, config):
    """`准假 #2 @王芳` (or a date, a kind, a bare number) approves that meeting's request, not the soonest; the request
    to the secretary names its meeting when another request of the member's waits; words that name none of the
    member's requests, or several, get one sentence listing them; nothing is stored then."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")  # #1, the soonest
    await bot.say("发起主题党日 11月28日15:00 三楼会议室", user="u00")  # #2
    await bot.say("发起主题党日 11月29日15:00 三楼会议室", user="u00")  # #3
    for user in ("u02", "u03", "u04", "u05", "u06"):
        await bot.say("请假 值班", user=user)  # for #1
        await bot.say("请假 #2 外勤", user=user)
    requests = [t for t in bot_lines(await bot.transcript("dm:u00")) if t.startswith("【请假申请】王芳")]
    assert requests == [
        meeting_texts.MEETING_LEAVE_REQUEST_TO_SECRETARY.format(
            name="王芳", when="11月27日（周五）14:30", kind="党课", reason="值班", approve="准假 @王芳"
        ),
        meeting_texts.MEETING_LEAVE_REQUEST_TO_SECRETARY.format(
            name="王芳", when=SATURDAY_15, kind="主题党日", reason="外勤", approve="准假 #2 @王芳"
        ),
    ]
    assert requests[1].endswith("同意请回复“准假 #2 @王芳”。")

    approved_second = meeting_texts.MEETING_LEAVE_APPROVED.format(name="{name}", when=SATURDAY_15, kind="主题党日")
    for user, name, text in (
        ("u02", "王芳", "准假 #2 @王芳"),
        ("u03", "刘洋", "准假 @刘洋 ＃2"),
        ("u04", "陈静", "准假 11月28日 @陈静"),
        ("u05", "杨帆", "准假 2 @杨帆"),
    ):
        await bot.say(text, user="u00")
        assert bot.replies_to("u00")[-1] == approved_second.format(name=name), text
        stored = await entries_of(bot, user)
        assert (stored[1][0], stored[2][0]) == ("leave_req", "leave"), text
    direct = bot_lines(await bot.transcript("dm:u02"))[-1]
    assert direct == meeting_texts.MEETING_LEAVE_APPROVED_DIRECT.format(name="王芳", when=SATURDAY_15, kind="主题党日")

    # Naming no request of the member's: one sentence with the requests that wait.
    before = await entries(bot)
    await bot.say("准假 #2 @王芳", user="u00")  # approved already
    await bot.say("准假 #3 @王芳", user="u00")  # no request there
    first = meeting_texts.MEETING_REQUEST_ITEM.format(kind="党课", seq=1, when="11月27日（周五）14:30")
    assert bot.replies_to("u00")[-2:] == [
        meeting_texts.MEETING_REQUEST_NOT_FOUND.format(name="王芳", text="#2", items=first),
        meeting_texts.MEETING_REQUEST_NOT_FOUND.format(name="王芳", text="#3", items=first),
    ]
    assert bot.replies_to("u00")[-1] == "王芳同志没有“#3”对应的待批准请假，待批准的有：党课#1 11月27日（周五）14:30。"
    # Naming several: which one.
    await bot.say("请假 #3 出差", user="u06")
    await bot.say("准假 主题党日 @赵磊", user="u00")
    items = "、".join(
        [
            meeting_texts.MEETING_REQUEST_ITEM.format(kind="主题党日", seq=2, when=SATURDAY_15),
            meeting_texts.MEETING_REQUEST_ITEM.format(kind="主题党日", seq=3, when="11月29日（周日）15:00"),
        ]
    )
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_REQUEST_WHICH.format(
        text="主题党日", name="赵磊", items=items, seq=2
    )
    # A member with no request: as before, whatever the words.
    await bot.say("准假 #2 @黄丽", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_NO_REQUEST.format(name="黄丽")
    assert await entries(bot) == {**before, "leave_req": before["leave_req"] + 1, "pending": before["pending"] - 1}
    # Without a selector: the soonest request, as before.
    await bot.say("准假 @王芳", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_LEAVE_APPROVED.format(
        name="王芳", when="11月27日（周五）14:30", kind="党课"
    )
    assert [status for status, *_ in (await entries_of(bot, "u02")).values()] == ["leave", "leave", "pending"]


async def test_approve_leave_with_a_selector_stays_in_the_branch(in_process, db_url):
    """A secretary of branch A cannot 准假 in branch B's chat, with a meeting named or not, nor reach B's members from
    A's; B's own secretary approves the meeting named."""
    from tests.core.test_authority import B_CHAT, B_SECRETARY, two_branches

    config = two_branches(db_url, meetings={"leave_needs_approval": True})
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    b_member = "b000"
    await bot.say("大家好", user=b_member, chat=B_CHAT, name="钱进")
    await bot.say("大家好", user=B_SECRETARY, chat=B_CHAT, name="B书记")
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user=B_SECRETARY, chat=B_CHAT)  # B's #1
    await bot.say("发起主题党日 11月28日15:00 三楼会议室", user=B_SECRETARY, chat=B_CHAT)  # B's #2
    await bot.say("请假 值班", user=b_member, chat=B_CHAT)
    await bot.say("请假 #2 外勤", user=b_member, chat=B_CHAT)
    asked = await entries_of(bot, b_member)
    assert (asked[1][0], asked[2][0]) == ("leave_req", "leave_req")

    for text in ("准假 #2 @钱进", "准假 @钱进"):
        answer = await bot.say(text, user="u00", chat=B_CHAT)
        assert answer["handled_by"] == "refused", text
        assert [r["text"] for r in answer["replies"]] == [texts.NOT_ALLOWED_OUTSIDER.format(word="准假")]
    await bot.say("准假 #2 @钱进", user="u00")  # in A's own group: B's member is no member of A
    assert bot.replies_to("u00")[-1] == texts.MEMBER_NOT_FOUND.format(name="钱进")
    assert await entries_of(bot, b_member) == asked

    await bot.say("准假 #2 @钱进", user=B_SECRETARY, chat=B_CHAT)
    assert bot.replies_to(B_SECRETARY)[-1] == meeting_texts.MEETING_LEAVE_APPROVED.format(
        name="钱进", when=SATURDAY_15, kind="主题党日"
    )
    stored = await entries_of(bot, b_member)
    assert (stored[1][0], stored[2][0]) == ("leave_req", "leave")


async def test_leave_replies_name_the_meeting_by_its_time(aiohttp_client, config):
    """With two 主题党日 open, a member checked in to the first asks leave for the second: 请假, 准假 (to the secretary
    and to the member) and 取消请假 each say which meeting by its time, not by its kind alone."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await driver_at(aiohttp_client, config, MONDAY)
    await attend_the_first_of_two(bot, clock, "发起主题党日 11月27日14:30 三楼会议室")
    await bot.say("请假 外勤", user="u02")
    await bot.say("准假 @王芳", user="u00")
    await bot.say("取消请假", user="u02")
    asked, cancelled = bot.replies_to("u02")[1:]
    approved = bot.replies_to("u00")[-1]
    [approved_direct] = [t for t in bot_lines(await bot.transcript("dm:u02")) if t.endswith("请假已获批准。")]
    for reply in (asked, approved, approved_direct, cancelled):
        assert SATURDAY_15 in reply and "11月27日" not in reply
    assert asked == meeting_texts.MEETING_LEAVE_ASKED.format(
        name="王芳", when=SATURDAY_15, kind="主题党日", reason="外勤"
    )
    assert approved == meeting_texts.MEETING_LEAVE_APPROVED.format(name="王芳", when=SATURDAY_15, kind="主题党日")
    assert approved_direct == meeting_texts.MEETING_LEAVE_APPROVED_DIRECT.format(
        name="王芳", when=SATURDAY_15, kind="主题党日"
    )
    assert cancelled == meeting_texts.MEETING_LEAVE_CANCELLED.format(name="王芳", when=SATURDAY_15, kind="主题党日")
    stored = await entries_of(bot, "u02")
    assert (stored[1][0], stored[2][:2]) == ("done", ("pending", ""))


async def test_typed_leave_names_its_meeting(in_process, config):
    """`请假 #2 / 11月28日 / 主题党日 原因` asks leave for that meeting, not the next one (whose leave stays as it was);
    the rest of the text is the reason."""
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")  # #1, the next meeting
    await bot.say("发起主题党日 11月28日15:00 三楼会议室", user="u00")  # #2
    await bot.say("请假 值班", user="u02")  # for #1
    await bot.say("请假 #2 外勤", user="u02")
    await bot.say("请假 ＃2 外出执勤", user="u02")  # a full-width ＃: the reason replaced on #2
    assert bot.replies_to("u02")[-1] == meeting_texts.MEETING_LEAVE_OK.format(
        name="王芳", when=SATURDAY_15, kind="主题党日", reason="外出执勤"
    )
    stored = await entries_of(bot, "u02")
    assert (stored[1][:2], stored[2][:2]) == (("leave", "值班"), ("leave", "外出执勤"))
    for user, name, text in (
        ("u03", "刘洋", "请假 11月28日 参加培训"),
        ("u04", "陈静", "请假 11.28 参加培训"),
        ("u05", "杨帆", "请假 主题党日 参加培训"),
    ):
        await bot.say(text, user=user)
        assert bot.replies_to(user)[-1] == meeting_texts.MEETING_LEAVE_OK.format(
            name=name, when=SATURDAY_15, kind="主题党日", reason="参加培训"
        )
        stored = await entries_of(bot, user)
        assert (stored[1][0], stored[2][:2]) == ("pending", ("leave", "参加培训")), text
    await bot.say("请假 #2", user="u06")  # a meeting named, no reason: the example names it too
    assert bot.replies_to("u06")[-1] == meeting_texts.MEETING_LEAVE_NEED_REASON_FOR.format(selector="#2")
    assert [status for status, *_ in (await entries_of(bot, "u06")).values()] == ["pending", "pending"]


async def test_typed_leave_names_its_meeting_as_members_write_it(in_process, config):
    """Found in review: the short kind names (党员大会), a colon or comma after the meeting, the date with the
    weekday or time of day the bot itself writes; and amounts or shifts written like a date (3.5, 8-12) that name
    no meeting stay the reason of the next meeting's leave."""
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")  # #1, the next meeting
    await bot.say("发起党员大会 11月28日15:00 二楼会议室", user="u00")  # #2
    for user, text in (
        ("u02", "请假 党员大会 外勤"),
        ("u03", "请假 支部大会，外勤"),
        ("u04", "请假 #2：外勤"),
        ("u05", "请假 11月28日（周六） 外勤"),
        ("u06", "请假 11月28日下午 外勤"),
        ("u07", "请假 11月28日15:00，外勤"),
        ("u01", "请假 11月28日下午3点 外勤"),
        ("u00", "请假 11月28日 星期六 外勤"),
    ):
        await bot.say(text, user=user)
        assert bot.replies_to(user)[-1].endswith("11月28日（周六）15:00的支部党员大会请假：外勤。"), text
        stored = await entries_of(bot, user)
        assert (stored[1][0], stored[2][:2]) == ("pending", ("leave", "外勤")), text
    for user, reason in (("u08", "3.5，天年假"), ("u09", "8-12 执勤"), ("u10", "13.5 小时加班")):
        await bot.say(f"请假 {reason}", user=user)
        stored = await entries_of(bot, user)
        assert (stored[1][:2], stored[2][0]) == (("leave", reason), "pending"), reason


async def test_typed_leave_reasons_that_look_like_a_meeting(in_process, config):
    """Only a whole first word names a meeting: reasons that start like a kind or a number go to the next meeting."""
    bot, _clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")  # #1, the next meeting
    await bot.say("发起党课 11月28日15:00 主题：党的二十大精神", user="u00")  # #2
    reasons = {"u02": "在外执法", "u03": "家里有事", "u04": "党课备课冲突", "u05": "11月27日外出", "u06": "2 天年假"}
    for user, reason in reasons.items():
        await bot.say(f"请假 {reason}", user=user)
        assert (await entries_of(bot, user))[1][:2] == ("leave", reason)
    assert bot.replies_to("u04")[-1] == meeting_texts.MEETING_LEAVE_OK.format(
        name="陈静", when="11月27日（周五）14:30", kind="主题党日", reason="党课备课冲突"
    )
    assert await entries(bot) == {"leave": 5, "pending": 17}


async def test_typed_leave_naming_no_meeting_or_several(in_process, config):
    """Words that name none of the member's meetings, or several, get the list of them and an example; nothing is
    stored. A meeting already attended is named as asked, and its conditional write refuses the leave."""
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await attend_the_first_of_two(bot, clock, "发起主题党日 11月27日14:30 三楼会议室")  # 王芳 attends #1
    lines = "\n".join(
        [
            meeting_texts.LEAVE_CHOICE_LINE.format(kind="主题党日", seq=1, when="11月27日（周五）14:30"),
            meeting_texts.LEAVE_CHOICE_LINE.format(kind="主题党日", seq=2, when=SATURDAY_15),
        ]
    )
    before = await entries_of(bot, "u02")
    await bot.say("请假 主题党日 外勤", user="u02")
    # The example names the meeting leave can still be asked for (#2), not the one attended.
    assert bot.replies_to("u02")[-1] == meeting_texts.LEAVE_FOR_WHICH.format(
        text="主题党日", lines=lines, seq=2, day="11月28日"
    )
    for selector in ("#7", "12月1日", "党课"):
        await bot.say(f"请假 {selector} 外勤", user="u02")
        assert bot.replies_to("u02")[-1] == meeting_texts.LEAVE_FOR_NOT_FOUND.format(
            text=selector, lines=lines, seq=2, day="11月28日"
        )
    await bot.say("请假 #1 外勤", user="u02")
    assert bot.replies_to("u02")[-1] == meeting_texts.MEETING_LEAVE_ALREADY_IN.format(name="王芳")
    assert await entries_of(bot, "u02") == before
    assert await entries(bot) == {"done": 1, "pending": 21}


async def test_typed_leave_when_every_meeting_is_attended(in_process, config):
    """Checked in to every meeting that expects them, a member asking leave hears 已签到 and nothing is stored."""
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")  # #1, check-in 14:00-15:00
    await bot.say("发起主题党日 11月27日14:40 三楼会议室", user="u00")  # #2, check-in 14:10-15:10
    clock.set(START - timedelta(minutes=5))
    await bot.say("签到", user="u02")  # #1, the nearer
    clock.set(START + timedelta(minutes=15))
    await bot.say("签到", user="u02")  # #2, the nearer now; #1's check-in is still open
    before = await entries_of(bot, "u02")
    assert [status for status, *_ in before.values()] == ["done", "done"]
    await bot.say("请假 外勤", user="u02")
    assert bot.replies_to("u02")[-1] == meeting_texts.MEETING_LEAVE_ALREADY_IN.format(name="王芳")
    assert await entries_of(bot, "u02") == before
    assert await entries(bot) == {"done": 2, "pending": 20}


async def test_leave_with_approval_cancel_and_corrections(aiohttp_client, config):
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await driver_at(aiohttp_client, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")
    await bot.say("请假", user="u02")
    await bot.say("请假 参加业务培训", user="u02")
    assert bot.replies_to("u02") == [
        meeting_texts.MEETING_LEAVE_NEED_REASON,
        meeting_texts.MEETING_LEAVE_ASKED.format(
            name="王芳", when="11月27日（周五）14:30", kind="党课", reason="参加业务培训"
        ),
    ]
    assert any(t.startswith("【请假申请】王芳") for t in bot_lines(await bot.transcript("dm:u00")))
    await bot.say("准假 @王芳", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_LEAVE_APPROVED.format(
        name="王芳", when="11月27日（周五）14:30", kind="党课"
    )
    await bot.say("请假 值班", user="u03")
    await bot.say("取消请假", user="u03")
    assert bot.replies_to("u03")[-1] == meeting_texts.MEETING_LEAVE_CANCELLED.format(
        name="刘洋", when="11月27日（周五）14:30", kind="党课"
    )
    assert await close_and_correct(bot, clock, "@刘洋", "@陈静", "补签 @陈静") == [
        *corrected("刘洋", "陈静"),
        meeting_texts.MEETING_MAKE_UP_NEED_REASON.format(name="陈静", seq_part=""),
    ]
    # An attendance stands (its points are paid; the ledger takes none back): no leave over it, no second 补签.
    await bot.say("记请假 #1 @刘洋 临时执勤", user="u00")
    await bot.say("补签 #1 @刘洋 再补一次", user="u00")
    assert bot.replies_to("u00")[-2:] == [
        meeting_texts.MEETING_CORRECT_ATTENDED_NOT_LEAVE.format(name="刘洋", kind="党课", seq=1),
        meeting_texts.MEETING_CORRECT_ALREADY_IN.format(name="刘洋", kind="党课", seq=1),
    ]
    async with bot.services.sessions() as session:
        audits = (await session.execute(select(AttendanceAudit.old_status, AttendanceAudit.new_status))).all()
    assert sorted(audits) == [("pending", "done"), ("pending", "leave")]
    await bot.say("补签 @刘洋 再来一次", user="u02")
    assert bot.replies_to("u02")[-1] == texts.NOT_ALLOWED.format(word="补签", role=texts.ROLE_NAMES["secretary"])
    # 出席率 counts person-times: 11 expected, 1 present (补签), 2 on leave (not attended, shown beside it).
    await bot.say("本月统计", user="u00")
    assert bot.replies_to("u00")[-1] == (
        "2026年11月，本支部共上党课1次；党员出席率9.1%（应到11人次，实到1人次，请假2人次）。"
    )
    await bot.say("本月统计 全部", user="u00")
    assert bot.replies_to("u00")[-1] == (
        "2026年11月，本支部共召开支部党员大会0次、支委会0次、党小组会0次，上党课1次，开展主题党日活动0次；"
        "党员出席率9.1%（应到11人次，实到1人次，请假2人次）。"
    )


async def close_and_correct(bot, clock, made_up: str, on_leave: str, third: str) -> list[str]:
    """Close 党课#1 (an hour after START), then 补签 the first mention, 记请假 #1 the second, and send third: the
    secretary's three replies."""
    clock.set(START + timedelta(hours=1))
    await fire(bot, "tick_roll_calls")
    await bot.say(f"补签 {made_up} 现场签到时手机没电", user="u00")
    await bot.say(f"记请假 #1 {on_leave} 临时执勤", user="u00")
    await bot.say(third, user="u00")
    return bot.replies_to("u00")[-3:]


def corrected(made_up: str, on_leave: str) -> list[str]:
    """close_and_correct()'s first two replies when both members are found."""
    return [
        meeting_texts.MEETING_CORRECTED.format(
            name=made_up, kind="党课", seq=1, status="已出席", reason="现场签到时手机没电"
        ),
        meeting_texts.MEETING_CORRECTED.format(name=on_leave, kind="党课", seq=1, status="请假", reason="临时执勤"),
    ]


async def test_a_mention_finds_the_member_whatever_its_case_or_width(in_process, config):
    """A mention is folded as the command's text is (case, full-/half-width): `准假 @B同志000` as the name shows,
    `补签 @Ｂ同志001`, `记请假 @b同志002` find the members named so, and replies show the names as stored; a name
    nobody has is quoted as typed; two members whose names fold alike are ambiguous, as two of one name are."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await register(bot, 3, prefix="b")  # B同志000, B同志001, B同志002
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")
    await bot.say("请假 值班", user="b000")
    await bot.say("准假 @B同志000", user="u00")
    assert bot.replies_to("u00")[-1] == meeting_texts.MEETING_LEAVE_APPROVED.format(
        name="B同志000", when="11月27日（周五）14:30", kind="党课"
    )
    assert (await entries_of(bot, "b000"))[1][:2] == ("leave", "值班")

    assert await close_and_correct(bot, clock, "@Ｂ同志001", "@b同志002", "补签 @B同志009 现场签到时手机没电") == [
        *corrected("B同志001", "B同志002"),
        texts.MEMBER_NOT_FOUND.format(name="B同志009"),
    ]
    assert [(await entries_of(bot, user))[1][0] for user in ("b001", "b002")] == ["done", "leave"]

    await bot.say("大家好", user="x000", name="ｂ同志001")  # folds as B同志001 does
    before = await entries(bot)
    await bot.say("记请假 #1 @B同志001 临时执勤", user="u00")
    await bot.say("准假 @ｂ同志001", user="u00")
    assert bot.replies_to("u00")[-2:] == [
        texts.MEMBER_AMBIGUOUS.format(name="B同志001"),
        texts.MEMBER_AMBIGUOUS.format(name="ｂ同志001"),
    ]
    assert await entries(bot) == before


async def test_a_name_with_a_space_is_found_by_its_mention(in_process, config):
    """A WeCom group @-mentions a member by the name shown, then U+2005: `准假 @Tom Li` (and the space) finds Tom Li —
    the longest member name typed after the @, not Tom, whose name it begins with — at the text's end or before the
    command's other words (a meeting's number, a reason); `@Lucy Wang @Tom` names the first, as `@张三 @李四` does."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await in_process_at(in_process, config, MONDAY)
    for user, name in (("tom", "Tom"), ("tomli", "Tom Li"), ("lucy", "Lucy Wang")):
        await bot.say("大家好", user=user, name=name)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")
    await bot.say("请假 值班", user="tomli")
    await bot.say("请假 出差", user="tom")
    await bot.say("准假 @Tom Li\u2005", user="u00")
    await bot.say("准假 @Tom\u2005", user="u00")
    approved = [
        meeting_texts.MEETING_LEAVE_APPROVED.format(name=name, when="11月27日（周五）14:30", kind="党课")
        for name in ("Tom Li", "Tom")
    ]
    assert bot.replies_to("u00")[-2:] == approved
    assert [(await entries_of(bot, user))[1][:2] for user in ("tomli", "tom")] == [("leave", "值班"), ("leave", "出差")]

    await bot.say("请假 #1 调休", user="tomli")  # asked again: the request waits for 准假 #1
    await bot.say("准假 @Tom Li\u2005#1", user="u00")
    assert bot.replies_to("u00")[-1] == approved[0]
    assert (await entries_of(bot, "tomli"))[1][:2] == ("leave", "调休")
    await bot.say("请假 #1 轮休", user="tomli")  # typed with a comma after the name, not WeCom's space
    await bot.say("准假 @Tom Li，#1", user="u00")
    assert bot.replies_to("u00")[-1] == approved[0]
    assert (await entries_of(bot, "tomli"))[1][:2] == ("leave", "轮休")

    assert await close_and_correct(
        bot, clock, "@Lucy Wang\u2005@Tom\u2005", "@Tom Li\u2005", "补签 @Tom Li\u2005现场签到时手机没电"
    ) == [
        *corrected("Lucy Wang", "Tom Li"),
        meeting_texts.MEETING_CORRECTED.format(
            name="Tom Li", kind="党课", seq=1, status="已出席", reason="现场签到时手机没电"
        ),
    ]
    assert [(await entries_of(bot, user))[1][:2] for user in ("lucy", "tomli", "tom")] == [
        ("done", "现场签到时手机没电"),
        ("done", "现场签到时手机没电"),
        ("leave", "出差"),
    ]


async def test_a_direct_reminder_names_its_meeting_when_another_is_open_for_leave(in_process, config):
    """A plain 请假 is for the soonest open meeting: a direct reminder sent while another meeting is open for leave
    asks for `请假 #N 原因`, as the announcement does; alone, it asks for `请假 原因`."""
    bot, clock = await in_process_at(in_process, config, MONDAY)
    await bot.say("发起党课 11月27日14:30 主题：党的二十大精神", user="u00")  # #1
    await bot.say("发起主题党日 11月28日14:00 三楼会议室", user="u00")  # #2, its reminder a day before in #1's check-in
    for when in (
        datetime(2026, 11, 27, 13, 30, tzinfo=TZ),  # #1's, an hour before
        datetime(2026, 11, 27, 14, 0, tzinfo=TZ),  # #2's, a day before: #1's check-in is open (14:00-15:00)
        datetime(2026, 11, 28, 13, 0, tzinfo=TZ),  # #2's, an hour before: #1 closed
    ):
        clock.set(when)
        await fire(bot, "tick_roll_calls")
    reminders = [t for t in bot_lines(await bot.transcript("dm:u05")) if t.startswith("【会议提醒】")]
    assert reminders == [
        meeting_texts.MEETING_REMINDER_DIRECT_ALL.format(
            kind="党课",
            when="11月27日（周五）14:30",
            location_part="",
            topic_part=meeting_texts.MEETING_TOPIC_PART.format(topic="党的二十大精神"),
            window="14:00至15:00",
            code_part="",
            leave=meeting_texts.MEETING_ANNOUNCE_LEAVE_FOR.format(seq=1),
        ),
        *(
            meeting_texts.MEETING_REMINDER_DIRECT_ALL.format(
                kind="主题党日",
                when="11月28日（周六）14:00",
                location_part=meeting_texts.MEETING_LOCATION_PART.format(location="三楼会议室"),
                topic_part="",
                window="13:30至14:30",
                code_part="",
                leave=leave,
            )
            # #1 still open for leave at the first reminder, closed at the second
            for leave in (meeting_texts.MEETING_ANNOUNCE_LEAVE_FOR.format(seq=2), meeting_texts.MEETING_ANNOUNCE_LEAVE)
        ),
    ]
    assert reminders[1].endswith("不能参加请回复“请假 #2 原因”。")
    assert reminders[2].endswith("不能参加请回复“请假 原因”。")


async def test_monthly_rule_over_a_year_follows_the_holiday_calendar(aiohttp_client, config):
    branch = config.branches[0]
    rule = RecurringMeetingConfig(
        kind="theme_day", rule="first_friday", time="15:00", topic="主题党日", create_days_before=3
    )
    lecture = RecurringMeetingConfig(kind="party_lecture", rule="third_friday", time="15:00", create_days_before=3)
    config = config.replace(branches=(dataclasses.replace(branch, meetings=(rule, lecture)),))
    bot, clock = await driver_at(aiohttp_client, config, datetime(2025, 7, 1, 7, 30, tzinfo=TZ))
    while clock() < datetime(2026, 7, 1, tzinfo=TZ):
        await bot.services.jobs.fire("plan_meetings", clock())
        clock.advance(days=1)
    async with bot.services.sessions() as session:
        rows = (await session.execute(select(Meeting.kind, Meeting.starts_at).order_by(Meeting.starts_at))).all()
    starts = [when.astimezone(TZ).date() for kind, when in rows if kind == "theme_day"]
    lectures = [when.astimezone(TZ).date() for kind, when in rows if kind == "party_lecture"]
    assert lectures == [
        date(2025, 7, 18),
        date(2025, 8, 15),
        date(2025, 9, 19),
        date(2025, 10, 17),
        date(2025, 11, 21),
        date(2025, 12, 19),
        date(2026, 1, 16),
        date(
            2026, 2, 24
        ),  # 02-20 is in the Spring Festival holiday; Tuesday 02-24 is nearer than the 02-14 make-up day
        date(2026, 3, 20),
        date(2026, 4, 17),
        date(2026, 5, 15),
        date(2026, 6, 18),  # 06-19 is the Dragon Boat Festival
    ]
    assert starts == [
        date(2025, 7, 4),
        date(2025, 8, 1),
        date(2025, 9, 5),
        date(2025, 9, 30),  # 10-03 is in the National Day holiday: the nearest workday is Tuesday 09-30
        date(2025, 11, 7),
        date(2025, 12, 5),
        date(2025, 12, 31),  # 2026-01-02 is a New Year holiday; 12-31 and the 01-04 make-up day tie: earlier wins
        date(2026, 2, 6),
        date(2026, 3, 6),
        date(2026, 4, 3),
        date(2026, 4, 30),  # 05-01 Labour Day
        date(2026, 6, 5),
        date(2026, 7, 3),  # created on 06-30, three days ahead
    ]


async def test_cadence_warning_once(aiohttp_client, config):
    bot, clock = await driver_at(aiohttp_client, config, datetime(2026, 12, 20, 9, 0, tzinfo=TZ))
    await bot.say("发起支委会 12月21日9:00 支部办公室", user="u00")
    await fire(bot, "warn_meeting_cadence")
    clock.advance(days=1)
    await fire(bot, "warn_meeting_cadence")
    warnings = [t for t in bot_lines(await bot.transcript("dm:u00")) if t.startswith("【会议提醒·仅支委可见】")]
    # Each missing kind with the 条例's rule: 党员大会 each quarter, 党小组会 each month, 党课 checked yearly
    # (the 条例 sets no per-quarter 党课); the 支委会 planned for the 21st counts.
    assert warnings == [
        "【会议提醒·仅支委可见】2026年第4季度尚未召开支部党员大会。"
        "\n· 《中国共产党支部工作条例（试行）》第十一条：党支部党员大会一般每季度召开1次。\n请及时安排。",
        "【会议提醒·仅支委可见】2026年12月尚未召开党小组会。"
        "\n· 《中国共产党支部工作条例（试行）》第十三条：党小组会一般每月召开1次。\n请及时安排。",
        "【会议提醒·仅支委可见】2026年尚未上党课。"
        "\n· 《中国共产党支部工作条例（试行）》第十六条：党支部应当组织党员按期上党课；"
        "党员领导干部要定期为基层党员讲党课，党委（党组）书记每年至少讲1次党课。\n请及时安排。",
    ]


async def test_cadence_set_by_the_branch_is_not_attributed_to_the_rules(aiohttp_client, config):
    """A cadence other than the 条例's (here 党课 each quarter, 主题党日 each month) is the branch's own setting."""
    config = config.replace(meetings={"cadence_party_lecture": "quarter", "cadence_theme_day": "month"})
    bot, clock = await driver_at(aiohttp_client, config, datetime(2026, 12, 20, 9, 0, tzinfo=TZ))
    await bot.say("发起支委会 12月21日9:00 支部办公室", user="u00")
    await bot.say("发起党小组会 执法党小组 12月22日9:00 支部办公室", user="u00")
    await fire(bot, "warn_meeting_cadence")
    warnings = [t for t in bot_lines(await bot.transcript("dm:u00")) if t.startswith("【会议提醒")]
    assert warnings == [
        meeting_texts.MEETING_CADENCE_WARNING.format(
            period="2026年第4季度",
            actions="召开支部党员大会、上党课",
            rules="\n· 《中国共产党支部工作条例（试行）》第十一条：党支部党员大会一般每季度召开1次。"
            "\n· 本支部设定：党课每季度至少1次。",
        ),
        "【会议提醒·仅支委可见】2026年12月尚未开展主题党日。"
        "\n· 《中国共产党支部工作条例（试行）》规定，党支部每月相对固定1天开展主题党日。\n请及时安排。",
    ]


async def test_meeting_list_counts_each_meetings_own_audience(aiohttp_client, config):
    """会议列表: the open meetings, soonest first, each with the audience fixed when it was created; a cancelled one
    is gone."""
    bot, clock = await driver_at(aiohttp_client, config, MONDAY)
    await bot.say("会议列表", user="u01")
    await bot.say("发起党员大会 11月28日9:00 二楼会议室", user="u00")  # the 11 demo members
    await register(bot, 3)
    await bot.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")  # and the 3 newcomers
    await bot.say("发起党课 11月30日15:00", user="u00")
    await bot.say("取消会议 3", user="u00")
    await bot.say("会议列表", user="u01")
    assert bot.replies_to("u01") == [
        meeting_texts.MEETING_LIST_EMPTY,
        "\n".join(
            [
                meeting_texts.MEETING_LIST_HEADER,
                meeting_texts.MEETING_LIST_LINE.format(
                    kind=texts.MEETING_KIND_NAMES["theme_day"],
                    seq=2,
                    when="11月27日（周五）14:30",
                    location_part="，地点：三楼会议室",
                    expected=14,
                ),
                meeting_texts.MEETING_LIST_LINE.format(
                    kind=texts.MEETING_KIND_NAMES["member_assembly"],
                    seq=1,
                    when="11月28日（周六）09:00",
                    location_part="，地点：二楼会议室",
                    expected=11,
                ),
            ]
        ),
    ]


# A number no meeting can have: past PostgreSQL's integer (2**31) and past SQLite's (a 64-bit integer).
NO_ROW_NUMBERS = ["2147483648", "99999999999999999999"]


@pytest.mark.parametrize("number", NO_ROW_NUMBERS)
async def test_a_meeting_number_no_meeting_can_have_is_answered_as_not_found(bot_in_process, number):
    bot = bot_in_process
    await bot.say("发起主题党日 明天14:30 礼堂", user="u00")
    await bot.say(f"取消会议 {number}", user="u00")
    await bot.say(f"补签 #{number} @王芳 现场签到时手机没电", user="u00")
    await bot.say(f"记请假 #{number} @王芳 临时执勤", user="u00")
    assert bot.replies_to("u00")[-3:] == [
        meeting_texts.MEETING_NOT_FOUND.format(seq=number),
        meeting_texts.MEETING_CORRECT_NO_MEETING,
        meeting_texts.MEETING_CORRECT_NO_MEETING,
    ]
    async with bot.services.sessions() as session:
        assert [m.cancelled for m in await session.scalars(select(Meeting))] == [False]
        assert await session.scalar(select(func.count()).select_from(AttendanceAudit)) == 0
