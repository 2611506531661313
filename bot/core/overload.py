"""Load shedding and the "try again" answer: an inbound message is handled, or refused so that it is sent again.

Two reasons to refuse a message, both answered 503 with Retry-After (WeCom sends a callback again when it does not
get a success; the simulator API says "稍后再试" and the page or client sends the same message id again):
- the server is past what it can take: [server] max_inflight_messages requests are being handled and this one
  found no place in time. A burst (two hundred members answering a 抢答 at once) waits for places, up to
  max_queue_wait_seconds; but once requests have been waiting without a break for SUSTAINED_SECONDS, the load
  is more than the server can take, and a new request waits SUSTAINED_WAIT_SECONDS at most. An unbounded queue
  would only make every answer late (and a client that gave up would still be worked for); refusing costs
  almost nothing, so the server answers what it accepted at its usual speed and is back to normal as soon as the
  load drops;
- the database is unavailable (unreachable, locked past the busy timeout, full): the message was not stored
  and nothing was done (bot.core.db.DatabaseUnavailable), so its retry is handled as the first copy.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.core import texts
from bot.core.config import ServerConfig
from bot.core.db import is_unavailable

log = logging.getLogger(__name__)

SIM_PREFIX = "/api/sim/"
# Requests waiting without a break for this long: a sustained overload, not a burst …
SUSTAINED_SECONDS = 5.0
# … and then a new request waits for a place at most this long.
SUSTAINED_WAIT_SECONDS = 0.5


class Gate:
    """Admits inbound requests: up to `limit` at once, the next ones in arrival order after a bounded wait."""

    def __init__(self, limit: int, max_wait: float, retry_after: int) -> None:
        self.limit = limit
        self.max_wait = max_wait
        self.retry_after = retry_after
        self.inflight = 0
        self.shed = 0  # refused: overloaded
        self.unavailable = 0  # refused: the database was unavailable
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._queued_since = 0.0  # when requests began waiting (the queue last became non-empty)

    def take(self) -> bool:
        """Take a place if one is free and nobody waits for one (the usual case: no coroutine to await)."""
        if self.inflight < self.limit and not self._waiting:
            self.inflight += 1
            return True
        return False

    async def enter(self) -> bool:
        """Take a place (True), or False when none came free in time: the request is to be refused."""
        if self.take():
            return True
        loop = asyncio.get_running_loop()
        if not self._waiting:
            self._queued_since = loop.time()
        sustained = loop.time() - self._queued_since >= SUSTAINED_SECONDS
        turn = loop.create_future()
        self._waiting.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), SUSTAINED_WAIT_SECONDS if sustained else self.max_wait)
        except TimeoutError:
            if turn.done():  # the place was handed over just as the wait ran out: take it
                return True
            self._waiting.remove(turn)
            return False
        except BaseException:
            if turn.done():
                self.leave()
            else:
                self._waiting.remove(turn)
            raise
        return True

    def leave(self) -> None:
        """Hand the place to the longest-waiting request, or free it."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # inflight stays the same: the place changes hands
                return
        self.inflight -= 1


GATE = web.AppKey("overload_gate", Gate)


def setup(app: web.Application, config: ServerConfig) -> None:
    """Install the gate; every route's handler is wrapped by guarded() where it is registered."""
    app[GATE] = Gate(config.max_inflight_messages, config.max_queue_wait_seconds, config.retry_after_seconds)


def guarded(handler: Handler, *, inbound: bool = False) -> Handler:
    """handler answering 503 when the database is unavailable; an inbound one (a route that takes members'
    messages) also waits for a place at the gate, or is refused (503) when none came free in time.

    A wrapper on each route rather than a middleware: aiohttp runs any middleware through two more coroutines
    for every request (about 1 % of a WeCom callback), for a check only these handlers need. On an app without a
    gate (an app of a test) the handler runs as it is; the simulator's own app beside a real channel shares the
    main app's gate.
    """

    async def guarded_handler(request: web.Request) -> web.StreamResponse:
        gate = request.app.get(GATE)
        if gate is None:
            return await handler(request)
        if inbound and not gate.take() and not await gate.enter():
            gate.shed += 1
            if gate.shed == 1 or gate.shed % 1000 == 0:
                log.warning("overloaded: %d messages in flight; %d refused so far", gate.inflight, gate.shed)
            return refusal(request, gate, texts.SERVICE_BUSY)
        try:
            return await handler(request)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            gate.unavailable += 1
            log.warning(
                "database unavailable: %s %s answered 503 (%s)", request.method, request.path, type(exc).__name__
            )
            return refusal(request, gate, texts.SERVICE_UNAVAILABLE)
        finally:
            if inbound:
                gate.leave()

    guarded_handler.__name__ = handler.__name__
    guarded_handler.__doc__ = handler.__doc__
    # What the route is to the guard: every route has it (tests/faults/test_overload.py).
    guarded_handler.overload_guard = "inbound" if inbound else "other"  # type: ignore[attr-defined]
    return guarded_handler


def refusal(request: web.Request, gate: Gate, text: str) -> web.Response:
    """503 with Retry-After: JSON with the reason for the simulator API, a bare status for platform callbacks."""
    headers = {"Retry-After": str(gate.retry_after)}
    if request.path.startswith(SIM_PREFIX):
        body = json.dumps({"error": text, "retry_after": gate.retry_after}, ensure_ascii=False)
        return web.Response(status=503, text=body, content_type="application/json", headers=headers)
    return web.Response(status=503, text="503", headers=headers)
