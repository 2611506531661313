"""Run the benchmark: each scenario against its own server process, reported next to its bare baseline.

    python -m bench.run [--messages 5000] [--concurrency 50] [--rounds 3] [--scenario sim,sim-dup]
                        [--database-url postgresql+asyncpg://postgres@127.0.0.1/postgres]

Servers are pinned to one core, the load generator to another; results go to bench/results/latest.json.
Exit status: 0 if every answer and database check was right, 1 if not, 2 if a server or phase failed to finish.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/run.py`: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import contextlib
import json
import os
import pstats
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench import cpu
from bench.databases import describe, fresh_database, server_version
from bench.load import drive
from bench.mix import MEMBER_KINDS, MIX_SCENARIOS, World, WorldScenario, seed_members
from bench.report import RoundResult, document, machine, print_table, read_server_log
from bench.scenarios import DEFAULT_SCENARIOS, Plan, Scenario, Unit
from bench.scenarios import SCENARIOS as BASE_SCENARIOS
from bench.server import app_config

SCENARIOS: dict[str, Scenario] = {**BASE_SCENARIOS, **MIX_SCENARIOS}

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
READY_TIMEOUT = 120.0  # server start: migrations and demo seed
STOP_TIMEOUT = 60.0


class ServerError(Exception):
    pass


@dataclass(frozen=True)
class ServerHandle:
    port: int
    pid: int


@contextlib.asynccontextmanager
async def server_process(spec: dict[str, Any], log_path: Path) -> AsyncIterator[ServerHandle]:
    """Start a benchmark server (bench/server.py); yield its port and pid; stop it with SIGTERM."""
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.server",
            json.dumps(spec),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        try:
            assert proc.stdout is not None
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), READY_TIMEOUT)
            except TimeoutError:
                line = b""
            if not line.startswith(b"READY "):
                raise ServerError(f"{spec['server']} server did not start; its log:\n{_tail(log_path)}")
            yield ServerHandle(int(line.split()[1]), proc.pid)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


@contextlib.asynccontextmanager
async def py_spy_recording(pid: int, path: Path | None, rate: int, log_path: Path) -> AsyncIterator[None]:
    """Record the server with py-spy (all threads) while the block runs: the measured phase, not the start-up,
    setup and warm-up. py-spy writes its file when interrupted."""
    if path is None:
        yield
        return
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [exe, "record", "--pid", str(pid), "--format", "raw", "--threads", "--nonblocking", "--rate", str(rate)]
    with log_path.open("ab") as log:
        spy = subprocess.Popen([*command, "-o", str(path)], stdout=log, stderr=log)
        try:
            await asyncio.sleep(0.5)  # py-spy attaches before the phase starts
            yield
        finally:
            spy.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(spy.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                spy.kill()


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def run_round(
    scenario: Scenario, number: int, plan: Plan, args: argparse.Namespace, workdir: Path
) -> RoundResult:
    """One scenario on a fresh server (and a fresh database): warm up, measure, stop, verify."""
    world_cm = scenario.world() if isinstance(scenario, WorldScenario) else contextlib.nullcontext(None)
    async with world_cm as world:
        return await _run_round(scenario, number, plan, args, workdir, world)


def _units(scenario: Scenario, plan: Plan, phase: str, world: World | None) -> list[Unit]:
    if isinstance(scenario, WorldScenario) and world is not None and scenario.build_in is not None:
        return scenario.build_in(plan, phase, world)
    return scenario.build(plan, phase)


async def _run_round(
    scenario: Scenario, number: int, plan: Plan, args: argparse.Namespace, workdir: Path, world: World | None
) -> RoundResult:
    backend = describe(args.database_url)
    label = f"{scenario.name}-{number}"
    database = fresh_database(args.database_url, workdir, label) if scenario.server == "app" else None
    profiled = args.profile if scenario.server == "app" else None
    stem = RESULTS / f"profile-{scenario.name}-{backend}"
    config = {section: dict(values) for section, values in scenario.config.items()}
    if world is not None:
        config.update(world.config)
    spec: dict[str, Any] = {
        "server": scenario.server,
        "core": args.server_core,
        "config": config,
        "profile": str(stem.with_suffix(".pstats")) if profiled == "cprofile" else None,
        "fire_jobs": list(world.fire_jobs) if world is not None and scenario.server == "app" else [],
    }
    py_spy = stem.with_suffix(".txt") if profiled == "py-spy" else None
    log_path = workdir / f"{label}.log"
    async with database or contextlib.nullcontext(None) as url:
        spec["database_url"] = url
        if world is not None and url is not None:
            await seed_members(url, app_config(spec), world.groups)
        async with server_process(spec, log_path) as server:
            base = f"http://127.0.0.1:{server.port}"
            if isinstance(scenario, WorldScenario) and scenario.setup and world is not None:
                await world.setup(base)
            # Units are built just before their phase: WeCom refuses callbacks with old timestamps.
            warmup_units = _units(scenario, plan, "warmup", world)
            warm = await asyncio.wait_for(drive(base, warmup_units, args.concurrency), args.timeout)
            measure_units = _units(scenario, plan, "measure", world)
            clients = getattr(scenario, "concurrency", None) or args.concurrency
            async with py_spy_recording(server.pid, py_spy, args.profile_rate, workdir / f"{label}.py-spy.log"):
                before = cpu.snapshot(server.pid)
                measured = await asyncio.wait_for(drive(base, measure_units, clients), args.timeout)
                measured.cpu = cpu.usage(before, cpu.snapshot(server.pid))
            if world is not None and url is not None:
                await settle(url)
        verification = None
        if isinstance(scenario, WorldScenario) and scenario.verify_in is not None and world is not None and url:
            verification = await scenario.verify_in(world, url, [*warmup_units, *measure_units])
        elif scenario.verify is not None and url is not None:
            verification = await scenario.verify(url, [*warmup_units, *measure_units])
    server_log = read_server_log(log_path, warm.requests + measured.requests)
    if spec["profile"]:
        print(f"  cProfile stats (main thread): {spec['profile']}; top 15 by own time:")
        pstats.Stats(spec["profile"]).sort_stats("tottime").print_stats(15)
    elif py_spy is not None:
        print(f"  py-spy collapsed stacks (all threads): {py_spy}")
    return RoundResult(scenario, backend if url else None, warm, measured, verification, server_log)


async def settle(url: str, seconds: float = 60.0) -> None:
    """Wait (at most `seconds`) until the server's outbox has nothing left to send: pushes are part of the day."""
    from sqlalchemy import func, select

    from bot.core import db as bot_db
    from bot.core.config import DatabaseConfig
    from bot.core.models import Outbox, OutboxStatus

    engine = bot_db.create_engine(DatabaseConfig(url=url))
    try:
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            async with engine.connect() as conn:
                left = await conn.scalar(
                    select(func.count())
                    .select_from(Outbox)
                    .where(Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
                )
            if not left:
                return
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> int:
    names = list(dict.fromkeys(args.scenario))
    if not args.no_baseline:  # each baseline runs first in its round, ahead of the scenarios measured against it
        wanted = [b for n in names if (b := SCENARIOS[n].baseline) is not None and b not in names]
        names = list(dict.fromkeys([*wanted, *names]))
    plan = Plan(
        messages=args.messages,
        warmup=args.warmup,
        seed=args.seed,
        tag=f"b{os.getpid()}",
        kinds=frozenset(k for k in args.kinds.split(",") if k) if args.kinds else frozenset(),
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {
            "messages": args.messages,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "pick": args.pick,
            "seed": args.seed,
            "server_core": args.server_core,
            "client_core": args.client_core,
            "database": describe(args.database_url),
            "database_version": await server_version(args.database_url),
        },
        "machine": machine(),
    }
    by_scenario: dict[str, list[RoundResult]] = {name: [] for name in names}
    parent = Path(args.sqlite_dir) if args.sqlite_dir else None
    with tempfile.TemporaryDirectory(prefix="yizhan-bench-", dir=parent) as tmp:
        # Round by round, so each scenario's rounds meet the machine in the same states as the baseline's.
        for number in range(1, args.rounds + 1):
            for name in names:
                scenario = SCENARIOS[name]
                print(f"- round {number}/{args.rounds} {name}: {scenario.summary}", flush=True)
                try:
                    result = await run_round(scenario, number, plan, args, Path(tmp))
                except (ServerError, TimeoutError) as exc:
                    print(f"  {name} did not finish: {exc or 'timed out'}", file=sys.stderr)
                    return 2
                by_scenario[name].append(result)
                m = result.measured.summary()
                print(
                    f"  {m['requests']} requests in {m['seconds']:.1f}s: {m['requests_per_second']:.0f} req/s,"
                    f" p50 {m['latency_ms'].get('p50', 0):.1f} ms, p99 {m['latency_ms'].get('p99', 0):.1f} ms,"
                    f" other processes {m['cpu']['others_percent']:.0f}% CPU; {'ok' if result.ok else 'FAILED'}",
                    flush=True,
                )
    doc = document(by_scenario, meta, args.pick)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    for path in (Path(args.output), RESULTS / f"latest-{describe(args.database_url)}.json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    settings, host = doc["settings"], doc["machine"]
    print(
        f"\n{settings['database_version']}; {args.messages} messages, concurrency {args.concurrency}"
        " (the 竞赛 bursts: one client per member),"
        f" {args.pick} of {args.rounds} round(s); {host['cores']} cores ({host['cpu'].get('model name', '?')}),"
        f" server on core {args.server_core}, load generator on core {args.client_core}"
    )
    print_table(doc)
    print(f"results: {args.output}")
    return 0 if all(row["ok"] for row in doc["results"]) else 1


def pin(core: int | None) -> None:
    if core is None:
        return
    try:
        os.sched_setaffinity(0, {core})
    except (OSError, ValueError) as exc:
        message = f"cannot pin to core {core}: {exc} (use --client-core/--server-core, -1 for no pinning)"
        raise SystemExit(message) from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000, help="measured messages per scenario (default 5000)")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up messages before measuring (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every scenario, interleaved (default 3)")
    parser.add_argument(
        "--pick",
        choices=("median", "best"),
        default="median",
        help="which round to report: median throughput, or best (on a shared, busy machine)",
    )
    parser.add_argument(
        "--scenario",
        type=lambda s: [n.strip() for n in s.split(",") if n.strip()],
        default=list(DEFAULT_SCENARIOS),
        help=f"comma-separated, from: {', '.join(SCENARIOS)} (default {','.join(DEFAULT_SCENARIOS)})",
    )
    parser.add_argument("--no-baseline", action="store_true", help="do not add the scenarios' baselines")
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql+asyncpg://user@host/db: run on throwaway databases on that server (default: SQLite)",
    )
    parser.add_argument("--sqlite-dir", default=None, help="where the SQLite files go (default: a temp dir)")
    parser.add_argument("--server-core", type=int, default=0, help="core for the server process (-1: no pinning)")
    parser.add_argument("--client-core", type=int, default=1, help="core for the load generator (-1: no pinning)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the message mix (default 1)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per phase (default 600)")
    parser.add_argument("--profile", choices=("cprofile", "py-spy"), help="profile the app server into bench/results/")
    parser.add_argument(
        "--kinds",
        help="wecom-mix: send only these kinds of the members' messages, comma-separated (e.g. check_in,study): "
        "what each kind costs",
    )
    parser.add_argument(
        "--profile-rate", type=int, default=100, help="py-spy's samples per second (--profile py-spy; default 100)"
    )
    parser.add_argument("--output", default=str(RESULTS / "latest.json"), help="the JSON results file")
    args = parser.parse_args(argv)
    if args.kinds and set(args.kinds.split(",")) - MEMBER_KINDS:
        parser.error(
            f"--kinds: unknown {sorted(set(args.kinds.split(',')) - MEMBER_KINDS)}; from {sorted(MEMBER_KINDS)}"
        )
    unknown = [n for n in args.scenario if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    if args.database_url and not args.database_url.startswith("postgresql+asyncpg://"):
        parser.error("--database-url must be postgresql+asyncpg://… (SQLite, in a temp dir, is the default)")
    if args.messages < 1 or args.concurrency < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--messages, --concurrency and --rounds must be at least 1, --warmup at least 0")
    for name in ("server_core", "client_core"):
        if getattr(args, name) < 0:
            setattr(args, name, None)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pin(args.client_core)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
