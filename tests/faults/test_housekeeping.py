"""The nightly purge keeps storage bounded: old images, AI-bot response URLs and inbound messages go, and
nothing still needed (issue 13, finding 8)."""

from datetime import timedelta

from sqlalchemy import func, select

from bot.core.channels.wecom.models import WecomResponseUrl
from bot.core.db import transaction
from bot.core.models import InboundMessage, Media, Outbox, OutboxStatus, SimMessage
from tests.support import BotDriver

PNG = b"\x89PNG\r\n\x1a\n"


async def test_purge_deletes_old_media_response_urls_and_inbound_rows_but_nothing_still_needed(bot: BotDriver):
    services = bot.services
    now = services.clock()
    config = services.config
    media_age = timedelta(days=config.housekeeping.media_days, hours=1)
    url_age = timedelta(hours=config.housekeeping.response_url_hours, minutes=1)
    inbound_age = timedelta(days=config.retention.inbound_days, hours=1)

    await bot.say("大家好", msg_id="recent")
    async with transaction(services.sessions) as session:
        old_sent, old_pending, recent = (Media(content_type="image/png", data=PNG, created_at=now) for _ in range(3))
        old_sent.created_at = old_pending.created_at = now - media_age
        session.add_all([old_sent, old_pending, recent])
        await session.flush()
        old_line = SimMessage(
            chat_id="demo-group", sender_id="bot", sender_name="学习驿站", text="排行榜", mentions=[], created_at=now
        )
        old_line.media_id = old_sent.id
        session.add(old_line)
        for media, status in ((old_sent, OutboxStatus.SENT), (old_pending, OutboxStatus.PENDING)):
            session.add(
                Outbox(
                    channel="sim",
                    target_kind="chat",
                    target_id="demo-group",
                    text="排行榜",
                    mentions=[],
                    status=status,
                    next_attempt_at=now,
                    created_at=now - media_age,
                    media_id=media.id,
                )
            )
        for msg_id, age in (("old-url", url_age), ("fresh-url", timedelta(minutes=30))):
            session.add(
                WecomResponseUrl(
                    platform_msg_id=msg_id,
                    target_kind="user",
                    target_id="u01",
                    url="https://qyapi.weixin.qq.com/cgi-bin/aibot/response?key=x",
                    received_at=now - age,
                )
            )
        session.add(
            InboundMessage(
                channel="sim",
                platform_msg_id="old",
                platform_chat_id="demo-group",
                platform_user_id="u01",
                text="旧消息",
                sent_at=now - inbound_age,
                received_at=now - inbound_age,
            )
        )
        ids = {"old_sent": old_sent.id, "old_pending": old_pending.id, "recent": recent.id}

    assert await services.jobs.fire("purge_old_records", now)  # (not delivering: the pending row stays pending)

    async with services.sessions() as session:
        kept_media = set(await session.scalars(select(Media.id)))
        urls = set(await session.scalars(select(WecomResponseUrl.platform_msg_id)))
        inbound = set(await session.scalars(select(InboundMessage.platform_msg_id)))
        line_media = await session.scalar(select(SimMessage.media_id).where(SimMessage.text == "排行榜"))
        pending_media = await session.scalar(select(Outbox.media_id).where(Outbox.status == OutboxStatus.PENDING))
        outbox_rows = await session.scalar(select(func.count()).select_from(Outbox))
    # The undelivered message keeps its image; a recent image stays; an old delivered one goes.
    assert kept_media == {ids["old_pending"], ids["recent"]}
    assert pending_media == ids["old_pending"]
    assert line_media is None  # the transcript line stays, without its image
    assert urls == {"fresh-url"}
    assert inbound == {"recent"}
    assert outbox_rows >= 2
