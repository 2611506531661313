"""The only module that talks to APScheduler: declared jobs, claimed slots, catch-up after downtime."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.context import Context
from bot.core.db import is_unavailable, transaction
from bot.core.models import Outbox, ScheduledFire

if TYPE_CHECKING:
    from bot.core.outbox import OutboxSender

log = logging.getLogger(__name__)

JobFunc = Callable[[Context], Awaitable[None]]

# The longest wait between two tries of a slot whose fire found the database unavailable.
MAX_RETRY_SECONDS = 300.0


@dataclass(frozen=True)
class Job:
    """A scheduled job: a plain async function and a crontab line (minute hour day month weekday)."""

    name: str
    func: JobFunc
    cron: str
    description: str

    def trigger(self, config: Config) -> CronTrigger:
        return cron_trigger(self.cron, config.tz)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(line: str, tz: ZoneInfo) -> CronTrigger:
    """A trigger from a standard crontab line (weekday 0 or 7 = Sunday, 1 = Monday, … 5 = Friday).

    APScheduler 3 numbers weekdays from Monday = 0, so digits in the weekday field become names.
    """
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"crontab line needs 5 fields, got {line!r}")
    minute, hour, day, month, weekday = fields
    weekday = re.sub(r"\d+", lambda m: _WEEKDAYS[int(m.group()) % 7], weekday)
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=tz)


class JobNotFound(KeyError):
    pass


class JobRunner:
    """Fires jobs: each fire claims (job, slot) first and acts only if the claim is new."""

    def __init__(
        self,
        jobs: Sequence[Job],
        config: Config,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        sender: OutboxSender | None = None,
    ) -> None:
        self.jobs = {job.name: job for job in jobs}
        self.config = config
        self.sessions = sessions
        self.clock = clock
        self.sender = sender
        self._scheduler: AsyncIOScheduler | None = None
        # Per job, the task trying again a slot whose fire found the database unavailable.
        self._retries: dict[str, asyncio.Task[None]] = {}

    def job(self, name: str) -> Job:
        try:
            return self.jobs[name]
        except KeyError:
            raise JobNotFound(name) from None

    def next_fire_time(self, name: str, after: datetime | None = None) -> datetime | None:
        now = after or self.clock()
        return self.job(name).trigger(self.config).get_next_fire_time(None, now)

    def last_slot(self, name: str, now: datetime | None = None, within: timedelta | None = None) -> datetime | None:
        """The latest slot at or before now (looking back at most `within`, default one grace period)."""
        now = now or self.clock()
        window = within if within is not None else timedelta(minutes=self.config.scheduler.catch_up_grace_minutes)
        trigger = self.job(name).trigger(self.config)
        # Step 1 s back from the earliest candidate so a slot exactly at the window's edge is included.
        cursor = now - window - timedelta(seconds=1)
        last: datetime | None = None
        previous: datetime | None = None
        while True:
            nxt = trigger.get_next_fire_time(previous, cursor)
            if nxt is None or nxt > now:
                return last
            last = nxt
            previous = nxt
            cursor = nxt + timedelta(microseconds=1)

    async def fire(
        self, name: str, slot: datetime, *, manual: bool = False, outgoing: list[Outbox] | None = None
    ) -> bool:
        """Claim (name, slot) and run the job in the claim's transaction; False if already claimed.

        outgoing, if given, receives the outbox rows the job wrote.
        """
        job = self.job(name)
        try:
            async with transaction(self.sessions) as session:
                session.add(ScheduledFire(job=name, slot=slot, fired_at=self.clock(), manual=manual))
                try:
                    await session.flush()
                except IntegrityError:
                    raise _AlreadyClaimed from None
                clients = self.sender.clients if self.sender is not None else {}
                ctx = Context(config=self.config, session=session, clock=self.clock, slot=slot, clients=clients)
                await job.func(ctx)
                sent = bool(ctx.outgoing)
            if outgoing is not None:
                outgoing.extend(ctx.outgoing)
        except _AlreadyClaimed:
            log.info("job %s slot %s already fired elsewhere; skipping", name, slot.isoformat())
            return False
        if sent and self.sender is not None:
            self.sender.notify()
        log.debug("job %s fired for slot %s", name, slot.isoformat())
        return True

    async def run_now(self, name: str, outgoing: list[Outbox] | None = None) -> bool:
        """Fire a job immediately, as a manual slot of its own (outgoing, if given, receives the rows it wrote)."""
        return await self.fire(name, self.clock(), manual=True, outgoing=outgoing)

    async def catch_up(self) -> list[str]:
        """After downtime, run each job's last missed slot once if it is within the grace period."""
        fired = []
        for name in self.jobs:
            slot = self.last_slot(name)
            if slot is not None and await self.fire(name, slot):
                fired.append(name)
        return fired

    async def run_due(self, name: str) -> None:
        """Fire the job's latest due slot (APScheduler calls this); while the database is unavailable, retry it."""
        # APScheduler calls at (or, on a misfire, after) the slot; the slot is the latest one due.
        slot = self.last_slot(name, within=timedelta(minutes=self.config.scheduler.catch_up_grace_minutes + 1))
        if slot is None:
            log.warning("job %s woke with no slot due; skipping", name)
            return
        earlier = self._retries.pop(name, None)
        if earlier is not None and not earlier.done():
            # Catch-up runs a job's latest slot only, and so does this: the new slot does the earlier one's work.
            earlier.cancel()
            log.warning("job %s: an earlier slot still waiting for the database is superseded by %s", name, slot)
        if not await self._attempt(name, slot):
            task = asyncio.create_task(self._retry(name, slot), name=f"retry-{name}")
            self._retries[name] = task
            task.add_done_callback(lambda done: self._retries.pop(name) if self._retries.get(name) is done else None)

    async def _attempt(self, name: str, slot: datetime) -> bool:
        """Fire (name, slot); False if the database was unavailable, so that the slot is worth another try."""
        try:
            await self.fire(name, slot)
        except Exception as exc:
            if is_unavailable(exc):
                return False
            log.exception(
                "job %s failed for slot %s; not retried now (a restart within its catch-up window runs it again)",
                name,
                slot.isoformat(),
            )
        return True

    async def _retry(self, name: str, slot: datetime) -> None:
        """Try (name, slot) again, waiting longer each time, until it fires or its catch-up window is over.

        The claim and the job commit together, so however many instances try, the slot acts once.
        """
        deadline = slot + timedelta(minutes=self.config.scheduler.catch_up_grace_minutes)
        delay = self.config.scheduler.retry_seconds
        while True:
            if self.clock() + timedelta(seconds=delay) > deadline:
                log.error(
                    "job %s slot %s: the database is still unavailable and the slot's catch-up window ends at %s; "
                    "this slot will not run",
                    name,
                    slot.isoformat(),
                    deadline.isoformat(),
                )
                return
            log.warning(
                "job %s slot %s: the database is unavailable; trying again in %.0f s", name, slot.isoformat(), delay
            )
            await asyncio.sleep(delay)
            if await self._attempt(name, slot):
                log.info("job %s slot %s: tried again once the database was back", name, slot.isoformat())
                return
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def settle(self) -> None:
        """Wait until no slot is waiting for the database (for tests and a clean shutdown)."""
        while self._retries:
            await asyncio.wait(set(self._retries.values()))

    def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=self.config.tz)
        grace = max(1, self.config.scheduler.catch_up_grace_minutes * 60)
        for job in self.jobs.values():
            scheduler.add_job(
                self.run_due,
                job.trigger(self.config),
                args=[job.name],
                id=job.name,
                name=job.description,
                coalesce=True,
                misfire_grace_time=grace,
                max_instances=1,
            )
        scheduler.start()
        self._scheduler = scheduler

    def shutdown(self) -> None:
        for task in self._retries.values():
            task.cancel()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None


class _AlreadyClaimed(Exception):
    pass
