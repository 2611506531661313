"""The only module that talks to APScheduler: declared jobs, claimed slots, catch-up after downtime."""

from __future__ import annotations

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

from bot.clock import Clock
from bot.config import Config
from bot.context import Context
from bot.db import transaction
from bot.models import ScheduledFire

if TYPE_CHECKING:
    from bot.outbox import OutboxSender

log = logging.getLogger(__name__)

JobFunc = Callable[[Context], Awaitable[None]]


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

    async def fire(self, name: str, slot: datetime, *, manual: bool = False) -> bool:
        """Claim (name, slot) and run the job in the claim's transaction; False if already claimed."""
        job = self.job(name)
        try:
            async with transaction(self.sessions) as session:
                session.add(ScheduledFire(job=name, slot=slot, fired_at=self.clock(), manual=manual))
                try:
                    await session.flush()
                except IntegrityError:
                    raise _AlreadyClaimed from None
                ctx = Context(config=self.config, session=session, clock=self.clock, slot=slot)
                await job.func(ctx)
                sent = bool(ctx.outgoing)
        except _AlreadyClaimed:
            log.info("job %s slot %s already fired elsewhere; skipping", name, slot.isoformat())
            return False
        if sent and self.sender is not None:
            self.sender.notify()
        log.debug("job %s fired for slot %s", name, slot.isoformat())
        return True

    async def run_now(self, name: str) -> bool:
        """Fire a job immediately, as a manual slot of its own."""
        return await self.fire(name, self.clock(), manual=True)

    async def catch_up(self) -> list[str]:
        """After downtime, run each job's last missed slot once if it is within the grace period."""
        fired = []
        for name in self.jobs:
            slot = self.last_slot(name)
            if slot is not None and await self.fire(name, slot):
                fired.append(name)
        return fired

    async def _scheduled(self, name: str) -> None:
        # APScheduler calls at (or, on a misfire, after) the slot; the slot is the latest one due.
        slot = self.last_slot(name, within=timedelta(minutes=self.config.scheduler.catch_up_grace_minutes + 1))
        if slot is None:
            log.warning("job %s woke with no slot due; skipping", name)
            return
        try:
            await self.fire(name, slot)
        except Exception:
            log.exception("job %s failed for slot %s; it will not be retried for this slot", name, slot)

    def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=self.config.tz)
        grace = max(1, self.config.scheduler.catch_up_grace_minutes * 60)
        for job in self.jobs.values():
            scheduler.add_job(
                self._scheduled,
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
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None


class _AlreadyClaimed(Exception):
    pass
