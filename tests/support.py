"""Test helpers shared by the suite: the BotDriver that talks to the app over HTTP."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.sim.access import CSRF_HEADER
from bot.services import SERVICES, Services

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
        resp = await self.client.post("/api/sim/messages", json=body, headers=await self.headers())
        assert resp.status == 200, await resp.text()
        data = await resp.json()
        # What this user sees in answer: lines in the chat they wrote in (or, directly, to them).
        self._replies[user].extend(
            r["text"] for r in data["replies"] if r["to"] == (chat if chat is not None else user)
        )
        return data

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
