"""The `yizhan` command: run, db upgrade, jobs list, jobs run NAME, questions import/export, …"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import sys
import typing
from collections.abc import Callable, Coroutine, Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot import __version__
from bot.config import MEETING_KINDS, Config, ConfigError, load_config
from bot.logs import config_secrets, setup_logging

EXIT_CONFIG = 2
EXIT_USAGE = 2  # argparse's own code for a usage error
EXIT_FAILED = 1
DEFAULT_CONFIG = "config.toml"

log = logging.getLogger(__name__)


class UsageError(Exception):
    """A command line the command cannot act on: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (the usage itself is one --help away)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see: {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
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

    meetings = sub.add_parser("meetings", help="meetings (主题党日, 三会一课)")
    meetings_sub = meetings.add_subparsers(dest="meetings_command", metavar="ACTION", required=True)
    add = meetings_sub.add_parser("add", help="create a meeting; it is announced by the running bot")
    add.add_argument("kind", choices=MEETING_KINDS, help="kind of meeting")
    add.add_argument("--at", dest="at", type=_datetime, required=True, help="start, 'YYYY-MM-DD HH:MM' (local time)")
    add.add_argument("--topic", default="", help="topic (主题)")
    add.add_argument("--location", default="", help="place (地点)")
    add.add_argument("--group", default="", help="党小组 name, for a group_meeting")
    add.add_argument("--code", action="store_true", help="require a 4-digit 签到码 (printed here)")
    add.add_argument("--branch", help="branch id from config.toml (default: the first branch)")
    listing = meetings_sub.add_parser("list", help="open (upcoming or ongoing) meetings")
    listing.add_argument("--branch", help="branch id from config.toml (default: the first branch)")

    questions = sub.add_parser("questions", help="the question bank (题库)")
    questions_sub = questions.add_subparsers(dest="questions_command", metavar="ACTION", required=True)
    bank_import = questions_sub.add_parser(
        "import", help="import questions from .xlsx, .csv or .json; bad rows are reported, the rest imported"
    )
    bank_import.add_argument("file", type=Path, help="the bank file (header row: 题型, 题干, 选项 or A-F, 答案, …)")
    bank_export = questions_sub.add_parser("export", help="write the active questions to .xlsx (or .json)")
    bank_export.add_argument("--out", type=Path, required=True, help="the .xlsx (or .json) file to write")

    export = sub.add_parser("export", help="records (台账) as xlsx")
    export_sub = export.add_subparsers(dest="export_command", metavar="RECORDS", required=True)
    for name, text in (
        ("attendance", "meeting attendance (主题党日、三会一课签到)"),
        ("study", "study-day check-ins (学习打卡)"),
        ("notices", "notices and receipts (通知回执)"),
    ):
        one = export_sub.add_parser(name, help=f"{text} over a period")
        one.add_argument("--from", dest="start", type=_date, required=True, help="first day, YYYY-MM-DD")
        one.add_argument("--to", dest="end", type=_date, required=True, help="last day, YYYY-MM-DD")
        one.add_argument("--out", type=_xlsx_path, required=True, help="the .xlsx file to write")
        one.add_argument("--branch", help="branch id from config.toml (default: the first branch)")
    _task_parsers(sub)
    return parser


def _task_parsers(sub: typing.Any) -> None:
    """`yizhan tasks …`: 月清单 template/import, 季调度 export, 年评比 scores (help and output in Chinese)."""
    tasks = sub.add_parser("tasks", help="月清单、季调度、年评比")
    tasks_sub = tasks.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)
    template = tasks_sub.add_parser("template", help="写出月度清单导入模板（.xlsx）")
    template.add_argument("file", type=_xlsx_path, help="要写入的 .xlsx 文件")
    task_import = tasks_sub.add_parser("import", help="从填好的模板下发清单（有错误的行则一项也不下发）")
    task_import.add_argument("file", type=Path, help="填好的 .xlsx 模板")
    task_import.add_argument("--unit", required=True, help="下发单位在 config.toml 中的 id（党委或党总支）")
    task_export = tasks_sub.add_parser("export", help="季度调度：各单位清单完成情况及事项明细（.xlsx）")
    task_export.add_argument("--quarter", required=True, help="季度，如 2026Q4")
    task_export.add_argument("--unit", required=True, help="单位在 config.toml 中的 id")
    task_export.add_argument("file", type=_xlsx_path, help="要写入的 .xlsx 文件")
    scores = tasks_sub.add_parser("scores", help="年度评比：下属党支部量化考核得分（.xlsx，可另出图表 .png）")
    scores.add_argument("--year", type=int, required=True, help="年份，如 2026")
    scores.add_argument("--unit", required=True, help="单位在 config.toml 中的 id")
    scores.add_argument("--chart", type=Path, help="另写出得分图表（.png）")
    scores.add_argument("file", type=_xlsx_path, help="要写入的 .xlsx 文件")


# --- errors: every error an operator can cause or meet is one line on stderr, never a traceback -------------
# Each command is wrapped: a usage error exits 2; the database, a file or a socket failing exits 1, with the
# traceback logged at DEBUG (YIZHAN_LOG_LEVEL=DEBUG). A bug still shows its traceback.
_Command = typing.TypeVar("_Command", bound=Callable[..., int])
_AsyncCommand = typing.TypeVar("_AsyncCommand", bound=Callable[..., Coroutine[typing.Any, typing.Any, int]])
_REPORTED = (UsageError, SQLAlchemyError, OSError)


def _reported(command: _Command) -> _Command:
    @functools.wraps(command)
    def run(*args: typing.Any, **kwargs: typing.Any) -> int:
        try:
            return command(*args, **kwargs)
        except _REPORTED as exc:
            return _report(exc)

    return typing.cast(_Command, run)


def _reported_async(command: _AsyncCommand) -> _AsyncCommand:
    @functools.wraps(command)
    async def run(*args: typing.Any, **kwargs: typing.Any) -> int:
        try:
            return await command(*args, **kwargs)
        except _REPORTED as exc:
            return _report(exc)

    return typing.cast(_AsyncCommand, run)


def _report(exc: Exception) -> int:
    if isinstance(exc, UsageError):
        print(f"yizhan: {exc}", file=sys.stderr)
        return EXIT_USAGE
    log.debug("command failed", exc_info=exc)
    if isinstance(exc, SQLAlchemyError):
        # Its first line: without the SQL, the parameters and the "Background on this error" link.
        print(f"yizhan: database error: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
    elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        print(f"yizhan: {exc.filename}: {exc.strerror}", file=sys.stderr)
    else:
        print(f"yizhan: {exc}", file=sys.stderr)
    return EXIT_FAILED


def _xlsx_path(text: str) -> Path:
    """Records are workbooks of several sheets, which CSV cannot hold: the file must be named .xlsx."""
    path = Path(text)
    if path.suffix.lower() != ".xlsx":
        raise argparse.ArgumentTypeError(
            f"records are written as .xlsx (several sheets, which CSV cannot hold); got {text!r}"
        )
    return path


def _writable(path: Path) -> None:
    """Refuse an output file whose directory is missing before any work is done."""
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"--out: directory {folder} does not exist")
    if path.is_dir():
        raise UsageError(f"--out: {path} is a directory")


def _branch_key(config: Config, given: str | None) -> str:
    """--branch, checked against config.toml; the first branch by default."""
    if given is None:
        return config.branches[0].id if config.branches else ""
    known = [branch.id for branch in config.branches]
    if given not in known:
        raise UsageError(f"--branch: no branch {given!r} in config.toml (known: {', '.join(known) or 'none'})")
    return given


def _datetime(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M")  # noqa: DTZ007 - made aware with the configured zone
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a time like '2026-11-28 14:30', got {text!r}") from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-11-01, got {text!r}") from None


def _setup_logging(config: Config) -> None:
    """Logging at YIZHAN_LOG_LEVEL (default INFO), secrets masked (bot/logs.py; tests install the same)."""
    setup_logging(os.environ.get("YIZHAN_LOG_LEVEL", "INFO"), secrets=config_secrets(config))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"yizhan: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        _setup_logging(config)
    except ValueError:
        print(
            f"yizhan: config error: YIZHAN_LOG_LEVEL: unknown log level {os.environ.get('YIZHAN_LOG_LEVEL')!r} "
            "(DEBUG, INFO, WARNING or ERROR)",
            file=sys.stderr,
        )
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
    from bot.channels import sim

    changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if changes:
        config = config.replace(server=changes)
    warning = sim.exposure_warning(config)
    if warning:  # the first line, before anything else is said
        print(warning, flush=True)
    app = build_app(config)
    url = sim.page_url(config)
    where = f"open {url}" if url else f"listening on http://{config.server.host}:{config.server.port}/"
    print(f"yizhan {__version__}: {where}  (Ctrl+C to stop)", flush=True)
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
    from bot import db

    engine = db.create_engine(config.database)
    try:
        await db.upgrade(engine)
        revision = await db.current_revision(engine)
    finally:
        await engine.dispose()
    print(f"database is at revision {revision}")
    return 0


@_reported
def _jobs_list(config: Config) -> int:
    from bot.clock import system_clock
    from schedules import declared_jobs

    now = system_clock(config.tz)()
    print(f"{'job':<24} {'schedule':<16} {'next fire':<27} description")
    for job in declared_jobs(config):
        nxt = job.trigger(config).get_next_fire_time(None, now)
        print(f"{job.name:<24} {job.cron:<16} {nxt.isoformat() if nxt else '-':<27} {job.description}")
    return 0


@_reported_async
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
        await services.close()
    return 0


@_reported_async
async def _export(config: Config, args: argparse.Namespace) -> int:
    from bot import db, export
    from bot.clock import system_clock
    from bot.members import branch_by_key

    if args.end < args.start:
        raise UsageError("--to is before --from")
    branch_key = _branch_key(config, args.branch)
    _writable(args.out)
    engine = db.create_engine(config.database)
    try:
        await db.upgrade(engine)
        async with db.session_factory(engine)() as session:
            branch = await branch_by_key(session, branch_key)
            if branch is None:
                print(f"yizhan: no branch {branch_key!r} in the database", file=sys.stderr)
                return 1
            if args.export_command == "attendance":
                now = system_clock(config.tz)()
                result = await export.export_attendance(session, branch, args.start, args.end, args.out, config.tz, now)
            else:
                writer = export.export_study if args.export_command == "study" else export.export_notices
                result = await writer(session, branch, args.start, args.end, args.out, config.tz)
    finally:
        await engine.dispose()
    kind = {"attendance": "meetings", "study": "study weeks", "notices": "notices"}[args.export_command]
    print(f"wrote {result.path}: {result.roll_calls} {kind}, {result.rows} member rows ({branch.name})")
    return 0


@_reported_async
async def _meetings(config: Config, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot import display, texts
    from bot.app import open_services
    from bot.context import Context
    from bot.db import transaction
    from bot.meetings import create_meeting, open_meetings
    from bot.members import branch_by_key
    from bot.models import PartyGroup

    branch_key = _branch_key(config, args.branch)
    services = await open_services(config)
    try:
        async with transaction(services.sessions) as session:
            ctx = Context(config=config, session=session, clock=services.clock)
            branch = await branch_by_key(session, branch_key)
            if branch is None:
                print(f"yizhan: no branch {branch_key!r}", file=sys.stderr)
                return 1
            if args.meetings_command == "list":
                for listed in await open_meetings(ctx, branch):
                    when = display.when(listed.meeting.starts_at, config.tz)
                    meeting = listed.meeting
                    print(f"#{listed.roll_call.seq}\t{meeting.kind}\t{when}\t{meeting.location}\t{meeting.topic}")
                return 0
            starts = args.at.replace(tzinfo=config.tz)
            if starts <= services.clock():
                print(f"yizhan: {args.at:%Y-%m-%d %H:%M} is in the past", file=sys.stderr)
                return 1
            group = None
            if args.group:
                group = await session.scalar(
                    select(PartyGroup).where(PartyGroup.branch_id == branch.id, PartyGroup.name == args.group)
                )
                if group is None:
                    print(f"yizhan: no 党小组 {args.group!r} in {branch.name}", file=sys.stderr)
                    return 1
            elif args.kind == "group_meeting":
                print("yizhan: a group_meeting needs --group", file=sys.stderr)
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
                print("yizhan: the meeting's audience is empty; nothing created", file=sys.stderr)
                return 1
            kind_name = texts.MEETING_KIND_NAMES[args.kind]
            print(f"created {kind_name}#{view.roll_call.seq} at {starts:%Y-%m-%d %H:%M}; the running bot announces it")
            if view.meeting.check_in_code:
                print(f"check-in code: {view.meeting.check_in_code}")
    finally:
        await services.close()
    return 0


@_reported_async
async def _questions(config: Config, args: argparse.Namespace) -> int:
    from bot import db
    from bot.clock import system_clock
    from bot.quiz.bank import BankFileError, import_bank
    from bot.quiz.bankfile import read_bank, stored_questions, write_bank

    if args.questions_command == "export" and args.out.suffix.lower() not in (".xlsx", ".json"):
        print("yizhan: --out must name an .xlsx or .json file", file=sys.stderr)
        return 1
    bank = None
    if args.questions_command == "import":
        try:
            bank = read_bank(args.file)
        except BankFileError as exc:
            print(f"yizhan: {exc}", file=sys.stderr)
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
        print(f"wrote {args.out}: {len(questions)} questions")
        return 0
    print(
        f"{args.file.name}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged, "
        f"{len(bank.rejected)} rejected"
    )
    for rejected in bank.rejected:
        print(f"  {bank.unit} {rejected.row}: {rejected.reason}")
    if result.imported == 0:
        print("yizhan: nothing was imported", file=sys.stderr)
        return 1
    return 0


@_reported_async
async def _tasks(config: Config, args: argparse.Namespace) -> int:
    """`yizhan tasks template|import|export|scores`."""
    from sqlalchemy import select

    from bot import db, org
    from bot.clock import system_clock
    from bot.context import Context
    from bot.members import branch_by_key
    from bot.models import Member
    from bot.tasks import files, lists, scoring
    from bot.tasks.chart import ranking_png

    if args.tasks_command == "template":
        _writable(args.file)
        files.write_template(args.file)
        print(f"已写出模板 {args.file}")
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
            for line in errors or ["没有可下发的事项"]:
                print(f"yizhan: {args.file.name} {line}", file=sys.stderr)
            print("yizhan: 未下发任何事项", file=sys.stderr)
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
                print(f"yizhan: 数据库中没有单位 {args.unit!r}", file=sys.stderr)
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
                print(f"{unit.name}：已下发{len(drafts)}项，共{rows}条（由运行中的机器人通知各单位）")
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
                print(f"已写出 {args.file}：{len(summary)}个单位，{len(items)}项（{unit.name}）")
                return 0
            scores = await scoring.unit_scores(ctx, unit, args.year)
            files.write_scores(args.file, scores, args.year)
            print(f"已写出 {args.file}：{len(scores)}个党支部（{unit.name}{args.year}年度评比）")
            if args.chart is not None:
                from bot import texts

                png = ranking_png(texts.SCORE_CHART_TITLE.format(unit=unit.name, year=args.year), scores)
                if png is None:
                    print("yizhan: 未找到中文字体（请安装 fonts-wqy-microhei），未生成图表", file=sys.stderr)
                    return 1
                args.chart.write_bytes(png)
                print(f"已写出图表 {args.chart}")
    finally:
        await engine.dispose()
    return 0
