"""Test helpers shared by the suite: the drivers that talk to the app as the simulator's page does.

BotDriver goes over HTTP (the end-to-end path); InProcessDriver calls the simulator API's handlers in this
process with no HTTP in between (for handler logic: the same answers, without a socket per message).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import TestClient, make_mocked_request
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channels.sim import api
from bot.core.channels.sim.access import CSRF_HEADER
from bot.core.models import Member, MemberIdentity, RollCallEntry
from bot.core.services import SERVICES, Services

CSRF_META = re.compile(r'<meta name="yizhan-csrf" content="([^"]*)">')


def csrf_from_page(html: str) -> str:
    """The CSRF token the simulator page carries ('' when the page asks for the access token instead)."""
    found = CSRF_META.search(html)
    assert found is not None, "the page has no CSRF meta tag"
    return found.group(1)


class BotDriver:
    """Drives the app as the world does: HTTP into the simulator API; reads what members see.

    Like the page, it first loads "/" (which sets the session cookie in the client's jar and carries the
    CSRF token), then sends the token with every request.
    """

    def __init__(self, client: TestClient, app: web.Application) -> None:
        self.client = client
        self.app = app
        self._replies: dict[str, list[str]] = defaultdict(list)
        self.csrf = ""

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    async def open_session(self) -> str:
        """Load the page as a browser does; return (and keep) its CSRF token."""
        resp = await self.client.get("/")
        assert resp.status == 200, await resp.text()
        self.csrf = csrf_from_page(await resp.text())
        assert self.csrf, "the page gave no session"
        return self.csrf

    async def headers(self) -> dict[str, str]:
        """The headers the page sends with a JSON POST."""
        if not self.csrf:
            await self.open_session()
        return {CSRF_HEADER: self.csrf, "Content-Type": "application/json"}

    async def post_raw(self, data: str | bytes, headers: dict[str, str] | None = None) -> Any:
        """POST data to the message API as the page would (session, CSRF token, JSON), headers changed as given."""
        sent = {**await self.headers(), **(headers or {})}
        return await self.client.post("/api/sim/messages", data=data, headers=sent)

    async def get(self, path: str, **params: str) -> Any:
        """GET a simulator API path within the session."""
        if not self.csrf:
            await self.open_session()
        return await self.client.get(path, params=params, headers={CSRF_HEADER: self.csrf})

    async def say(
        self,
        text: str,
        user: str = "u01",
        chat: str | None = "demo-group",
        msg_id: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Post a message as user in chat (None: a direct message); return the API's answer."""
        body: dict[str, Any] = {"user": user, "text": text, "chat": chat}
        if msg_id is not None:
            body["id"] = msg_id
        if name is not None:
            body["name"] = name
        resp = await self._send(body)
        assert resp.status == 200, await resp.text()
        data = await resp.json()
        # What this user sees in answer: lines in the chat they wrote in (or, directly, to them).
        self._replies[user].extend(
            r["text"] for r in data["replies"] if r["to"] == (chat if chat is not None else user)
        )
        return data

    async def _send(self, body: dict[str, Any]) -> Any:
        return await self.client.post("/api/sim/messages", json=body, headers=await self.headers())

    def replies_to(self, user: str) -> list[str]:
        """The bot's answers to user's messages so far (in the chat they wrote in), in order."""
        return list(self._replies[user])

    async def transcript(self, chat: str = "demo-group", limit: int = 1000) -> list[dict[str, Any]]:
        resp = await self.get("/api/sim/messages", chat=chat, limit=str(limit))
        assert resp.status == 200
        return (await resp.json())["messages"]

    async def drain_outbox(self, max_passes: int = 100) -> int:
        """Run the outbox sender until nothing is due; return rows attempted."""
        return await drain(self.services, max_passes)


class Answer:
    """What an in-process call answered: the parts of a client response the tests read."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        self.status = status
        self.content_type = content_type
        self._body = body

    @classmethod
    def of(cls, response: web.Response) -> Answer:
        body = response.body
        assert isinstance(body, bytes | bytearray), "a streamed answer has no place here"
        return cls(response.status, response.content_type, bytes(body))

    async def read(self) -> bytes:
        return self._body

    async def text(self) -> str:
        return self._body.decode("utf-8")

    async def json(self) -> Any:
        return json.loads(self._body)


# The simulator API's GET paths and their handlers, without the access checks (the HTTP tests keep those).
_GETS = {"/api/sim/messages": api.transcript, "/api/sim/state": api.state}
_MEDIA = re.compile(r"/api/sim/media/(?P<id>\d{1,18})")


class InProcessDriver(BotDriver):
    """BotDriver's interface with no HTTP: the simulator API's own handlers are called in this process.

    The app is started as a server starts it (its startup and cleanup contexts, AppRunner) but listens on
    nothing; say() runs the API's message handler (pipeline, transcript, in-line delivery) on a request built
    here, so the answers are the API's own. The access checks (session, CSRF, Host) and the middlewares are
    HTTP's business and stay with the end-to-end tests.
    """

    def __init__(self, runner: web.AppRunner) -> None:
        self.runner = runner
        self.app = runner.app
        self._replies: dict[str, list[str]] = defaultdict(list)
        self.csrf = "in-process"
        self._closed = False
        # make_mocked_request's transport, protocol and writer, made once: a request of its own is cheap then.
        first = make_mocked_request("GET", "/", app=self.app)
        self._parts = {"transport": first.transport, "protocol": first.protocol, "writer": first.writer}

    @classmethod
    async def start(cls, app: web.Application) -> InProcessDriver:
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        return cls(runner)

    async def close(self) -> None:
        """Stop the app (its cleanup contexts), once."""
        if not self._closed:
            self._closed = True
            await self.runner.cleanup()

    async def open_session(self) -> str:
        return self.csrf

    async def post_raw(self, data: str | bytes, headers: dict[str, str] | None = None) -> Answer:
        """POST data to the message handler as the page would (headers other than Content-Type are not read)."""
        body = data.encode("utf-8") if isinstance(data, str) else data
        payload = StreamReader(_NO_PROTOCOL, 2**16, loop=asyncio.get_running_loop())
        payload.feed_data(body)
        payload.feed_eof()
        request = make_mocked_request(
            "POST",
            "/api/sim/messages",
            headers={"Content-Type": "application/json", **(headers or {})},
            app=self.app,
            payload=payload,
            client_max_size=self.services.config.server.max_body_bytes,
            **self._parts,
        )
        response = await api.post_message(request)
        assert isinstance(response, web.Response)
        return Answer.of(response)

    async def get(self, path: str, **params: str) -> Answer:
        """GET a simulator API path (its handler, called here)."""
        url = f"{path}?{urlencode(params)}" if params else path
        media = _MEDIA.fullmatch(path)
        handler = api.media if media else _GETS[path]
        request = make_mocked_request(
            "GET", url, app=self.app, match_info=media.groupdict() if media else {}, **self._parts
        )
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            return Answer(exc.status, "text/plain", exc.text.encode() if exc.text else b"")
        assert isinstance(response, web.Response)
        return Answer.of(response)

    async def _send(self, body: dict[str, Any]) -> Answer:
        return await self.post_raw(json.dumps(body, ensure_ascii=False))


class _NoProtocol:
    """The protocol a StreamReader fed in one piece needs: nothing to pause or resume."""

    def pause_reading(self, *args: Any, **kwargs: Any) -> None:
        pass

    def resume_reading(self, *args: Any, **kwargs: Any) -> None:
        pass


_NO_PROTOCOL: Any = _NoProtocol()


async def drain(services: Services, max_passes: int = 100) -> int:
    """Run services' outbox sender until nothing is due (at most max_passes passes); return rows attempted."""
    total = 0
    for _ in range(max_passes):
        done = await services.sender.run_once()
        if not done:
            return total
        total += done
    return total


async def register(driver: BotDriver, count: int, chat: str = "demo-group", prefix: str = "m") -> list[str]:
    """Have `count` new members say hello in a chat (which registers them); return their user ids."""
    users = [f"{prefix}{i:03d}" for i in range(count)]
    for i, user in enumerate(users):
        await driver.say("大家好", user=user, chat=chat, name=f"{prefix.upper()}同志{i:03d}")
    return users


async def fire(driver: BotDriver, job: str) -> bool:
    """Fire a scheduled job for the slot at the (fake) clock's current time, then deliver what it sent."""
    fired = await driver.services.jobs.fire(job, driver.services.clock())
    await driver.drain_outbox()
    return fired


async def names_by_user(bot: BotDriver) -> dict[str, str]:
    """Simulated user id → display name."""
    async with bot.services.sessions() as session:
        rows = await session.execute(
            select(MemberIdentity.platform_user_id, Member.display_name).join(
                Member, Member.id == MemberIdentity.member_id
            )
        )
    return dict(rows.all())


@contextlib.contextmanager
def statements_run(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements run on engine while the block runs (those that pass its events: on SQLite, not the
    prepared ones that go to the DBAPI cursor directly)."""
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


async def waiting_for_locks(engine: AsyncEngine, count: int, tasks: Sequence[asyncio.Task[Any]] = ()) -> None:
    """Until `count` sessions of this PostgreSQL database wait for a lock (10 s at most); tasks that should be among
    them must not finish meanwhile (one that does has not raced)."""
    async with asyncio.timeout(10):
        while True:
            assert not any(task.done() for task in tasks), "a copy finished without waiting for the lock"
            async with engine.connect() as conn:
                waiting = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            if waiting >= count:
                return
            await asyncio.sleep(0.01)


async def queued_for_entry(engine: AsyncEngine, entry_id: int, *calls: Awaitable[Any]) -> list[Any]:
    """Run the calls at once (PostgreSQL), each queued for a roll-call entry's row lock in turn (held meanwhile by a
    third connection); they take it in the order they queued."""
    tasks: list[asyncio.Task[Any]] = []
    async with engine.connect() as gate:
        await gate.execute(select(RollCallEntry.id).where(RollCallEntry.id == entry_id).with_for_update())
        for call in calls:
            tasks.append(asyncio.ensure_future(call))
            await waiting_for_locks(engine, len(tasks), tasks)
        await gate.commit()
    return list(await asyncio.gather(*tasks))
