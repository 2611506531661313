"""The app's access_token: cached in the database, refreshed once at a time (across processes on PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.channels.wecom.models import WecomAccessToken
from bot.core.clock import Clock
from bot.core.db import transaction

log = logging.getLogger(__name__)

# gettoken answers (access_token, expires_in seconds).
Fetch = Callable[[], Awaitable[tuple[str, int]]]


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: datetime


class TokenCache:
    """Hands out a valid token; refreshes it single-flight: an asyncio.Lock here, an advisory lock in PostgreSQL.

    The token is usable until `expires_in` minus a safety margin. A token WeCom refuses (40014/42001) is
    dropped with invalidate(), which refreshes once however many senders saw the refusal.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        key: str,
        fetch: Fetch,
        margin_seconds: float,
        postgres: bool,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.key = key
        self.fetch = fetch
        self.margin = timedelta(seconds=margin_seconds)
        self.postgres = postgres
        self._lock = asyncio.Lock()
        self._cached: _Token | None = None

    def _fresh(self, token: _Token | None, refused: str | None = None) -> bool:
        return token is not None and token.value != refused and token.expires_at - self.margin > self.clock()

    async def get(self) -> str:
        if self._fresh(self._cached):
            assert self._cached is not None
            return self._cached.value
        async with self._lock:
            cached = self._cached
            if cached is None or not self._fresh(cached):
                cached = self._cached = await self._load_or_refresh(refused=None)
            return cached.value

    async def invalidate(self, refused: str) -> str:
        """WeCom refused this token: return another one, refreshing only if nobody has yet."""
        async with self._lock:
            cached = self._cached
            if cached is None or not self._fresh(cached, refused):
                cached = self._cached = await self._load_or_refresh(refused=refused)
            return cached.value

    async def _load_or_refresh(self, refused: str | None) -> _Token:
        if self.postgres:
            # One transaction holds an advisory lock across the gettoken call: a second process waits,
            # then finds the new token in the table instead of fetching its own.
            async with transaction(self.sessions) as session:
                await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_id(self.key)})
                stored = await self._stored(session)
                if self._fresh(stored, refused):
                    assert stored is not None
                    return stored
                return await self._refresh(session)
        # SQLite: one process, so the asyncio.Lock is the single flight; never hold the database's
        # write lock across an HTTP call.
        async with self.sessions() as session:
            stored = await self._stored(session)
        if self._fresh(stored, refused):
            assert stored is not None
            return stored
        async with transaction(self.sessions) as session:
            return await self._refresh(session)

    async def _stored(self, session: AsyncSession) -> _Token | None:
        row = await session.get(WecomAccessToken, self.key, populate_existing=True)
        return None if row is None else _Token(row.token, row.expires_at)

    async def _refresh(self, session: AsyncSession) -> _Token:
        value, expires_in = await self.fetch()
        now = self.clock()
        token = _Token(value, now + timedelta(seconds=expires_in))
        await session.merge(WecomAccessToken(key=self.key, token=value, expires_at=token.expires_at, fetched_at=now))
        log.info("wecom: fetched a new access token (valid %d s)", expires_in)
        return token


def _lock_id(key: str) -> int:
    """A stable signed 64-bit advisory-lock id for a token key."""
    return int.from_bytes(hashlib.sha256(f"yizhan.wecom.token:{key}".encode()).digest()[:8], "big", signed=True)
