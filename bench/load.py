"""The load generator: a fixed number of concurrent clients send units and time every request."""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.scenarios import Request, Response, Unit

MAX_FAILURES_KEPT = 10
CSRF_META = re.compile(r'<meta name="yizhan-csrf" content="([^"]+)">')


@dataclass
class Outcome:
    """Everything measured in one phase: per-request latencies, wall time, errors and wrong answers."""

    units: int = 0
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0  # requests that failed: a connection error, a timeout, a status other than 200
    wrong: int = 0  # units whose answers were all 200 but wrong (replies, duplicate flag)
    failures: list[str] = field(default_factory=list)
    cpu: dict[str, float] | None = None  # see bench/cpu.py: who used the CPU during the phase

    def fail(self, line: str) -> None:
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append(line)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "units": self.units,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "messages_per_second": round(self.units / self.seconds, 1) if self.seconds else 0.0,
            "latency_ms": _percentiles(lat),
            "latency_ms_by_kind": {kind: _percentiles(sorted(v)) for kind, v in sorted(self.by_kind.items())},
            "server_cpu_ms_per_request": round(1000 * self.cpu["server_seconds"] / self.requests, 3)
            if self.cpu and self.requests
            else None,
            "cpu": self.cpu,
            "errors": self.errors,
            "wrong": self.wrong,
            "failures": self.failures,
        }


def _rank(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return values[max(0, math.ceil(q * len(values)) - 1)]


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    ms = [v * 1000 for v in values]
    return {
        "mean": round(sum(ms) / len(ms), 2),
        "p50": round(_rank(ms, 0.50), 2),
        "p90": round(_rank(ms, 0.90), 2),
        "p99": round(_rank(ms, 0.99), 2),
        "max": round(ms[-1], 2),
    }


def _is_sim(unit: Unit) -> bool:
    return any(r.path.startswith("/api/sim/") for r in unit.requests)


async def sim_session(session: aiohttp.ClientSession) -> dict[str, str]:
    """As the simulator page does: load it for the session cookie and its CSRF token (a bare server has none)."""
    async with session.get("/") as resp:
        page = await resp.text() if resp.status == 200 else ""
    found = CSRF_META.search(page)
    return {"X-Yizhan-CSRF": found.group(1)} if found else {}


async def drive(base_url: str, units: Sequence[Unit], concurrency: int, request_timeout: float = 60.0) -> Outcome:
    """Send every unit with `concurrency` clients (each waits for its answer before the next); time it all."""
    outcome = Outcome()
    pending = iter(units)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=request_timeout)

    # unsafe: keep the simulator's session cookie for 127.0.0.1.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout, cookie_jar=jar) as session:
        session_headers = await sim_session(session) if any(_is_sim(u) for u in units) else {}

        async def send(request: Request, kind: str) -> Response | None:
            started = time.perf_counter()
            headers = {**request.headers, **session_headers} if session_headers else request.headers
            try:
                async with session.request(
                    request.method, request.path, data=request.body, headers=headers, params=request.query
                ) as resp:
                    body = await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome.errors += 1
                outcome.fail(f"{kind}: {type(exc).__name__}: {exc}")
                return None
            elapsed = time.perf_counter() - started
            outcome.requests += 1
            outcome.latencies.append(elapsed)
            outcome.by_kind.setdefault(kind, []).append(elapsed)
            if resp.status != 200:
                outcome.errors += 1
                outcome.fail(f"{kind}: HTTP {resp.status}: {body[:200]!r}")
            return Response(resp.status, body)

        async def client() -> None:
            for unit in pending:  # one shared iterator: each unit goes to exactly one client
                if unit.at:
                    await asyncio.sleep(max(0.0, started + unit.at - time.perf_counter()))
                if unit.concurrent:
                    answers = list(await asyncio.gather(*(send(r, unit.kind) for r in unit.requests)))
                else:
                    answers = []
                    for request in unit.requests:
                        answers.append(await send(request, unit.kind))
                outcome.units += 1
                responses = [a for a in answers if a is not None]
                if len(responses) < len(answers) or any(r.status != 200 for r in responses):
                    continue  # already counted as an error
                problem = unit.check(responses)
                if problem is not None:
                    outcome.wrong += 1
                    outcome.fail(problem)

        started = time.perf_counter()  # (a unit's `at` counts from here)
        await asyncio.gather(*(client() for _ in range(concurrency)))
        outcome.seconds = time.perf_counter() - started
    return outcome
