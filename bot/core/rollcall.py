"""The roll call: a push to an audience that expects one response per member, tracked, nudged and closed.

Notices (回执), study days (学习打卡) and meetings (签到/请假) are all roll calls; their modules decide the words,
this module keeps the bookkeeping exact: the audience is fixed when the roll call opens, and a response is a
conditional update of the member's entry, so replies in two chats or platform retries count once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import Prepared, affected, binds, insert_for
from bot.core.models import (
    Branch,
    Chat,
    EntryStatus,
    Member,
    PartyGroup,
    PointsEntry,
    RollCall,
    RollCallChat,
    RollCallEntry,
    RollCallStatus,
)
from bot.core.prepared import run


@dataclass(frozen=True)
class Audience:
    """Who a roll call expects an answer from."""

    label: str
    member_ids: tuple[int, ...]
    party_group_id: int | None = None
    # A higher unit's roll call (bot/core/org.py): the units below whose chats it goes to besides its own (empty: its
    # own unit only).
    units: tuple[int, ...] = ()


class RollCallRef(Protocol):
    """What recording, counting and paying a response need of its roll call (a RollCall, or an OpenRollCall)."""

    @property
    def id(self) -> int: ...

    @property
    def opens_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class OpenRollCall:
    """An open roll call as the busiest paths read it (every 收到 and 学习打卡): its columns, no ORM object."""

    id: int
    seq: int
    opens_at: datetime


@dataclass
class Tally:
    """Where a roll call stands: 应到 / 实到 / 请假 / 未到, with the members in each."""

    expected: int = 0
    done: list[Member] = field(default_factory=list)
    leave: list[Member] = field(default_factory=list)
    pending: list[Member] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.done) / self.expected if self.expected else 0.0


async def branch_audience(
    session: AsyncSession, branch: Branch, label: str, party_group: PartyGroup | None = None
) -> Audience:
    """The branch's members (or one party group's) as they are now."""
    query = select(Member.id).where(Member.branch_id == branch.id).order_by(Member.id)
    if party_group is not None:
        query = query.where(Member.party_group_id == party_group.id)
    ids = tuple(await session.scalars(query))
    return Audience(label, ids, party_group.id if party_group else None)


async def branch_chats(session: AsyncSession, branch: Branch, only: tuple[str, ...] = ()) -> list[Chat]:
    """The group chats bound to a branch; `only` narrows them to "channel:chat id" references."""
    chats = list(await session.scalars(select(Chat).where(Chat.branch_id == branch.id).order_by(Chat.id)))
    if only:
        chats = [c for c in chats if f"{c.channel}:{c.platform_chat_id}" in only]
    return chats


async def open_roll_call(
    session: AsyncSession,
    *,
    branch: Branch,
    kind: str,
    title: str,
    body: str,
    audience: Audience,
    chats: list[Chat],
    now: datetime,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    next_nudge_at: datetime | None = None,
    period_key: str | None = None,
    created_by: Member | None = None,
) -> RollCall:
    """Create a roll call with its audience fixed now; scheduled if it opens later."""
    seq = (
        await session.scalar(
            select(func.coalesce(func.max(RollCall.seq), 0)).where(
                RollCall.branch_id == branch.id, RollCall.kind == kind
            )
        )
        or 0
    ) + 1
    opens = opens_at or now
    roll_call = RollCall(
        branch_id=branch.id,
        kind=kind,
        seq=seq,
        period_key=period_key,
        title=title,
        body=body,
        audience_label=audience.label,
        party_group_id=audience.party_group_id,
        created_by=created_by.id if created_by else None,
        status=RollCallStatus.OPEN if opens <= now else RollCallStatus.SCHEDULED,
        opens_at=opens,
        closes_at=closes_at,
        closed_at=None,
        nudges_sent=0,
        next_nudge_at=next_nudge_at,
        created_at=now,
    )
    session.add(roll_call)
    await session.flush()
    session.add_all(RollCallChat(roll_call_id=roll_call.id, chat_id=chat.id) for chat in chats)
    session.add_all(
        RollCallEntry(roll_call_id=roll_call.id, member_id=member_id, status=EntryStatus.PENDING, note="")
        for member_id in audience.member_ids
    )
    await session.flush()
    return roll_call


async def respond(
    session: AsyncSession,
    roll_call: RollCallRef,
    member: Member,
    now: datetime,
    *,
    status: str = EntryStatus.DONE,
    note: str = "",
    tag: str | None = None,
    allow_change: tuple[str, ...] = (),
) -> bool | None:
    """Record a member's response once: True if recorded now, False if already answered, None if not in the audience.

    `allow_change` lists earlier statuses that this response may replace (e.g. checking in after asking for leave).
    """
    params = {
        "roll_call": roll_call.id,
        "member": member.id,
        "new_status": status,
        "now": now,
        "note": note,
        "tag": tag,
    }
    if await run(session, _respond_statement(allow_change), params):
        return True
    exists = await run(session, _ENTRY_ID, {"roll_call": roll_call.id, "member": member.id})
    return False if exists else None


async def change_entry(
    session: AsyncSession, roll_call: RollCallRef, member: Member, only_from: tuple[str, ...], **values: object
) -> bool:
    """Set columns of a member's entry if its status is still one of `only_from`; False if it is not (or there is none).

    The change a member or secretary decided on the status they read (取消请假, 准假) is a conditional UPDATE as a
    response is: a 签到 that commits in between (another instance, PostgreSQL) makes it change nothing, never
    overwrite the attendance already paid for."""
    result = await session.execute(
        update(ENTRY_TABLE)
        .where(
            ENTRY_TABLE.c.roll_call_id == roll_call.id,
            ENTRY_TABLE.c.member_id == member.id,
            ENTRY_TABLE.c.status.in_(only_from),
        )
        .values(**values)
    )
    return affected(result) == 1


async def open_roll_calls_for(session: AsyncSession, member: Member, kind: str) -> list[OpenRollCall]:
    """Open roll calls of a kind that expect an answer from this member and have none yet, oldest first."""
    return [OpenRollCall(*row) for row in await run(session, _OPEN_FOR, {"kind": kind, "member": member.id})]


async def tally(session: AsyncSession, roll_call: RollCallRef) -> Tally:
    """Count the roll call's audience by response."""
    rows = await session.execute(
        select(RollCallEntry.status, Member)
        .join(Member, Member.id == RollCallEntry.member_id)
        .where(RollCallEntry.roll_call_id == roll_call.id)
        .order_by(RollCallEntry.responded_at, Member.id)
    )
    result = Tally()
    for status, member in rows:
        result.expected += 1
        {EntryStatus.DONE: result.done, EntryStatus.LEAVE: result.leave}.get(status, result.pending).append(member)
    result.pending.sort(key=lambda m: m.id)
    return result


async def counts(session: AsyncSession, roll_call: RollCallRef) -> tuple[int, int]:
    """How many of the roll call's audience have answered (实到, not leave) and how many it expects (应到): tally's
    numbers in one row, for a reply that shows no names."""
    [row] = await run(session, _COUNTS, {"roll_call": roll_call.id})
    return int(row.done or 0), int(row.expected or 0)


async def roll_call_chats(session: AsyncSession, roll_call: RollCall) -> list[Chat]:
    rows = await session.scalars(
        select(Chat)
        .join(RollCallChat, RollCallChat.chat_id == Chat.id)
        .where(RollCallChat.roll_call_id == roll_call.id)
        .order_by(Chat.id)
    )
    return list(rows)


async def mark_nudged(session: AsyncSession, roll_call: RollCall, members: list[Member]) -> None:
    """Count a nudge for these members (so nobody is nudged past the cap)."""
    if members:
        await session.execute(
            update(RollCallEntry)
            .where(
                RollCallEntry.roll_call_id == roll_call.id,
                RollCallEntry.member_id.in_([m.id for m in members]),
            )
            .values(nudges_received=RollCallEntry.nudges_received + 1)
        )


async def close_roll_call(session: AsyncSession, roll_call: RollCall, now: datetime) -> bool:
    """Close an open roll call once; False if someone else closed it first."""
    result = await session.execute(
        update(RollCall)
        .where(RollCall.id == roll_call.id, RollCall.status == RollCallStatus.OPEN)
        .values(status=RollCallStatus.CLOSED, closed_at=now, next_nudge_at=None)
    )
    if affected(result) == 1:
        roll_call.status = RollCallStatus.CLOSED
        roll_call.closed_at = now
        return True
    return False


async def award_points(
    session: AsyncSession,
    member: Member,
    points: int,
    rule: str,
    source: str,
    now: datetime,
    chat_id: int | None = None,
) -> None:
    """Append to the points ledger unless this member already has an entry for this source (chat_id: where quiz
    points were won)."""
    if points <= 0:
        return
    params = {
        "branch_id": member.branch_id,
        "member_id": member.id,
        "points": points,
        "rule": rule,
        "source": source,
        "created_at": now,
        "chat_id": chat_id,
    }
    await run(session, _AWARD, params)


# --- the statements the busiest paths run (a 签到, 收到 or 学习打卡 runs three or four of them): Prepared, run by
# bot/core/prepared.py. The writes are on the tables: no ORM bookkeeping (and no refresh of entries a session has
# loaded — nothing that responds reads its entry again).
# The entries' table, for statements that write it as a table (here, and bot/meetings/domain.py's 签到码 count).
ENTRY_TABLE = cast(Table, RollCallEntry.__table__)
_POINTS = cast(Table, PointsEntry.__table__)


@cache
def _respond_statement(allow_change: tuple[str, ...]) -> Prepared:
    """A response recorded when the entry is pending (or in one of the statuses it may replace); its row if so.

    A conditional UPDATE: of two instances recording the same response at once (PostgreSQL, READ COMMITTED), the
    second waits for the first's row lock, then finds the entry no longer pending and changes nothing."""
    statement = (
        update(ENTRY_TABLE)
        .where(
            ENTRY_TABLE.c.roll_call_id == bindparam("roll_call"),
            ENTRY_TABLE.c.member_id == bindparam("member"),
            ENTRY_TABLE.c.status.in_((EntryStatus.PENDING, *allow_change))
            if allow_change
            else ENTRY_TABLE.c.status == EntryStatus.PENDING,
        )
        .values(
            status=bindparam("new_status"), responded_at=bindparam("now"), note=bindparam("note"), tag=bindparam("tag")
        )
        .returning(ENTRY_TABLE.c.id)
    )
    return Prepared(lambda _: statement)


_ENTRY_ID = Prepared(
    lambda _: select(ENTRY_TABLE.c.id).where(
        ENTRY_TABLE.c.roll_call_id == bindparam("roll_call"), ENTRY_TABLE.c.member_id == bindparam("member")
    )
)
_OPEN_FOR = Prepared(
    lambda _: (
        select(RollCall.id, RollCall.seq, RollCall.opens_at)
        .join(RollCallEntry, RollCallEntry.roll_call_id == RollCall.id)
        .where(
            RollCall.kind == bindparam("kind"),
            RollCall.status == RollCallStatus.OPEN,
            RollCallEntry.member_id == bindparam("member"),
            RollCallEntry.status == EntryStatus.PENDING,
        )
        .order_by(RollCall.id)
    )
)
_COUNTS = Prepared(
    lambda _: select(
        func.count(case((ENTRY_TABLE.c.status == EntryStatus.DONE, 1))).label("done"),
        func.count(ENTRY_TABLE.c.id).label("expected"),
    ).where(ENTRY_TABLE.c.roll_call_id == bindparam("roll_call"))
)
# One entry per member and source (the ledger's unique key): a second award inserts nothing.
_UNIQUE = ["member_id", "source"]
_AWARD_VALUES = binds(_POINTS, "branch_id", "member_id", "points", "rule", "source", "created_at", "chat_id")
_AWARD = Prepared(
    lambda _, dialect: (
        insert_for(dialect, _POINTS).values(_AWARD_VALUES).on_conflict_do_nothing(index_elements=_UNIQUE)
    ),
    per_dialect=True,
)
