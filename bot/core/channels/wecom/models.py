"""Tables of the WeCom channel: the cached access token, AI-bot response URLs, parts of split messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, BigId


class WecomAccessToken(Base):
    """The app's access_token, shared by every process; refreshed by one of them at a time."""

    __tablename__ = "wecom_access_token"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # "<corp id>:<agent id>"
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    fetched_at: Mapped[datetime]


class WecomResponseUrl(Base):
    """An AI-bot response_url: answers one message, once, within an hour of receipt."""

    __tablename__ = "wecom_response_url"
    __table_args__ = (
        UniqueConstraint("platform_msg_id"),
        Index("ix_wecom_response_url_target", "target_kind", "target_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_msg_id: Mapped[str] = mapped_column(String(128))  # the inbound message it answers
    target_kind: Mapped[str] = mapped_column(String(10))  # "chat" (group chatid) or "user" (single chat)
    target_id: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WecomSentPart(Base):
    """A delivered part of an outbox row that was split into several WeCom messages (so retries skip it)."""

    __tablename__ = "wecom_sent_part"
    __table_args__ = (UniqueConstraint("outbox_id", "part"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    part: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime]


class WecomConnectionLease(Base):
    """Who holds the AI bot's long connection (WeCom allows one per bot): a lease renewed by its holder.

    Times are not compared across processes: the holder bumps `version` every few seconds, and another
    process takes over (compare-and-set on the version) only after seeing it unchanged for a whole lease.
    """

    __tablename__ = "wecom_connection_lease"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)  # "aibot:<bot id>"
    holder: Mapped[str] = mapped_column(String(100))  # "" when released
    version: Mapped[int] = mapped_column(Integer)


class WecomWelcome(Base):
    """An AI-bot enter_chat event that was answered with a welcome: one reply per event, across retries and
    processes (接收事件, path/101027: "开发者需据此进行事件排重")."""

    __tablename__ = "wecom_welcome"

    msgid: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime]


class WecomMediaUpload(Base):
    """A temporary media file uploaded to WeCom, by content: its media_id is reused while it is valid (3 days)."""

    __tablename__ = "wecom_media_upload"

    owner: Mapped[str] = mapped_column(String(100), primary_key=True)  # "corp:<corp id>" or "aibot:<bot id>"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_id: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime]
