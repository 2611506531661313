"""Housekeeping: keep only the data features need (retention periods from [retention])."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update

from bot.context import Context
from bot.models import InboundMessage, Outbox, OutboxStatus, ScheduledFire, SimMessage


async def purge_old_records(ctx: Context) -> None:
    """Delete inbound messages, finished outbox rows and fire records older than their retention periods."""
    now = ctx.clock()
    inbound_cutoff = now - timedelta(days=ctx.config.retention.inbound_days)
    outbox_cutoff = now - timedelta(days=ctx.config.retention.outbox_days)
    # Outbox rows point at inbound messages; detach the ones that stay before deleting.
    await ctx.session.execute(
        update(Outbox)
        .where(
            Outbox.cause_inbound_id.in_(
                InboundMessage.__table__.select()
                .with_only_columns(InboundMessage.id)
                .where(InboundMessage.received_at < inbound_cutoff)
                .scalar_subquery()
            )
        )
        .values(cause_inbound_id=None)
    )
    await ctx.session.execute(delete(InboundMessage).where(InboundMessage.received_at < inbound_cutoff))
    await ctx.session.execute(
        delete(Outbox).where(
            Outbox.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED)), Outbox.created_at < outbox_cutoff
        )
    )
    await ctx.session.execute(delete(SimMessage).where(SimMessage.created_at < inbound_cutoff))
    # Fire records only need to outlive the catch-up grace; keep them as long as outgoing messages.
    await ctx.session.execute(delete(ScheduledFire).where(ScheduledFire.fired_at < outbox_cutoff))
