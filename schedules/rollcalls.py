"""The roll-call tick: open scheduled notices, meeting reminders, due nudges, close what is due — every minute."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select, update

from bot.core.context import Context
from bot.core.db import affected
from bot.core.models import RollCall, RollCallKind, RollCallStatus
from bot.meetings.domain import close_meeting, send_due_reminders
from bot.notices.domain import close_notice, nudge_notice, push_notice
from bot.study.domain import close_study, nudge_study

Hook = Callable[[Context, RollCall], Awaitable[object]]

ON_OPEN: dict[str, Hook] = {RollCallKind.NOTICE: push_notice}
ON_NUDGE: dict[str, Hook] = {RollCallKind.NOTICE: nudge_notice, RollCallKind.STUDY: nudge_study}
ON_CLOSE: dict[str, Hook] = {
    RollCallKind.NOTICE: close_notice,
    RollCallKind.STUDY: close_study,
    RollCallKind.MEETING: close_meeting,
}


async def tick_roll_calls(ctx: Context) -> None:
    """Advance every roll call whose time has come; each step is guarded so it happens once."""
    now = ctx.clock()
    await send_due_reminders(ctx)
    session = ctx.session
    due_open = await session.scalars(
        select(RollCall).where(RollCall.status == RollCallStatus.SCHEDULED, RollCall.opens_at <= now)
    )
    for roll_call in list(due_open):
        result = await session.execute(
            update(RollCall)
            .where(RollCall.id == roll_call.id, RollCall.status == RollCallStatus.SCHEDULED)
            .values(status=RollCallStatus.OPEN)
        )
        if affected(result) == 1 and roll_call.kind in ON_OPEN:
            await session.refresh(roll_call)
            await ON_OPEN[roll_call.kind](ctx, roll_call)
    due_nudge = await session.scalars(
        select(RollCall).where(RollCall.status == RollCallStatus.OPEN, RollCall.next_nudge_at <= now)
    )
    for roll_call in list(due_nudge):
        hook = ON_NUDGE.get(roll_call.kind)
        if hook is None:
            roll_call.next_nudge_at = None
        else:
            await hook(ctx, roll_call)
    due_close = await session.scalars(
        select(RollCall).where(RollCall.status == RollCallStatus.OPEN, RollCall.closes_at <= now)
    )
    for roll_call in list(due_close):
        hook = ON_CLOSE.get(roll_call.kind)
        if hook is not None:
            await hook(ctx, roll_call)
