"""Where the machine's CPU went during a phase: server (its main thread apart), load generator, PostgreSQL, others.

Read from /proc (Linux). "Others" is everything else on the machine, e.g. a test suite running at the same
time: a large figure means the run was disturbed and its numbers are not worth quoting.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_cpu(path: Path) -> float:
    """utime + stime in seconds from a /proc/…/stat file (0 if the process or thread is gone)."""
    try:
        fields = path.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _comm(path: Path) -> str:
    try:
        return (path / "comm").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot (all cores, idle and iowait excluded)."""
    fields = (PROC / "stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


def _postgres() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL process, by pid."""
    return {
        int(entry.name): _stat_cpu(entry / "stat")
        for entry in PROC.iterdir()
        if entry.name.isdigit() and _comm(entry) == "postgres"
    }


@dataclass(frozen=True)
class Snapshot:
    wall: float
    machine: float
    server: float
    server_main: float
    client: float
    postgres: dict[int, float]


def snapshot(server_pid: int) -> Snapshot:
    server = PROC / str(server_pid)
    return Snapshot(
        wall=time.perf_counter(),
        machine=_machine_busy(),
        server=_stat_cpu(server / "stat"),
        server_main=_stat_cpu(server / "task" / str(server_pid) / "stat"),
        client=time.process_time(),
        postgres=_postgres(),
    )


def usage(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds used between two snapshots, and each as a percentage of one core over the wall time."""
    wall = max(after.wall - before.wall, 1e-9)
    seconds = {
        "server": after.server - before.server,
        "server_main_thread": after.server_main - before.server_main,
        "client": after.client - before.client,
        # Backends that ended during the phase are missed (their time counts as "others").
        "postgres": sum(cpu - before.postgres.get(pid, 0.0) for pid, cpu in after.postgres.items()),
    }
    machine = after.machine - before.machine
    seconds["server_other_threads"] = seconds["server"] - seconds["server_main_thread"]
    seconds["others"] = max(0.0, machine - seconds["server"] - seconds["client"] - seconds["postgres"])
    out = {f"{name}_seconds": round(value, 3) for name, value in seconds.items()}
    out.update({f"{name}_percent": round(100 * value / wall, 1) for name, value in seconds.items()})
    return out
