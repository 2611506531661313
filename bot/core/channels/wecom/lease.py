"""Who holds the AI bot's long connection among processes (WeCom allows one connection per bot).

A lease row (wecom_connection_lease) that its holder renews every lease_renew_seconds by bumping a version.
Times are never compared across processes: another process takes over (compare-and-set on the version) after
it has seen the row unchanged for lease_seconds by its own monotonic clock, so within about lease_seconds plus
one renewal after the holder dies; the holder stops counting itself the holder a renewal before that. Works the
same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.core.channels.wecom.models import WecomConnectionLease
from bot.core.db import affected, transaction

if TYPE_CHECKING:
    from bot.core.channels.wecom.channel import WecomChannel

log = logging.getLogger(__name__)


class Lease:
    """One holder of a named lease among processes, by compare-and-set on a version the holder keeps bumping."""

    def __init__(self, channel: WecomChannel, name: str, holder: str) -> None:
        self.sessions = channel.services.sessions
        self.name = name
        self.holder = holder
        self.seconds = channel.config.lease_seconds
        self.renew_seconds = channel.config.lease_renew_seconds
        self._version: int | None = None  # ours while we hold it
        self._renewed_at = 0.0
        self._seen: tuple[str, int] | None = None  # someone else's (holder, version), and when we first saw it
        self._seen_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def held(self) -> bool:
        """Held, and renewed recently enough that nobody may have taken it over yet."""
        now = asyncio.get_running_loop().time()
        return self._version is not None and now - self._renewed_at < self.seconds - self.renew_seconds

    async def hold(self) -> bool:
        """Renew the lease, or take it if free or stale; whether this process holds it now."""
        async with self._lock:  # the lease loop and a take-over check may ask at once
            return await self._hold()

    async def _hold(self) -> bool:
        now = asyncio.get_running_loop().time()
        try:
            async with transaction(self.sessions) as session:
                row = await session.get(WecomConnectionLease, self.name, populate_existing=True)
                if row is None:
                    session.add(WecomConnectionLease(name=self.name, holder=self.holder, version=1))
                    await session.flush()
                    return self._took(1, now)
                if row.holder == self.holder:  # ours (the holder id is unique to this process)
                    return await self._swap(session, row.version, now)
                if self._version is not None:
                    log.error("wecom: lost the long-connection lease to %s", row.holder or "nobody")
                    self._version = None
                seen = (row.holder, row.version)
                if seen != self._seen:
                    self._seen, self._seen_at = seen, now
                if row.holder and now - self._seen_at < self.seconds:
                    return False
                return await self._swap(session, row.version, now)
        except IntegrityError:
            return False  # another process created the row first
        except Exception:
            log.exception("wecom: could not renew the long-connection lease")
            return self.held

    async def _swap(self, session: Any, version: int, now: float) -> bool:
        result = await session.execute(
            update(WecomConnectionLease)
            .where(WecomConnectionLease.name == self.name, WecomConnectionLease.version == version)
            .values(holder=self.holder, version=version + 1)
        )
        if affected(result) != 1:
            self._version = None
            return False
        return self._took(version + 1, now)

    def _took(self, version: int, now: float) -> bool:
        if self._version is None:
            log.info("wecom: this process (%s) holds the AI bot's long connection", self.holder)
        self._version, self._renewed_at = version, now
        return True

    async def release(self) -> None:
        """Give the lease up at once (a clean shutdown), so another process need not wait it out."""
        if self._version is None:
            return
        with contextlib.suppress(Exception):
            async with transaction(self.sessions) as session:
                await session.execute(
                    update(WecomConnectionLease)
                    .where(
                        WecomConnectionLease.name == self.name,
                        WecomConnectionLease.holder == self.holder,
                        WecomConnectionLease.version == self._version,
                    )
                    .values(holder="", version=self._version + 1)
                )
        self._version = None

    async def current_holder(self) -> str:
        async with self.sessions() as session:
            holder = await session.scalar(
                select(WecomConnectionLease.holder).where(WecomConnectionLease.name == self.name)
            )
            return holder or ""
