"""Temporary media uploaded once per content, and its media_id reused while WeCom keeps it.

[doc] 上传临时素材 (developer.work.weixin.qq.com/document/path/90253; the same text at path/96484): "素材上传得到
media_id，该media_id仅三天内有效", "media_id在同一企业内应用之间可以共享". So an image sent to many members (a quiz
chart, the same poster to every group) is uploaded once and its media_id reused for up to REUSE, well before the
3 days run out; WeCom refusing a cached media_id anyway (40007) makes the caller upload again once.
The AI bot's long connection uploads over the connection (aibot_upload_media_*, path/101463) and gets a media_id
with the same 3-day life; its uploads are kept apart per bot (owner "aibot:<bot id>").
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.channels.wecom.models import WecomMediaUpload
from bot.core.clock import Clock
from bot.core.db import read_only, transaction

log = logging.getLogger(__name__)

MEDIA_ID_LIFE = timedelta(days=3)
REUSE = timedelta(days=2, hours=12)  # half a day in hand before WeCom forgets the media_id
INVALID_MEDIA_ID = 40007  # 不合法的媒体文件id


class MediaCache:
    """media_ids of uploaded files by (owner, SHA-256 of the bytes), shared by every process through the database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock
        # Rows with the same picture are delivered side by side: one upload, the others wait for its media_id.
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def media_id(self, owner: str, data: bytes, upload: Callable[[], Awaitable[str]]) -> str:
        """A valid media_id for these bytes: a recent upload's, else a new upload's (kept for next time)."""
        digest = hashlib.sha256(data).hexdigest()
        lock = self._locks.setdefault((owner, digest), asyncio.Lock())
        try:
            async with lock:
                return await self._media_id(owner, digest, upload)
        finally:
            if not lock.locked() and self._locks.get((owner, digest)) is lock:
                del self._locks[(owner, digest)]

    async def _media_id(self, owner: str, digest: str, upload: Callable[[], Awaitable[str]]) -> str:
        async with read_only(self.sessions) as session:
            row = await session.get(WecomMediaUpload, (owner, digest))
            if row is not None and row.uploaded_at > self.clock() - REUSE:
                return row.media_id
        media_id = await upload()
        try:
            async with transaction(self.sessions) as session:
                await session.execute(
                    delete(WecomMediaUpload).where(WecomMediaUpload.owner == owner, WecomMediaUpload.sha256 == digest)
                )
                session.add(WecomMediaUpload(owner=owner, sha256=digest, media_id=media_id, uploaded_at=self.clock()))
        except IntegrityError:
            pass  # another process stored its upload of the same bytes at the same moment; either id works
        return media_id

    async def forget(self, owner: str, data: bytes) -> None:
        """Drop the cached media_id of these bytes (WeCom refused it)."""
        digest = hashlib.sha256(data).hexdigest()
        async with transaction(self.sessions) as session:
            await session.execute(
                delete(WecomMediaUpload).where(WecomMediaUpload.owner == owner, WecomMediaUpload.sha256 == digest)
            )

    async def purge(self) -> int:
        """Delete rows past the media_id's life."""
        async with transaction(self.sessions) as session:
            result = await session.execute(
                delete(WecomMediaUpload).where(WecomMediaUpload.uploaded_at < self.clock() - MEDIA_ID_LIFE)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def cached_ids(session: AsyncSession) -> list[str]:
    """Every cached media_id (tests)."""
    return list(await session.scalars(select(WecomMediaUpload.media_id)))
