"""Housekeeping: keep only the data features need (retention periods from [retention] and [housekeeping])."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update

from bot.core.channels.wecom.media import MEDIA_ID_LIFE
from bot.core.channels.wecom.models import WecomMediaUpload, WecomResponseUrl, WecomWelcome
from bot.core.context import Context
from bot.core.models import InboundMessage, Media, Outbox, OutboxStatus, ScheduledFire, SimMessage


async def purge_old_records(ctx: Context) -> None:
    """Delete inbound messages, finished outbox rows, fire records, images and AI-bot response URLs older than
    their retention periods (an image an undelivered message still carries stays)."""
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
    # Images: outgoing rows and transcript lines that pointed at one keep their text (media_id SET NULL).
    media_cutoff = now - timedelta(days=ctx.config.housekeeping.media_days)
    undelivered = select(Outbox.media_id).where(
        Outbox.media_id.is_not(None), Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
    )
    await ctx.session.execute(delete(Media).where(Media.created_at < media_cutoff, Media.id.not_in(undelivered)))
    # A response_url answers within an hour of its message; past that it is of no use.
    url_cutoff = now - timedelta(hours=ctx.config.housekeeping.response_url_hours)
    await ctx.session.execute(delete(WecomResponseUrl).where(WecomResponseUrl.received_at < url_cutoff))
    # A media_id lives 3 days (上传临时素材); an enter_chat event is not delivered again after a day.
    await ctx.session.execute(delete(WecomMediaUpload).where(WecomMediaUpload.uploaded_at < now - MEDIA_ID_LIFE))
    await ctx.session.execute(delete(WecomWelcome).where(WecomWelcome.received_at < now - timedelta(days=2)))
