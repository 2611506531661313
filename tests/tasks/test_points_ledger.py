"""我的积分 against the ledger: for members with entries of every rule over several periods, each source line and
the headline sums equal the ledger rows summed by hand (this month, this year, in all; local time)."""

from __future__ import annotations

import random
import re
from datetime import datetime

from sqlalchemy import select

from bot.core.models import Member, MemberIdentity, PointsEntry
from bot.points import texts as points_texts
from bot.points.ledger import source_of
from tests.conftest import TZ
from tests.support import register

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
RULES = (
    "study_check_in",
    "timely_receipt",
    "meeting_attendance",
    "quiz_daily_correct",
    "quiz_rush_win",
    "quiz_match",
    "legacy_bonus",  # a rule of an older version: shown as 其他
)
MOMENTS = (
    datetime(2026, 11, 1, 0, 10, tzinfo=TZ),  # this month, just after local midnight (still October in UTC)
    datetime(2026, 11, 19, 18, 0, tzinfo=TZ),
    datetime(2026, 10, 31, 23, 50, tzinfo=TZ),  # last month
    datetime(2026, 1, 1, 0, 5, tzinfo=TZ),  # this year
    datetime(2025, 12, 31, 23, 55, tzinfo=TZ),  # last year
)
LINE = re.compile(r"^· (.+)：本月(\d+)分，本年(\d+)分，累计(\d+)分$")


async def test_every_rule_and_period_shown_equals_the_ledger(bot, clock):
    users = await register(bot, 5, prefix="p")
    rng = random.Random(16)
    async with bot.services.sessions() as session, session.begin():
        members = {
            user: await session.scalar(
                select(Member).join(MemberIdentity).where(MemberIdentity.platform_user_id == user)
            )
            for user in users
        }
        for user, member in members.items():
            assert member is not None
            for n in range(40):
                session.add(
                    PointsEntry(
                        branch_id=member.branch_id,
                        member_id=member.id,
                        points=rng.randint(1, 9),
                        rule=rng.choice(RULES),
                        source=f"test:{user}:{n}",
                        created_at=rng.choice(MOMENTS),
                    )
                )
    clock.set(NOW)
    names = {**points_texts.POINTS_SOURCE_NAMES}
    for user, member in members.items():
        assert member is not None
        async with bot.services.sessions() as session:
            rows = list(await session.scalars(select(PointsEntry).where(PointsEntry.member_id == member.id)))
        by_source: dict[str, list[int]] = {}
        for row in rows:
            local = row.created_at.astimezone(TZ)
            source = source_of(row.rule)
            name = names.get(source, points_texts.POINTS_SOURCE_OTHER)
            sums = by_source.setdefault(name, [0, 0, 0])
            sums[0] += row.points if (local.year, local.month) == (NOW.year, NOW.month) else 0
            sums[1] += row.points if local.year == NOW.year else 0
            sums[2] += row.points
        await bot.say("我的积分", user=user, chat=None)
        text = bot.replies_to(user)[-1]
        head, *lines = text.splitlines()
        shown = {}
        for line in lines[1:]:
            match = LINE.match(line)
            assert match is not None, line
            shown[match.group(1)] = [int(match.group(i)) for i in (2, 3, 4)]
        assert shown == {name: sums for name, sums in by_source.items() if sums[2]}
        totals = [sum(s[i] for s in by_source.values()) for i in range(3)]
        assert lines[0] == f"本月{totals[0]}分，本年{totals[1]}分，累计{totals[2]}分。"
        assert totals[2] == sum(row.points for row in rows)
