"""The outbox sender: delivers outbox rows through channel clients, rate-limited, retried, resumable.

Rows go one at a time per target; pushes of one message to many targets go in one call where the channel can
(a batch, claimed and marked together). The due rows a pass finds are claimed in one transaction, and the outcomes
of deliveries that end together are written in one. After a crash at most `concurrency` deliveries — single rows
or batches — can have been sent twice (OutboxSender).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast

from sqlalchemy import BindParameter, Select, Table, Update, and_, bindparam, exists, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.core.clock import Clock
from bot.core.config import OutboxConfig
from bot.core.db import affected, read_only, transaction
from bot.core.message import Outgoing
from bot.core.models import Media, Outbox, OutboxStatus

# What a database that is away or overloaded raises: the driver's errors, a refused connection, and no pooled
# connection free within the pool's timeout (SQLAlchemy's own TimeoutError, not the builtin one).
_DB_ERRORS = (DBAPIError, OSError, PoolTimeout)

log = logging.getLogger(__name__)

# How long a reply delivered at once waits for earlier rows to its target, and how often it looks.
_IN_LINE_WAIT_SECONDS = 3.0
_IN_LINE_POLL_SECONDS = 0.02
# How often a sender letting inbound messages go first looks whether they are written.
_INBOUND_FIRST_POLL_SECONDS = 0.01
# After waiting the whole inbound_first_seconds (the writer never idled), the sender's passes run without waiting
# for this share of that time: under a load that never lets up it still sends a fifth of the time, not one pass
# (batch_size rows) per wait.
_INBOUND_FIRST_FREE_SHARE = 0.25
# How long stop() waits, past its timeout, for the outcomes of deliveries that ended to be written.
_OUTCOMES_GRACE_SECONDS = 2.0
# How long the outcomes of deliveries that ended wait for the deliveries still in flight, to be written with theirs
# in one transaction (_write_marks). Deliveries started together end within a few milliseconds of each other; the
# slots they free then start the next ones together again, so a pass's rows go in waves of `concurrency`, each
# written in one transaction rather than one or two at a time. Bounded: a slow delivery holds up the others' slots
# this long at most.
_MARKS_GATHER_SECONDS = 0.005


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


class BatchingClient(ChannelClient, Protocol):
    """A channel that can send the same message to many targets in one call (WeCom's app: touser "a|b|c")."""

    def batch_limit(self, item: Outgoing) -> int:
        """How many targets one call may carry for a row like this one; 1: the row goes alone."""
        ...

    async def deliver_batch(self, items: Sequence[Outgoing]) -> Mapping[int, PermanentError]:
        """Send these rows (the same text and card, each to its own target) in one call.

        Returns the rows the platform refused one by one (e.g. a recipient it does not know), by row id; the
        others were delivered. Raises as deliver() does when the whole call failed.
        """
        ...


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
        card=row.card,
    )


async def _load(session: AsyncSession, row_id: int) -> Outgoing | None:
    row = await session.get(Outbox, row_id)
    if row is None:
        return None
    media = await session.get(Media, row.media_id) if row.media_id is not None else None
    return _outgoing(row, media.data if media else None)


class OutboxSender:
    """Delivers due outbox rows; one head-of-line row per target at a time keeps each target in order.

    A pass claims the due head-of-line rows it found together (status sending, one lease with a fresh token,
    renewed until the last of them is written), then delivers them in `concurrency` delivery slots; a slot is
    freed only once its row's outcome is written (the outcomes of deliveries that end together go in one
    transaction). So after a crash at most `concurrency` deliveries were made without their "sent" mark: those,
    and only those, can be sent twice; a claimed row not yet delivered is taken again once its lease ran out.
    The lease is renewed while its rows wait and are delivered, so a slow delivery is not taken over; a row that
    waited past a renewal is confirmed still ours (under the token) before it is delivered, so one taken over
    meanwhile is not sent twice; every mark after a delivery matches the lease token, so a sender whose lease was
    taken over cannot overwrite the outcome.

    Batches: a push (a row answering no message) on a channel that can send one message to many targets
    (BatchingClient) takes along the other due pushes of the same text and card to other targets, each the
    head of its own target's line (a target with an earlier undelivered row is not batched ahead of it). They
    are claimed under the head's lease token, sent in one call and marked together, in one slot: a batch is
    one delivery. So after a crash at most `concurrency` batches (each up to the channel's batch limit of rows)
    can be sent twice; a recipient the platform refuses fails its own row only.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clients: Mapping[str, ChannelClient],
        config: OutboxConfig,
        clock: Clock,
        inbound_waiting: Callable[[], bool] = lambda: False,
    ) -> None:
        self.sessions = sessions
        self.clients = clients
        self.config = config
        self.clock = clock
        # Whether inbound messages wait to be written in this process (the group commit's queue): see _loop.
        self.inbound_waiting = inbound_waiting
        self._wake = asyncio.Event()
        self._free_until = 0.0  # loop time until which passes do not wait for inbound messages (_inbound_first)
        self._slots = asyncio.Semaphore(config.concurrency)
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # Outcomes waiting to be written, and the task writing them (_record).
        self._marks: list[_Mark] = []
        self._marking: asyncio.Task[None] | None = None
        self._delivering = 0  # deliveries in flight (their outcomes not queued yet): _gather_outcomes waits for them
        self._delivery_ended: asyncio.Future[None] | None = None  # what _gather_outcomes waits on
        self._alone: set[asyncio.Task[None]] = set()  # outcomes written one by one (_write_marks)
        self._unwritten: dict[asyncio.Future[None], int] = {}  # each queued outcome's future: its row (stop())
        self._due_rows = (
            select(
                Outbox.id,
                Outbox.channel,
                Outbox.target_kind,
                Outbox.target_id,
                Outbox.text,
                Outbox.mentions,
                Outbox.media_id,
                Outbox.cause_inbound_id,
            )
            .where(_claimable(), ~_blocked())
            .order_by(Outbox.id)
            .limit(config.batch_size)
        )

    # --- lifecycle -------------------------------------------------------------------------
    def notify(self) -> None:
        """New rows were committed: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-sender")

    async def stop(self, timeout: float = 10.0, *, outcomes_grace: float = _OUTCOMES_GRACE_SECONDS) -> None:
        """Finish the deliveries in flight and write their outcomes, then stop; pending rows stay for the next start.

        Deliveries still running after timeout are cancelled (whether each reached the platform is unknown: its row
        goes again once its lease ran out). The outcomes of deliveries that ended, those cancelled ones' peers
        included, are still written, for up to outcomes_grace more (milliseconds while the database answers); one
        not written by then is given up and logged: its row was delivered but is not marked so, and is delivered
        again after its lease (as after a crash, at most `concurrency` deliveries).
        """
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout)  # (cancels the pass on timeout)
            except TimeoutError:
                log.warning("outbox sender did not finish within %.0fs; leased rows resume after restart", timeout)
            self._task = None
        await self._drain_outcomes(outcomes_grace)

    async def _drain_outcomes(self, grace: float) -> None:
        """Wait up to grace for the outcomes queued or being written; then give up those left (stop())."""
        if self._unwritten:
            done, _ = await asyncio.wait(list(self._unwritten), timeout=grace)
            for future in done:  # (a cancelled delivery's shield marked its error as read: say it here)
                if not future.cancelled() and future.exception() is not None:
                    log.warning("outbox: an outcome could not be written (%s)", future.exception())
        if not self._unwritten:
            return
        log.warning(
            "outbox: %d outcomes not written within %.1fs of the stop (rows %s); delivered again after their lease",
            len(self._unwritten),
            grace,
            sorted(self._unwritten.values()),
        )
        writers = [task for task in (self._marking, *self._alone) if task is not None and not task.done()]
        for task in writers:
            task.cancel()
        if writers:  # bounded too: a writer inside a statement waiting for a lock may not stop at once
            await asyncio.wait(writers, timeout=grace)

    async def _loop(self) -> None:
        while not self._stopping:
            await self._inbound_first()
            if self._stopping:  # stop() came during the wait: no new pass
                break
            # Cleared before the pass: a notify() while it runs makes the next wait return at once.
            self._wake.clear()
            try:
                processed = await self.run_once()
            except Exception:
                log.exception("outbox sender pass failed; retrying after the poll interval")
                processed = 0
            if processed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval_seconds)

    async def _inbound_first(self) -> None:
        """Let the inbound messages waiting to be written go first, for up to inbound_first_seconds.

        A pass shares the event loop (and on SQLite the write lock) with the group commit: during a burst (a
        竞赛's 500 answers within seconds, each with a private receipt) sending as the receipts are made slows
        the answers' acknowledgements, which WeCom times out after 5 s. Bounded: a wait ends after
        inbound_first_seconds, and then passes run back to back for a quarter of that time before the next wait
        (under a load that never lets up the sender still sends a fifth of the time); a delivery in flight is not
        held."""
        limit = self.config.inbound_first_seconds
        if limit <= 0 or not self.inbound_waiting():
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._free_until:
            return
        deadline = loop.time() + limit
        while self.inbound_waiting() and not self._stopping:
            if loop.time() >= deadline:
                self._free_until = loop.time() + limit * _INBOUND_FIRST_FREE_SHARE
                return
            await asyncio.sleep(_INBOUND_FIRST_POLL_SECONDS)

    # --- delivery --------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Deliver the due head-of-line row of every target; return how many rows were attempted."""
        now = self.clock()
        async with read_only(self.sessions) as session:
            rows = (await session.execute(self._due_rows, {"now": now})).all()
        # Pushes of one message on a batching channel: only the first is attempted here, and it takes the others
        # along (_attempt_batch); were they attempted side by side, each would claim its own row first. Any it
        # leaves (another card, a full window) are taken in the next pass.
        ids, singles, heads = [], [], set()
        for row in rows:
            key = (row.channel, row.target_kind, row.text)
            item = Outgoing(
                row.id, row.channel, row.target_kind, row.target_id, row.text, tuple(row.mentions or ()), row.media_id
            )
            if row.cause_inbound_id is None and _batching(self.clients.get(row.channel), item):
                if key in heads:
                    continue
                heads.add(key)
                ids.append(row.id)
            else:
                singles.append(row.id)
        if not ids and not singles:
            return 0
        attempts = [self._attempt_in_slot(row_id) for row_id in ids]
        if singles:
            attempts.append(self._attempt_claimed(singles))
        results = await asyncio.gather(*attempts, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            error = failed[0]
            log.error("outbox: %d of %d attempts failed", len(failed), len(results), exc_info=error)
        return sum(r for r in results if not isinstance(r, BaseException))

    async def _attempt_in_slot(self, row_id: int) -> int:
        async with self._slots:
            return 0 if await self._attempt(row_id, via="sender", due_only=True) is None else 1

    async def _attempt_claimed(self, ids: list[int]) -> int:
        """Claim these rows in one transaction, then deliver each in a slot; how many were claimed."""
        now = self.clock()
        token = uuid.uuid4().hex
        claimed = await self._claim_many(ids, now, token)
        if not claimed:
            return 0
        async with self._leased(claimed[0][0].id, token):  # the token names every row claimed here
            held = await self._held_back(claimed, now)
            results = await asyncio.gather(
                *(self._deliver_claimed(row, item, token, now, held.get(row.id)) for row, item in claimed),
                return_exceptions=True,
            )
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            log.error("outbox: %d of %d claimed rows failed", len(failed), len(claimed), exc_info=failed[0])
        return len(claimed)

    async def _deliver_claimed(
        self, row: Outbox, item: Outgoing, token: str, now: datetime, held: dict[str, object] | None
    ) -> None:
        """Deliver one claimed row in a slot (or write that its target's rate limit holds it back)."""
        if held is not None:  # nothing is sent: no slot needed
            await self._record(row.id, token, held)
            return
        async with self._slots:
            if self.clock() - now > timedelta(seconds=self.config.lease_seconds / 3) and not await self._still_ours(
                row.id, token
            ):
                # It waited past a renewal that may not have got through, its lease ran out and another sender
                # (or the channel's passive answer) took it: delivering it here would send it twice.
                log.warning(
                    "outbox %s: the lease ran out while the row waited for a slot; left to its new holder", row.id
                )
                return
            outcome = await self._deliver(row, item, now, checked=True)
            if outcome["status"] == OutboxStatus.SENT:
                outcome["delivered_via"] = "sender"
            await self._record(row.id, token, outcome)

    async def _still_ours(self, row_id: int, token: str) -> bool:
        """Extend a claimed row's lease if it is still under token (right before a delivery that waited)."""
        async with transaction(self.sessions) as session:
            result = await session.execute(
                update(Outbox)
                .where(Outbox.id == row_id, Outbox.lease_token == token)
                .values(lease_until=self._lease_end())
            )
        return affected(result) == 1

    async def _claim_many(self, ids: list[int], now: datetime, token: str) -> list[tuple[Outbox, Outgoing]]:
        """Lease those of these rows that are still claimable and first in line for their target, under token."""
        async with transaction(self.sessions) as session:
            result = await session.execute(
                _claim_statement(True, many=True),
                {"ids": ids, "now": now, "lease_end": self._lease_end(), "token": token},
            )
            if affected(result) == 0:
                return []
            rows = (
                await session.scalars(
                    select(Outbox).where(Outbox.id.in_(ids), Outbox.lease_token == token).order_by(Outbox.id)
                )
            ).all()
            media_ids = [row.media_id for row in rows if row.media_id is not None]
            images = (
                {m.id: m.data for m in await session.scalars(select(Media).where(Media.id.in_(media_ids)))}
                if media_ids
                else {}
            )
            return [(row, _outgoing(row, images.get(row.media_id) if row.media_id else None)) for row in rows]

    async def _held_back(
        self, claimed: Sequence[tuple[Outbox, Outgoing]], now: datetime
    ) -> dict[int, dict[str, object]]:
        """The outcome of each claimed row its target's rate limit holds back (one query per channel and kind)."""
        limited: dict[tuple[str, str], list[tuple[Outgoing, RateLimit]]] = {}
        for _row, item in claimed:
            client = self.clients.get(item.channel)
            limit = client.rate_limit(item) if client is not None else None
            if limit is not None:
                limited.setdefault((item.channel, item.target_kind), []).append((item, limit))
        held: dict[int, dict[str, object]] = {}
        for group in limited.values():
            for row_id, not_before in (await self._windows_start(group, now)).items():
                held[row_id] = {"status": OutboxStatus.PENDING, "next_attempt_at": not_before}
        return held

    async def deliver_now(self, ids: Iterable[int], via: str = "passive") -> list[Outgoing]:
        """Deliver these rows at once (a reply to the message in hand); return those delivered.

        A row behind an earlier undelivered row to the same target waits for it (order per target): a
        little, as when replies to two messages race for one chat; then it is left to the sender.

        A push in the way that a pass claimed with others waits for its turn for a delivery slot, and the reply
        with it: with the defaults (20 rows a pass, 4 slots) and a platform answering in 150 ms, up to about 0.6 s
        more than the push itself takes (measured). A reply pushed instead (a passive answer a push was in the way
        of) waits likewise, for the current pass to end (its slowest delivery). Letting it go sooner would take
        passes that overlap, a wake-up on each outcome written and replies served first for a slot: not done, the
        delay being bounded by one pass and met only while a push to the same chat is going out.
        """
        delivered: list[Outgoing] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _IN_LINE_WAIT_SECONDS
        for row_id in ids:
            while True:
                item = await self._attempt(row_id, via=via, due_only=False)
                if item is not None or loop.time() >= deadline or not await self._pending(row_id):
                    break
                await asyncio.sleep(_IN_LINE_POLL_SECONDS)
            if item is not None and item[1]:
                delivered.append(item[0])
        return delivered

    async def _pending(self, row_id: int) -> bool:
        """Whether the row still waits (not claimed: an earlier row to its target was in the way)."""
        async with read_only(self.sessions) as session:
            status = await session.scalar(select(Outbox.status).where(Outbox.id == row_id))
        return status == OutboxStatus.PENDING

    async def release(self, ids: Iterable[int]) -> None:
        """Rows held for a passive answer that will not come: the sender may take them now."""
        await self._due_now(ids, and_(Outbox.status == OutboxStatus.PENDING, Outbox.attempts == 0))

    async def unclaim_passive(self, ids: Iterable[int]) -> None:
        """Rows marked as answered in an HTTP response that did not arrive in time: the sender pushes them now."""
        passive = and_(Outbox.status == OutboxStatus.SENT, Outbox.delivered_via == "passive")
        await self._due_now(
            ids, passive, status=OutboxStatus.PENDING, attempts=0, sent_at=None, delivered_via=None, lease_token=None
        )

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

    async def _claim(self, row_id: int, now: datetime, due_only: bool) -> tuple[Outbox, Outgoing, str] | None:
        """Lease the row under a fresh token if it is claimable and first in line for its target."""
        token = uuid.uuid4().hex
        async with transaction(self.sessions) as session:
            result = await session.execute(
                _claim_statement(due_only, many=False),
                {"row_id": row_id, "now": now, "lease_end": self._lease_end(), "token": token},
            )
            if affected(result) != 1:
                return None
            row = await session.get(Outbox, row_id)
            item = await _load(session, row_id)
            return (row, item, token) if row is not None and item is not None else None

    def _lease_end(self) -> datetime:
        return self.clock() + timedelta(seconds=self.config.lease_seconds)

    @contextlib.asynccontextmanager
    async def _leased(self, row_id: int, token: str) -> AsyncIterator[None]:
        """Keep renewing the row's lease while its delivery and the writing of its outcome run."""
        renewal = asyncio.create_task(self._renew(row_id, token), name=f"outbox-lease-{row_id}")  # and its batch
        try:
            yield
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal

    async def _renew(self, row_id: int, token: str) -> None:
        while True:
            await asyncio.sleep(self.config.lease_seconds / 3)
            try:
                await self._renew_once(token)
            except Exception as exc:  # the database is away: the outcome write waits for it too
                log.warning("outbox %s: could not renew the lease: %s", row_id, exc)

    async def _renew_once(self, token: str) -> None:
        """Extend the lease of every row under token (a row, its batch, or the rows a pass claimed)."""
        async with transaction(self.sessions) as session:
            await session.execute(_renew_statement(), {"token": token, "lease_end": self._lease_end()})

    async def _attempt(self, row_id: int, via: str, due_only: bool) -> tuple[Outgoing, bool] | None:
        """Claim, rate-check and deliver one row; (item, delivered) or None if someone else has it."""
        now = self.clock()
        claimed = await self._claim(row_id, now, due_only)
        if claimed is None:
            return None
        row, item, token = claimed
        client = self.clients.get(item.channel)
        if due_only and row.cause_inbound_id is None and _batching(client, item):
            assert client is not None
            return await self._attempt_batch(client, row, item, token, now, via)  # type: ignore[arg-type]
        async with self._leased(row_id, token):
            outcome = await self._deliver(row, item, now)
            delivered = outcome["status"] == OutboxStatus.SENT
            if delivered:
                outcome["delivered_via"] = via
            await self._record(row_id, token, outcome)
        return item, delivered

    async def _deliver(self, row: Outbox, item: Outgoing, now: datetime, *, checked: bool = False) -> dict[str, object]:
        """Deliver the row (checked: its target's rate limit was looked at already); the values its outcome writes."""
        client = self.clients.get(item.channel)
        if client is None:
            return self._failed(row, f"no client for channel {item.channel!r}")
        limit = client.rate_limit(item)
        if limit is not None and not checked:
            not_before = (await self._windows_start([(item, limit)], now)).get(item.id)
            if not_before is not None:
                return {"status": OutboxStatus.PENDING, "next_attempt_at": not_before}
        try:
            with self._in_flight():
                await client.deliver(item)
        except Exception as exc:
            return self._outcome(row, item, exc)
        return self._sent(row)

    @contextlib.contextmanager
    def _in_flight(self) -> Iterator[None]:
        """Count a delivery (a row or a batch) as in flight until it ends; its outcome is queued right after."""
        self._delivering += 1
        try:
            yield
        finally:
            self._delivering -= 1
            if self._delivery_ended is not None and not self._delivery_ended.done():
                self._delivery_ended.set_result(None)

    def _sent(self, row: Outbox) -> dict[str, object]:
        return {"status": OutboxStatus.SENT, "sent_at": self.clock(), "attempts": row.attempts + 1, "last_error": None}

    def _outcome(self, row: Outbox, item: Outgoing, exc: Exception) -> dict[str, object]:
        """The values a failed delivery of the row writes."""
        if isinstance(exc, PermanentError):
            log.warning("outbox %s to %s:%s failed permanently: %s", row.id, item.channel, item.target_id, exc.reason)
            return self._failed(row, exc.reason)
        if isinstance(exc, TransientError):
            if not exc.counted:  # e.g. the long connection is down: wait for it without using up an attempt
                return {
                    "status": OutboxStatus.PENDING,
                    "next_attempt_at": self.clock() + timedelta(seconds=exc.retry_after or 0),
                }
            return self._retry(row, exc.reason, exc.retry_after)
        # A bug, an unexpected network error or the database away: treat as transient.
        log.error("outbox %s: unexpected delivery error", row.id, exc_info=exc)
        return self._retry(row, f"{type(exc).__name__}: {exc}", None)

    # --- batches -----------------------------------------------------------------------------
    async def _attempt_batch(
        self, client: BatchingClient, head: Outbox, item: Outgoing, token: str, now: datetime, via: str
    ) -> tuple[Outgoing, bool]:
        """Deliver the claimed head row with the pushes of the same message to other targets, in one call."""
        async with self._leased(head.id, token):
            batch = [(head, item), *await self._claim_companions(client, head, item, token, now)]
            outcomes: dict[int, dict[str, object]] = {}
            limit = client.rate_limit(item)
            if limit is not None:  # each target's own window, as for a row sent alone
                for row_id, not_before in (await self._windows_start([(i, limit) for _, i in batch], now)).items():
                    outcomes[row_id] = {"status": OutboxStatus.PENDING, "next_attempt_at": not_before}
            ready = [(row, one) for row, one in batch if row.id not in outcomes]
            if ready:
                try:
                    with self._in_flight():
                        refused = await client.deliver_batch([one for _, one in ready])
                except Exception as exc:
                    outcomes.update({row.id: self._outcome(row, one, exc) for row, one in ready})
                else:
                    for row, one in ready:
                        failure = refused.get(row.id)
                        outcomes[row.id] = self._sent(row) if failure is None else self._outcome(row, one, failure)
                    log.info(
                        "outbox: one %s call delivered %d of %d rows",
                        item.channel,
                        len(ready) - len(refused),
                        len(ready),
                    )
            for values in outcomes.values():
                if values["status"] == OutboxStatus.SENT:
                    values["delivered_via"] = via
            await self._record_batch(token, outcomes)
        return item, outcomes[head.id]["status"] == OutboxStatus.SENT

    async def _claim_companions(
        self, client: BatchingClient, head: Outbox, item: Outgoing, token: str, now: datetime
    ) -> list[tuple[Outbox, Outgoing]]:
        """Lease, under the head's token, the due pushes of the same text and card to other targets, each first
        in line for its target, up to the channel's limit per call."""
        room = client.batch_limit(item) - 1
        async with transaction(self.sessions) as session:
            candidates = (
                await session.scalars(
                    select(Outbox)
                    .where(
                        Outbox.channel == head.channel,
                        Outbox.target_kind == head.target_kind,
                        Outbox.target_id != head.target_id,
                        Outbox.text == head.text,
                        Outbox.media_id.is_(None),
                        Outbox.cause_inbound_id.is_(None),
                        _claimable(),
                        ~_blocked(),
                    )
                    .order_by(Outbox.id)
                    .limit(room),
                    {"now": now},
                )
            ).all()
            targets = {head.target_id}
            chosen = []
            for row in candidates:
                one = _outgoing(row)
                if (
                    row.card == head.card
                    and not row.mentions
                    and row.target_id not in targets
                    and _batching(client, one)
                ):
                    targets.add(row.target_id)
                    chosen.append(row.id)
            if not chosen:
                return []
            # The head's lease end: the batch's rows lapse together, so after a crash the first pass that finds them
            # claimable forms the same batch again (the same request, which WeCom's duplicate check drops), not the
            # head alone and then the rest.
            await session.execute(
                _claim_statement(True, many=True),
                {"ids": chosen, "now": now, "lease_end": head.lease_until or self._lease_end(), "token": token},
            )
            rows = (
                await session.scalars(
                    select(Outbox).where(Outbox.id.in_(chosen), Outbox.lease_token == token).order_by(Outbox.id)
                )
            ).all()
            return [(row, _outgoing(row)) for row in rows]

    async def _windows_start(self, limited: Sequence[tuple[Outgoing, RateLimit]], now: datetime) -> dict[int, datetime]:
        """The rows whose target may not receive their messages now, with when enough sends leave its window.

        One query for rows of one channel and target kind (a row alone, a batch, or the rows a pass claimed). If the
        database does not answer it, these rows (only these) are held until the next poll: not sent unchecked, and
        not left claimed until their lease runs out.
        """
        first = limited[0][0]
        since = now - timedelta(seconds=max(limit.seconds for _, limit in limited))
        used: dict[str, list[tuple[datetime, Outgoing]]] = {}
        try:
            async with read_only(self.sessions) as session:
                rows = await session.scalars(
                    _window_query(),
                    {
                        "channel": first.channel,
                        "kind": first.target_kind,
                        "targets": sorted({item.target_id for item, _ in limited}),
                        "since": since,
                    },
                )
                for row in rows:
                    used.setdefault(row.target_id, []).append((row.sent_at or now, _outgoing(row)))
        except _DB_ERRORS as exc:
            log.warning(
                "outbox: the rate limit of %d rows (%s) could not be looked at (%s); they wait for the next poll",
                len(limited),
                first.channel,
                exc,
            )
            later = self.clock() + timedelta(seconds=self.config.poll_interval_seconds)
            return {item.id: later for item, _ in limited}
        held = {}
        for item, limit in limited:
            weigh = limit.weigh or (lambda _item: 1)
            window_since = now - timedelta(seconds=limit.seconds)
            sent = [(at, weigh(one)) for at, one in used.get(item.target_id, ()) if at > window_since]
            not_before = _not_before(sent, limit, now)
            if not_before is not None:
                held[item.id] = not_before
        return held

    async def _record_batch(self, token: str, outcomes: Mapping[int, dict[str, object]]) -> None:
        """Write a batch's outcomes (each row's own, if still ours), together, as _record."""
        written = [self._queue_mark(row_id, token, values) for row_id, values in outcomes.items()]
        # Every mark to its end before the batch's lease may lapse (a failed one must not leave the others unwritten
        # while the lease renewal stops), then its first error.
        results = await asyncio.shield(asyncio.gather(*written, return_exceptions=True))
        error = next((result for result in results if isinstance(result, BaseException)), None)
        if error is not None:
            raise error

    async def _record(self, row_id: int, token: str, values: dict[str, object]) -> None:
        """Write a delivery's outcome if the row is still ours; return once it is written.

        The outcomes of deliveries that end together are written in one transaction (_write_marks), retried until
        the database takes them: giving up would leave a delivered row to be sent again once its lease ran out, so
        the slot stays taken (no new claim) until this returns.
        """
        # Shielded: a delivery cancelled now (a stop past its timeout) leaves its outcome to be written (stop()
        # waits for the futures), rather than cancelling the future the writer is to resolve.
        await asyncio.shield(self._queue_mark(row_id, token, values))

    def _queue_mark(self, row_id: int, token: str, values: dict[str, object]) -> asyncio.Future[None]:
        """Queue an outcome for the writer (at once, in the turn its delivery ended); the future it resolves."""
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unwritten[written] = row_id
        written.add_done_callback(self._unwritten.pop)
        self._marks.append(_Mark(row_id, token, values, written))
        if self._marking is None or self._marking.done() or self._marking.get_loop() is not written.get_loop():
            self._marking = asyncio.create_task(self._write_marks(), name="outbox-marks")
        return written

    async def _write_marks(self) -> None:
        """Write the queued outcomes, those queued meanwhile in the next transaction, until none is left.

        If the database refuses them together, each is written on its own, retried until the database takes it (in
        a task of its own): one it refuses for good (on PostgreSQL, a NUL character in an error text) then holds up
        its own slot only, not every outcome after it.
        """
        marks: list[_Mark] = []
        try:
            while self._marks:
                await self._gather_outcomes()
                marks, self._marks = self._marks, []
                if await self._write(marks, retry=False):
                    for mark in marks:
                        if not mark.written.done():
                            mark.written.set_result(None)
                else:
                    for mark in marks:
                        alone = asyncio.create_task(self._write_alone(mark), name=f"outbox-mark-{mark.row_id}")
                        self._alone.add(alone)
                        alone.add_done_callback(self._alone.discard)
                marks = []
        except BaseException as exc:  # their deliveries hear of it (and not as a cancellation of their own)
            for mark in (*marks, *self._marks):
                if not mark.written.done():
                    if isinstance(exc, Exception):
                        mark.written.set_exception(exc)
                    else:
                        mark.written.cancel()
            self._marks = []
            if not isinstance(exc, Exception):
                raise

    async def _gather_outcomes(self) -> None:
        """Let the deliveries in flight end (for up to _MARKS_GATHER_SECONDS), so that their outcomes join."""
        await asyncio.sleep(0)  # deliveries that end in this turn of the loop join
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _MARKS_GATHER_SECONDS
        while self._delivering and (left := deadline - loop.time()) > 0:
            self._delivery_ended = loop.create_future()
            await asyncio.wait([self._delivery_ended], timeout=left)

    async def _write_alone(self, mark: _Mark) -> None:
        """Write one outcome in its own transaction, retrying until the database takes it."""
        try:
            await self._write([mark], retry=True)
        except asyncio.CancelledError:
            mark.written.cancel()
            raise
        except Exception as exc:  # its delivery hears of it
            if not mark.written.done():
                mark.written.set_exception(exc)
            return
        if not mark.written.done():
            mark.written.set_result(None)

    async def _write(self, marks: Sequence[_Mark], *, retry: bool) -> bool:
        """Write these outcomes in one transaction (rows whose lease was taken over are left to the new holder);
        whether they were written (retry: keep trying until they are)."""
        groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for mark in sorted(marks, key=lambda mark: mark.row_id):
            params = {"mark_id": mark.row_id, "mark_token": mark.token, "lease_until": None, "lease_token": None}
            params.update(mark.values)
            groups.setdefault(tuple(sorted(params)), []).append(params)
        delay = 0.2
        while True:
            try:
                async with transaction(self.sessions) as session:
                    # Rows are locked in id order, as the lease renewal locks them (_renew_statement), so that on
                    # PostgreSQL the two never wait for each other in a cycle (a deadlock, one of them undone): one
                    # group's rows go in id order; with several groups, all are locked in that order first.
                    # (SQLite locks the whole database at BEGIN IMMEDIATE: nothing to order.) A claim locks rows in
                    # its index's order instead; it meets these only when taking over a lease that ran out, and a
                    # deadlock there is detected and undone — the claim is retried at the next poll, nothing lost.
                    if len(groups) > 1 and session.get_bind().dialect.name != "sqlite":
                        await session.execute(_lock_statement(), {"ids": [mark.row_id for mark in marks]})
                    for group in groups.values():
                        result = await session.execute(_mark_statement(), group)
                        found = affected(result)
                        if 0 <= found < len(group):  # (a driver that cannot count an executemany says -1)
                            log.warning(
                                "outbox %s: the lease was taken over; its outcome is the new holder's",
                                group[0]["mark_id"] if len(group) == 1 else f"({len(group) - found} of {len(group)})",
                            )
                return True
            except _DB_ERRORS as exc:
                if not retry:
                    log.warning("outbox: could not record %d outcomes together (%s); one by one", len(marks), exc)
                    return False
                log.warning("outbox: could not record %d outcomes (%s); retrying in %.1fs", len(marks), exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _retry(self, row: Outbox, reason: str, retry_after: float | None) -> dict[str, object]:
        attempts = row.attempts + 1
        if attempts >= self.config.max_attempts:
            log.warning("outbox %s: giving up after %d attempts: %s", row.id, attempts, reason)
            return self._failed(row, f"{reason} (after {attempts} attempts)")
        delay = min(self.config.backoff_base_seconds * 2 ** (attempts - 1), self.config.backoff_max_seconds)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return {
            "status": OutboxStatus.PENDING,
            "attempts": attempts,
            "next_attempt_at": self.clock() + timedelta(seconds=delay),
            "last_error": reason,
        }

    @staticmethod
    def _failed(row: Outbox, error: str) -> dict[str, object]:
        return {"status": OutboxStatus.FAILED, "attempts": row.attempts + 1, "last_error": error}


def _not_before(used: Sequence[tuple[datetime, int]], limit: RateLimit, now: datetime) -> datetime | None:
    """None if a target that was sent `used` (when, messages; oldest first) in the window may receive a row of
    limit.messages now; otherwise when enough of them leave the window."""
    # A row of more messages than the limit takes a whole window (WeCom refuses the rest; they are retried).
    need = min(limit.messages, limit.count)
    total = sum(messages for _, messages in used)
    if total + need <= limit.count:
        return None
    for sent_at, messages in used:  # oldest first: when has enough of the window left it?
        total -= messages
        if total + need <= limit.count:
            return sent_at + timedelta(seconds=limit.seconds)
    return now + timedelta(seconds=limit.seconds)  # not reached: need <= limit.count


def _batching(client: ChannelClient | None, item: Outgoing) -> bool:
    """Whether the client can send this row in one call with others of the same message."""
    batch_limit = getattr(client, "batch_limit", None)
    return batch_limit is not None and hasattr(client, "deliver_batch") and batch_limit(item) > 1


def _claimable(due_only: bool = True) -> ColumnElement[bool]:
    """Pending (and due by :now, with due_only), or being sent under a lease that ran out by :now."""
    now: BindParameter[datetime] = bindparam("now")
    pending = Outbox.status == OutboxStatus.PENDING
    return or_(
        and_(pending, Outbox.next_attempt_at <= now) if due_only else pending,
        and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_until < now),
    )


@functools.cache
def _blocked(at_once: bool = False) -> ColumnElement[bool]:
    """An earlier row to the same target is not delivered yet (the row would overtake it).

    at_once (a reply delivered or answered at once, by :now): the earlier rows of the same message, and pushes that
    answer no message (a notice, a reminder, a quiz's next question) being sent or due by now. Replies to
    other messages do not count: those messages raced this one and no one can tell their order; nor does a
    push due later (a retry after back-off, a rate-limited push).
    """
    earlier = aliased(Outbox)
    undelivered: ColumnElement[bool] = earlier.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
    if at_once:
        undelivered = and_(
            undelivered,  # kept as its own term: the index on (channel, target_id, status) serves it
            or_(earlier.status == OutboxStatus.SENDING, earlier.next_attempt_at <= bindparam("now")),
            or_(earlier.cause_inbound_id.is_(None), earlier.cause_inbound_id == Outbox.cause_inbound_id),
        )
    return exists().where(
        and_(
            earlier.channel == Outbox.channel,
            earlier.target_kind == Outbox.target_kind,
            earlier.target_id == Outbox.target_id,
            earlier.id < Outbox.id,
            undelivered,
        )
    )


# Statements built once (their construction costs more than their execution): parameters by name.
_TABLE = cast(Table, Outbox.__table__)


@functools.cache
def _claim_statement(due_only: bool, *, many: bool) -> Update:
    """Lease a row (:row_id) or rows (:ids) that are claimable and first in line, until :lease_end under :token."""
    which = _TABLE.c.id.in_(bindparam("ids", expanding=True)) if many else _TABLE.c.id == bindparam("row_id")
    return (
        update(_TABLE)
        .where(which, _claimable(due_only), ~_blocked(at_once=not due_only))
        .values(status=OutboxStatus.SENDING, lease_until=bindparam("lease_end"), lease_token=bindparam("token"))
    )


@functools.cache
def _renew_statement() -> Update:
    """Extend the lease of the rows under :token until :lease_end, locking them in id order (see _write)."""
    leased = (
        select(_TABLE.c.id)
        .where(_TABLE.c.status == OutboxStatus.SENDING, _TABLE.c.lease_token == bindparam("token"))
        .order_by(_TABLE.c.id)
        .with_for_update()
    )
    return update(_TABLE).where(_TABLE.c.id.in_(leased)).values(lease_until=bindparam("lease_end"))


@functools.cache
def _lock_statement() -> Select[tuple[int]]:
    """Lock the rows :ids in id order (PostgreSQL; before outcomes of several kinds are written together)."""
    return (
        select(_TABLE.c.id)
        .where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
        .order_by(_TABLE.c.id)
        .with_for_update()
    )


@functools.cache
def _mark_statement() -> Update:
    """A delivery's outcome for row :mark_id if its lease is still :mark_token; the values set are the other
    parameters (the same columns for every row of one executemany)."""
    return update(_TABLE).where(_TABLE.c.id == bindparam("mark_id"), _TABLE.c.lease_token == bindparam("mark_token"))


@functools.cache
def _window_query() -> Select[Outbox]:
    """The pushes sent to :targets (of :channel, :kind) since :since, oldest first."""
    return (
        select(Outbox)
        .where(
            Outbox.channel == bindparam("channel"),
            Outbox.target_kind == bindparam("kind"),
            Outbox.target_id.in_(bindparam("targets", expanding=True)),
            Outbox.status == OutboxStatus.SENT,
            Outbox.sent_at > bindparam("since"),
            # Answers carried in the platform's HTTP response do not use the push quota.
            or_(Outbox.delivered_via.is_(None), Outbox.delivered_via != "passive"),
        )
        .order_by(Outbox.sent_at)
    )


@dataclass
class _Mark:
    """An outcome to write (OutboxSender._record), and the future its delivery waits on."""

    row_id: int
    token: str
    values: dict[str, object]
    written: asyncio.Future[None]
