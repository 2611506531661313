"""The WeCom channel at run time: ciphers, the client, and inbound handling within WeCom's 5-second budget."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.core.channels.wecom import markdown
from bot.core.channels.wecom.client import CHANNEL, WecomClient, mention_names, with_mentions
from bot.core.channels.wecom.contacts import Contacts
from bot.core.channels.wecom.crypto import CallbackRejected, Cipher, check_signature, check_timestamp
from bot.core.channels.wecom.routing import shows_image
from bot.core.config import WecomConfig
from bot.core.db import is_sqlite, read_only
from bot.core.groupcommit import Keep, PassivePolicy, ReplyRow
from bot.core.message import Message, Outgoing
from bot.core.models import InboundMessage, Outbox, OutboxStatus
from bot.core.pipeline import Outcome
from bot.core.services import Services

if TYPE_CHECKING:
    from bot.core.channels.wecom.longconn import LongConnection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """An outbox row produced by an inbound message, as the passive-reply code needs it."""

    id: int
    target_kind: str
    target_id: str
    text: str
    mentions: tuple[str, ...]
    media_id: int | None = None
    card: dict[str, Any] | None = None  # buttons (bot/core/cards.py): a passive answer carries at most one card


class WecomChannel:
    """Everything the callbacks share; lives on the app (never global), closed with it."""

    def __init__(self, services: Services, config: WecomConfig) -> None:
        self.services = services
        self.config = config
        self.app_cipher = Cipher(config.encoding_aes_key, config.corp_id) if config.app_callback_ready else None
        # The AI bot's receive id is empty (智能机器人 回调和回复的加解密方案: "ReceiveId为空字符串").
        self.aibot_cipher = Cipher(config.aibot_encoding_aes_key, "") if config.aibot_ready else None
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=config.http_timeout_seconds))
        self.client = WecomClient(
            config,
            services.sessions,
            services.clock,
            self.http,
            postgres=not is_sqlite(services.config.database.url),
        )
        # Names from the contacts; the daily refresh job finds them on the client (schedules/contacts.py).
        self.contacts = Contacts(self.client, services.sessions, config, services.pipeline.directory)
        self.client.member_names = self.contacts
        self._background: set[asyncio.Task[Outcome]] = set()
        self._budget = _Budget(config.reply_budget_seconds)
        self._releases: set[asyncio.Future[None]] = set()
        self.long_connection: LongConnection | None = None
        if config.long_connection:
            from bot.core.channels.wecom import welcome
            from bot.core.channels.wecom.longconn import LongConnection

            self.long_connection = LongConnection(self)
            self.client.long_connection = self.long_connection
            self.long_connection.event_handlers[welcome.ENTER_CHAT] = self._welcome

    async def _welcome(self, frame: dict[str, Any]) -> None:
        from bot.core.channels.wecom import welcome

        await welcome.answer_over_long_connection(self, frame)

    def start(self) -> None:
        """Start what runs on its own: the AI bot's long connection, in that mode."""
        if self.long_connection is not None:
            self.long_connection.start()

    async def process(
        self, msg: Message, passive: PassivePolicy | None = None, keep: Keep | None = None
    ) -> Outcome | None:
        """Run the pipeline; None if it is still working when the reply budget is spent. Then, without delaying
        the answer, read a newcomer's name.

        Slow work is not cancelled: it commits in the background and its replies go out through the
        outbox, while the callback answers at once (WeCom retries after 5 s; the retry is a duplicate).
        """
        task = asyncio.get_running_loop().create_task(self.services.pipeline.process(msg, passive, keep))
        try:
            done = await self._budget.within(task)
        except asyncio.CancelledError:  # the callback went away (a shutdown): its replies go by the outbox
            self._background.add(task)
            task.add_done_callback(self._finished)
            raise
        finally:
            self.contacts.learn_soon(msg.sender_id)
        if done:
            return task.result()
        log.warning("wecom: message %s took longer than the reply budget; answering later", msg.platform_msg_id)
        self._background.add(task)
        task.add_done_callback(self._finished)
        return None

    def _finished(self, task: asyncio.Task[Outcome]) -> None:
        self._background.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("wecom: a message handled after its reply budget failed", exc_info=error)
            return
        # Too late for a passive answer: let the sender deliver the replies now (a reply the group commit wrote
        # as carried in the HTTP answer, too: that answer is never sent).
        outcome = task.result()
        carried = [row.id for row in outcome.passive or ()]
        release = asyncio.ensure_future(self._hand_back(carried, outcome.reply_ids))
        self._releases.add(release)
        release.add_done_callback(self._released)

    async def _hand_back(self, carried: list[int], reply_ids: list[int]) -> None:
        if carried:
            await self.services.sender.unclaim_passive(carried)
        await self.services.sender.release(reply_ids)

    def _released(self, release: asyncio.Future[None]) -> None:
        self._releases.discard(release)
        if not release.cancelled() and (error := release.exception()) is not None:
            # The rows stay held until reply_hold_seconds; the sender takes them then.
            log.error("wecom: could not hand late replies to the sender", exc_info=error)

    def started(self) -> float:
        """The time a callback arrived, for in_time()."""
        return asyncio.get_running_loop().time()

    async def in_time(self, started: float, ids: list[int]) -> bool:
        """Whether the HTTP answer carrying these rows can still leave within the reply budget. If not, WeCom
        no longer waits for it: the rows are handed back to the sender, which pushes them."""
        if not ids or asyncio.get_running_loop().time() - started <= self.config.reply_budget_seconds:
            return True
        log.warning("wecom: a passive answer was ready too late; pushing it instead")
        await self.services.sender.unclaim_passive(ids)
        return False

    async def answered_before(self, msg: Message, target_kind: str, target_id: str) -> list[Reply]:
        """The rows an earlier copy of msg claimed as its passive answer to (target_kind, target_id).

        WeCom retries a callback whose answer it did not get in time: the retry is answered with them again
        (never empty while the reply exists only as that lost answer).
        """
        async with read_only(self.services.sessions) as session:
            rows = await session.execute(
                select(*_REPLY_COLUMNS)
                .join(InboundMessage, InboundMessage.id == Outbox.cause_inbound_id)
                .where(
                    InboundMessage.channel == msg.channel,
                    InboundMessage.platform_msg_id == msg.platform_msg_id,
                    Outbox.status == OutboxStatus.SENT,
                    Outbox.delivered_via == "passive",
                    Outbox.target_kind == target_kind,
                    Outbox.target_id == target_id,
                )
                .order_by(Outbox.id)
            )
            return [_reply(r) for r in rows]

    def pushes_image(self, reply: Reply | Outgoing | ReplyRow) -> bool:
        """Whether the reply has an image that a push can show: then it is pushed, not answered passively
        (a passive answer carries text only)."""
        if reply.media_id is None:
            return False
        item = Outgoing(reply.id or 0, CHANNEL, reply.target_kind, reply.target_id, reply.text, media_id=reply.media_id)
        return shows_image(self.client.router.static_route(item), item)

    async def spelled_out(self, reply: Reply | Outgoing) -> str:
        """The reply's text for a passive (markdown) answer: escaped, its mentions written as names (a passive
        answer cannot @ by user id)."""
        text = markdown.escape(reply.text)
        if not reply.mentions:
            return text
        async with read_only(self.services.sessions) as session:
            names = await mention_names(session, reply.mentions)
        return with_mentions(text, reply.mentions, names, as_markdown=True)

    async def settle(self, timeout: float | None = None) -> None:
        """Wait for inbound work that outlived its reply budget (it writes the outbox)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)
        await asyncio.sleep(0)  # done-callbacks run now and start their releases
        if self._releases:
            await asyncio.wait(set(self._releases), timeout=timeout)

    async def close(self, timeout: float) -> None:
        """Close the long connection (if any), let slow inbound work finish, then close the HTTP session."""
        if self.long_connection is not None:
            await self.long_connection.stop(timeout)
        await self.settle(timeout)
        await self.contacts.close(timeout / 2)
        await self.http.close()


WECOM = web.AppKey("wecom", WecomChannel)


class _Budget:
    """Waits for pipeline tasks, each at most `seconds`, with one timer for all of them.

    A timer per callback would cost more than the rest of the wait: the loop keeps a cancelled timer in its heap
    (thousands of them at a few thousand callbacks a second) and orders the heap by a Python comparison. Every wait
    here is as long as every other, so their deadlines come in the order they began: a queue, and one timer for
    the oldest wait still pending.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._waits: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    async def within(self, task: asyncio.Task[Outcome]) -> bool:
        """Wait for task at most `seconds`; whether it is done (it is never cancelled here)."""
        if task.done():
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        deadline = loop.time() + self.seconds
        self._waits.append((deadline, waiter))
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire)
        wake = functools.partial(_wake, waiter)
        task.add_done_callback(wake)
        try:
            await waiter
        finally:
            task.remove_done_callback(wake)
            # Answered waits leave the queue here, so that it holds about the callbacks in flight, not all of a
            # budget's worth.
            while self._waits and self._waits[0][1].done():
                self._waits.popleft()
        return task.done()

    def _expire(self) -> None:
        """Wake the waits whose time is up; set the timer for the oldest one left."""
        self._timer = None
        loop = asyncio.get_running_loop()
        waits = self._waits
        while waits:
            deadline, waiter = waits[0]
            # (The loop runs a timer up to one clock tick early, as asyncio counts a timer due within a tick:
            # a deadline that close is up, or the timer would be set again for it until the clock moved.)
            if not waiter.done() and deadline > loop.time() + _TICK:
                self._timer = loop.call_at(deadline, self._expire)
                return
            waits.popleft()
            _wake(waiter)


_TICK = time.get_clock_info("monotonic").resolution


def _wake(waiter: asyncio.Future[None], *_: object) -> None:
    if not waiter.done():
        waiter.set_result(None)


def push_all(rows: Sequence[ReplyRow]) -> list[int]:
    """The passive policy of an answer that carries no row (a card tap's): the sender pushes them all at once."""
    return []


_REPLY_COLUMNS = (
    Outbox.id,
    Outbox.target_kind,
    Outbox.target_id,
    Outbox.text,
    Outbox.mentions,
    Outbox.media_id,
    Outbox.card,
)


def _reply(r: Any) -> Reply:
    return Reply(r.id, r.target_kind, r.target_id, r.text, tuple(r.mentions or ()), r.media_id, r.card)


def channel_of(request: web.Request) -> WecomChannel:
    return request.app[WECOM]


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refusing more than limit bytes with 413."""
    if request.content_length is not None and request.content_length > limit:
        raise CallbackRejected(413, "body over the limit")
    body = await request.read()
    if len(body) > limit:
        raise CallbackRejected(413, "body over the limit")
    return body


def query_params(request: web.Request, *names: str) -> list[str]:
    """Required query parameters, in order; 400 if any is missing or empty."""
    values = [request.query.get(name, "") for name in names]
    if not all(values):
        raise CallbackRejected(400, f"missing query parameter ({', '.join(names)} are required)")
    return values


def empty() -> web.Response:
    """An empty 200: WeCom takes it as "received, no reply" and does not retry."""
    return web.Response(text="")


def rejection(request: web.Request, exc: CallbackRejected) -> web.Response:
    """Log a refused callback (reason only: never the body, query or a secret) and answer its status."""
    log.warning("wecom: refused %s %s: %s", request.method, request.path, exc.reason)
    return web.Response(status=exc.status, text=f"{exc.status}")


async def open_callback(
    request: web.Request, cipher: Cipher, token: str, encrypted_in: Callable[[bytes], str]
) -> tuple[str, str]:
    """A POSTed callback checked (query, timestamp, body size, signature) and decrypted: (plaintext, nonce).

    encrypted_in finds the ciphertext in the body (the app's XML envelope, the AI bot's JSON). Raises
    CallbackRejected.
    """
    channel = channel_of(request)
    config = channel.config
    signature, timestamp, nonce = query_params(request, "msg_signature", "timestamp", "nonce")
    check_timestamp(timestamp, channel.services.clock(), config.timestamp_tolerance_seconds)
    encrypted = encrypted_in(await read_body(request, config.max_body_bytes))
    check_signature(token, timestamp, nonce, encrypted, signature)
    return cipher.decrypt(encrypted), nonce


def verify_callback_url(request: web.Request, cipher: Cipher, token: str, label: str) -> web.Response:
    """GET: answer WeCom's URL check (app or AI bot) with the decrypted echostr."""
    channel = channel_of(request)
    try:
        signature, timestamp, nonce, echostr = query_params(request, "msg_signature", "timestamp", "nonce", "echostr")
        check_timestamp(timestamp, channel.services.clock(), channel.config.timestamp_tolerance_seconds)
        check_signature(token, timestamp, nonce, echostr, signature)
        plaintext = cipher.decrypt(echostr)
    except CallbackRejected as exc:
        return rejection(request, exc)
    log.info("wecom: %s callback URL verified", label)
    return web.Response(text=plaintext)
