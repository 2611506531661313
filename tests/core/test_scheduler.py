"""Scheduled fires: one push per (job, slot) across restarts, catch-up and a second scheduler instance."""

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core import db
from bot.core.clock import FakeClock
from bot.core.config import DatabaseConfig
from bot.core.models import Chat, Outbox, ScheduledFire
from bot.core.scheduler import Job, JobRunner
from tests.conftest import TZ, make_config


async def remind(ctx) -> None:
    await ctx.send_to_chat(Chat(channel="sim", platform_chat_id="demo-group"), f"提醒 {ctx.slot:%m-%d %H:%M}")


REMIND = Job(name="remind", func=remind, cron="0 9 * * 5", description="Friday 09:00 reminder")


def runner(db_url: str, clock: FakeClock) -> JobRunner:
    config = make_config(db_url)
    sessions = db.session_factory(db.create_engine(DatabaseConfig(url=db_url)))
    return JobRunner([REMIND], config, sessions, clock)


async def pushes(jobs: JobRunner) -> list[str]:
    async with jobs.sessions() as session:
        return list(await session.scalars(select(Outbox.text).order_by(Outbox.id)))


async def close(*runners: JobRunner) -> None:
    for r in runners:
        await r.sessions.kw["bind"].dispose()


async def test_slot_fires_once_even_when_fired_again(db_url):
    clock = FakeClock(datetime(2026, 11, 20, 9, 0, tzinfo=TZ))
    jobs = runner(db_url, clock)
    slot = jobs.last_slot("remind")
    assert slot == datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
    assert await jobs.fire("remind", slot) is True
    assert await jobs.fire("remind", slot) is False
    assert await pushes(jobs) == ["提醒 11-20 09:00"]
    await close(jobs)


async def test_catch_up_after_downtime_runs_last_missed_slot_once(db_url):
    # Down from Friday 08:50 to 09:40: the 09:00 slot is 40 minutes old, within the 60-minute grace.
    clock = FakeClock(datetime(2026, 11, 20, 9, 40, tzinfo=TZ))
    jobs = runner(db_url, clock)
    assert await jobs.catch_up() == ["remind"]
    restarted = runner(db_url, clock)  # a second restart must not repeat it
    assert await restarted.catch_up() == []
    assert await pushes(jobs) == ["提醒 11-20 09:00"]
    await close(jobs, restarted)


async def test_no_catch_up_outside_grace(db_url):
    clock = FakeClock(datetime(2026, 11, 20, 10, 30, tzinfo=TZ))
    jobs = runner(db_url, clock)
    assert jobs.last_slot("remind") is None
    assert await jobs.catch_up() == []
    assert jobs.next_fire_time("remind") == datetime(2026, 11, 27, 9, 0, tzinfo=TZ)
    await close(jobs)


async def test_manual_run_is_its_own_slot(db_url):
    clock = FakeClock(datetime(2026, 11, 18, 15, 0, tzinfo=TZ))
    jobs = runner(db_url, clock)
    assert await jobs.run_now("remind") is True
    clock.advance(seconds=1)
    assert await jobs.run_now("remind") is True
    async with jobs.sessions() as session:
        manual = await session.scalar(select(func.count()).select_from(ScheduledFire).where(ScheduledFire.manual))
    assert manual == 2
    await close(jobs)


async def test_a_failing_job_releases_its_claim(db_url):
    calls = []

    async def flaky(ctx) -> None:
        calls.append(ctx.slot)
        if len(calls) == 1:
            raise RuntimeError("first try fails")
        await remind(ctx)

    clock = FakeClock(datetime(2026, 11, 20, 9, 0, tzinfo=TZ))
    config = make_config(db_url)
    sessions = db.session_factory(db.create_engine(DatabaseConfig(url=db_url)))
    jobs = JobRunner([Job("remind", flaky, "0 9 * * 5", "flaky")], config, sessions, clock)
    slot = jobs.last_slot("remind")
    with pytest.raises(RuntimeError):
        await jobs.fire("remind", slot)
    assert await jobs.fire("remind", slot) is True
    assert await pushes(jobs) == ["提醒 11-20 09:00"]
    await close(jobs)


async def two_schedulers_fire_once(url: str) -> None:
    clock = FakeClock(datetime(2026, 11, 20, 9, 0, 0, 300, tzinfo=TZ))
    first, second = runner(url, clock), runner(url, clock)
    slot = first.last_slot("remind")
    results = await asyncio.gather(*(r.fire("remind", slot) for r in (first, second, first, second)))
    assert sorted(results) == [False, False, False, True]
    assert await pushes(first) == ["提醒 11-20 09:00"]
    await close(first, second)


async def test_two_schedulers_on_one_sqlite_database_push_once(db_url):
    await two_schedulers_fire_once(db_url)


async def test_two_schedulers_on_one_postgresql_database_push_once(pg_url):
    await two_schedulers_fire_once(pg_url)


async def test_apscheduler_drives_the_fire(db_url):
    """The real AsyncIOScheduler calls the runner, which claims the slot computed from the clock."""
    from apscheduler.triggers.date import DateTrigger

    clock = FakeClock(datetime(2026, 11, 20, 9, 0, 5, tzinfo=TZ))
    jobs = runner(db_url, clock)
    jobs.start()
    try:
        fired = asyncio.Event()
        original = jobs.fire

        async def spy(name, slot, *, manual=False):
            result = await original(name, slot, manual=manual)
            fired.set()
            return result

        jobs.fire = spy  # type: ignore[method-assign]
        jobs._scheduler.reschedule_job(
            "remind", trigger=DateTrigger(run_date=datetime.now(TZ) + timedelta(seconds=0.05))
        )
        await asyncio.wait_for(fired.wait(), timeout=5)
    finally:
        jobs.shutdown()
    assert await pushes(jobs) == ["提醒 11-20 09:00"]
    await close(jobs)
