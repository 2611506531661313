"""Meeting records as members and the 台账 see them: times of corrections (补签, 记请假) stored in UTC and exported in
local time, the export's reason columns, lateness by the minute, reasons echoed in replies, 取消会议 without a number,
and private replies that name the member."""

from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from bot.core.models import Member, RollCallEntry
from bot.meetings import texts as meeting_texts
from bot.meetings.domain import REASON_SHOWN_CHARS
from bot.meetings.models import Meeting
from bot.records import texts as record_texts
from tests.conftest import TZ
from tests.core.test_export import config_for, run_cli
from tests.handlers.test_meetings import bot_lines, driver_at
from tests.support import fire

# A 主题党日 at 01:06 on Wednesday 2026-11-18 (past, so the export counts it as held), created the evening before.
EVENING = datetime(2026, 11, 17, 20, 0, tzinfo=TZ)
START = datetime(2026, 11, 18, 1, 6, tzinfo=TZ)
WHEN = "11月18日（周三）01:06"
LONG_REASON = "因参加区城市管理局组织的夜间联合执法专项行动需要在外执勤到凌晨三点以后才能返回单位报到，"


async def responded_at(bot, name: str) -> datetime | None:
    async with bot.services.sessions() as session:
        return await session.scalar(
            select(RollCallEntry.responded_at)
            .join(Member, Member.id == RollCallEntry.member_id)
            .where(Member.display_name == name)
        )


async def note_of(bot, name: str) -> str | None:
    async with bot.services.sessions() as session:
        return await session.scalar(
            select(RollCallEntry.note)
            .join(Member, Member.id == RollCallEntry.member_id)
            .where(Member.display_name == name)
        )


async def export_rows(db_url, tmp_path) -> dict[str, list[object]]:
    out = tmp_path / "attendance.xlsx"
    args = ["--config", str(config_for(db_url, tmp_path)), "export", "attendance"]
    assert await run_cli([*args, "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)]) == 0
    sheet = load_workbook(out)["主题党日#1 11-18"]
    rows = [["" if cell is None else cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == record_texts.ATTENDANCE_DETAIL_HEADER
    assert rows[0][5:] == ["请假原因", "更正原因"]
    return {str(row[0]): row for row in rows[1:]}


async def test_corrections_are_stored_in_utc_and_exported_in_local_time(aiohttp_client, config, db_url, tmp_path):
    """补签 and 记请假 at 01:09:42 Beijing time are stored as 17:09:42 UTC the day before, as a 签到 is, and the
    export shows 01:09 (not 09:09); its 请假原因 holds leave reasons only, 更正原因 each correction with its reason."""
    bot, clock = await driver_at(aiohttp_client, config, EVENING)
    await bot.say("发起主题党日 11月18日01:06 三楼会议室", user="u00")
    clock.set(START - timedelta(minutes=20))
    await bot.say(f"请假 {LONG_REASON}", user="u03")
    clock.set(START + timedelta(seconds=17))
    await bot.say("签到", user="u01")
    clock.set(START + timedelta(minutes=1))
    await bot.say("签到", user="u02")
    clock.set(START + timedelta(minutes=3, seconds=42))
    await bot.say("补签 @李建国 主持会议", user="u00")
    await bot.say("记请假 @黄丽 外出执法，", user="u00")

    # Late by the minute the reply shows: 01:06:17 is on time, 01:07:00 is late.
    assert bot.replies_to("u01")[-1] == "张伟同志，主题党日签到成功（01:06）。"
    assert bot.replies_to("u02")[-1] == "王芳同志，主题党日签到成功（01:07，迟到）。"
    # A reason is echoed without its end punctuation, and a long one cut (it is stored whole).
    assert bot.replies_to("u00")[-2:] == [
        "已将李建国同志在主题党日#1的记录更正为已出席（原因：主持会议），已记入更正记录。",
        "已将黄丽同志在主题党日#1的记录更正为请假（原因：外出执法），已记入更正记录。",
    ]
    shown = LONG_REASON[:REASON_SHOWN_CHARS] + "…"
    assert bot.replies_to("u03")[-1] == meeting_texts.MEETING_LEAVE_OK.format(
        name="刘洋", when=WHEN, kind="主题党日", reason=shown
    )
    assert bot.replies_to("u03")[-1].endswith("…。") and "，。" not in bot.replies_to("u03")[-1]
    assert await note_of(bot, "刘洋") == LONG_REASON
    assert await note_of(bot, "黄丽") == "外出执法，"

    corrected = datetime(2026, 11, 17, 17, 9, 42, tzinfo=UTC)
    assert await responded_at(bot, "李建国") == corrected
    assert await responded_at(bot, "黄丽") == corrected
    assert await responded_at(bot, "张伟") == datetime(2026, 11, 17, 17, 6, 17, tzinfo=UTC)

    rows = await export_rows(db_url, tmp_path)
    assert rows["李建国"][2:] == ["出席", "2026-11-18 01:09", "", "", "补签：主持会议"]
    assert rows["黄丽"][2:] == ["请假", "2026-11-18 01:09", "", "外出执法，", "记请假：外出执法，"]
    assert rows["张伟"][2:] == ["出席", "2026-11-18 01:06", "", "", ""]
    assert rows["王芳"][2:] == ["出席", "2026-11-18 01:07", record_texts.ATTENDANCE_LATE, "", ""]
    assert rows["刘洋"][2:] == ["请假", "2026-11-18 00:46", "", LONG_REASON, ""]


async def test_late_after_minutes_counts_whole_minutes(aiohttp_client, config):
    """late_after_minutes = 5: 01:11:59 (the 5th minute after 01:06) is on time, 01:12 is late."""
    config = config.replace(meetings={"late_after_minutes": 5})
    bot, clock = await driver_at(aiohttp_client, config, EVENING)
    await bot.say("发起主题党日 11月18日01:06", user="u00")
    clock.set(START + timedelta(minutes=5, seconds=59))
    await bot.say("签到", user="u01")
    clock.set(START + timedelta(minutes=6))
    await bot.say("签到", user="u02")
    assert bot.replies_to("u01")[-1] == meeting_texts.MEETING_CHECKED_IN.format(
        name="张伟", kind="主题党日", time="01:11"
    )
    assert bot.replies_to("u02")[-1] == meeting_texts.MEETING_CHECKED_IN_LATE.format(
        name="王芳", kind="主题党日", time="01:12"
    )


async def test_leave_approval_names_the_member_and_echoes_the_reason_once_punctuated(aiohttp_client, config):
    """The private 准假 notice begins with the member's name (as other private replies do); a reason ending in
    punctuation is echoed without it to the member and to the secretary."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await driver_at(aiohttp_client, config, EVENING)
    await bot.say("发起主题党日 11月18日01:06", user="u00")
    await bot.say("请假 临时执勤。", user="u04")
    assert (
        bot.replies_to("u04")[-1] == "陈静同志，11月18日（周三）01:06的主题党日请假申请已提交，待书记批准：临时执勤。"
    )
    request = [t for t in bot_lines(await bot.transcript("dm:u00")) if t.startswith("【请假申请】")][-1]
    assert request == "【请假申请】陈静同志申请11月18日（周三）01:06的主题党日请假：临时执勤。同意请回复“准假 @陈静”。"
    await bot.say("准假 @陈静", user="u00")
    direct = bot_lines(await bot.transcript("dm:u04"))[-1]
    assert direct == "陈静同志，您11月18日（周三）01:06的主题党日请假已获批准。"
    assert direct == meeting_texts.MEETING_LEAVE_APPROVED_DIRECT.format(name="陈静", when=WHEN, kind="主题党日")


async def test_cancel_meeting_without_a_number_asks_for_one(aiohttp_client, config):
    """取消会议 with no number: one sentence with an example, nothing cancelled (not "未找到会议#0")."""
    bot, _clock = await driver_at(aiohttp_client, config, EVENING)
    await bot.say("发起主题党日 11月18日01:06", user="u00")
    await bot.say("取消会议", user="u00")
    await bot.say("取消会议 3", user="u00")
    assert bot.replies_to("u00")[-2:] == [
        "请写明会议编号，例如：取消会议 3",
        meeting_texts.MEETING_NOT_FOUND.format(seq=3),
    ]
    assert bot.replies_to("u00")[-2] == meeting_texts.MEETING_CANCEL_NEED_SEQ
    async with bot.services.sessions() as session:
        assert await session.scalar(select(Meeting.cancelled)) is False


async def test_a_request_lapsed_at_close_is_exported_as_absent(aiohttp_client, config, db_url, tmp_path):
    """A leave request still waiting when check-in closed is 缺席（请假未批） in the export, as in the meeting's result
    (and counted absent in the summary); one waiting for a meeting still open would say 请假待批."""
    config = config.replace(meetings={"leave_needs_approval": True})
    bot, clock = await driver_at(aiohttp_client, config, EVENING)
    await bot.say("发起主题党日 11月18日01:06 三楼会议室", user="u00")
    await bot.say("请假 值班", user="u08")
    clock.set(START + timedelta(minutes=31))
    await fire(bot, "tick_roll_calls")
    rows = await export_rows(db_url, tmp_path)
    assert rows["周强"][2] == record_texts.ATTENDANCE_LEAVE_LAPSED == "缺席（请假未批）"
    assert rows["周强"][5] == "值班"
