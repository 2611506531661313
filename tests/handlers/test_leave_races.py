"""取消请假 racing the 准假 of the same request, sent at the same moment to two app instances on one database.

Either order is an answer the code documents: the 准假 first — approved, then the approved leave withdrawn (the
secretaries told so); or the 取消请假 first — the request withdrawn, and 准假 finds none waiting. Never a member told
there is no leave to cancel (the leave would stay approved), and the entry always ends back at expected.

On PostgreSQL (YIZHAN_TEST_DATABASE_URL) two rounds in three are made certain, not left to timing: a third
connection holds the member's entry row locked until both messages wait for it, queued in the order the round
names (tests/support.py's queued_for_entry); the third round runs free. SQLite's IMMEDIATE transactions serialise
the two: every round runs free."""

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.core import db
from bot.core.clock import FakeClock
from bot.core.config import DatabaseConfig
from bot.core.db import is_sqlite
from bot.core.models import EntryStatus, MemberIdentity, RollCall, RollCallEntry
from bot.meetings import texts as meeting_texts
from tests.handlers.test_checkin_leave import WHEN_1, entry
from tests.handlers.test_meetings import MONDAY, bot_lines
from tests.support import queued_for_entry

# Rounds on PostgreSQL; on SQLite, where IMMEDIATE transactions take the two messages one after the other
# whatever their timing, a few show the same outcomes.
ROUNDS = 20
ROUNDS_SQLITE = 3


async def test_cancel_leave_racing_its_approval_ends_one_documented_way(in_process, config):
    config = config.replace(meetings={"leave_needs_approval": True})
    clock = FakeClock(MONDAY)
    # One after the other: each migrates and seeds at start (a start-up race is not ours).
    a = await in_process(build_app(config, clock=clock, background=False))
    b = await in_process(build_app(config, clock=clock, background=False))
    await a.say("发起主题党日 11月27日14:30 三楼会议室", user="u00")
    name, kind = "杨帆", "主题党日"
    cancelled = meeting_texts.MEETING_LEAVE_CANCELLED.format(name=name, when=WHEN_1, kind=kind)
    approved = meeting_texts.MEETING_LEAVE_APPROVED.format(name=name, when=WHEN_1, kind=kind)
    no_request = meeting_texts.MEETING_NO_REQUEST.format(name=name)
    withdrawn_notice = meeting_texts.MEETING_LEAVE_WITHDRAWN_TO_SECRETARY.format(
        name=name, when=WHEN_1, kind=kind, seq=1
    )
    approved_direct = meeting_texts.MEETING_LEAVE_APPROVED_DIRECT.format(name=name, when=WHEN_1, kind=kind)
    on_postgresql = not is_sqlite(config.database.url)
    engine = db.create_engine(DatabaseConfig(url=config.database.url))
    outcomes: list[tuple[str, str]] = []
    try:
        entry_id = await _entry_id(engine, "u05")
        for n in range(ROUNDS if on_postgresql else ROUNDS_SQLITE):
            await a.say(f"请假 外勤{n}", user="u05", msg_id=f"ask-{n}")
            assert await entry(a, "u05") == (EntryStatus.LEAVE_REQUESTED, f"外勤{n}", 0)
            cancel = a.say("取消请假", user="u05", msg_id=f"cancel-{n}")
            approve = b.say(f"准假 @{name}", user="u00", msg_id=f"approve-{n}")
            if on_postgresql and n % 3 == 0:
                cancel_answer, approve_answer = await queued_for_entry(engine, entry_id, cancel, approve)
            elif on_postgresql and n % 3 == 1:
                approve_answer, cancel_answer = await queued_for_entry(engine, entry_id, approve, cancel)
            else:
                cancel_answer, approve_answer = await asyncio.gather(cancel, approve)
            cancel_said = [r["text"] for r in cancel_answer["replies"] if r["to"] == "demo-group"]
            approve_said = [r["text"] for r in approve_answer["replies"] if r["to"] == "demo-group"]
            # The member's leave is withdrawn whichever came first: never "您没有可取消的请假" while it stays.
            assert cancel_said == [cancelled], (n, cancel_said)
            assert approve_said in ([approved], [no_request]), (n, approve_said)
            assert (await entry(a, "u05"))[0] == EntryStatus.PENDING, n
            # Approved first: the member was told so, and the secretaries that the approved leave was withdrawn.
            told_secretary = [r["text"] for r in cancel_answer["replies"] if r["to"] == "u00"]
            told_member = [r["text"] for r in approve_answer["replies"] if r["to"] == "u05"]
            if approve_said == [approved]:
                assert (told_secretary, told_member) == ([withdrawn_notice], [approved_direct]), n
            else:
                assert (told_secretary, told_member) == ([], []), n
            outcomes.append((cancel_said[0], approve_said[0]))
    finally:
        await engine.dispose()
    if on_postgresql:  # the queued rounds take each order
        assert {approve for _cancel, approve in outcomes} == {approved, no_request}
    notices = [t for t in bot_lines(await a.transcript("dm:u00")) if t == withdrawn_notice]
    assert len(notices) == sum(approve == approved for _cancel, approve in outcomes)


async def _entry_id(engine: AsyncEngine, user: str) -> int:
    """The user's entry in meeting #1."""
    async with engine.connect() as conn:
        entry_id = await conn.scalar(
            select(RollCallEntry.id)
            .join(RollCall, RollCall.id == RollCallEntry.roll_call_id)
            .join(MemberIdentity, MemberIdentity.member_id == RollCallEntry.member_id)
            .where(MemberIdentity.platform_user_id == user, RollCall.seq == 1)
        )
    assert entry_id is not None
    return entry_id
