"""The WeCom (企业微信) channel: app callback, AI-bot callback or long connection, and the outbound client.

Only this package imports wechatpy (for crypto and parsing). The imports here are inside the two
functions so that bot/core/models.py can register this package's tables without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.core.overload import guarded

if TYPE_CHECKING:
    from bot.core.services import Services


def setup_routes(app: web.Application) -> None:
    """Register /wecom/callback (the app) and /wecom/aibot (the AI bot); they answer 404 until configured."""
    from bot.core.channels.wecom import aibot, callback

    app.router.add_get(callback.PATH, guarded(callback.verify_url))
    app.router.add_post(callback.PATH, guarded(callback.receive, inbound=True))
    app.router.add_get(aibot.PATH, guarded(aibot.verify_url))
    app.router.add_post(aibot.PATH, guarded(aibot.receive, inbound=True))


def attach(app: web.Application, services: Services) -> None:
    """Connect the channel to the running services (called once they are open)."""
    from bot.core.channels.wecom.channel import WECOM, WecomChannel

    channel = WecomChannel(services, services.config.wecom)
    app[WECOM] = channel
    services.clients[channel.client.name] = channel.client
    channel.start()


async def close(app: web.Application, timeout: float) -> None:
    """Close the long connection, finish slow inbound work, close the HTTP session (after the sender stopped)."""
    from bot.core.channels.wecom.channel import WECOM

    channel = app.get(WECOM)
    if channel is not None:
        await channel.close(timeout)
