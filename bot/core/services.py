"""The runtime shared by channels, the outbox sender and the scheduler; it lives on the app, never global."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.outbox import ChannelClient, OutboxSender
from bot.core.pipeline import Pipeline
from bot.core.scheduler import JobRunner
from bot.quiz.lookup import LookupCache


@dataclass
class Services:
    """Open database, pipeline, sender, job runner and the channel clients."""

    config: Config
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    pipeline: Pipeline
    sender: OutboxSender
    jobs: JobRunner
    clients: dict[str, ChannelClient] = field(default_factory=dict)
    lookup: LookupCache = field(default_factory=LookupCache)  # the 搜题 index, shared by all messages

    async def close(self) -> None:
        """Stop the pipeline's group commits and close the database."""
        await self.pipeline.close()
        if self.pipeline.engine is not self.engine:
            await self.pipeline.engine.dispose()
        await self.engine.dispose()


SERVICES = web.AppKey("services", Services)
