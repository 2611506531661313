"""A large question bank beside a running bot, and a decompression-bomb xlsx (issue 13, findings 11 and 12).

    python -m bench.bank import [--questions 200000] [--members 20] [--rate 0.5] [--json PATH]
    python -m bench.bank bomb [--gigabytes 3] [--json PATH]

`import`: writes a CSV bank of `--questions` generated questions, starts the real bot (`yizhan run`, SQLite in
a temp dir, the shipped config.toml otherwise), has `--members` simulated members chat through the simulator
API (each about `--rate` messages a second: chatter, 帮助, 搜题) while `yizhan questions import` runs in a
process of its own, then times 搜题 of imported questions and a 抢答 start. Reported: every message's wait
(max and p99, during the import and after), 搜题 latency after the import and how long until 搜题 finds the
imported questions, the bot's RSS (sampled every 0.1 s; its peak), the import's duration, and the machine's
load. Exit status 0 when the acceptance holds (no message over 1 s, 搜题 after the import within 1 s, RSS
under 600 MB), else 1.

`bomb`: writes a 2-3 MB xlsx whose sheet unpacks to `--gigabytes` (rows of identical cells, claiming all
16,384 columns), once with honest sizes in its zip directory and once understating them, and imports each with
the CLI; reported: exit status, the message, seconds and the process's peak RSS. Exit status 0 when both are
refused with exit 2 in under 5 s and 200 MB.

Run by hand; it is a benchmark, not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/bank.py`: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.load import CSRF_META
from bench.lookup import generated_bank

ROOT = Path(__file__).resolve().parent.parent
MAX_WAIT_S = 1.0
MAX_RSS_MB = 600
SLOW_S = 0.5  # messages slower than this are listed (seconds since the run started, wait, first word)
SLOW: list[tuple[float, float, str]] = []
STARTED = time.perf_counter()
BOMB_MAX_S = 5.0
BOMB_MAX_MB = 200
CHATTER = ("收到", "好的", "明白", "今天学习了党章第三章", "大家辛苦了", "下午的会几点开始", "到", "学习了")
HEADER = ["编号", "题型", "题干", "选项", "答案", "解析", "出处", "标签", "难度"]
EXPLANATION = "本题考查党支部工作的基本制度。依据相关条例，党支部应当严格落实三会一课制度，认真组织党员学习。"


# --- The simulator API client --------------------------------------------------------------------
class SimClient:
    """Posts members' messages to the simulator API. `prepare` is the one place that knows how a client
    is admitted (today: nothing to do; with a session/CSRF requirement, log in there and keep the token)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.headers: dict[str, str] = {}
        self.http: aiohttp.ClientSession | None = None

    async def prepare(self) -> None:
        # The simulator's session: a cookie (kept for 127.0.0.1: unsafe=True) and its CSRF token, as the page gets them.
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=300), cookie_jar=aiohttp.CookieJar(unsafe=True)
        )

    async def say(self, user: str, text: str, chat: str | None = "demo-group") -> tuple[float, list[str]]:
        """Post one message; (seconds until the answer, the replies' texts)."""
        assert self.http is not None
        if "X-Yizhan-CSRF" not in self.headers:  # the first message, once the bot is up
            async with self.http.get(f"{self.base_url}/") as resp:
                found = CSRF_META.search(await resp.text())
            self.headers = {**self.headers, "X-Yizhan-CSRF": found.group(1) if found else ""}
        body = {"user": user, "text": text, "chat": chat, "name": f"党员{user}"}
        start = time.perf_counter()
        async with self.http.post(f"{self.base_url}/api/sim/messages", json=body, headers=self.headers) as resp:
            data = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"{resp.status}: {data}")
        return time.perf_counter() - start, [r["text"] for r in data.get("replies", [])]

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()


# --- The bank file -------------------------------------------------------------------------------
def write_csv(path: Path, size: int, seed: int) -> list[str]:
    """A CSV bank of `size` generated questions (≈ 250 bytes each); returns their stems."""
    bank, _origin = generated_bank(size, seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for q in bank:
            answer = "|".join(q.answer) if isinstance(q.answer, tuple) else q.answer
            writer.writerow([q.key, q.type, q.stem, "|".join(q.options), answer, EXPLANATION, "bench", "bench", 1])
    return [q.stem for q in bank]


# --- Watching the bot ----------------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    for task in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{task}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


@dataclass
class Watch:
    pid: int
    peak_mb: float = 0.0
    samples: list[tuple[float, float]] = field(default_factory=list)

    async def run(self) -> None:
        start = time.perf_counter()
        while True:
            mb = rss_mb(self.pid)
            self.peak_mb = max(self.peak_mb, mb)
            self.samples.append((round(time.perf_counter() - start, 1), round(mb, 1)))
            await asyncio.sleep(0.1)


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def stats(waits: Sequence[float]) -> dict[str, float]:
    if not waits:
        return {}
    ordered = sorted(waits)
    return {
        "count": len(ordered),
        "p50_s": round(ordered[len(ordered) // 2], 3),
        "p99_s": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "max_s": round(ordered[-1], 3),
    }


# --- The import scenario -------------------------------------------------------------------------
async def member(
    client: SimClient, user: str, rate: float, stems: Sequence[str], waits: list[float], stop: asyncio.Event
) -> None:
    rng = random.Random(user)
    while not stop.is_set():
        roll = rng.random()
        if roll < 0.7:
            text = rng.choice(CHATTER)
        elif roll < 0.9:
            text = "帮助"
        else:
            text = "搜题 " + rng.choice(stems[:272] if rng.random() < 0.5 else stems)[2:]
        wait, _replies = await client.say(user, text)
        waits.append(wait)
        if wait > SLOW_S:
            SLOW.append((round(time.perf_counter() - STARTED, 1), round(wait, 3), text.split(" ", 1)[0]))
        await asyncio.sleep(rng.expovariate(rate))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(client: SimClient, bot: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if bot.poll() is not None:
            raise RuntimeError("the bot stopped while starting")
        try:
            _wait, replies = await client.say("u00", "搜题 预备党员的预备期为多长时间")
            if replies and "正在加载" not in replies[0]:
                return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError("the bot did not start")


async def run_import(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="yizhan-bank-bench-"))
    csv_path = tmp / "bank.csv"
    stems = write_csv(csv_path, args.questions, args.seed)
    env = {
        **os.environ,
        "YIZHAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bot.core.db'}",
        "YIZHAN_SERVER_PORT": str(free_port()),
        "YIZHAN_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "bot", "--config", str(ROOT / "config.toml")]
    log = (tmp / "bot.log").open("wb")
    bot = subprocess.Popen([*command, "run"], cwd=tmp, env=env, stderr=log)
    client = SimClient(f"http://127.0.0.1:{env['YIZHAN_SERVER_PORT']}")
    await client.prepare()
    watch = Watch(bot.pid)
    watching = asyncio.create_task(watch.run())
    result: dict[str, Any] = {"questions": args.questions, "csv_mb": round(csv_path.stat().st_size / 2**20, 1)}
    try:
        await wait_ready(client, bot)
        result["rss_before_mb"] = round(rss_mb(bot.pid), 1)
        result["load_before"] = load()
        stop = asyncio.Event()
        during: list[float] = []
        users = [f"u{i:02d}" for i in range(1, args.members + 1)]
        chatting = [asyncio.create_task(member(client, u, args.rate, stems, during, stop)) for u in users]
        await asyncio.sleep(3)
        start = time.perf_counter()
        result["import_started_at_s"] = round(start - STARTED, 1)
        importing = await asyncio.create_subprocess_exec(
            *command,
            "questions",
            "import",
            str(csv_path),
            cwd=tmp,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await importing.communicate()
        result["import_seconds"] = round(time.perf_counter() - start, 1)
        result["import_output"] = (out.decode().splitlines() or [""])[0]
        if importing.returncode != 0:
            raise RuntimeError(f"import failed: {err.decode()[-2000:]}")
        result["messages_during_import"] = stats(during)
        after: list[float] = []
        stop.set()
        await asyncio.gather(*chatting)
        stop = asyncio.Event()
        chatting = [asyncio.create_task(member(client, u, args.rate, stems, after, stop)) for u in users]
        # 搜题 of imported questions, until the index has caught up with the import.
        searches: list[float] = []
        caught_up = None
        rng = random.Random(args.seed)
        started = time.perf_counter()
        while time.perf_counter() - started < args.catch_up_seconds:
            stem = rng.choice(stems[1000:])
            wait, replies = await client.say("u00", f"搜题 {stem[2:]}")
            searches.append(wait)
            if replies and stem in replies[0]:
                caught_up = round(time.perf_counter() - started, 1)
                break
            await asyncio.sleep(0.5)
        for stem in rng.sample(stems, 20):
            wait, replies = await client.say("u00", f"搜题 {stem[2:]}")
            searches.append(wait)
        wait, _ = await client.say("u00", "抢答 3题")
        result["rush_start_seconds"] = round(wait, 3)
        await client.say("u00", "结束答题")
        await asyncio.sleep(3)
        stop.set()
        await asyncio.gather(*chatting)
        result["messages_after_import"] = stats(after)
        result["lookup_after_import"] = stats(searches)
        result["lookup_found_imported_after_s"] = caught_up
        result["rss_after_mb"] = round(rss_mb(bot.pid), 1)
        result["rss_peak_mb"] = round(watch.peak_mb, 1)
        result["load_after"] = load()
        result["slow_messages"] = SLOW[:50]
    finally:
        watching.cancel()
        await client.close()
        bot.terminate()
        bot.wait(30)
        log.close()
        if args.keep:
            result["kept"] = str(tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    worst = max(result["messages_during_import"]["max_s"], result["messages_after_import"]["max_s"])
    result["ok"] = (
        worst <= MAX_WAIT_S and result["lookup_after_import"]["max_s"] <= MAX_WAIT_S and watch.peak_mb < MAX_RSS_MB
    )
    return result


# --- The bomb ------------------------------------------------------------------------------------
def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def write_bomb(path: Path, gigabytes: float, honest: bool) -> int:
    """An xlsx whose sheet is rows of identical cells (and blanks) unpacking to `gigabytes`; returns its size.

    The sheet's deflate stream is one packed block of rows repeated (each ends with a full flush, so the copies
    are independent), so writing a 3 GB sheet takes seconds, not a compressor's minutes.
    """
    cells = "".join(f'<c t="inlineStr"><is><t>{"党" * 40}</t></is></c>' for _ in range(13))
    # Rows of cells, each followed by a megabyte of blanks (XML ignores them): runs pack about 1,000 to 1.
    block = (f"<row>{cells}</row>" + " " * 2**20).encode()
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData>'
    )
    tail = b"</sheetData></worksheet>"
    copies = max(1, int(gigabytes * 2**30 / len(block)))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed_head = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    packed_block = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    packed_tail = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + copies * len(block) + len(tail)
    parts: list[tuple[str, bytes, int, int, int]] = []  # name, packed, crc, unpacked size, declared size
    for name, text in _workbook_parts().items():
        raw = text.encode()
        parts.append((name, _deflate(raw), zlib.crc32(raw), len(raw), len(raw)))
    sheet = packed_head + packed_block * copies + packed_tail
    declared = size if honest else 2**20
    parts.append(("xl/worksheets/sheet1.xml", sheet, crc, size, declared))
    with path.open("wb") as out:
        directory = b""
        for name, packed, part_crc, _size, declared_size in parts:
            offset = out.tell()
            encoded = name.encode()
            fields = (20, 0, 8, 0, 0x21, part_crc, len(packed), min(declared_size, 0xFFFFFFFF), len(encoded), 0)
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + encoded + packed)
            directory += (
                struct.pack("<IH", 0x02014B50, 20)
                + struct.pack("<HHHHHIIIHHHHHII", *fields, 0, 0, 0, 0, offset)
                + encoded
            )
        start = out.tell()
        out.write(directory)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory), start, 0))
    return size


def _workbook_parts() -> dict[str, str]:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    return {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="题库" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
    }


def import_measured(path: Path, tmp: Path) -> dict[str, Any]:
    """`yizhan questions import path` in a process of its own: exit status, message, seconds, peak RSS."""
    env = {**os.environ, "YIZHAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bomb.db'}", "YIZHAN_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "bot", "--config", str(ROOT / "config.toml"), "questions", "import", str(path)]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    assert process.stderr is not None
    err = process.stderr.read().decode()
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "message": err.strip().splitlines()[-1] if err.strip() else "",
        "traceback": "Traceback" in err,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def run_bomb(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="yizhan-bomb-bench-"))
    result: dict[str, Any] = {"load_before": load()}
    for honest in (True, False):
        path = tmp / ("bomb.xlsx" if honest else "bomb-lying.xlsx")
        unpacked = write_bomb(path, args.gigabytes, honest)
        measured = import_measured(path, tmp)
        measured.update(file_mb=round(path.stat().st_size / 2**20, 2), unpacks_to_gb=round(unpacked / 2**30, 2))
        result["honest_sizes" if honest else "understated_sizes"] = measured
    result["load_after"] = load()
    shutil.rmtree(tmp, ignore_errors=True)
    result["ok"] = all(
        r["exit"] == 2 and not r["traceback"] and r["seconds"] < BOMB_MAX_S and r["peak_rss_mb"] < BOMB_MAX_MB
        for r in (result["honest_sizes"], result["understated_sizes"])
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bank", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    imp = sub.add_parser("import", help="a large CSV import beside a running bot with chatting members")
    imp.add_argument("--questions", type=int, default=200_000)
    imp.add_argument("--members", type=int, default=20)
    imp.add_argument("--rate", type=float, default=0.5, help="messages a second per member (default 0.5)")
    imp.add_argument("--seed", type=int, default=7)
    imp.add_argument("--catch-up-seconds", type=float, default=180, help="how long to wait for 搜题 to find imports")
    imp.add_argument("--keep", action="store_true", help="keep the temp dir (CSV, database, the bot's log)")
    imp.add_argument("--json", type=Path)
    bomb = sub.add_parser("bomb", help="decompression-bomb xlsx files through the CLI")
    bomb.add_argument("--gigabytes", type=float, default=3.0)
    bomb.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = asyncio.run(run_import(args)) if args.what == "import" else run_bomb(args)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
