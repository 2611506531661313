"""The simulator's page, its JSON API and live events, and its 'platform' client (the transcript)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections import defaultdict
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import overload, texts
from bot.core.channels.sim.access import ACCESS, SimAccess, guarded, json_response
from bot.core.config import Config
from bot.core.db import read_only, transaction
from bot.core.message import Message, Outgoing
from bot.core.models import Branch, Chat, Media, Member, MemberIdentity, PartyGroup, SimMessage
from bot.core.outbox import RateLimit
from bot.core.services import SERVICES, Services

log = logging.getLogger(__name__)

CHANNEL = "sim"
BOT_SENDER = "bot"
MAX_TEXT = 2000
MAX_NAME = 32
MAX_CHAT_ID = 128
# Simulated user ids: what WeCom allows in a userid, and never "dm:…" or "bot".
USER_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MAX_ROW_ID = 2**63 - 1
CSRF_PLACEHOLDER = '<meta name="yizhan-csrf" content="">'
PAGE_HEADERS = {
    "Cache-Control": "no-store",  # the page carries the session's CSRF token
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


def _json(data: Any, status: int = 200) -> web.Response:
    return json_response(data, status=status)


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
    """The simulator page; where no access token is needed, with a fresh session (cookie + CSRF token in the page).

    A cookie the browser brings is never answered with its CSRF token (a page on another port of this host
    gets the cookie too): the tab that holds a session keeps its token itself (sessionStorage); where the
    operator's access token is needed, a tab without one asks for it.
    """
    access = request.app[ACCESS]
    refused = access.foreign(request, navigation=True)
    if refused is not None:
        return refused
    html = resources.files("bot.core.channels.sim").joinpath("static/sim.html").read_text(encoding="utf-8")
    fresh = None
    if not access.needs_token:
        fresh = access.new_session()
        nonce = access.session(fresh)
        assert nonce is not None
        html = html.replace(CSRF_PLACEHOLDER, f'<meta name="yizhan-csrf" content="{access.csrf_token(nonce)}">')
    response = web.Response(text=html, content_type="text/html", charset="utf-8", headers=PAGE_HEADERS)
    if fresh is not None:
        access.set_cookie(response, request, fresh)
    return response


async def login(request: web.Request) -> web.Response:
    """POST {"token": …}: the operator's access token buys a session: a cookie, and its CSRF token in the answer."""
    access = request.app[ACCESS]
    refused = access.foreign(request)
    if refused is not None:
        return refused
    if request.content_type != "application/json":
        return _json({"error": texts.SIM_NOT_JSON}, status=415)
    body, bad = await _read_json(request)
    if bad is not None:
        return bad
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not access.token_ok(token):
        log.warning("sim: refused a login with a wrong access token from %s", request.remote)
        return _json({"error": texts.SIM_BAD_TOKEN}, status=403)
    fresh = access.new_session()
    nonce = access.session(fresh)
    assert nonce is not None
    response = _json({"ok": True, "csrf": access.csrf_token(nonce)})
    access.set_cookie(response, request, fresh)
    return response


async def state(request: web.Request) -> web.Response:
    """The bot's name and, per simulated group, its members (those with a simulator identity)."""
    services = _services(request)
    async with read_only(services.sessions) as session:
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
    bot = {
        "name": services.config.bot.name,
        "avatar": services.config.sim.bot_avatar,
        "timezone": services.config.bot.timezone,
    }
    return _json({"bot": bot, "chats": out})


async def _read_json(request: web.Request) -> tuple[Any, web.Response | None]:
    """The request's JSON body, or a short 400/413 answer: never an exception from odd input."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SERVICES].config.server.max_body_bytes
        return None, _json({"error": texts.SIM_TOO_LARGE.format(limit=limit)}, status=413)
    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, _bad(texts.SIM_REASON_NOT_UTF8)
    except (ValueError, RecursionError):  # JSONDecodeError, an integer too long, nesting too deep
        return None, _bad(texts.SIM_REASON_NOT_JSON)


def _storable(value: str) -> bool:
    """Text every database stores as given: no NUL, no lone surrogate (as JSON's "\\ud800" makes)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _field_error(body: dict[str, Any]) -> str | None:
    """Why a message body is unusable, in a few Chinese words; None if it is fine."""
    user, text, chat = body.get("user"), body.get("text"), body.get("chat")
    msg_id, name = body.get("id"), body.get("name")
    if not isinstance(user, str) or not USER_ID.fullmatch(user):
        return texts.SIM_REASON_USER
    if not isinstance(text, str) or not text.strip():
        return texts.SIM_REASON_TEXT
    if len(text) > MAX_TEXT:
        return texts.SIM_REASON_TEXT_LONG.format(max=MAX_TEXT)
    if chat is not None and (not isinstance(chat, str) or not chat.strip() or len(chat) > MAX_CHAT_ID):
        return texts.SIM_REASON_CHAT
    if msg_id is not None and (not isinstance(msg_id, str) or not msg_id or len(msg_id) > 128):
        return texts.SIM_REASON_ID
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME):
        return texts.SIM_REASON_NAME.format(max=MAX_NAME)
    if not isinstance(body.get("mention_bot", False), bool):
        return texts.SIM_REASON_MENTION
    if not all(_storable(v) for v in (text, chat, msg_id, name) if isinstance(v, str)):
        return texts.SIM_REASON_CHARACTERS
    return None


async def post_message(request: web.Request) -> web.Response:
    """Post a message as a simulated member; answers with the bot's replies to it (also pushed to the page).

    Only chats bound in config.toml or seeded for the demo are usable: the API never creates a chat. A name
    names a newcomer; it never renames a member. A direct message needs a member who already exists.
    """
    services = _services(request)
    body, bad = await _read_json(request)
    if bad is not None:
        return bad
    if not isinstance(body, dict):
        return _bad(texts.SIM_REASON_OBJECT)
    error = _field_error(body)
    if error is not None:
        return _bad(error)
    user: str = body["user"]
    text: str = body["text"]
    chat: str | None = body.get("chat")
    msg_id: str = body.get("id") or uuid.uuid4().hex
    name: str | None = body.get("name")
    async with read_only(services.sessions) as session:
        if chat is not None and await _sim_chat_id(session, chat) is None:
            return _json({"error": texts.SIM_UNKNOWN_CHAT}, status=404)
        known = await _known_name(session, user)
    if chat is None and known is None:
        return _json({"error": texts.SIM_UNKNOWN_MEMBER}, status=404)
    now: datetime = services.clock()
    msg = Message(
        channel=CHANNEL,
        platform_msg_id=msg_id,
        sender_id=user,
        sender_name=known if known is not None else (name.strip() if name else None),
        text=text,
        sent_at=now,
        chat_id=chat,
        mentions_bot=body.get("mention_bot", False),
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


async def _sim_chat_id(session: AsyncSession, chat: str) -> int | None:
    """The row id of a simulator group chat that exists (bound in config.toml or seeded), else None."""
    return await session.scalar(select(Chat.id).where(Chat.channel == CHANNEL, Chat.platform_chat_id == chat))


async def _readable(session: AsyncSession, stream: str) -> bool:
    """Whether a transcript may be read: an existing simulator group, or a simulated member's direct chat."""
    if len(stream) > MAX_CHAT_ID or not _storable(stream):
        return False
    if stream.startswith("dm:"):
        return await _known_name(session, stream[3:]) is not None
    return await _sim_chat_id(session, stream) is not None


async def _known_name(session: AsyncSession, user_id: str) -> str | None:
    """The display name of the member with this simulator identity (None: no such member)."""
    return await session.scalar(
        select(Member.display_name)
        .join(MemberIdentity, MemberIdentity.member_id == Member.id)
        .where(MemberIdentity.channel == CHANNEL, MemberIdentity.platform_user_id == user_id)
    )


async def transcript(request: web.Request) -> web.Response:
    """A chat's transcript after an optional line id: ?chat=demo-group&after=0 (dm:<user> for direct)."""
    services = _services(request)
    chat = request.query.get("chat", "")
    after_text, limit_text = request.query.get("after", "0"), request.query.get("limit", "200")
    if not all(t.isascii() and t.isdigit() and len(t) < 19 for t in (after_text, limit_text)):
        return _bad(texts.SIM_REASON_PAGING)
    after, limit = int(after_text), max(1, min(int(limit_text), 1000))
    if not chat:
        return _bad(texts.SIM_REASON_NO_CHAT)
    async with read_only(services.sessions) as session:
        if not await _readable(session, chat):
            return _json({"error": texts.SIM_UNKNOWN_CHAT}, status=404)
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
        return _bad(texts.SIM_REASON_NO_CHAT)
    async with read_only(_services(request).sessions) as session:
        if not await _readable(session, chat):
            return _json({"error": texts.SIM_UNKNOWN_CHAT}, status=404)
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
    """An image the bot sent into a simulator transcript (e.g. a leaderboard), by id; any other id is 404."""
    services = _services(request)
    media_id = int(request.match_info["id"])  # the route takes at most 18 digits
    if media_id > MAX_ROW_ID:
        raise web.HTTPNotFound()
    async with read_only(services.sessions) as session:
        row = await session.scalar(
            select(Media).where(
                Media.id == media_id, select(SimMessage.id).where(SimMessage.media_id == media_id).exists()
            )
        )
    if row is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=row.data,
        content_type=row.content_type,
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


def setup_routes(app: web.Application, config: Config) -> None:
    """The page and the API on app, every route behind the simulator's checks (access.py)."""
    app[HUB] = SimHub()
    app[ACCESS] = SimAccess(config)
    app.on_shutdown.append(_close_streams)
    app.router.add_get("/", overload.guarded(page))
    app.router.add_post("/api/sim/session", overload.guarded(login))
    app.router.add_get("/api/sim/state", overload.guarded(guarded(state)))
    app.router.add_post("/api/sim/messages", overload.guarded(guarded(post_message, post=True), inbound=True))
    app.router.add_get("/api/sim/messages", overload.guarded(guarded(transcript)))
    app.router.add_get("/api/sim/events", overload.guarded(guarded(events)))
    app.router.add_get(r"/api/sim/media/{id:\d{1,18}}", overload.guarded(guarded(media)))
