"""The local chat simulator channel: a phone-style group chat page, its JSON API and live events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select

from bot import texts
from bot.db import transaction
from bot.message import Message, Outgoing
from bot.models import Branch, Chat, Media, Member, MemberIdentity, PartyGroup, SimMessage
from bot.outbox import RateLimit
from bot.services import SERVICES, Services

CHANNEL = "sim"
BOT_SENDER = "bot"
MAX_TEXT = 2000


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


def dm_chat(user_id: str) -> str:
    """The transcript id of a member's direct chat with the bot."""
    return f"dm:{user_id}"


class SimHub:
    """In-process fan-out of new transcript lines to open event streams."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def subscribe(self, chat_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers[chat_id].add(queue)
        return queue

    def unsubscribe(self, chat_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers[chat_id].discard(queue)

    def close(self) -> None:
        """Shutting down: end every open event stream (an empty line is the signal)."""
        for queues in self._subscribers.values():
            for queue in list(queues):
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait({})
        self._subscribers.clear()

    def publish(self, chat_id: str, line: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(chat_id, ())):
            if queue.full():  # a stalled page: drop it rather than grow without bound
                self._subscribers[chat_id].discard(queue)
            else:
                queue.put_nowait(line)


HUB = web.AppKey("sim_hub", SimHub)


def _line(row: SimMessage, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row.id,
        "chat": row.chat_id,
        "sender": row.sender_id,
        "name": row.sender_name,
        "text": row.text,
        "mentions": list(row.mentions or ()),
        "time": row.created_at.astimezone(tz).isoformat(),
        "image": f"/api/sim/media/{row.media_id}" if row.media_id else None,
    }


class SimClient:
    """The simulator's 'platform': delivering a message appends it to the transcript."""

    name = CHANNEL

    def __init__(self, services: Services, hub: SimHub) -> None:
        self.services = services
        self.hub = hub

    def rate_limit(self, item: Outgoing) -> RateLimit | None:
        return None

    async def deliver(self, item: Outgoing) -> None:
        chat_id = item.target_id if item.target_kind == "chat" else dm_chat(item.target_id)
        async with transaction(self.services.sessions) as session:
            row = SimMessage(
                chat_id=chat_id,
                sender_id=BOT_SENDER,
                sender_name=self.services.config.bot.name,
                text=item.text,
                mentions=list(item.mentions),
                created_at=self.services.clock(),
                media_id=item.media_id,
            )
            session.add(row)
            await session.flush()
            line = _line(row, self.services.config.tz)
        self.hub.publish(chat_id, line)


def _services(request: web.Request) -> Services:
    return request.app[SERVICES]


def _bad(reason: str, status: int = 400) -> web.Response:
    return _json({"error": texts.SIM_BAD_REQUEST.format(reason=reason)}, status=status)


async def page(request: web.Request) -> web.Response:
    html = resources.files("bot").joinpath("static/sim.html").read_text(encoding="utf-8")
    return web.Response(text=html, content_type="text/html", charset="utf-8")


async def state(request: web.Request) -> web.Response:
    """The bot's name and, per simulated group, its members (those with a simulator identity)."""
    services = _services(request)
    async with services.sessions() as session:
        chats = (await session.scalars(select(Chat).where(Chat.channel == CHANNEL).order_by(Chat.id))).all()
        out = []
        for chat in chats:
            branch = await session.get(Branch, chat.branch_id)
            rows = await session.execute(
                select(Member, MemberIdentity.platform_user_id, PartyGroup.name)
                .join(MemberIdentity, MemberIdentity.member_id == Member.id)
                .outerjoin(PartyGroup, PartyGroup.id == Member.party_group_id)
                .where(Member.branch_id == chat.branch_id, MemberIdentity.channel == CHANNEL)
                .order_by(MemberIdentity.platform_user_id)
            )
            members = [
                {
                    "id": user_id,
                    "name": member.display_name,
                    "role": member.role,
                    "role_name": texts.ROLE_NAMES[member.role],
                    "group": group or "",
                }
                for member, user_id, group in rows
            ]
            out.append(
                {
                    "id": chat.platform_chat_id,
                    "name": chat.name or chat.platform_chat_id,
                    "branch": branch.name if branch else "",
                    "members": members,
                }
            )
    return _json({"bot": {"name": services.config.bot.name, "avatar": services.config.sim.bot_avatar}, "chats": out})


async def post_message(request: web.Request) -> web.Response:
    """Post a message as a member; answers with the bot's replies to it (also pushed to the page)."""
    services = _services(request)
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _bad("不是合法的 JSON")
    if not isinstance(body, dict):
        return _bad("应为 JSON 对象")
    user, text, chat = body.get("user"), body.get("text"), body.get("chat")
    msg_id, name = body.get("id") or uuid.uuid4().hex, body.get("name")
    if not isinstance(user, str) or not user.strip():
        return _bad("缺少 user")
    if not isinstance(text, str) or not text.strip():
        return _bad("缺少 text")
    if len(text) > MAX_TEXT:
        return _bad(f"text 超过 {MAX_TEXT} 字")
    if chat is not None and (not isinstance(chat, str) or not chat.strip()):
        return _bad("chat 应为群 id 或 null")
    if not isinstance(msg_id, str) or len(msg_id) > 128:
        return _bad("id 应为不超过 128 字的字符串")
    if name is not None and not isinstance(name, str):
        return _bad("name 应为字符串")
    now: datetime = services.clock()
    msg = Message(
        channel=CHANNEL,
        platform_msg_id=msg_id,
        sender_id=user,
        sender_name=name or await _known_name(services, user),
        text=text,
        sent_at=now,
        chat_id=chat,
        mentions_bot=bool(body.get("mention_bot", False)),
    )
    outcome = await services.pipeline.process(msg)
    if outcome.duplicate:
        return _json({"duplicate": True, "handled_by": None, "replies": []})
    transcript_chat = chat if chat is not None else dm_chat(user)
    async with transaction(services.sessions) as session:
        row = SimMessage(
            chat_id=transcript_chat,
            sender_id=user,
            sender_name=msg.sender_name or user,
            text=text,
            mentions=[],
            created_at=now,
        )
        session.add(row)
        await session.flush()
        line = _line(row, services.config.tz)
    request.app[HUB].publish(transcript_chat, line)
    delivered = await services.sender.deliver_now(outcome.reply_ids)
    if len(delivered) < len(outcome.reply_ids):
        services.sender.notify()
    replies = [{"id": d.id, "text": d.text, "mentions": list(d.mentions), "to": d.target_id} for d in delivered]
    return _json({"duplicate": False, "handled_by": outcome.handled_by, "replies": replies})


async def _known_name(services: Services, user_id: str) -> str | None:
    async with services.sessions() as session:
        return await session.scalar(
            select(Member.display_name)
            .join(MemberIdentity, MemberIdentity.member_id == Member.id)
            .where(MemberIdentity.channel == CHANNEL, MemberIdentity.platform_user_id == user_id)
        )


async def transcript(request: web.Request) -> web.Response:
    """A chat's transcript after an optional line id: ?chat=demo-group&after=0 (dm:<user> for direct)."""
    services = _services(request)
    chat = request.query.get("chat", "")
    try:
        after = int(request.query.get("after", "0"))
        limit = min(int(request.query.get("limit", "200")), 1000)
    except ValueError:
        return _bad("after/limit 应为整数")
    if not chat:
        return _bad("缺少 chat")
    async with services.sessions() as session:
        rows = await session.scalars(
            select(SimMessage)
            .where(SimMessage.chat_id == chat, SimMessage.id > after)
            .order_by(SimMessage.id.desc() if after == 0 else SimMessage.id)
            .limit(limit)
        )
        lines = [_line(r, services.config.tz) for r in rows]
    if after == 0:
        lines.reverse()
    return _json({"messages": lines})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: each new transcript line of ?chat=… as a `message` event."""
    chat = request.query.get("chat", "")
    if not chat:
        return _bad("缺少 chat")
    hub: SimHub = request.app[HUB]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    queue = hub.subscribe(chat)
    try:
        await response.write(b": connected\n\n")
        while True:
            try:
                line = await asyncio.wait_for(queue.get(), timeout=15)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if not line:
                break  # the server is shutting down
            payload = json.dumps(line, ensure_ascii=False)
            await response.write(f"event: message\ndata: {payload}\n\n".encode())
    except ConnectionResetError:
        pass
    finally:
        hub.unsubscribe(chat, queue)
    return response


async def _close_streams(app: web.Application) -> None:
    app[HUB].close()


async def media(request: web.Request) -> web.Response:
    """An image the bot sent (e.g. a leaderboard), by id."""
    services = _services(request)
    try:
        media_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with services.sessions() as session:
        row = await session.get(Media, media_id)
    if row is None:
        raise web.HTTPNotFound()
    return web.Response(body=row.data, content_type=row.content_type, headers={"Cache-Control": "max-age=86400"})


def setup_routes(app: web.Application) -> None:
    app[HUB] = SimHub()
    app.on_shutdown.append(_close_streams)
    app.router.add_get("/", page)
    app.router.add_get("/api/sim/state", state)
    app.router.add_post("/api/sim/messages", post_message)
    app.router.add_get("/api/sim/messages", transcript)
    app.router.add_get("/api/sim/events", events)
    app.router.add_get("/api/sim/media/{id}", media)


def attach(app: web.Application, services: Services) -> None:
    """Connect the simulator to the running services (called once they are open)."""
    services.clients[CHANNEL] = SimClient(services, app[HUB])
