"""Roll-call responses on PostgreSQL with real concurrency: one member's 签到, 学习打卡 and 收到, each sent twice at
the same moment to two app instances on one database (a retry in another chat, two devices) — recorded once,
answered once as recorded and once as already done, paid once. SQLite serialises its writers and hides these races
(the `pg_url` fixture: skipped on a developer's machine without PostgreSQL, failed in CI)."""

import asyncio
from datetime import datetime

from sqlalchemy import func, select

from bot.app import build_app
from bot.core.clock import FakeClock
from bot.core.models import EntryStatus, Member, MemberIdentity, PointsEntry, RollCallEntry
from bot.meetings import texts as meeting_texts
from bot.notices import texts as notice_texts
from bot.study import texts as study_texts
from tests.conftest import TZ, make_config
from tests.support import BotDriver, fire

FRIDAY_9 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # the demo branch's study day
MEMBERS = [f"u{i:02d}" for i in range(1, 11)]  # the demo branch's members; u00 is its secretary


async def test_one_response_twice_at_once_on_two_instances_counts_once(aiohttp_client, pg_url):
    clock = FakeClock(FRIDAY_9)
    config = make_config(pg_url)
    a, b = [d async for d in _started(aiohttp_client, config, clock)]
    assert await fire(a, "study_reminder.demo")
    await a.say("通知 周五下午三点在三楼会议室学习党章，请准时参加。", user="u00")
    await a.say("发起主题党日 11月20日9:20 三楼会议室 主题：学习党章", user="u00")  # its check-in window is open
    names = await _names(a)
    for n, user in enumerate(MEMBERS):
        name = names[user]
        for kind, text, chat, already in (
            ("check_in", "签到", "demo-group", meeting_texts.MEETING_ALREADY.format(name=name)),
            ("study", "学习打卡 学习党章", "demo-group", study_texts.STUDY_ALREADY.format(name=name)),
            ("receipt", "收到", None, notice_texts.NOTICE_ACK_NONE),  # said directly: answered either way
        ):
            answers = await asyncio.gather(
                a.say(text, user=user, chat=chat, msg_id=f"{kind}-{n}-a"),
                b.say(text, user=user, chat=chat, msg_id=f"{kind}-{n}-b"),
            )
            replies = sorted(r["text"] for answer in answers for r in answer["replies"])
            assert len(replies) == 2 and replies.count(already) == 1, (user, kind, replies)
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


async def _started(aiohttp_client, config, clock):
    for _ in range(2):  # one after the other: each migrates and seeds at start (a start-up race is not ours)
        app = build_app(config, clock=clock, background=False)
        yield BotDriver(await aiohttp_client(app), app)


async def _names(bot: BotDriver) -> dict[str, str]:
    async with bot.services.sessions() as session:
        rows = await session.execute(
            select(MemberIdentity.platform_user_id, Member.display_name).join(
                Member, Member.id == MemberIdentity.member_id
            )
        )
        return dict(rows.all())
