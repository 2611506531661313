"""The local chat simulator channel: where and whether it runs (see SECURITY.md).

api.py has the page, the JSON API, the live events and the client that writes the transcript; access.py decides
who may use them (Host allow-list, same-origin checks, sessions, CSRF tokens, the operator's access token).
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core import overload
from bot.core.channels.sim.api import CHANNEL, HUB, MAX_TEXT, SimClient, dm_chat, setup_routes
from bot.core.config import SIM_TOKEN_ENV, Config, is_loopback
from bot.core.services import SERVICES, Services

__all__ = ["CHANNEL", "MAX_TEXT", "SIM_RUNNER", "dm_chat", "exposure_warning", "page_url", "setup", "start", "stop"]

log = logging.getLogger(__name__)

# The simulator's own application, when it runs beside a real channel on a listener of its own.
SIM_APP = web.AppKey("sim_app", web.Application)
SIM_RUNNER = web.AppKey("sim_runner", web.AppRunner)


def setup(app: web.Application, config: Config) -> None:
    """Serve the simulator if the configuration turns it on: on app, or beside a real channel on its own app."""
    if not config.sim_on:
        return
    if config.sim_beside_real_channels:
        own = web.Application(client_max_size=config.server.max_body_bytes)
        # The same gate as the app's (bot/core/overload.py): its messages count against one in-flight limit, and
        # a database outage answers 503 here too.
        if overload.GATE in app:
            own[overload.GATE] = app[overload.GATE]
        setup_routes(own, config)
        app[SIM_APP] = own
    else:
        setup_routes(app, config)
    warning = exposure_warning(config)
    if warning:
        log.warning("%s", warning)


def exposure_warning(config: Config) -> str | None:
    """The loud line for a simulator that others could reach, or None (off, or the loopback-only demo)."""
    if config.sim_beside_real_channels:
        where = f"http://{config.sim.host}:{config.sim.port}/"
        extra = "" if is_loopback(config.sim.host) else " It listens on a NON-LOOPBACK address."
        return (
            f"WARNING: the simulator is ON beside a real channel ({', '.join(config.real_channels)}): whoever has "
            f"{SIM_TOKEN_ENV} and reaches {where} acts as simulated members in their branches.{extra} "
            "Set [sim] dangerously_enable_with_real_channels = false unless you are testing."
        )
    if config.sim_on and not is_loopback(config.server.host):
        where = f"http://{config.server.host}:{config.server.port}/"
        if not config.sim.access_token:
            return (
                f"WARNING: the simulator at {where} is not on loopback, so it needs {SIM_TOKEN_ENV}; "
                "until that is set nobody can use it."
            )
        return f"WARNING: the simulator at {where} is reachable from other machines; sessions need {SIM_TOKEN_ENV}."
    return None


def page_url(config: Config) -> str | None:
    """Where the simulator page is, or None when it is off."""
    if not config.sim_on:
        return None
    if config.sim_beside_real_channels:
        return f"http://{config.sim.host}:{config.sim.port}/"
    return f"http://{config.server.host}:{config.server.port}/"


async def start(app: web.Application, services: Services) -> None:
    """Connect the simulator to the running services; beside a real channel, open its own listener."""
    own = app.get(SIM_APP)
    target = own if own is not None else app
    if HUB not in target:
        return
    services.clients[CHANNEL] = SimClient(services, target[HUB])
    if own is None:
        return
    own[SERVICES] = services
    runner = web.AppRunner(own, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, services.config.sim.host, services.config.sim.port)
    await site.start()
    app[SIM_RUNNER] = runner
    host, port = runner.addresses[0][:2]
    log.warning("sim: the simulator listens on its own address, http://%s:%s/", host, port)


async def stop(app: web.Application) -> None:
    """Close the simulator's own listener, if it has one."""
    runner = app.get(SIM_RUNNER)
    if runner is not None:
        await runner.cleanup()
