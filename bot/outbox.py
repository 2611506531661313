"""The outbox sender: delivers outbox rows through channel clients, rate-limited, retried, resumable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock
from bot.config import OutboxConfig
from bot.db import affected, read_only, transaction
from bot.message import Outgoing
from bot.models import Media, Outbox, OutboxStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimit:
    """At most `count` messages per `seconds` to one target.

    A row may make several messages on its platform (text split under a byte limit, an image after its text):
    `messages` is this row's number, `weigh` tells it for a row already sent (None: one message a row).
    """

    count: int
    seconds: float
    messages: int = 1
    weigh: Callable[[Outgoing], int] | None = None


class TransientError(Exception):
    """Delivery failed for now; try again later (optionally not before retry_after seconds).

    counted=False: nothing was attempted (the channel's way out is not open here right now, e.g. another
    process holds its connection); the row waits retry_after seconds without using up an attempt.
    """

    def __init__(self, reason: str, retry_after: float | None = None, *, counted: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.counted = counted


class PermanentError(Exception):
    """Delivery can never succeed (bad recipient, missing permission); record the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChannelClient(Protocol):
    """What the sender needs from a channel: deliver one message, and the limit per target."""

    name: str

    async def deliver(self, item: Outgoing) -> None: ...

    def rate_limit(self, item: Outgoing) -> RateLimit | None: ...


def _outgoing(row: Outbox, image: bytes | None = None) -> Outgoing:
    return Outgoing(
        id=row.id,
        channel=row.channel,
        target_kind=row.target_kind,
        target_id=row.target_id,
        text=row.text,
        mentions=tuple(row.mentions or ()),
        media_id=row.media_id,
        image=image,
    )


async def _load(session: AsyncSession, row_id: int) -> Outgoing | None:
    row = await session.get(Outbox, row_id)
    if row is None:
        return None
    media = await session.get(Media, row.media_id) if row.media_id is not None else None
    return _outgoing(row, media.data if media else None)


class OutboxSender:
    """Delivers due outbox rows; one head-of-line row per target at a time keeps each target in order."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clients: Mapping[str, ChannelClient],
        config: OutboxConfig,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.clients = clients
        self.config = config
        self.clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def notify(self) -> None:
        """New rows were committed: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-sender")

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in flight, then stop; pending rows stay for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout)
            except TimeoutError:
                self._task.cancel()
                log.warning("outbox sender did not finish within %.0fs; leased rows resume after restart", timeout)
            self._task = None

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                processed = await self.run_once()
            except Exception:
                log.exception("outbox sender pass failed; retrying after the poll interval")
                processed = 0
            if processed:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval_seconds)

    # --- delivery --------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Deliver the due head-of-line row of every target; return how many rows were attempted."""
        now = self.clock()
        earlier = aliased(Outbox)
        blocked = exists().where(
            and_(
                earlier.channel == Outbox.channel,
                earlier.target_kind == Outbox.target_kind,
                earlier.target_id == Outbox.target_id,
                earlier.id < Outbox.id,
                earlier.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
            )
        )
        async with read_only(self.sessions) as session:
            ids = list(
                await session.scalars(
                    select(Outbox.id)
                    .where(self._claimable(now), ~blocked)
                    .order_by(Outbox.id)
                    .limit(self.config.batch_size)
                )
            )
        if not ids:
            return 0
        results = await asyncio.gather(*(self._attempt(row_id, via="sender", due_only=True) for row_id in ids))
        return sum(1 for r in results if r is not None)

    async def deliver_now(self, ids: Iterable[int], via: str = "passive") -> list[Outgoing]:
        """Deliver these rows at once (a reply to the message in hand); return those delivered."""
        delivered: list[Outgoing] = []
        for row_id in ids:
            item = await self._attempt(row_id, via=via, due_only=False)
            if item is not None and item[1]:
                delivered.append(item[0])
        return delivered

    async def release(self, ids: Iterable[int]) -> None:
        """Rows held for a passive answer that will not come: the sender may take them now."""
        await self._due_now(ids, and_(Outbox.status == OutboxStatus.PENDING, Outbox.attempts == 0))

    async def unclaim_passive(self, ids: Iterable[int]) -> None:
        """Rows marked as answered in an HTTP response that came too late: the sender delivers them now."""
        passive = and_(Outbox.status == OutboxStatus.SENT, Outbox.delivered_via == "passive")
        await self._due_now(ids, passive, status=OutboxStatus.PENDING, attempts=0, sent_at=None, delivered_via=None)

    async def _due_now(self, ids: Iterable[int], condition: ColumnElement[bool], **values: object) -> None:
        """Make these rows (those still matching condition) due now, changed as given, and wake the sender."""
        ids = list(ids)
        if not ids:
            return
        async with transaction(self.sessions) as session:
            await session.execute(
                update(Outbox).where(Outbox.id.in_(ids), condition).values(next_attempt_at=self.clock(), **values)
            )
        self.notify()

    async def claim_passive(self, ids: Iterable[int]) -> list[Outgoing]:
        """Mark rows as answered in the platform's HTTP response (e.g. a WeCom passive reply)."""
        now = self.clock()
        claimed: list[Outgoing] = []
        async with transaction(self.sessions) as session:
            for row_id in ids:
                result = await session.execute(
                    update(Outbox)
                    .where(Outbox.id == row_id, Outbox.status == OutboxStatus.PENDING)
                    .values(status=OutboxStatus.SENT, sent_at=now, attempts=1, delivered_via="passive")
                )
                if affected(result) == 1:
                    item = await _load(session, row_id)
                    if item is not None:
                        claimed.append(item)
        return claimed

    def _claimable(self, now: datetime, due_only: bool = True):  # type: ignore[no-untyped-def]
        pending = Outbox.status == OutboxStatus.PENDING
        return or_(
            and_(pending, Outbox.next_attempt_at <= now) if due_only else pending,
            and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_until < now),
        )

    async def _claim(self, row_id: int, now: datetime, due_only: bool) -> tuple[Outbox, Outgoing] | None:
        lease = now + timedelta(seconds=self.config.lease_seconds)
        async with transaction(self.sessions) as session:
            result = await session.execute(
                update(Outbox)
                .where(Outbox.id == row_id, self._claimable(now, due_only))
                .values(status=OutboxStatus.SENDING, lease_until=lease)
            )
            if affected(result) != 1:
                return None
            row = await session.get(Outbox, row_id)
            item = await _load(session, row_id)
            return (row, item) if row is not None and item is not None else None

    async def _window_start(self, item: Outgoing, limit: RateLimit, now: datetime) -> datetime | None:
        """None if the target may receive this row's messages now; otherwise when enough sends leave the window."""
        since = now - timedelta(seconds=limit.seconds)
        # A row of more messages than the limit takes a whole window (WeCom refuses the rest; they are retried).
        need = min(limit.messages, limit.count)
        window = (
            Outbox.channel == item.channel,
            Outbox.target_kind == item.target_kind,
            Outbox.target_id == item.target_id,
            Outbox.status == OutboxStatus.SENT,
            Outbox.sent_at > since,
            # Answers carried in the platform's HTTP response do not use the push quota.
            or_(Outbox.delivered_via.is_(None), Outbox.delivered_via != "passive"),
        )
        weigh = limit.weigh or (lambda _item: 1)
        async with read_only(self.sessions) as session:
            rows = (await session.scalars(select(Outbox).where(*window).order_by(Outbox.sent_at))).all()
            used = [(row.sent_at or now, weigh(_outgoing(row))) for row in rows]
        total = sum(messages for _, messages in used)
        if total + need <= limit.count:
            return None
        for sent_at, messages in used:  # oldest first: when has enough of the window left it?
            total -= messages
            if total + need <= limit.count:
                return sent_at + timedelta(seconds=limit.seconds)
        return now + timedelta(seconds=limit.seconds)  # not reached: need <= limit.count

    async def _attempt(self, row_id: int, via: str, due_only: bool) -> tuple[Outgoing, bool] | None:
        """Claim, rate-check and deliver one row; (item, delivered) or None if someone else has it."""
        now = self.clock()
        claimed = await self._claim(row_id, now, due_only)
        if claimed is None:
            return None
        row, item = claimed
        client = self.clients.get(item.channel)
        if client is None:
            await self._finish(row_id, attempts=row.attempts + 1, error=f"no client for channel {item.channel!r}")
            return item, False
        limit = client.rate_limit(item)
        if limit is not None:
            not_before = await self._window_start(item, limit, now)
            if not_before is not None:
                await self._postpone(row_id, not_before)
                return item, False
        try:
            await client.deliver(item)
        except PermanentError as exc:
            log.warning("outbox %s to %s:%s failed permanently: %s", row_id, item.channel, item.target_id, exc.reason)
            await self._finish(row_id, attempts=row.attempts + 1, error=exc.reason)
            return item, False
        except TransientError as exc:
            if not exc.counted:
                await self._postpone(row_id, self.clock() + timedelta(seconds=exc.retry_after or 0))
                return item, False
            await self._retry(row, exc.reason, exc.retry_after)
            return item, False
        except Exception as exc:  # a bug or an unexpected network error: treat as transient
            log.exception("outbox %s: unexpected delivery error", row_id)
            await self._retry(row, f"{type(exc).__name__}: {exc}", None)
            return item, False
        async with transaction(self.sessions) as session:
            await session.execute(
                update(Outbox)
                .where(Outbox.id == row_id)
                .values(
                    status=OutboxStatus.SENT,
                    sent_at=self.clock(),
                    attempts=row.attempts + 1,
                    lease_until=None,
                    last_error=None,
                    delivered_via=via,
                )
            )
        return item, True

    async def _postpone(self, row_id: int, not_before: datetime) -> None:
        async with transaction(self.sessions) as session:
            await session.execute(
                update(Outbox)
                .where(Outbox.id == row_id)
                .values(status=OutboxStatus.PENDING, next_attempt_at=not_before, lease_until=None)
            )

    async def _retry(self, row: Outbox, reason: str, retry_after: float | None) -> None:
        attempts = row.attempts + 1
        if attempts >= self.config.max_attempts:
            log.warning("outbox %s: giving up after %d attempts: %s", row.id, attempts, reason)
            await self._finish(row.id, attempts=attempts, error=f"{reason} (after {attempts} attempts)")
            return
        delay = min(self.config.backoff_base_seconds * 2 ** (attempts - 1), self.config.backoff_max_seconds)
        if retry_after is not None:
            delay = max(delay, retry_after)
        async with transaction(self.sessions) as session:
            await session.execute(
                update(Outbox)
                .where(Outbox.id == row.id)
                .values(
                    status=OutboxStatus.PENDING,
                    attempts=attempts,
                    next_attempt_at=self.clock() + timedelta(seconds=delay),
                    lease_until=None,
                    last_error=reason,
                )
            )

    async def _finish(self, row_id: int, *, attempts: int, error: str) -> None:
        async with transaction(self.sessions) as session:
            await session.execute(
                update(Outbox)
                .where(Outbox.id == row_id)
                .values(status=OutboxStatus.FAILED, attempts=attempts, lease_until=None, last_error=error)
            )
