"""Roll-call responses on PostgreSQL with real concurrency, two app instances on one database: one member's 签到,
学习打卡 and 收到, each sent twice at the same moment (a retry in another chat, two devices) — recorded once, answered
once as recorded and once as already done, paid once; and a 签到 meeting a 请假, 取消请假, 准假 or 记请假 decided on
the status read before it committed — the check-in stands. SQLite serialises its writers and hides these races (the
`pg_url` fixture: skipped on a developer's machine without PostgreSQL, failed in CI).

Each race is made certain, not left to timing: a third connection holds the member's entry row locked until both
copies wait for it (pg_stat_activity), then lets go; they take it in the order they queued."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.core import db
from bot.core.clock import FakeClock
from bot.core.config import DatabaseConfig
from bot.core.models import EntryStatus, MemberIdentity, PointsEntry, RollCall, RollCallEntry, RollCallKind
from bot.meetings import texts as meeting_texts
from bot.meetings.models import AttendanceAudit
from bot.notices import texts as notice_texts
from bot.study import texts as study_texts
from tests.conftest import TZ, make_config
from tests.support import BotDriver, fire, names_by_user, queued_for_entry

FRIDAY_9 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # the demo branch's study day
MEMBERS = [f"u{i:02d}" for i in range(1, 11)]  # the demo branch's members; u00 is its secretary


async def test_one_response_twice_at_once_on_two_instances_counts_once(aiohttp_client, pg_url):
    clock = FakeClock(FRIDAY_9)
    config = make_config(pg_url)
    a, b = [d async for d in _started(aiohttp_client, config, clock)]
    assert await fire(a, "study_reminder.demo")
    await a.say("通知 周五下午三点在三楼会议室学习党章，请准时参加。", user="u00")
    await a.say("发起主题党日 11月20日9:20 三楼会议室 主题：学习党章", user="u00")  # its check-in window is open
    names = await names_by_user(a)
    engine = db.create_engine(DatabaseConfig(url=pg_url))
    try:
        for n, user in enumerate(MEMBERS):
            name = names[user]
            for kind, roll_call_kind, said, chat, already in (
                (
                    "check_in",
                    RollCallKind.MEETING,
                    "签到",
                    "demo-group",
                    meeting_texts.MEETING_ALREADY.format(name=name),
                ),
                (
                    "study",
                    RollCallKind.STUDY,
                    "学习打卡 学习党章",
                    "demo-group",
                    study_texts.STUDY_ALREADY.format(name=name),
                ),
                ("receipt", RollCallKind.NOTICE, "收到", None, notice_texts.NOTICE_ACK_NONE),  # directly: answered
            ):
                answers = await queued_for_entry(
                    engine,
                    await _entry_id(engine, user, roll_call_kind),
                    a.say(said, user=user, chat=chat, msg_id=f"{kind}-{n}-a"),
                    b.say(said, user=user, chat=chat, msg_id=f"{kind}-{n}-b"),
                )
                replies = sorted(r["text"] for answer in answers for r in answer["replies"])
                assert len(replies) == 2 and replies.count(already) == 1, (user, kind, replies)
    finally:
        await engine.dispose()
    async with a.services.sessions() as session:
        statuses = await session.execute(
            select(RollCallEntry.status, func.count())
            .where(RollCallEntry.responded_at.is_not(None))
            .group_by(RollCallEntry.status)
        )
        assert dict(statuses.all()) == {EntryStatus.DONE: 3 * len(MEMBERS)}
        sources = await session.execute(
            select(PointsEntry.rule, func.count(), func.count(func.distinct(PointsEntry.member_id))).group_by(
                PointsEntry.rule
            )
        )
        # Each rule paid once per member: a second award of the same source inserts nothing.
        assert {rule: (count, members) for rule, count, members in sources} == {
            rule: (len(MEMBERS), len(MEMBERS)) for rule in ("meeting_attendance", "study_check_in", "timely_receipt")
        }


async def test_a_check_in_racing_a_leave_or_correction_stands(aiohttp_client, pg_url):
    """A 签到 on one instance commits while the other instance's 请假, 取消请假, 准假 or 记请假 waits to write what it
    decided on the status it read: the entry stays checked in (its points are paid), the other answers as it would
    have a moment later, and no correction is recorded."""
    clock = FakeClock(FRIDAY_9)
    config = make_config(pg_url).replace(meetings={"leave_needs_approval": True})
    a, b = [d async for d in _started(aiohttp_client, config, clock)]
    await a.say("发起主题党日 11月20日9:20 三楼会议室 主题：学习党章", user="u00")  # its check-in window is open
    names = await names_by_user(a)
    await a.say("请假 值班", user="u02")
    await a.say("请假 值班", user="u03")
    engine = db.create_engine(DatabaseConfig(url=pg_url))
    try:
        for user, second, by, answer in (
            ("u01", "请假 值班", "u01", meeting_texts.MEETING_LEAVE_ALREADY_IN.format(name=names["u01"])),
            ("u02", "取消请假", "u02", meeting_texts.MEETING_NO_LEAVE),
            ("u03", f"准假 @{names['u03']}", "u00", meeting_texts.MEETING_NO_REQUEST.format(name=names["u03"])),
            (
                "u04",
                f"记请假 #1 @{names['u04']} 临时执勤",
                "u00",
                meeting_texts.MEETING_CORRECT_ATTENDED_NOT_LEAVE.format(name=names["u04"], kind="主题党日", seq=1),
            ),
        ):
            check_in, other = await queued_for_entry(
                engine,
                await _entry_id(engine, user, RollCallKind.MEETING),
                a.say("签到", user=user, msg_id=f"check-in-{user}"),
                b.say(second, user=by, msg_id=f"other-{user}"),
            )
            checked_in = meeting_texts.MEETING_CHECKED_IN.format(name=names[user], kind="主题党日", time="09:00")
            assert [r["text"] for r in check_in["replies"]] == [checked_in]
            assert [r["text"] for r in other["replies"] if r["to"] == "demo-group"] == [answer], user
    finally:
        await engine.dispose()
    async with a.services.sessions() as session:
        statuses = await session.execute(
            select(MemberIdentity.platform_user_id, RollCallEntry.status)
            .join(RollCallEntry, RollCallEntry.member_id == MemberIdentity.member_id)
            .where(RollCallEntry.status != EntryStatus.PENDING)
        )
        assert dict(statuses.all()) == dict.fromkeys(("u01", "u02", "u03", "u04"), EntryStatus.DONE)
        paid = await session.scalar(select(func.count()).where(PointsEntry.rule == "meeting_attendance"))
        assert paid == 4
        assert await session.scalar(select(func.count()).select_from(AttendanceAudit)) == 0


async def _entry_id(engine: AsyncEngine, user: str, kind: str) -> int:
    """The entry of a member (by platform user id) in the open roll call of a kind (one of each here)."""
    async with engine.connect() as conn:
        entry_id = await conn.scalar(
            select(RollCallEntry.id)
            .join(RollCall, RollCall.id == RollCallEntry.roll_call_id)
            .join(MemberIdentity, MemberIdentity.member_id == RollCallEntry.member_id)
            .where(RollCall.kind == kind, MemberIdentity.platform_user_id == user)
        )
    assert entry_id is not None
    return entry_id


async def _started(aiohttp_client, config, clock):
    for _ in range(2):  # one after the other: each migrates and seeds at start (a start-up race is not ours)
        app = build_app(config, clock=clock, background=False)
        yield BotDriver(await aiohttp_client(app), app)
