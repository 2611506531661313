"""Two real `yizhan run` processes on PostgreSQL share the AI bot's long connection: one holds it; kill -9 that one
and the other holds it within 30 s, and the messages WeCom sent meanwhile are answered once each."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.faults import ROOT, _free_port
from bot.core.clock import system_clock
from bot.core.models import InboundMessage
from tests.channels.wecom.fake_api import LONG_CONNECTION_PATH, FakeWecom
from tests.channels.wecom.fake_ws import FakeLongConnection

BOT_ID, SECRET = "aibKill9Bot", "kill-9-secret"
CHAT = "wrKill9Group"


def _environment(url: str, fake_base: str, ws_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        YIZHAN_CONFIG=str(ROOT / "config.toml"),
        YIZHAN_DATABASE_URL=url,
        YIZHAN_SCHEDULER_ENABLED="false",
        YIZHAN_DEMO_SEED="false",
        YIZHAN_SERVER_PORT=str(_free_port()),
        YIZHAN_WECOM_ENABLED="true",
        YIZHAN_WECOM_API_BASE_URL=fake_base,
        YIZHAN_WECOM_AIBOT_MODE="long_connection",
        YIZHAN_WECOM_AIBOT_BOT_ID=BOT_ID,
        YIZHAN_WECOM_AIBOT_SECRET=SECRET,
        YIZHAN_WECOM_LONG_CONNECTION_URL=ws_url,
        YIZHAN_WECOM_LEASE_SECONDS="6",
        YIZHAN_WECOM_LEASE_RENEW_SECONDS="2",
        YIZHAN_WECOM_RECONNECT_MIN_SECONDS="0.2",
        YIZHAN_WECOM_RECONNECT_MAX_SECONDS="2",
    )
    return env


async def _until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_kill_9_the_holder_and_the_other_process_takes_over_within_30_s(pg_url: str, tmp_path: Path):
    ws = FakeLongConnection(BOT_ID, SECRET)
    fake = FakeWecom(system_clock, corp_id="wwkill9", secret="unused", long_connection=ws)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}{LONG_CONNECTION_PATH}"
    bots: list[subprocess.Popen[bytes]] = []
    engine = create_async_engine(pg_url)
    try:

        async def subscribed_once() -> bool:
            return ws.subscribes >= 1 and ws.current is not None

        # Started together (both sync config and seed the bank on the same fresh database: they take turns).
        logs = [tmp_path / f"bot{n}.log" for n in range(2)]
        for log in logs:
            with log.open("ab") as out:
                bots.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "bot", "run"],
                        env=_environment(pg_url, base, ws_url),
                        cwd=ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )

        async def both_up() -> bool:
            return all("yizhan is up" in log.read_text(errors="replace") for log in logs)

        await _until(both_up, 90, "both instances to start")
        assert all(bot.poll() is None for bot in bots)
        await _until(subscribed_once, 30, "a first subscription")
        await asyncio.sleep(5)  # lease rounds: the other process must not subscribe too
        assert ws.subscribes == 1
        before = await ws.say("@学习驿站 帮助", user="m01", chat=CHAT, timeout=15)
        assert before is not None

        async with engine.connect() as conn:
            holder = (await conn.exec_driver_sql("SELECT holder FROM wecom_connection_lease")).scalar_one()
        pid = int(holder.split(":")[1])
        [victim] = [bot for bot in bots if bot.pid == pid]
        [survivor] = [bot for bot in bots if bot.pid != pid]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed = time.monotonic()

        # WeCom goes on sending while no one holds the connection: delivered once the other process subscribes.
        frames = [ws.message_frame("@学习驿站 帮助", user=f"m{i:02d}", chat=CHAT) for i in range(2, 6)]
        ws.unanswered.update({frame["headers"]["req_id"]: frame for frame in frames})

        async def resubscribed() -> bool:
            return ws.subscribes >= 2 and ws.current is not None

        await _until(resubscribed, 30, "the other process to take the connection over")
        assert time.monotonic() - killed < 30
        assert survivor.poll() is None

        async def all_answered() -> bool:
            return len(ws.replies()) >= 1 + len(frames)

        await _until(all_answered, 20, "answers to the messages sent meanwhile")
        await asyncio.sleep(1.0)  # nothing more comes
        answered = [reply.req_id for reply in ws.replies()[1:]]
        assert sorted(answered) == sorted(frame["headers"]["req_id"] for frame in frames)  # each once
        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(InboundMessage))
        assert count == 1 + len(frames)
    finally:
        for bot in bots:
            if bot.poll() is None:
                bot.send_signal(signal.SIGTERM)
        for bot in bots:
            try:
                bot.wait(15)
            except subprocess.TimeoutExpired:
                bot.kill()
        await engine.dispose()
        await runner.cleanup()
