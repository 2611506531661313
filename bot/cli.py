"""The `yizhan` command: run, db upgrade, jobs list, jobs run NAME."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from bot import __version__
from bot.config import Config, ConfigError, load_config

EXIT_CONFIG = 2
DEFAULT_CONFIG = "config.toml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yizhan",
        description="学习驿站 (yizhan): a group-chat bot for Party branches.",
    )
    parser.add_argument("--version", action="version", version=f"yizhan {__version__}")
    parser.add_argument(
        "--config",
        default=os.environ.get("YIZHAN_CONFIG", DEFAULT_CONFIG),
        help="path to config.toml (default: $YIZHAN_CONFIG or ./config.toml)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="start the server, outbox sender and scheduler (applies migrations)")
    run.add_argument("--host", help="override [server] host")
    run.add_argument("--port", type=int, help="override [server] port")

    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply Alembic migrations up to the newest revision")

    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    jobs_sub.add_parser("list", help="show scheduled jobs with their next fire times")
    jobs_run = jobs_sub.add_parser("run", help="fire one job now (its messages go out with the next `run`)")
    jobs_run.add_argument("name", help="job name, as shown by `yizhan jobs list`")
    return parser


def _setup_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("YIZHAN_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"yizhan: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    _setup_logging()
    if args.command == "run":
        return _run(config, args.host, args.port)
    if args.command == "db":
        return asyncio.run(_db_upgrade(config))
    if args.command == "jobs" and args.jobs_command == "list":
        return _jobs_list(config)
    return asyncio.run(_jobs_run(config, args.name))


def _run(config: Config, host: str | None, port: int | None) -> int:
    from aiohttp import web

    from bot.app import build_app

    changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if changes:
        config = config.replace(server=changes)
    app = build_app(config)
    print(f"yizhan {__version__}: open http://{config.server.host}:{config.server.port}/  (Ctrl+C to stop)")
    web.run_app(
        app,
        host=config.server.host,
        port=config.server.port,
        shutdown_timeout=config.server.shutdown_timeout_seconds,
        print=None,
        access_log=None,
    )
    return 0


async def _db_upgrade(config: Config) -> int:
    from bot import db

    engine = db.create_engine(config.database)
    try:
        await db.upgrade(engine)
        revision = await db.current_revision(engine)
    finally:
        await engine.dispose()
    print(f"database is at revision {revision}")
    return 0


def _jobs_list(config: Config) -> int:
    from bot.clock import system_clock
    from schedules import declared_jobs

    now = system_clock(config.tz)()
    print(f"{'job':<24} {'schedule':<16} {'next fire':<27} description")
    for job in declared_jobs(config):
        nxt = job.trigger(config).get_next_fire_time(None, now)
        print(f"{job.name:<24} {job.cron:<16} {nxt.isoformat() if nxt else '-':<27} {job.description}")
    return 0


async def _jobs_run(config: Config, name: str) -> int:
    from bot.app import open_services
    from bot.scheduler import JobNotFound

    services = await open_services(config)
    try:
        try:
            await services.jobs.run_now(name)
        except JobNotFound:
            known = ", ".join(services.jobs.jobs)
            print(f"yizhan: no job named {name!r} (known: {known})", file=sys.stderr)
            return 1
        print(f"job {name} fired; its messages are in the outbox and go out with `yizhan run`")
    finally:
        await services.engine.dispose()
    return 0
