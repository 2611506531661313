"""The server side of a benchmark, run in its own process pinned to one core: the real app or a bare baseline.

Started by bench/run.py as `python -m bench.server '<json spec>'`; prints one line `READY <port>` once it
listens on 127.0.0.1 and stops cleanly on SIGTERM. Spec keys: server ("app" | "bare"), core, database_url,
config (section overrides), profile (a path for cProfile stats, or null).
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
BIND = "127.0.0.1"


def _json(data: Any, status: int = 200) -> web.Response:
    # The same encoder the simulator API uses.
    return web.json_response(data, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


async def bare_post(request: web.Request) -> web.Response:
    """Parse the simulator body as the real endpoint does, then answer without doing anything."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _json({"error": "bad json"}, status=400)
    if not isinstance(body, dict) or not isinstance(body.get("user"), str) or not isinstance(body.get("text"), str):
        return _json({"error": "bad body"}, status=400)
    return _json({"duplicate": False, "handled_by": None, "replies": []})


def build_bare(spec: dict[str, Any]) -> web.Application:
    app = web.Application(client_max_size=65536)
    app.router.add_post("/api/sim/messages", bare_post)
    return app


def app_config(spec: dict[str, Any]) -> Any:
    """config.toml as shipped, on the spec's database, with the spec's sections (and branches, as dicts) changed."""
    from bot.core.config import BranchConfig, StudyConfig, load_config

    config = load_config(ROOT / "config.toml", env={})
    config = config.replace(database={"url": spec["database_url"]}, server={"host": BIND, "port": 8080})
    overrides = dict(spec.get("config") or {})
    if "branches" in overrides:
        overrides["branches"] = tuple(
            BranchConfig(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k != "study"},
                study=StudyConfig(**raw.get("study", {})),
            )
            for raw in overrides["branches"]
        )
    if "wecom" in overrides:
        overrides["wecom"] = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides["wecom"].items()}
    return config.replace(**overrides) if overrides else config


def build_bot(spec: dict[str, Any]) -> web.Application:
    """The real app with its background tasks, on the given database, config.toml otherwise as shipped."""
    from bot.app import build_app

    return build_app(app_config(spec), background=True)


def _bare_app_callback(section: dict[str, Any]) -> Callable[[web.Request], Any]:
    """The app's XML callback with wechatpy only: verify, decrypt, parse, answer an encrypted text."""
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.replies import TextReply
    from wechatpy.work.crypto import WeChatCrypto
    from wechatpy.work.parser import parse_message

    crypto = WeChatCrypto(section["callback_token"], section["encoding_aes_key"], section["corp_id"])

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        try:
            plain = crypto.decrypt_message(
                await request.read(), query["msg_signature"], query["timestamp"], query["nonce"]
            )
            message = parse_message(plain)
        except (InvalidSignatureException, KeyError, ValueError):
            return web.Response(status=400)
        reply = TextReply(message=message, content="没听懂这句话呢。").render()
        return web.Response(text=crypto.encrypt_message(reply, query["nonce"], query["timestamp"]))

    return callback


def build_wecom_bare(spec: dict[str, Any]) -> web.Application:
    """A WeCom app callback that only verifies, decrypts and parses with wechatpy and answers an encrypted text."""
    app = web.Application(client_max_size=65536)
    app.router.add_post("/wecom/callback", _bare_app_callback(spec["config"]["wecom"]))
    return app


def build_aibot_bare(spec: dict[str, Any]) -> web.Application:
    """The bare handlers for the mix: the AI bot's JSON callback and the app's XML one, with wechatpy's crypto only.

    Verify the signature, decrypt, parse (JSON / wechatpy's parser), and answer an encrypted, signed text.
    """
    import base64
    import hashlib
    import secrets

    from wechatpy.work.crypto import PrpCrypto

    section = spec["config"]["wecom"]
    aibot_token = section["aibot_token"]
    prp = PrpCrypto(base64.b64decode(section["aibot_encoding_aes_key"] + "="))

    def sign(timestamp: str, nonce: str, encrypted: str) -> str:
        return hashlib.sha1("".join(sorted([aibot_token, timestamp, nonce, encrypted])).encode()).hexdigest()

    async def aibot(request: web.Request) -> web.Response:
        query = request.query
        try:
            encrypted = json.loads(await request.read())["encrypt"]
            timestamp, nonce = query["timestamp"], query["nonce"]
            if sign(timestamp, nonce, encrypted) != query["msg_signature"]:
                return web.Response(status=400)
            message = json.loads(prp.decrypt(encrypted, ""))
        except (KeyError, ValueError, TypeError):
            return web.Response(status=400)
        content = "没听懂这句话呢。" if message.get("msgtype") == "text" else ""
        answer = json.dumps(
            {"msgtype": "stream", "stream": {"id": secrets.token_hex(16), "finish": True, "content": content}},
            ensure_ascii=False,
        )
        sealed = prp.encrypt(answer, "").decode()
        body = {
            "encrypt": sealed,
            "msgsignature": sign(timestamp, nonce, sealed),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        return web.json_response(body)

    app = web.Application(client_max_size=65536)
    app.router.add_post("/wecom/aibot", aibot)
    app.router.add_post("/wecom/callback", _bare_app_callback(section))
    return app


SERVERS: dict[str, Callable[[dict[str, Any]], web.Application]] = {
    "app": build_bot,
    "bare": build_bare,
    "wecom-bare": build_wecom_bare,
    "aibot-bare": build_aibot_bare,
}


class SqlStats:
    """Statements by first word with the time each took as the event loop saw it, and write-transaction spans.

    A span runs from the moment a transaction has begun (on SQLite: BEGIN IMMEDIATE returned, so the write lock
    is held) to its commit or rollback; on SQLite no other transaction can write meanwhile.
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.spans: list[float] = []
        self.texts: Counter[str] = Counter()

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "begin", self._begin)
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        event.listen(Engine, "commit", lambda conn: self._end(conn, "COMMIT"))
        event.listen(Engine, "rollback", lambda conn: self._end(conn, "ROLLBACK"))

    def clear(self) -> None:
        self.counts.clear()
        self.texts.clear()
        self.seconds.clear()
        self.spans.clear()

    def _begin(self, conn: Any) -> None:
        conn.info["bench_span"] = time.perf_counter()

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_statement"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        now = time.perf_counter()
        kind = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        self.counts[kind] += 1
        self.texts[" ".join(statement.split())[:70]] += 1
        self.seconds[kind] += now - conn.info.pop("bench_statement", now)
        if kind == "BEGIN":
            conn.info["bench_span"] = now  # the write lock is ours from here

    def _end(self, conn: Any, kind: str) -> None:
        self.counts[kind] += 1
        started = conn.info.pop("bench_span", None)
        if started is not None:
            self.spans.append(time.perf_counter() - started)

    def as_json(self) -> str:
        spans = sorted(self.spans)
        return json.dumps(
            {
                "counts": dict(self.counts),
                "top_statements": dict(self.texts.most_common(12)),
                "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
                "transaction_spans_ms": {
                    "count": len(spans),
                    "mean": round(1000 * sum(spans) / len(spans), 2),
                    "p50": round(1000 * spans[len(spans) // 2], 2),
                    "p99": round(1000 * spans[int(len(spans) * 0.99)], 2),
                    "max": round(1000 * spans[-1], 2),
                }
                if spans
                else {},
            }
        )


async def serve(spec: dict[str, Any]) -> None:
    statements = SqlStats() if spec["server"] == "app" else None
    if statements is not None:
        statements.install()
    app = SERVERS[spec["server"]](spec)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()  # runs the app's startup (migrations, demo seed, sender, scheduler)
    site = web.TCPSite(runner, BIND, 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    if spec["server"] == "app":
        # The app loads jieba's dictionary in a thread at start (about 1.5 s of CPU), then freezes what it
        # loaded out of the garbage collector's way: measure after that, as a server up for a while would be.
        from bot.app import WARM
        from bot.core.services import SERVICES

        await app[WARM]
        for job in spec.get("fire_jobs") or ():  # e.g. the study day's reminder, as `yizhan jobs run` does
            await app[SERVICES].jobs.run_now(job)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if statements is not None:
        statements.clear()  # count traffic only, not migrations and seeding
    print(f"READY {port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        if statements is not None:
            # The runner reads this line from the log: statements per request, all phases together.
            print(f"SQLSTATS {statements.as_json()}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    spec = json.loads((argv or sys.argv[1:])[0])
    if spec.get("core") is not None:
        os.sched_setaffinity(0, {int(spec["core"])})
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Retries of lost races are logged at INFO; the runner counts them.
    logging.getLogger("bot.core.pipeline").setLevel(logging.INFO)
    logging.getLogger("bot.core.groupcommit").setLevel(logging.INFO)
    profile_path = spec.get("profile")
    profiler = cProfile.Profile() if profile_path else None
    if profiler is not None:
        profiler.enable()
    try:
        asyncio.run(serve(spec))
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_path)


if __name__ == "__main__":
    main()
