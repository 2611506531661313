"""The roll call's bookkeeping: responses once, counts as the tally has them, points once per source."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import db
from bot.core.config import DatabaseConfig
from bot.core.models import Branch, EntryStatus, Member, PointsEntry, RollCallEntry
from bot.core.rollcall import Audience, award_points, counts, open_roll_call, respond, tally
from tests.conftest import START


async def test_responses_counts_and_points(db_url):
    engine = db.create_engine(DatabaseConfig(url=db_url))
    try:
        async with db.transaction(db.session_factory(engine)) as session:
            branch = Branch(key="rc", name="测试支部")
            session.add(branch)
            await session.flush()
            members = [Member(branch_id=branch.id, display_name=f"党员{i}", created_at=START) for i in range(5)]
            outsider = Member(branch_id=branch.id, display_name="旁人", created_at=START)
            session.add_all([*members, outsider])
            await session.flush()
            audience = Audience("全体党员", tuple(m.id for m in members))
            roll_call = await open_roll_call(
                session, branch=branch, kind="meeting", title="t", body="", audience=audience, chats=[], now=START
            )
            assert await counts(session, roll_call) == (0, 5)

            later = START + timedelta(minutes=5)
            assert await respond(session, roll_call, members[0], later, tag="late") is True
            assert await respond(session, roll_call, members[0], later) is False  # once
            assert await respond(session, roll_call, outsider, later) is None  # not in the audience
            assert await respond(session, roll_call, members[1], later, status=EntryStatus.LEAVE, note="出差") is True
            # Leave may turn into a check-in only where the caller allows it.
            assert await respond(session, roll_call, members[1], later) is False
            assert await respond(session, roll_call, members[2], later, status=EntryStatus.LEAVE) is True
            allowed = (EntryStatus.LEAVE, EntryStatus.LEAVE_REQUESTED)
            assert await respond(session, roll_call, members[2], later, allow_change=allowed) is True

            counted = await tally(session, roll_call)
            assert await counts(session, roll_call) == (len(counted.done), counted.expected) == (2, 5)
            assert [m.id for m in counted.leave] == [members[1].id]
            entry = await session.scalar(
                select(RollCallEntry).where(
                    RollCallEntry.roll_call_id == roll_call.id, RollCallEntry.member_id == members[0].id
                )
            )
            assert entry is not None
            assert (entry.status, entry.tag, entry.responded_at) == (EntryStatus.DONE, "late", later)

            await award_points(session, members[0], 2, "meeting_attendance", "meeting:1", later, chat_id=None)
            await award_points(session, members[0], 5, "meeting_attendance", "meeting:1", later)  # the same source
            await award_points(session, members[0], 0, "meeting_attendance", "meeting:2", later)  # a rule that is off
            rows = (await session.execute(select(PointsEntry.points, PointsEntry.source, PointsEntry.branch_id))).all()
            assert [tuple(r) for r in rows] == [(2, "meeting:1", branch.id)]
    finally:
        await engine.dispose()
