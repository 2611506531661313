"""Fault injection: kill -9 the bot in the middle of a broadcast, or cut its database for a while, and count
what members got at a fake WeCom API.

Each run starts the real bot (`python -m bot run`, a subprocess, `config.toml` as shipped with environment
overrides) against the fake WeCom API of the tests (served in this process, with a network latency), on a fresh
SQLite or PostgreSQL database. The broadcast is committed to the outbox before the bot starts, as the notice's
transaction would have: one app message to each of `--members` members, and ten numbered messages each to a
group robot and to an app group chat. Then:

- `kill`: once a third of the messages have arrived, the bot gets SIGKILL; it is started again and runs until
  every row is marked sent.
- `outage` (PostgreSQL): the bot reaches its database through a TCP proxy run here; once a third of the messages
  have arrived the proxy cuts every connection and refuses new ones for `--outage-seconds`, then lets them
  through again.

Counted per message at the fake: lost (never arrived), duplicates (arrived more than once; app messages and
chat messages apart) and re-sends WeCom's duplicate check dropped. The run holds when nothing is lost, app
messages have no duplicate and chat messages at most `[outbox] concurrency`; with `outage`, no duplicate at all.

    .venv/bin/python -m bench.faults --database sqlite postgresql --fault kill outage --repeat 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core import db
from bot.core.clock import system_clock
from bot.core.config import DatabaseConfig
from bot.core.models import Outbox, OutboxStatus
from tests.channels.wecom.fake_api import FakeWecom

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("YIZHAN_FAULTS_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1/postgres")
CORP_ID, AGENT_ID, SECRET = "wwfaults000000001", 1000002, "faults-secret"
ROBOT_CHAT, ROBOT_KEY, APPCHAT = "wrFaultsRobot", "faults-robot-key", "wrFaultsAppchat"
CHAT_MESSAGES = 10  # numbered messages to the robot and to the app group chat each
CONCURRENCY = 4  # [outbox] concurrency as shipped


@dataclass
class Result:
    database: str
    fault: str
    members: int
    expected: int
    lost: int
    app_duplicates: int
    chat_duplicates: int
    dropped_by_wecom: int
    seconds: float
    error: str = ""

    def holds(self) -> bool:
        limit = 0 if self.fault == "outage" else CONCURRENCY
        return not self.error and self.lost == 0 and self.app_duplicates == 0 and self.chat_duplicates <= limit


class Proxy:
    """A TCP proxy to the database that can be cut: open connections reset, new ones refused."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.up = True
        self.listen_port = 0
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.listen_port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.up = False
        for client, upstream in list(self._pairs):
            for writer in (client, upstream):
                writer.transport.abort()
        self._pairs.clear()

    def restore(self) -> None:
        self.up = True

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._pairs.discard(pair)
            for w in pair:
                w.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction; its end closes the other side (so a close on either end reaches the other)."""
    with contextlib.suppress(OSError, ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _database(kind: str, workdir: Path, tag: str, pg_admin: str) -> tuple[str, str | None]:
    """(url, PostgreSQL database name to drop afterwards or None)."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / f'faults-{tag}.db'}", None
    name = f"yizhan_faults_{os.getpid()}_{tag}"
    admin = create_async_engine(pg_admin, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return make_url(pg_admin).set(database=name).render_as_string(hide_password=False), name


async def _drop(name: str, pg_admin: str) -> None:
    admin = create_async_engine(pg_admin, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def _expected(members: int, tag: str) -> Counter[tuple[str, str, str]]:
    want: Counter[tuple[str, str, str]] = Counter()
    for i in range(members):
        want[("message/send", f"m{i:04d}", _notice(tag))] = 1
    for i in range(CHAT_MESSAGES):
        want[("webhook/send", ROBOT_KEY, f"机器人通知 {tag} {i + 1}/{CHAT_MESSAGES}")] = 1
        want[("appchat/send", APPCHAT, f"群聊通知 {tag} {i + 1}/{CHAT_MESSAGES}")] = 1
    return want


def _notice(tag: str) -> str:
    return f"【通知 {tag}】请各位同志于本周五前提交学习笔记，收到请回复“收到”。"


async def _migrate(url: str) -> None:
    """The tables for the broadcast's rows, as `yizhan db upgrade` makes them (here: a process of its own would
    spend two seconds on imports)."""
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()


async def _broadcast(url: str, members: int, tag: str) -> None:
    """The broadcast's rows, committed as the notice's transaction would have: the chat messages spread among the
    members' (so some are in flight when the fault strikes)."""
    engine = db.create_engine(DatabaseConfig(url=url))
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    rows = []
    every = max(1, members // CHAT_MESSAGES)
    for i in range(members):
        if i % every == 0 and i // every < CHAT_MESSAGES:
            n = i // every + 1
            rows.append(("chat", ROBOT_CHAT, f"机器人通知 {tag} {n}/{CHAT_MESSAGES}"))
            rows.append(("chat", APPCHAT, f"群聊通知 {tag} {n}/{CHAT_MESSAGES}"))
        rows.append(("user", f"m{i:04d}", _notice(tag)))
    try:
        async with db.transaction(db.session_factory(engine)) as session:
            for kind, target, content in rows:
                session.add(
                    Outbox(
                        channel="wecom",
                        target_kind=kind,
                        target_id=target,
                        text=content,
                        mentions=[],
                        status=OutboxStatus.PENDING,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    finally:
        await engine.dispose()


async def _unsent(url: str) -> int:
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.status != OutboxStatus.SENT)
            )
            return int(count or 0)
    finally:
        await engine.dispose()


def _environment(url: str, fake_base: str, port: int, lease: float) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        YIZHAN_CONFIG=str(ROOT / "config.toml"),
        YIZHAN_DATABASE_URL=url,
        YIZHAN_SCHEDULER_ENABLED="false",
        YIZHAN_DEMO_SEED="false",
        YIZHAN_SERVER_PORT=str(port),
        YIZHAN_OUTBOX_LEASE_SECONDS=str(lease),
        YIZHAN_OUTBOX_POLL_INTERVAL_SECONDS="0.2",
        YIZHAN_WECOM_ENABLED="true",
        YIZHAN_WECOM_CORP_ID=CORP_ID,
        YIZHAN_WECOM_AGENT_ID=str(AGENT_ID),
        YIZHAN_WECOM_APP_SECRET=SECRET,
        YIZHAN_WECOM_ROBOT_WEBHOOKS=f"{ROBOT_CHAT}={ROBOT_KEY}",
        YIZHAN_WECOM_APPCHATS=APPCHAT,
        YIZHAN_WECOM_API_BASE_URL=fake_base,
    )
    return env


def _start_bot(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )


async def _exited(process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
        await asyncio.sleep(0.05)


async def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def run_fault(
    database: str,
    fault: str,
    members: int,
    workdir: Path,
    *,
    lease: float = 15.0,
    latency: float = 0.02,
    outage_seconds: float = 10.0,
    timeout: float = 180.0,
    pg_admin: str = PG_ADMIN,
) -> Result:
    """One run: broadcast, the fault in its middle, recovery; what arrived how often."""
    tag = uuid.uuid4().hex[:8]
    started = time.monotonic()
    fake = FakeWecom(system_clock(ZoneInfo("Asia/Shanghai")), corp_id=CORP_ID, secret=SECRET, robot_keys={ROBOT_KEY})
    fake.latency_seconds = latency
    runner = web.AppRunner(fake.app())
    await runner.setup()
    fake_port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", fake_port).start()
    url, pg_name = await _database(database, workdir, tag, pg_admin)
    proxy: Proxy | None = None
    bot: subprocess.Popen[bytes] | None = None
    log = workdir / f"bot-{database}-{fault}-{tag}.log"
    error = ""
    try:
        bot_url = url
        if fault == "outage":
            parsed = make_url(url)
            proxy = Proxy(parsed.host or "127.0.0.1", parsed.port or 5432)
            await proxy.start()
            bot_url = parsed.set(port=proxy.listen_port).render_as_string(hide_password=False)
        env = _environment(bot_url, f"http://127.0.0.1:{fake_port}", _free_port(), lease)
        await _migrate(url)
        await _broadcast(url, members, tag)
        total = members + 2 * CHAT_MESSAGES

        async def a_third_arrived() -> bool:
            return len(fake.received) >= total // 3

        bot = _start_bot(env, log)
        await _wait(a_third_arrived, timeout, "a third of the broadcast")
        if fault == "kill":
            bot.send_signal(signal.SIGKILL)
            await _exited(bot, 30.0)
            bot = _start_bot(env, log)
        else:
            assert proxy is not None
            proxy.cut()
            await asyncio.sleep(outage_seconds)
            proxy.restore()

        async def all_sent() -> bool:
            try:
                return await _unsent(url) == 0
            except Exception:
                return False

        await _wait(all_sent, timeout, "every row marked sent")
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        if bot is not None and bot.poll() is None:
            bot.send_signal(signal.SIGTERM)
            await _exited(bot, 30.0)  # not bot.wait(): the proxy on this event loop must keep running
        if proxy is not None:
            await proxy.close()
        await runner.cleanup()
        if pg_name is not None:
            await _drop(pg_name, pg_admin)
    got = Counter((r.endpoint, r.target, r.content) for r in fake.received)
    want = _expected(members, tag)
    lost = sum(1 for key in want if got[key] == 0)
    extra = {key: n - 1 for key, n in got.items() if n > 1}
    return Result(
        database=database,
        fault=fault,
        members=members,
        expected=len(want),
        lost=lost,
        app_duplicates=sum(n for key, n in extra.items() if key[0] == "message/send"),
        chat_duplicates=sum(n for key, n in extra.items() if key[0] != "message/send"),
        dropped_by_wecom=fake.duplicates_dropped,
        seconds=time.monotonic() - started,
        error=error,
    )


def table(results: list[Result]) -> str:
    head = "| database | fault | run | messages | lost | app dup. | chat dup. | dropped by WeCom | s | holds |"
    lines = [head, "|---|---|---|---|---|---|---|---|---|---|"]
    runs: Counter[tuple[str, str]] = Counter()
    for r in results:
        runs[(r.database, r.fault)] += 1
        holds = "yes" if r.holds() else f"NO {r.error}".strip()
        lines.append(
            f"| {r.database} | {r.fault} | {runs[(r.database, r.fault)]} | {r.expected} | {r.lost} | "
            f"{r.app_duplicates} | {r.chat_duplicates} | {r.dropped_by_wecom} | {r.seconds:.1f} | {holds} |"
        )
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> int:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="yizhan-faults-") as tmp:
        workdir = Path(args.keep_logs or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(args.repeat):
            for database in args.database:
                for fault in args.fault:
                    if fault == "outage" and database != "postgresql":
                        continue  # SQLite is a file: there is no connection to cut
                    result = await run_fault(
                        database,
                        fault,
                        args.members,
                        workdir,
                        lease=args.lease,
                        latency=args.latency,
                        outage_seconds=args.outage_seconds,
                    )
                    results.append(result)
                    print(table([result]).splitlines()[-1], flush=True)
    print()
    print(table(sorted(results, key=lambda r: (r.database, r.fault))))
    return 0 if all(r.holds() for r in results) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--fault", nargs="+", choices=("kill", "outage"), default=["kill", "outage"])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--lease", type=float, default=15.0, help="[outbox] lease_seconds of the bot (15 shipped)")
    parser.add_argument("--latency", type=float, default=0.02, help="the fake API's answer time, seconds")
    parser.add_argument("--outage-seconds", type=float, default=10.0)
    parser.add_argument("--keep-logs", metavar="DIR", help="keep the bots' logs (and SQLite files) in DIR")
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
