"""The fake WeCom's long-connection endpoint (智能机器人长连接), on the fake API's aiohttp app.

It speaks the frames of WeCom's own SDK (see bot/core/channels/wecom/longconn.py): checks the subscribe frame's
bot id and secret, acks pings, replies and pushes, takes media uploads in chunks, keeps one connection per bot (a second subscribe sends
disconnected_event to the old one and closes it), lets a test push message/event frames, records replies
and pushes, drops connections on demand, and re-delivers a message frame that was not answered before its
connection dropped (once, on the next subscribe).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.channels.wecom.fake_cards import INVALID, CardBoard, CardRefused

BAD_SECRET = 40001  # the fake's answer to a wrong bot id or secret
# The fake's answer to a welcome sent late, twice, or to something other than enter_chat. WeCom's own code for this
# is not documented in what we could read; the outcome (not delivered) is what matters.
WELCOME_REFUSED = 40008
WELCOME_SECONDS = 5.0


@dataclass(frozen=True)
class Sent:
    """A reply (in a callback's context) or a push the fake accepted."""

    cmd: str
    req_id: str
    body: dict[str, Any]

    @property
    def content(self) -> str:
        kind = self.body.get("msgtype", "")
        section = self.body.get("stream" if kind == "stream_with_template_card" else kind)
        return section.get("content", "") if isinstance(section, dict) else ""


@dataclass
class FakeLongConnection:
    bot_id: str
    secret: str
    sent: list[Sent] = field(default_factory=list)
    subscribes: int = 0
    refused: int = 0
    pings: int = 0
    current: web.WebSocketResponse | None = None
    unanswered: dict[str, dict[str, Any]] = field(default_factory=dict)  # req_id -> message frame
    media: dict[str, bytes] = field(default_factory=dict)  # media_id -> uploaded file
    cards: CardBoard = field(default_factory=CardBoard)  # template cards posted, and who sees what on them
    frames: dict[str, dict[str, Any]] = field(default_factory=dict)  # req_id -> callback frame pushed
    _uploads: dict[str, tuple[dict[str, Any], dict[int, bytes]]] = field(default_factory=dict)
    _subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # enter_chat frames pushed: req_id -> loop time. A welcome (aibot_respond_welcome_msg) is taken once per such
    # event, within 5 s of it, as text or a template card (智能机器人长连接, 回复欢迎语; 被动回复消息 path/101031).
    welcome_events: dict[str, float] = field(default_factory=dict)

    # --- steering ---------------------------------------------------------------------------
    async def wait_subscribed(self, timeout: float = 5.0, after: int = 0) -> None:
        """Until a connection is subscribed (the `after`-th subscription or a later one)."""
        async with asyncio.timeout(timeout):
            while not (self.current is not None and self.subscribes > after):
                await self._wait_change()

    async def _wait_change(self) -> None:
        async with self._changed:
            await self._changed.wait()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def message_frame(
        self, text: str, user: str = "lisi", chat: str | None = None, msg_id: str | None = None
    ) -> dict[str, Any]:
        msg_id = msg_id or f"LCMSG{next(self._ids)}"
        body: dict[str, Any] = {
            "msgid": msg_id,
            "aibotid": self.bot_id,
            "chattype": "group" if chat else "single",
            "from": {"userid": user},
            "msgtype": "text",
            "text": {"content": text},
        }
        if chat:
            body["chatid"] = chat
        return {"cmd": "aibot_msg_callback", "headers": {"req_id": f"req-{msg_id}"}, "body": body}

    def event_frame(self, eventtype: str, user: str = "lisi", chat: str | None = None, **event: Any) -> dict[str, Any]:
        n = next(self._ids)
        body: dict[str, Any] = {
            "msgid": f"LCEVT{n}",
            "create_time": 1_700_000_000,
            "aibotid": self.bot_id,
            "chattype": "group" if chat else "single",
            "from": {"userid": user},
            "msgtype": "event",
            "event": {"eventtype": eventtype, **event},
        }
        if chat:
            body["chatid"] = chat
        return {"cmd": "aibot_event_callback", "headers": {"req_id": f"req-evt-{n}"}, "body": body}

    async def push(self, frame: dict[str, Any]) -> None:
        """Send a callback frame to the subscribed connection (a message is re-sent after a drop until answered)."""
        self.frames[frame["headers"]["req_id"]] = frame
        if frame["cmd"] == "aibot_msg_callback" or _is_tap(frame):
            self.unanswered[frame["headers"]["req_id"]] = frame
        if frame["cmd"] == "aibot_event_callback" and frame["body"]["event"].get("eventtype") == "enter_chat":
            self.welcome_events[frame["headers"]["req_id"]] = asyncio.get_running_loop().time()
        assert self.current is not None, "no subscribed connection"
        await self.current.send_str(json.dumps(frame, ensure_ascii=False))

    async def say(self, text: str, timeout: float = 5.0, **kw: Any) -> Sent | None:
        """A member's message; the reply sent in its context, or None if none came within timeout."""
        frame = self.message_frame(text, **kw)
        await self.push(frame)
        return await self.reply_to(frame["headers"]["req_id"], timeout)

    def tap_frame(
        self, task_id: str, user: str, label: str, chat: str | None, chosen: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """A member's tap on a card they see, as the long connection delivers it (aibot_event_callback with
        event.eventtype template_card_event, event_key and task_id in event: the SDK's TemplateCardEventData)."""
        body = self.cards.event(task_id, user, label, chat, chosen=chosen, nested=False, bot_id=self.bot_id)
        return {"cmd": "aibot_event_callback", "headers": {"req_id": f"req-{body['msgid']}"}, "body": body}

    async def tap(self, task_id: str, user: str, label: str, chat: str | None, chosen: tuple[str, ...] = ()) -> str:
        """Tap; the event's req_id (its update, if any, is reply_to(req_id))."""
        frame = self.tap_frame(task_id, user, label, chat, chosen)
        await self.push(frame)
        return str(frame["headers"]["req_id"])

    async def reply_to(self, req_id: str, timeout: float = 5.0) -> Sent | None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while True:
                    for item in self.sent:
                        if item.req_id == req_id:
                            return item
                    await self._wait_change()
        return None

    def replies(self) -> list[Sent]:
        return [s for s in self.sent if s.cmd == "aibot_respond_msg"]

    def pushes(self, chat_id: str | None = None) -> list[Sent]:
        return [
            s for s in self.sent if s.cmd == "aibot_send_msg" and (chat_id is None or s.body.get("chatid") == chat_id)
        ]

    async def drop(self) -> None:
        """Cut the subscribed connection (as a network failure would)."""
        ws, self.current = self.current, None
        if ws is not None:
            await ws.close(code=1011, message=b"dropped by the fake")

    # --- the endpoint -------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        async for raw in ws:
            frame = json.loads(raw.data)
            cmd, req_id = frame.get("cmd"), frame["headers"]["req_id"]
            if cmd == "aibot_subscribe":
                await self._subscribe(ws, req_id, frame.get("body") or {})
            elif ws is not self.current:
                await _ack(ws, req_id, 853000, "not subscribed")
            elif cmd == "ping":
                self.pings += 1
                await _ack(ws, req_id)
            elif cmd == "aibot_respond_welcome_msg" and not self._welcome_allowed(req_id, frame.get("body") or {}):
                await _ack(ws, req_id, WELCOME_REFUSED, "welcome not allowed for this req_id")
            elif cmd in ("aibot_respond_msg", "aibot_respond_welcome_msg", "aibot_respond_update_msg"):
                try:
                    self._card_answer(cmd, req_id, frame["body"])
                except CardRefused as exc:
                    await _ack(ws, req_id, INVALID, f"invalid template_card: {exc}")
                    await self._notify()
                    continue
                self.unanswered.pop(req_id, None)
                self.sent.append(Sent(cmd, req_id, frame["body"]))
                await _ack(ws, req_id)
            elif cmd == "aibot_send_msg":
                body = frame["body"]
                refused = None
                if body.get("msgtype") == "template_card":
                    try:
                        self.cards.post(body.get("chatid", ""), body.get("template_card") or {})
                    except CardRefused as exc:
                        refused = str(exc)
                if refused is not None:
                    await _ack(ws, req_id, INVALID, f"invalid template_card: {refused}")
                elif body.get("msgtype") == "image" and body["image"].get("media_id") not in self.media:
                    await _ack(ws, req_id, 40007, "invalid media_id")
                else:
                    self.sent.append(Sent(cmd, req_id, body))
                    await _ack(ws, req_id)
            elif cmd and cmd.startswith("aibot_upload_media_"):
                await self._upload(ws, cmd, req_id, frame["body"])
            else:
                await _ack(ws, req_id, 40008, "unknown cmd")
            await self._notify()
        if ws is self.current:
            self.current = None
        await self._notify()
        return ws

    def _card_answer(self, cmd: str, req_id: str, body: dict[str, Any]) -> None:
        """Cards in answers: a stream_with_template_card posts its card to the message's chat; an update must
        answer a tap (its req_id) and name that card's task_id ([101031], SDK updateTemplateCard)."""
        frame = self.frames.get(req_id, {})
        callback = frame.get("body", {})
        if cmd == "aibot_respond_update_msg":
            if not _is_tap(frame):
                raise CardRefused("an update answers a template_card_event only")
            self.cards.update(body, callback["event"]["task_id"])
        elif body.get("msgtype") == "stream_with_template_card":
            chat = callback.get("chatid") or callback.get("from", {}).get("userid", "")
            self.cards.post(chat, body.get("template_card") or {}, body["stream"]["content"])

    def _welcome_allowed(self, req_id: str, body: dict[str, Any]) -> bool:
        """Once per enter_chat event, within 5 s of it, text or template_card only."""
        pushed = self.welcome_events.pop(req_id, None)
        if pushed is None or asyncio.get_running_loop().time() - pushed > WELCOME_SECONDS:
            return False
        return body.get("msgtype") in ("text", "template_card")

    async def _subscribe(self, ws: web.WebSocketResponse, req_id: str, body: dict[str, Any]) -> None:
        if body.get("bot_id") != self.bot_id or body.get("secret") != self.secret:
            self.refused += 1
            await _ack(ws, req_id, BAD_SECRET, "invalid bot_id or secret")
            await ws.close()
            return
        old, self.current = self.current, ws
        if old is not None and old is not ws:
            # One connection per bot: the old one is told, then closed.
            with contextlib.suppress(ConnectionError):
                await old.send_str(json.dumps(self.event_frame("disconnected_event")))
                await old.close()
        self.subscribes += 1
        await _ack(ws, req_id)
        redeliver, self.unanswered = list(self.unanswered.values()), {}
        for frame in redeliver:  # WeCom re-delivers, once, what was not answered on the lost connection
            await ws.send_str(json.dumps(frame, ensure_ascii=False))

    async def _upload(self, ws: web.WebSocketResponse, cmd: str, req_id: str, body: dict[str, Any]) -> None:
        """init → chunk × N → finish, as the SDK uploads; the file must match its announced size and MD5."""
        if cmd == "aibot_upload_media_init":
            upload_id = f"upload-{next(self._ids)}"
            self._uploads[upload_id] = (body, {})
            await _ack(ws, req_id, body={"upload_id": upload_id})
            return
        upload = self._uploads.get(body.get("upload_id", ""))
        if upload is None:
            await _ack(ws, req_id, 40007, "invalid upload_id")
            return
        announced, chunks = upload
        if cmd == "aibot_upload_media_chunk":
            chunks[body["chunk_index"]] = base64.b64decode(body["base64_data"])
            await _ack(ws, req_id)
            return
        data = b"".join(chunks[i] for i in sorted(chunks))
        if (
            sorted(chunks) != list(range(announced["total_chunks"]))
            or len(data) != announced["total_size"]
            or hashlib.md5(data).hexdigest() != announced["md5"]
        ):
            await _ack(ws, req_id, 40007, "upload incomplete or corrupt")
            return
        media_id = f"lc-media-{next(self._ids)}"
        self.media[media_id] = data
        await _ack(ws, req_id, body={"type": announced["type"], "media_id": media_id, "created_at": "1700000000"})


def _is_tap(frame: dict[str, Any]) -> bool:
    event = frame.get("body", {}).get("event")
    return (
        frame.get("cmd") == "aibot_event_callback"
        and isinstance(event, dict)
        and (event.get("eventtype") == "template_card_event")
    )


async def _ack(
    ws: web.WebSocketResponse, req_id: str, code: int = 0, message: str = "ok", body: dict[str, Any] | None = None
) -> None:
    frame: dict[str, Any] = {"headers": {"req_id": req_id}, "errcode": code, "errmsg": message}
    if body is not None:
        frame["body"] = body
    await ws.send_str(json.dumps(frame))
