"""Overload and recovery: a fixed arrival rate past what the server can take, then a low one (issue 13, 19).

    python -m bench.overload                      # 60 msg/s for 120 s, then 5 msg/s for 60 s; SQLite
    python -m bench.overload --quiz               # the same with a 抢答 live in the chat all along
    python -m bench.overload --high 60 --high-seconds 120 --low 5 --low-seconds 60 --profile py-spy

Open loop: requests are sent on a schedule whatever the answers (as members do), each with a client
timeout. Reports, per 10 s window of sending time: sent, answered 200, shed (503), errors/time-outs, p50 and
p99 of the answered ones; then the time from the load drop until latency is back to normal (every later
one-second bucket's p50 within 2× the calm phase's p50, and at least 100 ms). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.load import CSRF_META
from bench.run import RESULTS, ROOT, pin, py_spy_recording, server_process

CHAT = "demo-group"
SECRETARY = "u00"  # config.toml's demo secretary: may start a 抢答
CLIENT_TIMEOUT = 30.0


async def open_session(http: aiohttp.ClientSession, base: str) -> dict[str, str]:
    """Headers every simulator API request carries: the session's CSRF token, got as the page gets it.

    http must keep cookies for 127.0.0.1 (aiohttp.CookieJar(unsafe=True)): the session itself is a cookie.
    """
    async with http.get(f"{base}/") as resp:
        found = CSRF_META.search(await resp.text())
    return {"X-Yizhan-CSRF": found.group(1)} if found else {}


def message(i: int) -> dict[str, Any]:
    """The bench's usual mix: chatter, 帮助, an @-message that matches nothing, and a few quiz-like answers."""
    roll = random.random()
    user = f"u{1 + i % 10:02d}"
    if roll < 0.65:
        text = random.choice(["收到", "好的", "今天天气不错", "大家辛苦了", "到", "明白"])
    elif roll < 0.85:
        text = "帮助"
    elif roll < 0.95:
        text = "@学习驿站 随便问问"
    else:
        text = random.choice(["A", "B", "对", "错"])
    return {"user": user, "text": text, "chat": CHAT, "id": f"ov-{uuid.uuid4().hex}"}


@dataclass
class Sample:
    sent: float  # seconds since the start of the measured phases
    phase: str
    status: int  # HTTP status; 0: client time-out or connection error
    latency: float


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)


async def send(http: aiohttp.ClientSession, url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
    async with http.post(url, json=body, headers=headers) as resp:
        await resp.read()
        return resp.status


async def phase(
    http: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    rate: float,
    seconds: float,
    name: str,
    origin: float,
    run: Run,
    counter: list[int],
    tasks: set[asyncio.Task[None]],
) -> None:
    """Send rate messages per second for seconds, on a fixed schedule (open loop: not waiting for answers)."""
    start = time.monotonic()
    n = int(rate * seconds)
    for k in range(n):
        due = start + k / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        counter[0] += 1
        tasks.add(asyncio.create_task(one(http, url, headers, message(counter[0]), name, origin, run)))


async def one(
    http: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    name: str,
    origin: float,
    run: Run,
) -> None:
    sent = time.monotonic()
    try:
        status = await asyncio.wait_for(send(http, url, headers, body), CLIENT_TIMEOUT)
    except (TimeoutError, aiohttp.ClientError, OSError):
        status = 0
    run.samples.append(Sample(sent - origin, name, status, time.monotonic() - sent))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def report(run: Run, drop_at: float, high: float) -> dict[str, Any]:
    calm = [s.latency for s in run.samples if s.phase == "calm" and s.status == 200]
    normal = max(0.1, 2 * (statistics.median(calm) if calm else 0.05))
    windows = []
    end = max((s.sent for s in run.samples), default=0)
    t = 0.0
    while t <= end:
        batch = [s for s in run.samples if t <= s.sent < t + 10]
        ok = [s.latency for s in batch if s.status == 200]
        windows.append(
            {
                "from_s": round(t),
                "phase": batch[0].phase if batch else "",
                "sent": len(batch),
                "ok": len(ok),
                "shed_503": sum(1 for s in batch if s.status == 503),
                "errors": sum(1 for s in batch if s.status not in (200, 503)),
                "p50_ms": round(1000 * p, 1) if (p := pct(ok, 0.5)) is not None else None,
                "p99_ms": round(1000 * p, 1) if (p := pct(ok, 0.99)) is not None else None,
            }
        )
        t += 10
    # Back to normal: the first one-second bucket after the drop from which every bucket's p50 is normal.
    after = [s for s in run.samples if s.sent >= drop_at and s.status == 200]
    buckets: dict[int, list[float]] = {}
    for s in after:
        buckets.setdefault(int(s.sent - drop_at), []).append(s.latency)
    recovered: float | None = None
    for second in sorted(buckets):
        if all(statistics.median(buckets[b]) <= normal for b in buckets if b >= second):
            recovered = float(second)
            break
    high_samples = [s for s in run.samples if s.phase == "high"]
    return {
        "normal_p50_limit_ms": round(1000 * normal, 1),
        "calm_p50_ms": round(1000 * statistics.median(calm), 1) if calm else None,
        "high_rate": high,
        "high_sent": len(high_samples),
        "high_ok": sum(1 for s in high_samples if s.status == 200),
        "high_shed_503": sum(1 for s in high_samples if s.status == 503),
        "high_errors": sum(1 for s in high_samples if s.status not in (200, 503)),
        "recovered_after_drop_s": recovered,
        "windows": windows,
    }


def table(result: dict[str, Any]) -> str:
    lines = [f"{'from':>5} {'phase':<5} {'sent':>5} {'ok':>5} {'503':>5} {'err':>4} {'p50 ms':>8} {'p99 ms':>8}"]
    for w in result["windows"]:
        lines.append(
            f"{w['from_s']:>5} {w['phase']:<5} {w['sent']:>5} {w['ok']:>5} {w['shed_503']:>5} {w['errors']:>4} "
            f"{w['p50_ms'] if w['p50_ms'] is not None else '-':>8} {w['p99_ms'] if w['p99_ms'] is not None else '-':>8}"
        )
    lines.append(
        f"high phase: {result['high_sent']} sent, {result['high_ok']} ok, {result['high_shed_503']} shed (503), "
        f"{result['high_errors']} errors; calm p50 {result['calm_p50_ms']} ms; back to normal (p50 ≤ "
        f"{result['normal_p50_limit_ms']} ms) {result['recovered_after_drop_s']} s after the drop"
    )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="yizhan-overload-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{tmp}/overload.db"
    label = "quiz" if args.quiz else "plain"
    py_spy = RESULTS / f"profile-overload-{label}.txt" if args.profile == "py-spy" else None
    cprofile = str(RESULTS / f"profile-overload-{label}.pstats") if args.profile == "cprofile" else None
    spec = {"server": "app", "core": args.server_core, "database_url": database_url, "config": {}, "profile": cprofile}
    load_before = os.getloadavg()
    async with (
        server_process(spec, tmp / "server.log") as server,
        py_spy_recording(server.pid, py_spy, 100, tmp / "py-spy.log"),
    ):
        base = f"http://127.0.0.1:{server.port}"
        url = f"{base}/api/sim/messages"
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            headers = await open_session(http, base)
            if args.quiz:
                body = {"user": SECRETARY, "text": "抢答 20题 600秒", "chat": CHAT, "id": "ov-quiz"}
                async with http.post(url, json=body, headers=headers) as resp:
                    answer = await resp.json()
                if answer.get("handled_by") != "handle_rush":
                    print(f"could not start a 抢答: {answer}", file=sys.stderr)
                    return 1
            result_run = Run()
            counter = [0]
            tasks: set[asyncio.Task[None]] = set()
            origin = time.monotonic()
            common = (origin, result_run, counter, tasks)
            await phase(http, url, headers, args.low, args.calm_seconds, "calm", *common)
            await phase(http, url, headers, args.high, args.high_seconds, "high", *common)
            drop_at = time.monotonic() - origin
            await phase(http, url, headers, args.low, args.low_seconds, "low", *common)
            await asyncio.wait(tasks)
    result = report(result_run, drop_at, args.high)
    result.update(
        quiz=args.quiz,
        database=database_url.split(":")[0],
        loadavg_before=load_before,
        loadavg_after=os.getloadavg(),
        log=str(tmp / "server.log"),
    )
    print(table(result))
    print(f"load average before {load_before}, after {result['loadavg_after']}")
    out = RESULTS / f"overload-{label}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(f"written to {out.relative_to(ROOT)}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--high", type=float, default=60.0, help="messages per second in the overload phase")
    p.add_argument("--high-seconds", type=float, default=120.0)
    p.add_argument("--low", type=float, default=5.0, help="messages per second before and after it")
    p.add_argument("--low-seconds", type=float, default=60.0)
    p.add_argument("--calm-seconds", type=float, default=20.0, help="the low rate first: what normal latency is")
    p.add_argument("--quiz", action="store_true", help="start a 抢答 in the chat first (live all along)")
    p.add_argument("--database-url", default="", help="postgresql+asyncpg://… (default: a SQLite file in a temp dir)")
    p.add_argument("--server-core", type=int, default=0)
    p.add_argument("--client-core", type=int, default=1)
    p.add_argument("--profile", choices=["py-spy", "cprofile"], default=None, help="figures of a profiled run are off")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pin(args.client_core)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
