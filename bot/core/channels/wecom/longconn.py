"""The AI bot's long connection (智能机器人长连接): a WebSocket we open to WeCom, so no public URL is needed.

Protocol facts, and where each comes from:
- [doc] developer.work.weixin.qq.com/document/path/101463 "智能机器人长连接" (updated 2026/04/01): the
  WebSocket address wss://openws.work.weixin.qq.com; the bot subscribes with its Bot ID and Secret from the
  admin console (API 模式 → 长连接); no message encryption; messages arrive as `aibot_msg_callback`, events
  as `aibot_event_callback`; replies are sent in the callback's context (its req_id): `aibot_respond_msg`,
  `aibot_respond_welcome_msg`, `aibot_respond_update_msg`; proactive push `aibot_send_msg`; a heartbeat; media
  upload in chunks over the connection; one connection per bot ("连接数量限制").
- [node] WecomTeam/aibot-node-sdk (WeCom's own SDK; src/ws.ts, src/client.ts, src/types/*.ts), for the frame
  shapes the page's summary does not show: every frame is `{"cmd", "headers": {"req_id"}, "body"}`; the
  subscribe body is `{"bot_id", "secret"}`; the heartbeat is `{"cmd": "ping", "headers": {"req_id"}}` every
  30 s, and 2 unanswered pings mean the connection is dead; acks (subscribe, ping, replies, pushes) carry no
  cmd: `{"headers": {"req_id"}, "errcode", "errmsg"}`; a reply to a callback reuses the callback's req_id;
  a message body has msgid, aibotid, chatid (groups only), chattype single|group, from.userid, msgtype
  text|image|mixed|voice|file|video; an event body has msgtype "event" and event.eventtype enter_chat |
  template_card_event (event_key, task_id) | feedback_event | disconnected_event ("有新连接建立时，服务端向旧
  连接发送此事件并主动断开"; the SDK then stops reconnecting); a stream reply is
  `{"msgtype": "stream", "stream": {"id", "finish", "content"}}` with content "最长不超过 20480 个字节";
  a push is `{"chatid": <group chatid, or the userid for a single chat>, "msgtype": "markdown",
  "markdown": {"content"}}` (or template_card); reconnect with exponential backoff 1 s → 30 s; replies wait
  up to 5 s for their ack; welcome and card updates must be sent within 5 s of their event; media is uploaded
  as `aibot_upload_media_init` {type, filename, total_size, total_chunks, md5} → upload_id, then
  `aibot_upload_media_chunk` {upload_id, chunk_index, base64_data} per ≤512 KB chunk (at most 100; the SDK
  counts chunk_index from 0 though its type comment says 1), then `aibot_upload_media_finish` {upload_id} →
  media_id, and sent as `{"msgtype": "image", "image": {"media_id"}}`.
- Not found in what we could read of the page or the SDKs: a rate or size limit of `aibot_send_msg`. We keep
  to the group robot's documented "20条/分钟" per chat and its 4096-byte markdown (routing.py).

Why aiohttp's own WebSocket client and not the official Python SDK: `wecom-aibot-python-sdk` (PyPI, author
WeCom <wecom@tencent.com>; `wecom-aibot-sdk` is a third party's port) installs here, but it brings websockets,
pyee, cryptography and certifi; it runs its own timers and reconnect loop (giving up after 10 attempts) with
no way to make reconnecting depend on holding the lease; and 1.0.2 does not handle disconnected_event. Our
own client is ~300 lines on the aiohttp session we already have, reconnects only while this process holds
the lease, and is tested end to end against the fake WeCom's WebSocket (tests/channels/wecom/fake_ws.py).

One holder among processes: a lease row (lease.py, wecom_connection_lease) renewed every lease_renew_seconds; a process
takes over when it has seen the row unchanged for lease_seconds (so within ~lease_seconds + a renewal after
the holder dies). Lease timing uses the event loop's monotonic clock, never the injected business clock.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.core.channels.wecom import aibot, cards
from bot.core.channels.wecom.channel import push_all
from bot.core.channels.wecom.crypto import CallbackRejected, parse_json_object
from bot.core.channels.wecom.lease import Lease
from bot.core.channels.wecom.media import INVALID_MEDIA_ID
from bot.core.outbox import TransientError

if TYPE_CHECKING:
    from bot.core.channels.wecom.channel import WecomChannel

log = logging.getLogger(__name__)

# Commands (frame "cmd"), as the SDK names them.
SUBSCRIBE = "aibot_subscribe"
PING = "ping"
MESSAGE = "aibot_msg_callback"
EVENT = "aibot_event_callback"
RESPOND = "aibot_respond_msg"
RESPOND_WELCOME = "aibot_respond_welcome_msg"
RESPOND_UPDATE = "aibot_respond_update_msg"
SEND = "aibot_send_msg"
UPLOAD_INIT = "aibot_upload_media_init"
UPLOAD_CHUNK = "aibot_upload_media_chunk"
UPLOAD_FINISH = "aibot_upload_media_finish"

TAKEN_OVER = "disconnected_event"
# A stream reply's content: "最长不超过 20480 个字节" (SDK types, StreamReplyBody).
STREAM_MAX_BYTES = 20480
ACK_TIMEOUT_SECONDS = 5.0  # the SDK's replyAckTimeout
MAX_MISSED_PINGS = 2  # the SDK's maxMissedPong
# Media upload over the connection: "单个分片不超过 512KB（Base64 编码前），最多 100 个分片" (SDK client.ts).
UPLOAD_CHUNK_BYTES = 512 * 1024
UPLOAD_MAX_CHUNKS = 100
# The largest frame we read (a message or event is a few KB).
MAX_FRAME_BYTES = 1024 * 1024

Frame = dict[str, Any]
EventHandler = Callable[[Frame], Awaitable[None]]


class FrameRefused(Exception):
    """WeCom answered a frame with a non-zero errcode, or not within the ack timeout."""

    def __init__(self, cmd: str, code: int, message: str) -> None:
        super().__init__(f"{cmd}: errcode {code}: {message}")
        self.cmd = cmd
        self.code = code


class _TakenOver(Exception):
    """WeCom sent disconnected_event: another connection for this bot took over."""


def new_req_id(prefix: str) -> str:
    """A unique req_id, "<prefix>_<random>" as the SDK makes them."""
    return f"{prefix}_{uuid.uuid4().hex}"


class LongConnection:
    """Holds the lease; while held, keeps the WebSocket subscribed and handles its frames."""

    def __init__(self, channel: WecomChannel) -> None:
        self.channel = channel
        self.config = channel.config
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = Lease(channel, f"aibot:{self.config.aibot_bot_id}", holder)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ready = asyncio.Event()  # subscribed: pushes may go out
        self._send_lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Future[Frame]] = {}
        self._work: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # Events by eventtype; the rest are taken and logged at DEBUG (template_card_event gets its handler with
        # cards; a welcome on enter_chat would answer with RESPOND_WELCOME within 5 s).
        self.event_handlers: dict[str, EventHandler] = {cards.EVENT: self._on_card_event}

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._hold_and_connect(), name="wecom-long-connection")

    async def stop(self, timeout: float) -> None:
        """Let frames in hand finish, close the connection, and give the lease up; all within timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self._work:
            await asyncio.wait(set(self._work), timeout=timeout / 2)
        self._stopping.set()
        if self._task is not None:
            _, late = await asyncio.wait({self._task}, timeout=max(0.0, deadline - loop.time()))
            for task in late:
                task.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.lease.release(), max(0.1, deadline - loop.time()))

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.lease.held

    async def _hold_and_connect(self) -> None:
        """The lease loop: connect while this process holds the lease, disconnect when it does not.

        Cancelled (as a dying process would be), it drops the connection but leaves the lease to expire.
        """
        try:
            while not self._stopping.is_set():
                held = await self.lease.hold()
                if held and self._connection is None:
                    self._connection = asyncio.create_task(self._connect_loop(), name="wecom-long-connection-socket")
                    self._connection.add_done_callback(self._connection_ended)
                elif not held and self._connection is not None:
                    self._connection.cancel()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.config.lease_renew_seconds)
        finally:
            connection = self._connection
            if connection is not None:
                connection.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connection

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        if self._connection is task:
            self._connection = None
        if not task.cancelled() and task.exception() is not None:
            log.error("wecom: the long connection failed; it restarts", exc_info=task.exception())

    async def _connect_loop(self) -> None:
        """Connect and re-connect with jittered exponential backoff, until taken over or stopped."""
        failures = 0
        while not self._stopping.is_set():
            try:
                subscribed = await self._session()
            except _TakenOver:
                if not await self.lease.hold():
                    log.error(
                        "wecom: another process took over the AI bot's long connection; this one stops connecting"
                    )
                    return
                log.error(
                    "wecom: a connection outside this deployment took over the AI bot (bot id %s), though this "
                    "process holds the lease; reconnecting in %.0f s. Only one connection per bot is allowed: stop "
                    "the other one.",
                    self.config.aibot_bot_id,
                    self.config.takeover_pause_seconds,
                )
                failures = 0
                await self._pause(self.config.takeover_pause_seconds)
                continue
            except (aiohttp.ClientError, OSError, TimeoutError, FrameRefused, ValueError) as exc:
                log.warning("wecom: long connection failed: %s", exc)
                subscribed = False
            failures = 0 if subscribed else failures + 1
            delay = min(
                self.config.reconnect_min_seconds * 2 ** max(failures - 1, 0), self.config.reconnect_max_seconds
            )
            delay = random.uniform(delay / 2, delay)  # jitter: processes restarted together spread out
            log.info("wecom: long connection closed; reconnecting in %.1f s", delay)
            await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _session(self) -> bool:
        """One connection: subscribe, heartbeat, read frames until it closes; whether it was subscribed."""
        subscribed = False
        async with self.channel.http.ws_connect(
            self.config.long_connection_url,
            autoping=True,
            max_msg_size=MAX_FRAME_BYTES,
            timeout=aiohttp.ClientWSTimeout(ws_close=ACK_TIMEOUT_SECONDS),
        ) as ws:
            self._ws = ws
            reader = asyncio.create_task(self._read(ws))
            try:
                await self.request(SUBSCRIBE, {"bot_id": self.config.aibot_bot_id, "secret": self.config.aibot_secret})
                subscribed = True
                self._ready.set()
                log.info("wecom: long connection subscribed (bot id %s)", self.config.aibot_bot_id)
                self.channel.services.sender.notify()  # pushes waiting for the connection may go now
                await self._heartbeat(ws, reader)
                await reader  # raises _TakenOver
            finally:
                self._ready.clear()
                self._ws = None
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, _TakenOver):
                    await reader
        return subscribed

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse, reader: asyncio.Task[None]) -> None:
        """Ping every heartbeat_seconds until the reader ends; close the socket after 2 missed pings."""
        missed = 0
        while not reader.done():
            done, _ = await asyncio.wait({reader}, timeout=self.config.heartbeat_seconds)
            if done:
                return
            try:
                await self.request(PING, None)
                missed = 0
            except (FrameRefused, ConnectionError) as exc:
                missed += 1
                log.warning("wecom: heartbeat not answered (%s)", exc)
                if missed >= MAX_MISSED_PINGS:
                    log.warning("wecom: %d heartbeats unanswered; closing the long connection", missed)
                    await ws.close()
                    return

    async def _close_socket(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()

    # --- frames out ------------------------------------------------------------------------------
    async def request(self, cmd: str, body: dict[str, Any] | None, req_id: str | None = None) -> Frame:
        """Send a frame and wait for its ack; FrameRefused on a non-zero errcode or no ack in time."""
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionResetError("long connection not open")
        req_id = req_id or new_req_id(cmd)
        frame: Frame = {"cmd": cmd, "headers": {"req_id": req_id}}
        if body is not None:
            frame["body"] = body
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        try:
            async with self._send_lock:
                await ws.send_str(json.dumps(frame, ensure_ascii=False))
            ack = await asyncio.wait_for(future, ACK_TIMEOUT_SECONDS)
        except TimeoutError:
            raise FrameRefused(cmd, -1, f"no ack within {ACK_TIMEOUT_SECONDS:.0f} s") from None
        finally:
            self._pending.pop(req_id, None)
        code = ack.get("errcode", 0)
        if code != 0:
            raise FrameRefused(cmd, code if isinstance(code, int) else -1, str(ack.get("errmsg", "")))
        return ack

    async def send_markdown(self, chat_id: str, content: str) -> None:
        """A proactive push (aibot_send_msg) to a group chatid or a member's userid; raises for the outbox."""
        if not self.ready:
            # Not an attempt: another process holds the connection, or it is reconnecting.
            raise TransientError("the AI bot's long connection is not open in this process", 1.0, counted=False)
        try:
            await self.request(SEND, {"chatid": chat_id, "msgtype": "markdown", "markdown": {"content": content}})
        except FrameRefused as exc:
            raise TransientError(str(exc)) from None
        except ConnectionError as exc:
            raise TransientError(f"long connection closed while pushing: {exc}") from None

    async def send_card(self, chat_id: str, template_card: dict[str, Any]) -> None:
        """A template card pushed (aibot_send_msg, msgtype template_card: [101463], SDK SendTemplateCardMsgBody)."""
        if not self.ready:
            raise TransientError("the AI bot's long connection is not open in this process", 1.0, counted=False)
        try:
            await self.request(SEND, {"chatid": chat_id, "msgtype": "template_card", "template_card": template_card})
        except FrameRefused as exc:
            raise TransientError(str(exc)) from None
        except ConnectionError as exc:
            raise TransientError(f"long connection closed while pushing a card: {exc}") from None

    async def send_image(self, chat_id: str, image: bytes, filename: str) -> None:
        """Upload an image over the connection, then push it (aibot_send_msg, msgtype image)."""
        if not self.ready:
            raise TransientError("the AI bot's long connection is not open in this process", 1.0, counted=False)
        # One upload per picture and bot: its media_id is reused while valid (media.py).
        owner = f"aibot:{self.config.aibot_bot_id}"
        cache = self.channel.client.media
        try:
            media_id = await cache.media_id(owner, image, lambda: self._upload(image, "image", filename))
            try:
                await self.request(SEND, {"chatid": chat_id, "msgtype": "image", "image": {"media_id": media_id}})
            except FrameRefused as refused:
                if refused.code != INVALID_MEDIA_ID:
                    raise
                await cache.forget(owner, image)
                media_id = await cache.media_id(owner, image, lambda: self._upload(image, "image", filename))
                await self.request(SEND, {"chatid": chat_id, "msgtype": "image", "image": {"media_id": media_id}})
        except FrameRefused as exc:
            raise TransientError(str(exc)) from None
        except ConnectionError as exc:
            raise TransientError(f"long connection closed while pushing an image: {exc}") from None

    async def _upload(self, data: bytes, kind: str, filename: str) -> str:
        """A temporary media file uploaded in chunks over the connection; its media_id."""
        chunks = [data[i : i + UPLOAD_CHUNK_BYTES] for i in range(0, len(data), UPLOAD_CHUNK_BYTES)]
        if not chunks or len(chunks) > UPLOAD_MAX_CHUNKS:
            raise ValueError(f"media of {len(data)} bytes cannot be uploaded over the long connection")
        init = {
            "type": kind,
            "filename": filename,
            "total_size": len(data),
            "total_chunks": len(chunks),
            "md5": hashlib.md5(data).hexdigest(),
        }
        upload_id = _answer_field(await self.request(UPLOAD_INIT, init), "upload_id", UPLOAD_INIT)
        for index, chunk in enumerate(chunks):
            body = {"upload_id": upload_id, "chunk_index": index, "base64_data": base64.b64encode(chunk).decode()}
            await self.request(UPLOAD_CHUNK, body)
        return _answer_field(await self.request(UPLOAD_FINISH, {"upload_id": upload_id}), "media_id", UPLOAD_FINISH)

    # --- frames in -------------------------------------------------------------------------------
    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read frames until the socket closes: acks settle their requests, callbacks run as tasks."""
        try:
            await self._read_frames(ws)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionResetError("long connection closed"))

    async def _read_frames(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for raw in ws:
            if raw.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                # As strictly as a callback's body (depth, lone surrogates, NUL): a message's text is stored.
                frame = parse_json_object(raw.data, "long-connection frame")
                req_id = frame["headers"]["req_id"]
            except (CallbackRejected, KeyError, TypeError):
                log.warning("wecom: long connection sent a frame that is not JSON with headers.req_id; ignored")
                continue
            cmd = frame.get("cmd") or ""
            if cmd == MESSAGE:
                self._spawn(self._on_message(frame))
            elif cmd == EVENT:
                if _event_type(frame) == TAKEN_OVER:
                    await ws.close()
                    raise _TakenOver()
                self._spawn(self._on_event(frame))
            elif req_id in self._pending:
                future = self._pending[req_id]
                if not future.done():
                    future.set_result(frame)
            else:
                log.debug("wecom: long connection frame %r (req_id %s) not expected; ignored", cmd, req_id)

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _on_event(self, frame: Frame) -> None:
        kind = _event_type(frame)
        handler = self.event_handlers.get(kind)
        if handler is None:
            log.debug("wecom: long connection event %r taken (not handled)", kind)
            return
        await handler(frame)

    async def _on_card_event(self, frame: Frame) -> None:
        """A card tap: the word it stands for through the pipeline (its replies are pushed: an event is not
        answered with a stream), then the tapper's copy of the card updated in the event's context
        (aibot_respond_update_msg, within 5 s: SDK updateTemplateCard). A re-delivered event is a duplicate
        for the pipeline and gets the same update."""
        req_id = frame["headers"]["req_id"]
        body = frame.get("body")
        if not isinstance(body, dict):
            return
        channel = self.channel
        try:
            found = cards.read_tap(body, channel.services.clock())
        except CallbackRejected as exc:
            log.warning("wecom: long connection card event %s refused: %s", req_id, exc.reason)
            return
        if found is None:
            log.debug("wecom: long connection card event with a key that is not ours; ignored")
            return
        msg, tap, task = found
        try:
            await channel.process(msg, push_all)  # its replies go out as pushes
        except Exception:
            log.exception("wecom: long connection card event %s failed in the pipeline", msg.platform_msg_id)
            return
        update = await cards.update_for(channel, msg, tap, task)
        if update is None:
            return
        try:
            await self.request(RESPOND_UPDATE, update, req_id=req_id)
        except (FrameRefused, ConnectionError) as exc:
            log.warning("wecom: card update for %s not taken (%s)", msg.platform_msg_id, exc)

    async def _on_message(self, frame: Frame) -> None:
        """A message: through the pipeline, then its replies in the frame's context as one finished stream."""
        req_id = frame["headers"]["req_id"]
        body = frame.get("body")
        if not isinstance(body, dict):
            log.warning("wecom: long connection message %s has no body; ignored", req_id)
            return
        channel = self.channel
        try:
            found = aibot._message(body, channel)
        except CallbackRejected as exc:
            log.warning("wecom: long connection message %s refused: %s", req_id, exc.reason)
            return
        if found is None:
            return
        msg, _ = found  # a response_url, if any, is not needed: the answer goes in the frame's context
        kind, target = ("chat", msg.chat_id) if msg.chat_id is not None else ("user", msg.sender_id)
        try:
            outcome = await channel.process(msg, aibot.stream_policy(channel, kind, target))
        except Exception:
            log.exception("wecom: long connection message %s failed in the pipeline", msg.platform_msg_id)
            return
        if outcome is None or outcome.duplicate or not outcome.passive:
            return
        claimed = outcome.passive  # written as carried in this answer by the group commit
        ids = [item.id for item in claimed]
        body = cards.answer_body(await aibot.carried_text(channel, claimed), claimed)
        try:
            await self.request(RESPOND, body, req_id=req_id)
        except (FrameRefused, ConnectionError) as exc:
            # Not answered in the frame: the outbox pushes these rows instead (once the connection is back).
            log.warning("wecom: reply to %s not taken (%s); it goes out as a push", msg.platform_msg_id, exc)
            await channel.services.sender.unclaim_passive(ids)


def _answer_field(ack: Frame, name: str, cmd: str) -> str:
    body = ack.get("body")
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise FrameRefused(cmd, -1, f"the answer has no {name}")
    return value


def _event_type(frame: Frame) -> str:
    body = frame.get("body")
    event = body.get("event") if isinstance(body, dict) else None
    kind = event.get("eventtype") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) else ""
