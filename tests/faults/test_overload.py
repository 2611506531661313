"""Load shedding: past what the server can take, a message is refused at once with 503 + Retry-After and
nothing is done; what was accepted is handled; afterwards the server takes messages again (issue 13, 19)."""

import asyncio

from bot.app import ROUTERS, build_app
from bot.core import texts
from bot.core.context import Context
from bot.core.message import Message
from bot.core.overload import GATE
from bot.core.router import Router
from tests.conftest import make_config
from tests.support import BotDriver


async def test_past_the_inflight_limit_messages_are_shed_with_retry_after_and_then_taken_again(
    aiohttp_client, db_url, clock
):
    release = asyncio.Event()
    router = Router("slow")

    @router.command("慢")
    async def handle_slow(msg: Message, ctx: Context) -> None:
        await release.wait()  # a message that keeps its place (a slow handler, a busy database)
        await ctx.reply("好")

    config = make_config(db_url, server={"max_inflight_messages": 2, "max_queue_wait_seconds": 0.2})
    app = build_app(config, clock=clock, background=False, routers=(*ROUTERS, router))
    bot = BotDriver(await aiohttp_client(app), app)
    body = {"user": "u01", "chat": "demo-group", "text": "慢"}
    headers = await bot.headers()
    slow = [
        asyncio.create_task(bot.client.post("/api/sim/messages", json=dict(body, id=f"s{i}"), headers=headers))
        for i in range(2)
    ]
    while app[GATE].inflight < 2:
        await asyncio.sleep(0.01)
    refused = await bot.client.post("/api/sim/messages", json=dict(body, text="帮助", id="over"), headers=headers)
    assert refused.status == 503
    assert refused.headers["Retry-After"] == str(config.server.retry_after_seconds)
    assert (await refused.json())["error"] == texts.SERVICE_BUSY
    release.set()
    assert [(await task).status for task in slow] == [200, 200]
    # The refused message was not handled: its retry is the first copy.
    assert (await bot.say("帮助", msg_id="over"))["handled_by"] == "handle_help"
    assert app[GATE].inflight == 0 and app[GATE].shed == 1


def test_every_route_is_behind_the_overload_guard(db_url):
    """The guard wraps each handler where it is registered (no middleware): a route added without it would answer
    500 instead of a retryable 503 while the database is unavailable; the routes that take members' messages are
    the ones shed."""
    from tests.channels.wecom.conftest import wecom_config

    guards = {}
    for config in (make_config(db_url), wecom_config(db_url, "http://127.0.0.1:9")):
        for route in build_app(config, background=False).router.routes():
            guards[route.method, route.resource.canonical] = getattr(route.handler, "overload_guard", None)
    inbound = {("POST", "/api/sim/messages"), ("POST", "/wecom/callback"), ("POST", "/wecom/aibot")}
    assert {key for key, guard in guards.items() if guard == "inbound"} == inbound
    assert len(guards) > 10 and all(guard == "other" for key, guard in guards.items() if key not in inbound)
