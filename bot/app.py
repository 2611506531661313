"""Builds the application: the routers in priority order, channels, jobs, and their lifecycles."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from bot.core import db, overload
from bot.core.clock import Clock, system_clock
from bot.core.config import Config
from bot.core.context import Context
from bot.core.directory import Directory
from bot.core.members import sync_config
from bot.core.outbox import ChannelClient, OutboxSender
from bot.core.pipeline import Pipeline
from bot.core.router import Dispatcher, Router
from bot.core.scheduler import Job, JobRunner
from bot.core.services import SERVICES, Services
from bot.demo import open_demo_study_day, seed_demo
from bot.quiz.bank import seed_sample_bank
from bot.quiz.lookup import LookupCache, warm_up
from bot.quiz.timer import QuizTimer
from handlers import crosscheck as crosscheck_handlers
from handlers import help as help_handlers
from handlers import lookup as lookup_handlers
from handlers import meetings as meeting_handlers
from handlers import notices as notice_handlers
from handlers import org as org_handlers
from handlers import points as points_handlers
from handlers import quiz as quiz_handlers
from handlers import roles as role_handlers
from handlers import study as study_handlers
from handlers import tasks as task_handlers
from schedules import declared_jobs

log = logging.getLogger(__name__)

# Priority order: earlier routers win ties between filters; command words are matched longest first.
ROUTERS: tuple[Router, ...] = (
    help_handlers.router,
    lookup_handlers.router,
    quiz_handlers.router,
    points_handlers.router,
    study_handlers.router,
    meeting_handlers.router,
    notice_handlers.router,
    role_handlers.router,
    org_handlers.router,
    task_handlers.router,
    crosscheck_handlers.router,
)


async def open_services(
    config: Config,
    *,
    clock: Clock | None = None,
    routers: Sequence[Router] = ROUTERS,
    jobs: Sequence[Job] | None = None,
    migrate: bool = True,
) -> Services:
    """Connect to the database (migrating it), sync config, seed demo data; nothing runs yet."""
    clock = clock or system_clock(config.tz)
    engine = db.create_engine(config.database)
    if migrate:
        await db.upgrade(engine)
    sessions = db.session_factory(engine)
    async with db.transaction(sessions) as session:
        await sync_config(session, config)
        if config.demo.seed:
            await seed_demo(session, config, clock())
        await open_demo_study_day(Context(config=config, session=session, clock=clock))
        seeded = await seed_sample_bank(session, clock())
        if seeded:
            log.info("question bank was empty: imported %d sample questions", seeded)
    clients: dict[str, ChannelClient] = {}
    sender = OutboxSender(sessions, clients, config.outbox, clock)
    lookup = LookupCache(engine=engine)
    dispatcher = Dispatcher(routers)
    directory = Directory()
    async with db.read_only(sessions) as session:
        await directory.load(session)
    # On a SQLite file the group commit has an engine of its own whose statements run without a thread hop
    # (bot/core/sqlite_inline.py); it queues for the write lock with the app engine's writers.
    writer, checkpoint = engine, None
    if db.inline_path(config.database) is not None:
        writer = db.create_engine(config.database, inline=True, writers=db.writer_queue(engine))
        checkpoint = functools.partial(db.checkpoint, engine)
    pipeline = Pipeline(config, writer, clock, dispatcher, lookup, directory, sender.notify, checkpoint)
    sender.inbound_waiting = pipeline.commits.waiting
    runner = JobRunner(declared_jobs(config) if jobs is None else jobs, config, sessions, clock, sender)
    return Services(config, clock, engine, sessions, pipeline, sender, runner, clients, lookup)


# The start-up warm-up (jieba's dictionary, then gc.freeze()); done when the process runs at its usual speed.
WARM = web.AppKey("warm", asyncio.Task[None])
# Container allocations between two collections of the young generation, once warm (_warm_up()).
_GC_YOUNG = 50_000


async def _warm_up(services: Services) -> None:
    """Load jieba's dictionary in a thread, build the 搜题 index and compile the group commit's statements, then
    take everything loaded so far out of the garbage collector.

    The dictionary, the question index and the ORM's mappings are hundreds of thousands of long-lived
    objects: without gc.freeze() every full collection walks them all (pauses of ~100 ms under load).

    Then the young generation is collected every 50,000 container allocations instead of 700: a message makes a
    few hundred short-lived containers (the ORM's rows, dicts, frames), and CPython's default collected several
    times per message for garbage that reference counting frees anyway (measured: help/chatter over WeCom
    0.54× → 0.75× its bare handler, the realistic mix's p99 119 → 82 ms). Older generations keep their ratios.
    """
    await asyncio.to_thread(warm_up)
    await services.lookup.refresh(services.engine)
    commits = services.pipeline.commits
    commits.statements.warm(commits.engine.dialect)
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GC_YOUNG, 20, 20)


def build_app(
    config: Config,
    *,
    clock: Clock | None = None,
    background: bool = True,
    routers: Sequence[Router] = ROUTERS,
    jobs: Sequence[Job] | None = None,
) -> web.Application:
    """The aiohttp application; with background=False the sender and scheduler are left to the caller."""
    from bot.core.channels import sim, wecom

    app = web.Application(client_max_size=config.server.max_body_bytes)
    overload.setup(app, config.server)
    sim.setup(app, config)
    if config.wecom.enabled:
        wecom.setup_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        services = await open_services(config, clock=clock, routers=routers, jobs=jobs)
        app[SERVICES] = services
        try:
            await sim.start(app, services)
        except BaseException:
            await services.close()
            raise
        quiz_timer = QuizTimer(config, services.sessions, services.clock, services.sender)
        warming: asyncio.Task[None] | None = None
        # Whatever fails or is cancelled from here on (a catch-up, the listener's start when the port is taken),
        # every background task is stopped and awaited and then the engine disposed, while the loop still runs:
        # a connection left checked out would be finalised by the garbage collector after the loop closed.
        try:
            if config.wecom.enabled:
                wecom.attach(app, services)
            if background:
                warming = asyncio.create_task(_warm_up(services), name="lookup-warm-up")
                app[WARM] = warming
                services.sender.start()
                quiz_timer.start()
                if config.scheduler.enabled:
                    await services.jobs.catch_up()
                    services.jobs.start()
            log.info("yizhan is up: %d routers, %d jobs", len(routers), len(services.jobs.jobs))
            yield
        finally:
            try:
                if warming is not None:
                    warming.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await warming
                await services.lookup.close()
                await sim.stop(app)
                services.jobs.shutdown()
                await services.jobs.settle()  # the cancelled retries, each out of its transaction
                await quiz_timer.stop()
                await services.sender.stop(config.server.shutdown_timeout_seconds)
                await wecom.close(app, config.server.shutdown_timeout_seconds)
            finally:
                await services.close()
            log.info("yizhan stopped; database closed")

    app.cleanup_ctx.append(lifecycle)
    return app
