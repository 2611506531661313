"""The in-process driver (tests/support.py) answers as the HTTP driver does: one conversation through each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.app import build_app
from bot.core.clock import FakeClock
from tests.conftest import START, StartInProcess, empty_database, make_config
from tests.support import BotDriver, InProcessDriver

UNKNOWN_CHAT = json.dumps({"user": "u01", "text": "帮助", "chat": "no-such-chat"})


async def converse(bot: BotDriver) -> dict[str, Any]:
    """A short conversation and everything a test could read of it."""
    said = [
        await bot.say("大家好", user="m001", name="新同志"),
        await bot.say("帮助", user="u01"),
        await bot.say("学习打卡", user="u02", msg_id="same"),
        await bot.say("学习打卡", user="u02", msg_id="same"),  # a repeat: a duplicate
        await bot.say("我的积分", user="u03", chat=None),
    ]
    await bot.drain_outbox()
    unknown = await bot.post_raw(UNKNOWN_CHAT)
    missing = await bot.get("/api/sim/media/999999")
    return {
        "said": said,
        "replies": {user: bot.replies_to(user) for user in ("m001", "u01", "u02", "u03")},
        "group": await bot.transcript(),
        "direct": await bot.transcript("dm:u03"),
        "state": await (await bot.get("/api/sim/state")).json(),
        "unknown chat": (unknown.status, await unknown.json()),
        "missing media": missing.status,
    }


async def test_the_in_process_driver_answers_as_http_does(
    aiohttp_client: Any, in_process: StartInProcess, migrated_template: str, tmp_path: Path
) -> None:
    config = make_config(await empty_database(migrated_template, tmp_path, "http.db"))
    app = build_app(config, clock=FakeClock(START), background=False)
    client = await aiohttp_client(app)
    over_http = await converse(BotDriver(client, app))
    await client.close()  # the app stops: the next one gets the (PostgreSQL: the same) database emptied

    config = make_config(await empty_database(migrated_template, tmp_path, "in-process.db"))
    driver = await in_process(build_app(config, clock=FakeClock(START), background=False))
    assert isinstance(driver, InProcessDriver)
    in_process_answers = await converse(driver)

    assert in_process_answers == over_http
    assert over_http["said"][3]["duplicate"] is True and over_http["unknown chat"][0] == 404
