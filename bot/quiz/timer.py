"""The quiz clock: a background task that opens and closes quiz rounds on time (every second)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.context import Context
from bot.core.db import read_only, transaction
from bot.core.outbox import OutboxSender
from bot.quiz.engine import advance, due

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0


async def tick(config: Config, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """One step of the quiz clock in its own transaction; returns the number of rounds opened or closed."""
    async with read_only(sessions) as session:
        if not await due(session, clock()):
            return 0  # the usual second: no write transaction, so message writes do not wait for this
    async with transaction(sessions) as session:
        return await advance(Context(config=config, session=session, clock=clock))


class QuizTimer:
    """Runs tick() every second; safe with several processes (each step is a conditional update)."""

    def __init__(
        self, config: Config, sessions: async_sessionmaker[AsyncSession], clock: Clock, sender: OutboxSender
    ) -> None:
        self.config, self.sessions, self.clock, self.sender = config, sessions, clock, sender
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="quiz-timer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                if await tick(self.config, self.sessions, self.clock):
                    self.sender.notify()
            except Exception:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # Stopped mid-step: what the cancelled step raised on its way out is no failure to retry.
                    raise asyncio.CancelledError from None
                log.exception("quiz clock step failed; trying again in a second")
            await asyncio.sleep(TICK_SECONDS)
