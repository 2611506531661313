"""The benchmark's results: the JSON document, the ratio to the baseline, and the printed table."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.load import Outcome
from bench.scenarios import Scenario, Verification

PACKAGES = ("aiohttp", "SQLAlchemy", "aiosqlite", "asyncpg", "greenlet")
# Other processes using more than this share of one core during a measured phase make its figures suspect.
DISTURBED_PERCENT = 25.0


@dataclass
class RoundResult:
    """One scenario's run on a fresh server: warm-up, measured phase, database check, server log."""

    scenario: Scenario
    database: str | None
    warmup: Outcome
    measured: Outcome
    verification: Verification | None
    server_log: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        bad = self.warmup.errors + self.warmup.wrong + self.measured.errors + self.measured.wrong
        problems = self.verification.problems if self.verification else []
        return bad == 0 and not problems and not self.server_log.get("errors")

    @property
    def requests_per_second(self) -> float:
        return self.measured.requests / self.measured.seconds if self.measured.seconds else 0.0


_GROUP = re.compile(r"group commit: (\d+) messages written in (\d+) transactions \(([\d.]+) per transaction\)")


def read_server_log(path: Path, requests: int) -> dict[str, Any]:
    """Retried races, warnings, errors and SQL statements per request, from a server's log."""
    lines = path.read_text(errors="replace").splitlines()
    errors = [line for line in lines if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")]
    out: dict[str, Any] = {
        "retried_races": sum("lost a race" in line for line in lines),
        "warnings": sum(" WARNING " in line for line in lines),
        "errors": len(errors),
        "first_errors": errors[:5],
    }
    # bot/core/groupcommit.py logs its transactions at shutdown (warm-up included).
    group = next((_GROUP.search(line) for line in lines if _GROUP.search(line)), None)
    if group is not None:
        out["group_commit"] = {
            "messages": int(group[1]),
            "transactions": int(group[2]),
            "per_transaction": float(group[3]),
        }
    stats = next((json.loads(line[len("SQLSTATS ") :]) for line in lines if line.startswith("SQLSTATS ")), None)
    if stats is not None and requests:
        counts, seconds = stats["counts"], stats["seconds"]
        out["sql_per_request"] = {k: round(v / requests, 2) for k, v in sorted(counts.items())}
        out["sql_per_request"]["statements"] = round(
            sum(v for k, v in counts.items() if k not in ("COMMIT", "ROLLBACK")) / requests, 2
        )
        # Time from sending a statement to the event loop seeing its result (BEGIN: includes waiting for the lock).
        out["sql_mean_ms"] = {k: round(1000 * seconds[k] / counts[k], 2) for k in sorted(seconds) if counts.get(k)}
        out["transaction_spans_ms"] = stats["transaction_spans_ms"]
        # The engine's most frequent statements (the group commit's among them).
        out["top_statements"] = stats.get("top_statements", {})
    return out


def machine() -> dict[str, Any]:
    """The machine and software the figures were measured on."""
    cpu: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            key, _, value = (part.strip() for part in line.partition(":"))
            if key in ("model name", "cpu family", "model", "cpu MHz") and key not in cpu:
                cpu[key] = value
    root = Path(__file__).resolve().parent.parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    # The benchmark runs the working tree: say whether the application code differed from the commit.
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "bot", "handlers", "schedules", "config.toml"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "commit": commit.stdout.strip(),
        "uncommitted_app_changes": bool(changed.stdout.strip()),
        "load_average": os.getloadavg(),
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def pick_round(rounds: Sequence[RoundResult], pick: str = "median") -> RoundResult:
    """The round with the median throughput (the lower middle one for an even count), or the best one.

    "best" suits a shared machine: other jobs only ever slow a round down, so the fastest round is the one
    least disturbed (as timeit takes the minimum).
    """
    ranked = sorted(rounds, key=lambda r: r.requests_per_second)
    return ranked[-1] if pick == "best" else ranked[(len(ranked) - 1) // 2]


def document(by_scenario: dict[str, list[RoundResult]], meta: dict[str, Any], pick: str) -> dict[str, Any]:
    """The JSON document: settings, machine, each scenario's chosen round and its ratio to the baseline."""
    rows = []
    for name, rounds in by_scenario.items():
        chosen = pick_round(rounds, pick)
        summary = chosen.measured.summary()
        row: dict[str, Any] = {
            "scenario": name,
            "server": chosen.scenario.server,
            "summary": chosen.scenario.summary,
            "database": chosen.database,
            "ok": all(r.ok for r in rounds),
            "measured": summary,
            "rounds": [_round_line(r) for r in rounds],
            "server_log": chosen.server_log,
            "failures": [
                line
                for r in rounds
                for line in (
                    *r.warmup.failures,
                    *r.measured.failures,
                    *(f"database check: {p}" for p in (r.verification.problems if r.verification else ())),
                    *(f"server log: {e}" for e in r.server_log.get("first_errors", ())),
                )
            ][:20],
        }
        others = (summary["cpu"] or {}).get("others_percent", 0.0)
        row["disturbed"] = others > DISTURBED_PERCENT
        if chosen.verification is not None:
            row["verification"] = chosen.verification.info
        baseline = chosen.scenario.baseline
        if baseline is not None and baseline in by_scenario:
            row["baseline"] = baseline
            row["vs_baseline"] = _ratios(summary, pick_round(by_scenario[baseline], pick).measured.summary())
        rows.append(row)
    return {**meta, "results": rows}


def _round_line(r: RoundResult) -> dict[str, Any]:
    s = r.measured.summary()
    return {
        "requests_per_second": s["requests_per_second"],
        "p50": s["latency_ms"].get("p50"),
        "p99": s["latency_ms"].get("p99"),
        "errors": r.warmup.errors + r.measured.errors,
        "wrong": r.warmup.wrong + r.measured.wrong,
        "others_cpu_percent": (s["cpu"] or {}).get("others_percent"),
    }


def _ratios(summary: dict[str, Any], base: dict[str, Any]) -> dict[str, float | None]:
    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 4) if a and b else None

    lat, base_lat = summary["latency_ms"], base["latency_ms"]
    return {
        "requests_per_second": ratio(summary["requests_per_second"], base["requests_per_second"]),
        "p50": ratio(lat.get("p50"), base_lat.get("p50")),
        "p99": ratio(lat.get("p99"), base_lat.get("p99")),
    }


HEAD = (
    "scenario",
    "db",
    "req/s",
    "msg/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "cpu% srv/cli/pg/other",
    "srv ms/req",
    "err",
    "wrong",
    "baseline",
    "req/s ÷ base",
    "p99 ÷ base",
)


def print_table(doc: dict[str, Any]) -> None:
    """A compact table of the median rounds, then any failure lines."""
    lines = [HEAD]
    for row in doc["results"]:
        m, vs = row["measured"], row.get("vs_baseline", {})
        lat, cpu = m["latency_ms"], m["cpu"] or {}
        shares = "/".join(f"{cpu.get(f'{k}_percent', 0):.0f}" for k in ("server", "client", "postgres", "others"))
        lines.append(
            (
                row["scenario"],
                row["database"] or "-",
                f"{m['requests_per_second']:.0f}",
                f"{m['messages_per_second']:.0f}",
                f"{lat.get('p50', 0):.1f}",
                f"{lat.get('p99', 0):.1f}",
                f"{lat.get('max', 0):.0f}",
                shares,
                _fmt(m["server_cpu_ms_per_request"], 2),
                str(sum(r["errors"] for r in row["rounds"])),
                str(sum(r["wrong"] for r in row["rounds"])),
                row.get("baseline", "-"),
                _fmt(vs.get("requests_per_second"), 4),
                _fmt(vs.get("p99"), 1),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEAD))]
    for line in lines:
        cells = (c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
        print("  ".join(cells))
    for row in doc["results"]:
        for failure in row["failures"]:
            print(f"  {row['scenario']}: {failure}")
    busy = [row["scenario"] for row in doc["results"] if row["disturbed"]]
    if busy:
        print(
            f"note: other processes used more than {DISTURBED_PERCENT:.0f}% of a core during {', '.join(busy)};"
            " the machine was busy, so run again before quoting these figures"
        )


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
