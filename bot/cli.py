"""The `yizhan` command: run, db upgrade, jobs list, jobs run NAME, questions import/export, …"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import re
import socket
import sqlite3
import sys
import threading
import traceback
import typing
import unicodedata
from collections.abc import Callable, Coroutine, Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot import __version__
from bot.core import texts
from bot.core.config import MEETING_KINDS, Config, ConfigError, load_config
from bot.core.logs import config_secrets, setup_logging
from bot.tasks import texts as task_texts

EXIT_CONFIG = 2
EXIT_USAGE = 2  # argparse's own code for a usage error
EXIT_FAILED = 1
DEFAULT_CONFIG = "config.toml"

log = logging.getLogger(__name__)


class UsageError(Exception):
    """A command line the command cannot act on: printed as one line, exit 2."""


class _Formatter(argparse.HelpFormatter):
    """argparse's help with a Chinese "用法：" line."""

    def add_usage(self, usage: typing.Any, actions: typing.Any, groups: typing.Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix if prefix is not None else texts.CLI_USAGE_PREFIX)


def _chinese(message: str, prog: str) -> str:
    """argparse's own error message in Chinese where we know its shape (else as argparse says it)."""
    for pattern, template in texts.CLI_ARGPARSE_MESSAGES:
        found = re.match(pattern, message)
        if found:
            words = found.groupdict()
            if "metavar" in words:  # an unknown subcommand: say what it is not, and list the ones there are
                words["kind"] = texts.CLI_SUBCOMMAND_KINDS[words["metavar"]]
                words["choices"] = texts.LIST_SEPARATOR.join(c.strip("'") for c in words["choices"].split(", "))
            return template.format(prog=prog, **words)
    return message


class _Parser(argparse.ArgumentParser):
    """argparse in Chinese, with a usage error as one line (the usage itself is one --help away)."""

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = texts.CLI_POSITIONALS
        self._optionals.title = texts.CLI_OPTIONALS
        self.add_argument("-h", "--help", action="help", help=texts.CLI_HELP_HELP)

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, texts.CLI_USAGE_ERROR.format(prog=self.prog, message=_chinese(message, self.prog)) + "\n")


def _parser() -> argparse.ArgumentParser:
    t = texts
    parser = _Parser(prog="yizhan", description=t.CLI_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"yizhan {__version__}", help=t.CLI_HELP_VERSION)
    parser.add_argument("--config", default=os.environ.get("YIZHAN_CONFIG", DEFAULT_CONFIG), help=t.CLI_HELP_CONFIG)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title=t.CLI_HELP_COMMAND)

    run = sub.add_parser("run", help=t.CLI_HELP_RUN, description=t.CLI_HELP_RUN)
    run.add_argument("--host", help=t.CLI_HELP_HOST)
    run.add_argument("--port", type=int, help=t.CLI_HELP_PORT)

    db = sub.add_parser("db", help=t.CLI_HELP_DB, description=t.CLI_HELP_DB)
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True, title=t.CLI_HELP_ACTION)
    db_sub.add_parser("upgrade", help=t.CLI_HELP_DB_UPGRADE, description=t.CLI_HELP_DB_UPGRADE)

    jobs = sub.add_parser("jobs", help=t.CLI_HELP_JOBS, description=t.CLI_HELP_JOBS)
    jobs_sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True, title=t.CLI_HELP_ACTION)
    jobs_sub.add_parser("list", help=t.CLI_HELP_JOBS_LIST, description=t.CLI_HELP_JOBS_LIST)
    jobs_run = jobs_sub.add_parser("run", help=t.CLI_HELP_JOBS_RUN, description=t.CLI_HELP_JOBS_RUN)
    jobs_run.add_argument("name", help=t.CLI_HELP_JOB_NAME)

    meetings = sub.add_parser("meetings", help=t.CLI_HELP_MEETINGS, description=t.CLI_HELP_MEETINGS)
    meetings_sub = meetings.add_subparsers(
        dest="meetings_command", metavar="ACTION", required=True, title=t.CLI_HELP_ACTION
    )
    add = meetings_sub.add_parser("add", help=t.CLI_HELP_MEETINGS_ADD, description=t.CLI_HELP_MEETINGS_ADD)
    add.add_argument("kind", choices=MEETING_KINDS, help=t.CLI_HELP_KIND)
    add.add_argument("--at", dest="at", type=_datetime, required=True, help=t.CLI_HELP_AT)
    add.add_argument("--topic", default="", help=t.CLI_HELP_TOPIC)
    add.add_argument("--location", default="", help=t.CLI_HELP_LOCATION)
    add.add_argument("--group", default="", help=t.CLI_HELP_GROUP)
    add.add_argument("--code", action="store_true", help=t.CLI_HELP_CODE)
    add.add_argument("--branch", help=t.CLI_HELP_BRANCH)
    listing = meetings_sub.add_parser("list", help=t.CLI_HELP_MEETINGS_LIST, description=t.CLI_HELP_MEETINGS_LIST)
    listing.add_argument("--branch", help=t.CLI_HELP_BRANCH)

    questions = sub.add_parser("questions", help=t.CLI_HELP_QUESTIONS, description=t.CLI_HELP_QUESTIONS)
    questions_sub = questions.add_subparsers(
        dest="questions_command", metavar="ACTION", required=True, title=t.CLI_HELP_ACTION
    )
    bank_import = questions_sub.add_parser(
        "import", help=t.CLI_HELP_QUESTIONS_IMPORT, description=t.CLI_HELP_QUESTIONS_IMPORT
    )
    bank_import.add_argument("file", type=Path, help=t.CLI_HELP_BANK_FILE)
    bank_export = questions_sub.add_parser(
        "export", help=t.CLI_HELP_QUESTIONS_EXPORT, description=t.CLI_HELP_QUESTIONS_EXPORT
    )
    bank_export.add_argument("--out", type=_bank_path, required=True, help=t.CLI_HELP_BANK_OUT)

    export = sub.add_parser("export", help=t.CLI_HELP_EXPORT, description=t.CLI_HELP_EXPORT)
    export_sub = export.add_subparsers(
        dest="export_command", metavar="RECORDS", required=True, title=t.CLI_HELP_RECORDS
    )
    for name, text in t.CLI_HELP_EXPORT_KINDS.items():
        one = export_sub.add_parser(name, help=text, description=text)
        one.add_argument("--from", dest="start", type=_date, required=True, help=t.CLI_HELP_FROM)
        one.add_argument("--to", dest="end", type=_date, required=True, help=t.CLI_HELP_TO)
        one.add_argument("--out", type=_xlsx_path, required=True, help=t.CLI_HELP_OUT)
        one.add_argument("--branch", help=t.CLI_HELP_BRANCH)
    _task_parsers(sub)
    return parser


def _task_parsers(sub: typing.Any) -> None:
    """`yizhan tasks …`: 月清单 template/import, 季调度 export, 年评比 scores (help and output in Chinese)."""
    t = texts
    tasks = sub.add_parser("tasks", help=t.CLI_HELP_TASKS)
    tasks_sub = tasks.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)
    template = tasks_sub.add_parser("template", help=t.CLI_HELP_TASKS_TEMPLATE)
    template.add_argument("file", type=_xlsx_path, help=t.CLI_HELP_XLSX_OUT)
    task_import = tasks_sub.add_parser("import", help=t.CLI_HELP_TASKS_IMPORT)
    task_import.add_argument("file", type=Path, help=t.CLI_HELP_XLSX_IN)
    task_import.add_argument("--unit", required=True, help=t.CLI_HELP_ISSUING_UNIT)
    task_export = tasks_sub.add_parser("export", help=t.CLI_HELP_TASKS_EXPORT)
    task_export.add_argument("--quarter", required=True, help=t.CLI_HELP_QUARTER)
    task_export.add_argument("--unit", required=True, help=t.CLI_HELP_UNIT)
    task_export.add_argument("file", type=_xlsx_path, help=t.CLI_HELP_XLSX_OUT)
    scores = tasks_sub.add_parser("scores", help=t.CLI_HELP_TASKS_SCORES)
    scores.add_argument("--year", type=int, required=True, help=t.CLI_HELP_YEAR)
    scores.add_argument("--unit", required=True, help=t.CLI_HELP_UNIT)
    scores.add_argument("--chart", type=Path, help=t.CLI_HELP_SCORE_CHART)
    scores.add_argument("file", type=_xlsx_path, help=t.CLI_HELP_XLSX_OUT)


# --- errors: every error an operator can cause or meet is one line on stderr, never a traceback -------------
# Each command is wrapped: a usage error exits 2; the database, a file or a socket failing exits 1, with the
# traceback logged at DEBUG (YIZHAN_LOG_LEVEL=DEBUG). A bug still shows its traceback.
_Command = typing.TypeVar("_Command", bound=Callable[..., int])
_AsyncCommand = typing.TypeVar("_AsyncCommand", bound=Callable[..., Coroutine[typing.Any, typing.Any, int]])
_REPORTED = (UsageError, SQLAlchemyError, OSError)


def _reported(command: _Command) -> _Command:
    @functools.wraps(command)
    def run(config: Config, *args: typing.Any, **kwargs: typing.Any) -> int:
        try:
            return command(config, *args, **kwargs)
        except _REPORTED as exc:
            return _report(exc, config)

    return typing.cast(_Command, run)


def _reported_async(command: _AsyncCommand) -> _AsyncCommand:
    @functools.wraps(command)
    async def run(config: Config, *args: typing.Any, **kwargs: typing.Any) -> int:
        try:
            return await command(config, *args, **kwargs)
        except _REPORTED as exc:
            code = _report(exc, config)
            if _cannot_connect(exc):
                _settle_connect_threads()
            return code

    return typing.cast(_AsyncCommand, run)


def _settle_connect_threads(timeout: float = 2.0) -> None:
    """Wait, while the event loop still exists, for aiosqlite's worker threads of connections that failed to open:
    each closes itself from its thread and then answers the loop; once asyncio.run() has closed the loop, that
    answer prints an "Event loop is closed" traceback after the one-line error."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and "_connection_worker_thread" in thread.name:
            thread.join(timeout)


def _report(exc: Exception, config: Config) -> int:
    if isinstance(exc, UsageError):
        _say_error(str(exc))
        return EXIT_USAGE
    log.debug("command failed", exc_info=exc)
    if _cannot_connect(exc):
        # The driver's words ("unable to open database file", "Connect call failed") are in the DEBUG log.
        if make_url(config.database.url).get_backend_name() == "sqlite":
            _say_error(texts.CLI_DATABASE_FILE_UNREACHABLE.format(path=_database_name(config)))
        else:
            _say_error(texts.CLI_DATABASE_UNREACHABLE.format(url=_database_name(config)))
    elif isinstance(exc, SQLAlchemyError):
        # Its first line: without the SQL, the parameters, the driver's class and the "Background" link.
        error = _DRIVER_PREFIX.sub("", str(exc).strip().splitlines()[0])
        _say_error(texts.CLI_DATABASE_ERROR.format(database=_database_name(config), error=error))
    elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        _say_error(f"{exc.filename}: {exc.strerror}")
    else:
        _say_error(str(exc))
    return EXIT_FAILED


_DRIVER_PREFIX = re.compile(r"^\([\w.]+\)\s*")


def _cannot_connect(exc: BaseException) -> bool:
    """Whether the database could not be connected to: a driver error raised before any statement (SQLite's
    "unable to open database file", PostgreSQL's unknown role or database), or a network error from asyncpg's
    connect (refused, unknown host, timed out), which SQLAlchemy passes through unwrapped."""
    if isinstance(exc, DBAPIError):
        return exc.statement is None
    if isinstance(exc, OSError) and exc.filename is None:
        return any(frame.f_code.co_filename.find("asyncpg") >= 0 for frame, _ in traceback.walk_tb(exc.__traceback__))
    return False


def _sqlite_file(database: str | None) -> str:
    """The SQLite file a URL names, as an absolute path (a relative one is relative to where yizhan runs)."""
    return str(Path(database).absolute()) if database else ":memory:"


def _sqlite_file_opens(config: Config) -> None:
    """Open a SQLite file once before the server starts (creating it, as the app would): one that cannot be opened
    is reported here as for any command. Inside the server the failed connect's aiosqlite thread could still be
    finishing when the event loop closes, and print a traceback after the one line."""
    from bot.core import db

    path = db.inline_path(config.database)
    if path is None:
        return
    try:
        sqlite3.connect(path).close()
    except sqlite3.Error as exc:
        raise DBAPIError(None, None, exc) from exc


def _database_name(config: Config) -> str:
    """The database as an operator knows it: the SQLite file, or the URL with its password hidden."""
    url = make_url(config.database.url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_file(url.database)
    return url.render_as_string(hide_password=True)


def _say_error(text: str) -> None:
    """One line on stderr, after the program's name."""
    print(f"yizhan: {text}", file=sys.stderr)


def _xlsx_path(text: str) -> Path:
    """Records are workbooks of several sheets, which CSV cannot hold: the file must be named .xlsx."""
    path = Path(text)
    if path.suffix.lower() != ".xlsx":
        raise argparse.ArgumentTypeError(texts.CLI_NOT_XLSX.format(text=text))
    return path


def _bank_path(text: str) -> Path:
    """A question bank is written as .xlsx (or .json, the sample bank's format); anything else is a usage error."""
    path = Path(text)
    if path.suffix.lower() not in (".xlsx", ".json"):
        raise argparse.ArgumentTypeError(texts.CLI_BANK_OUT_SUFFIX.format(text=text))
    return path


def _writable(path: Path) -> None:
    """Refuse an output file whose directory is missing before any work is done."""
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(texts.CLI_OUT_NO_DIR.format(folder=folder))
    if path.is_dir():
        raise UsageError(texts.CLI_OUT_IS_DIR.format(path=path))


def _branch_key(config: Config, given: str | None) -> str:
    """--branch, checked against config.toml; the first branch by default."""
    if given is None:
        return config.branches[0].id if config.branches else ""
    known = [branch.id for branch in config.branches]
    if given not in known:
        raise UsageError(texts.CLI_NO_BRANCH_CONFIG.format(branch=given, known=", ".join(known) or texts.CLI_NONE))
    return given


def _datetime(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M")  # noqa: DTZ007 - made aware with the configured zone
    except ValueError:
        raise argparse.ArgumentTypeError(texts.CLI_BAD_DATETIME.format(text=text)) from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(texts.CLI_BAD_DATE.format(text=text)) from None


def _setup_logging(config: Config, command: str) -> None:
    """Logging at YIZHAN_LOG_LEVEL, secrets masked (bot/core/logs.py; tests install the same).

    By default INFO for `run` (the server's log) and WARNING for the one-shot commands, whose output is what
    they print: an operator's `yizhan jobs list` is a table, not a table between log lines.
    """
    default = "INFO" if command == "run" else "WARNING"
    setup_logging(os.environ.get("YIZHAN_LOG_LEVEL", default), secrets=config_secrets(config))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        _say_error(texts.CLI_CONFIG_ERROR.format(error=exc))
        return EXIT_CONFIG
    try:
        _setup_logging(config, args.command)
    except ValueError:
        level = texts.CLI_BAD_LOG_LEVEL.format(value=os.environ.get("YIZHAN_LOG_LEVEL"))
        _say_error(texts.CLI_CONFIG_ERROR.format(error=level))
        return EXIT_CONFIG
    if args.command == "run":
        return _run(config, args.host, args.port)
    if args.command == "db":
        return asyncio.run(_db_upgrade(config))
    if args.command == "jobs" and args.jobs_command == "list":
        return _jobs_list(config)
    if args.command == "export":
        return asyncio.run(_export(config, args))
    if args.command == "meetings":
        return asyncio.run(_meetings(config, args))
    if args.command == "questions":
        return asyncio.run(_questions(config, args))
    if args.command == "tasks":
        return asyncio.run(_tasks(config, args))
    return asyncio.run(_jobs_run(config, args.name))


@_reported
def _run(config: Config, host: str | None, port: int | None) -> int:
    from aiohttp import web

    from bot.app import build_app
    from bot.core.channels import sim

    changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if changes:
        config = config.replace(server=changes)
    warning = sim.exposure_warning(config)
    if warning:  # the first line, before anything else is said
        print(warning, flush=True)
    _sqlite_file_opens(config)
    app = build_app(config)
    url = sim.page_url(config)
    if url:
        print(texts.CLI_RUN_OPEN.format(version=__version__, url=url), flush=True)
    else:
        host, port = config.server.host, config.server.port
        print(texts.CLI_RUN_LISTENING.format(version=__version__, host=host, port=port), flush=True)
    web.run_app(
        app,
        host=config.server.host,
        port=config.server.port,
        shutdown_timeout=config.server.shutdown_timeout_seconds,
        print=None,
        access_log=None,
    )
    return 0


@_reported_async
async def _db_upgrade(config: Config) -> int:
    from bot.core import db

    engine = db.create_engine(config.database)
    try:
        before = await db.current_revision(engine)
        await db.upgrade(engine)
        revision = await db.current_revision(engine)
    finally:
        await engine.dispose()
    print((texts.CLI_DB_AT if revision == before else texts.CLI_DB_UPGRADED).format(revision=revision))
    return 0


@_reported
def _jobs_list(config: Config) -> int:
    from bot.core.clock import system_clock
    from schedules import declared_jobs

    now = system_clock(config.tz)()
    rows = []
    for job in declared_jobs(config):
        nxt = job.trigger(config).get_next_fire_time(None, now)
        rows.append((job.name, job.cron, nxt.strftime("%Y-%m-%d %H:%M") if nxt else "-", _job_description(config, job)))
    print(_table(texts.CLI_JOBS_HEADER, rows))
    return 0


def _job_description(config: Config, job: typing.Any) -> str:
    """The job's description in Chinese (texts.CLI_JOB_DESCRIPTIONS), else as declared."""
    name, _, branch_id = job.name.partition(".")
    template = texts.CLI_JOB_DESCRIPTIONS.get(f"{name}." if branch_id else name)
    if template is None:
        return str(job.description)
    spec = config.branch(branch_id) if branch_id else None
    return template.format(branch=spec.name if spec else branch_id)


def _one_shot(config: Config) -> Config:
    """The configuration a one-shot command opens the services with: without `[demo] study_day_open`.

    That opens the demo's study day when the bot starts (`yizhan run`); a command that did it on the side would
    queue the demo reminder without printing it, and `jobs run study_reminder.demo` would then report that reminder
    as already sent.
    """
    return config.replace(demo={"study_day_open": False})


@_reported_async
async def _jobs_run(config: Config, name: str) -> int:
    from bot.app import open_services
    from bot.core.scheduler import JobNotFound

    services = await open_services(_one_shot(config))
    try:
        try:
            outgoing: list[typing.Any] = []
            await services.jobs.run_now(name, outgoing)
        except JobNotFound:
            _say_error(texts.CLI_UNKNOWN_JOB.format(name=name, known=", ".join(services.jobs.jobs)))
            return 1
        if not outgoing:
            print(texts.CLI_JOB_NOTHING.format(name=name))
            reason = await _why_nothing(services, name)
            if reason:
                print(reason)
            return 0
        print(texts.CLI_JOB_SENT.format(name=name, count=len(outgoing)))
        for row in outgoing:
            template = texts.CLI_JOB_TARGET_CHAT if row.target_kind == "chat" else texts.CLI_JOB_TARGET_USER
            preview = row.text.splitlines()[0] if row.text else ""
            print(template.format(channel=row.channel, target=row.target_id, preview=preview))
        print(await _delivery(services, outgoing))
    finally:
        await services.close()
    return 0


# How long `jobs run` watches the outbox for the running bot to deliver what the job wrote.
DELIVERY_WAIT_SECONDS = 10.0


def _bot_is_running(config: Config) -> bool:
    """Whether something answers on the server's address (a running `yizhan run`, with its outbox sender)."""
    host = config.server.host if config.server.host not in ("0.0.0.0", "::") else "127.0.0.1"
    try:
        with socket.create_connection((host, config.server.port), timeout=1.0):
            return True
    except OSError:
        return False


async def _delivery(services: typing.Any, rows: list[typing.Any]) -> str:
    """Wait (a little) for the running bot's sender to deliver the rows; say where they are."""
    from sqlalchemy import select

    from bot.core.db import read_only
    from bot.core.models import Outbox, OutboxStatus

    config = services.config
    if not _bot_is_running(config):
        return texts.CLI_JOB_NOT_RUNNING.format(host=config.server.host, port=config.server.port)
    ids = [row.id for row in rows]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELIVERY_WAIT_SECONDS
    while True:
        async with read_only(services.sessions) as session:
            found = (await session.execute(select(Outbox.status, Outbox.last_error).where(Outbox.id.in_(ids)))).all()
        sent = sum(1 for status, _ in found if status == OutboxStatus.SENT)
        failed = [error or "" for status, error in found if status == OutboxStatus.FAILED]
        if sent == len(ids):
            simulated = all(row.channel == "sim" for row in rows)
            return texts.CLI_JOB_DELIVERED if simulated else texts.CLI_JOB_DELIVERED_OTHER
        if failed and sent + len(failed) == len(ids):
            return texts.CLI_JOB_FAILED.format(count=len(failed), sent=sent, error=failed[0], first=min(ids))
        if loop.time() >= deadline:
            return texts.CLI_JOB_NOT_YET.format(
                seconds=int(DELIVERY_WAIT_SECONDS), sent=sent, count=len(ids), first=min(ids)
            )
        await asyncio.sleep(0.2)


async def _why_nothing(services: typing.Any, name: str) -> str:
    """Why a job sent nothing, where we can tell (the study-day reminder); '' otherwise."""
    from datetime import time as dt_time
    from datetime import timedelta

    from sqlalchemy import select

    from bot.core import display
    from bot.core.db import read_only
    from bot.core.holidays import study_week_starting_on, week_key
    from bot.core.members import branch_by_key
    from bot.core.models import RollCall, RollCallStatus
    from bot.study.domain import KIND, week_label

    config = services.config
    prefix = "study_reminder."
    spec = config.branch(name[len(prefix) :]) if name.startswith(prefix) else None
    if spec is None:
        return ""
    if not spec.study.enabled:
        return texts.CLI_JOB_STUDY_OFF.format(branch=spec.name)
    today = services.clock().astimezone(config.tz).date()
    async with read_only(services.sessions) as session:
        branch = await branch_by_key(session, spec.id)
        latest = (
            (
                await session.execute(
                    select(RollCall.period_key, RollCall.status)
                    .where(RollCall.branch_id == branch.id, RollCall.kind == KIND)
                    .order_by(RollCall.id.desc())
                    .limit(1)
                )
            ).first()
            if branch is not None
            else None
        )
    if latest is not None and latest.period_key in (week_key(today), week_key(today + timedelta(days=7))):
        template = texts.CLI_JOB_STUDY_OPEN if latest.status == RollCallStatus.OPEN else texts.CLI_JOB_STUDY_SENT
        return template.format(branch=spec.name, week=week_label(latest.period_key or ""))
    if study_week_starting_on(today, spec.study.weekday, spec.study.holiday_rule):  # today, but it has closed
        hour, minute = (int(part) for part in spec.study.time.split(":"))
        opens = datetime.combine(today, dt_time(hour, minute), tzinfo=config.tz)
        close = opens + timedelta(hours=spec.study.close_after_hours)
        return texts.CLI_JOB_STUDY_CLOSED.format(branch=spec.name, close=display.when(close, config.tz))
    next_day = next(
        (
            day
            for day in (today + timedelta(days=n) for n in range(1, 15))
            if study_week_starting_on(day, spec.study.weekday, spec.study.holiday_rule)
        ),
        None,
    )
    return texts.CLI_JOB_STUDY_NOT_TODAY.format(
        today=display.day(today),
        branch=spec.name,
        time=spec.study.time,
        next_day=display.day(next_day) if next_day else "-",
    )


def _width(text: str) -> int:
    """Columns a text takes in a terminal (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows as aligned columns under a header (Chinese characters counted double-wide)."""
    widths = [max(_width(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [str(cell) + " " * (widths[i] - _width(str(cell))) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


async def _meetings_table(ctx: typing.Any, branch: typing.Any) -> str:
    """`meetings list`: the open meetings as a Chinese table (Beijing time), or 暂无会议."""
    from bot.core import display
    from bot.core.rollcall import tally
    from bot.meetings.domain import open_meetings, window

    now = ctx.clock()
    rows = []
    for view in await open_meetings(ctx, branch.id):
        opens, closes = window(ctx, view.meeting)
        if now < opens:
            status = texts.CLI_MEETING_STATUS_UPCOMING
        elif now <= closes:
            status = texts.CLI_MEETING_STATUS_CHECK_IN
        else:
            status = texts.CLI_MEETING_STATUS_CLOSING
        counted = await tally(ctx.session, view.roll_call)
        rows.append(
            (
                f"#{view.roll_call.seq}",
                view.kind_name,
                display.when(view.meeting.starts_at, ctx.config.tz),
                status,
                str(counted.expected),
                view.meeting.location or "-",
                view.meeting.topic or "-",
            )
        )
    return _table(texts.CLI_MEETINGS_HEADER, rows) if rows else texts.CLI_MEETINGS_EMPTY


@_reported_async
async def _export(config: Config, args: argparse.Namespace) -> int:
    from bot.core import db
    from bot.core.clock import system_clock
    from bot.core.members import branch_by_key
    from bot.records import export

    if args.end < args.start:
        raise UsageError(texts.CLI_TO_BEFORE_FROM)
    branch_key = _branch_key(config, args.branch)
    _writable(args.out)
    engine = db.create_engine(config.database)
    try:
        await db.upgrade(engine)
        async with db.session_factory(engine)() as session:
            branch = await branch_by_key(session, branch_key)
            if branch is None:
                _say_error(texts.CLI_NO_BRANCH_DB.format(branch=branch_key))
                return 1
            if args.export_command == "attendance":
                now = system_clock(config.tz)()
                result = await export.export_attendance(session, branch, args.start, args.end, args.out, config.tz, now)
            else:
                writer = export.export_study if args.export_command == "study" else export.export_notices
                result = await writer(session, branch, args.start, args.end, args.out, config.tz)
    finally:
        await engine.dispose()
    kind = texts.CLI_EXPORT_KINDS[args.export_command]
    print(
        texts.CLI_EXPORT_WROTE.format(
            path=result.path, count=result.roll_calls, kind=kind, rows=result.rows, branch=branch.name
        )
    )
    return 0


@_reported_async
async def _meetings(config: Config, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.app import open_services
    from bot.core import display
    from bot.core.context import Context
    from bot.core.db import transaction
    from bot.core.members import branch_by_key
    from bot.core.models import PartyGroup
    from bot.meetings.domain import create_meeting

    branch_key = _branch_key(config, args.branch)
    services = await open_services(_one_shot(config))
    try:
        async with transaction(services.sessions) as session:
            ctx = Context(config=config, session=session, clock=services.clock)
            branch = await branch_by_key(session, branch_key)
            if branch is None:
                _say_error(texts.CLI_NO_BRANCH_DB.format(branch=branch_key))
                return 1
            if args.meetings_command == "list":
                print(await _meetings_table(ctx, branch))
                return 0
            starts = args.at.replace(tzinfo=config.tz)
            if starts <= services.clock():
                _say_error(texts.CLI_MEETING_PAST.format(when=f"{args.at:%Y-%m-%d %H:%M}"))
                return 1
            group = None
            if args.group:
                group = await session.scalar(
                    select(PartyGroup).where(PartyGroup.branch_id == branch.id, PartyGroup.name == args.group)
                )
                if group is None:
                    _say_error(texts.CLI_NO_PARTY_GROUP.format(branch=branch.name, group=args.group))
                    return 1
            elif args.kind == "group_meeting":
                _say_error(texts.CLI_GROUP_MEETING_NEEDS_GROUP)
                return 1
            view = await create_meeting(
                ctx,
                branch,
                args.kind,
                starts,
                topic=args.topic,
                location=args.location,
                party_group=group,
                with_code=args.code,
            )
            if view is None:
                _say_error(texts.CLI_MEETING_EMPTY_AUDIENCE)
                return 1
            kind_name = texts.MEETING_KIND_NAMES[args.kind]
            when = display.when(starts, config.tz)
            print(texts.CLI_MEETING_CREATED.format(kind=kind_name, seq=view.roll_call.seq, when=when))
            if view.meeting.check_in_code:
                print(texts.CLI_MEETING_CODE.format(code=view.meeting.check_in_code))
    finally:
        await services.close()
    return 0


@_reported_async
async def _questions(config: Config, args: argparse.Namespace) -> int:
    from bot.core import db
    from bot.core.clock import system_clock
    from bot.quiz import texts as quiz_texts
    from bot.quiz.bank import BankFileError, import_bank
    from bot.quiz.bankfile import read_bank, stored_questions, write_bank

    bank = None
    if args.questions_command == "import":
        try:
            bank = read_bank(args.file)
        except BankFileError as exc:
            _say_error(str(exc))
            return EXIT_CONFIG
    engine = db.create_engine(config.database)
    try:
        await db.upgrade(engine)
        if bank is not None:
            questions_read = [q for _, q in bank.questions]
            result = await import_bank(db.session_factory(engine), questions_read, system_clock(config.tz)())
        else:
            async with db.transaction(db.session_factory(engine)) as session:
                questions = await stored_questions(session)
    finally:
        await engine.dispose()
    if bank is None:
        write_bank(questions, args.out)
        print(texts.CLI_BANK_WROTE.format(path=args.out, count=len(questions)))
        return 0
    print(
        texts.CLI_BANK_IMPORTED.format(
            file=args.file.name,
            added=result.added,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=len(bank.rejected),
        )
    )
    unit = quiz_texts.BANK_ROW_UNITS.get(bank.unit, bank.unit)
    for rejected in bank.rejected:
        print(texts.CLI_BANK_REJECTED.format(unit=unit, row=rejected.row, reason=rejected.reason))
    if result.imported == 0:
        _say_error(texts.CLI_NOTHING_IMPORTED)
        return 1
    return 0


@_reported_async
async def _tasks(config: Config, args: argparse.Namespace) -> int:
    """`yizhan tasks template|import|export|scores`."""
    from sqlalchemy import select

    from bot.core import db, org
    from bot.core.clock import system_clock
    from bot.core.context import Context
    from bot.core.members import branch_by_key
    from bot.core.models import Member
    from bot.tasks import files, lists, scoring
    from bot.tasks.chart import ranking_png

    if args.tasks_command == "template":
        _writable(args.file)
        files.write_template(args.file, system_clock(config.tz)().astimezone(config.tz).date())
        print(texts.CLI_TASKS_TEMPLATE_WRITTEN.format(file=args.file))
        return 0
    clock = system_clock(config.tz)
    drafts: list[tuple[str, lists.Draft]] = []
    if args.tasks_command == "import":
        try:
            drafts, errors = files.read_list(args.file, clock().astimezone(config.tz).date())
        except lists.TaskInputError as exc:
            print(f"yizhan: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        if errors or not drafts:
            for line in errors or [texts.CLI_TASKS_NOTHING_TO_ISSUE]:
                print(f"yizhan: {args.file.name} {line}", file=sys.stderr)
            print(texts.CLI_TASKS_NONE_ISSUED, file=sys.stderr)
            return 1
    else:
        _writable(args.file)
        if args.tasks_command == "scores" and args.chart is not None:
            _writable(args.chart)
    engine = db.create_engine(config.database)
    try:
        await db.upgrade(engine)
        async with db.transaction(db.session_factory(engine)) as session:
            ctx = Context(config=config, session=session, clock=clock)
            unit = await branch_by_key(session, args.unit)
            if unit is None:
                print(texts.CLI_TASKS_NO_UNIT.format(unit=args.unit), file=sys.stderr)
                return 1
            if args.tasks_command == "import":
                try:
                    months: dict[str, list[lists.Draft]] = {}
                    for month, draft in drafts:
                        months.setdefault(month, []).append(draft)
                    rows = 0
                    for month, listed in months.items():
                        issued = await lists.issue(ctx, unit, month, listed, None)
                        await lists.announce(ctx, unit, month, issued)
                        rows += len(issued.items)
                except lists.TaskInputError as exc:
                    raise UsageError(str(exc)) from None  # rolls the whole import back
                print(texts.CLI_TASKS_ISSUED.format(unit=unit.name, items=len(drafts), rows=rows))
                return 0
            if args.tasks_command == "export":
                try:
                    summary, items = await lists.quarter_summary(ctx, unit, args.quarter.upper())
                except lists.TaskInputError as exc:
                    print(f"yizhan: {exc}", file=sys.stderr)
                    return EXIT_USAGE
                names = {u.id: u.name for u in await org.subtree(session, unit.id)}
                member_ids = {
                    i
                    for item in items
                    for i in (item.done_by, item.extension_requested_by, item.extension_decided_by)
                    if i is not None
                }
                members = dict(
                    (
                        await session.execute(select(Member.id, Member.display_name).where(Member.id.in_(member_ids)))
                    ).all()
                )
                files.write_quarter(args.file, summary, items, names, members, config.tz)
                print(
                    texts.CLI_TASKS_QUARTER_WRITTEN.format(
                        file=args.file, units=len(summary), items=len(items), unit=unit.name
                    )
                )
                return 0
            scores = await scoring.unit_scores(ctx, unit, args.year)
            files.write_scores(args.file, scores, args.year)
            print(
                texts.CLI_TASKS_SCORES_WRITTEN.format(
                    file=args.file, branches=len(scores), unit=unit.name, year=args.year
                )
            )
            if args.chart is not None:
                png = ranking_png(task_texts.SCORE_CHART_TITLE.format(unit=unit.name, year=args.year), scores)
                if png is None:
                    print(texts.CLI_TASKS_NO_FONT, file=sys.stderr)
                    return 1
                args.chart.write_bytes(png)
                print(texts.CLI_TASKS_CHART_WRITTEN.format(file=args.chart))
    finally:
        await engine.dispose()
    return 0
