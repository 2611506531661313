"""The simulator beside a real channel: off by default; explicitly on, only on its own loopback listener,
only for the holder of the operator's access token, and announced loudly."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.core.channels.sim import SIM_APP, SIM_RUNNER
from bot.core.channels.sim.access import CSRF_HEADER
from bot.core.config import SIM_TOKEN_ENV, ConfigError, parse_config
from bot.core.models import Chat, InboundMessage, Member, Outbox, RollCall, SimMessage
from bot.core.overload import GATE
from bot.core.services import SERVICES
from tests.channels.wecom.conftest import ROBOT_CHAT, ROBOT_KEY, wecom_config, wecom_section
from tests.conftest import make_config
from tests.core.test_cli import config_file, free_port
from tests.support import csrf_from_page

TOKEN = "operator-token-8f3a1c9e2b7d4e6f"
# Finding 1 of issue #11: the secretary's notice, forged with one unauthenticated request.
FORGED = {"chat": "demo-group", "user": "u00", "text": "通知 今晚八点到三楼开会"}

# Every route the simulator serves, with a request that would have worked on the old, always-on simulator.
ROUTES = [
    ("GET", "/", None),
    ("POST", "/api/sim/session", {"token": TOKEN}),
    ("GET", "/api/sim/state", None),
    ("POST", "/api/sim/messages", FORGED),
    ("GET", "/api/sim/messages?chat=demo-group", None),
    ("GET", "/api/sim/messages?chat=dm:u03", None),
    ("GET", "/api/sim/events?chat=demo-group", None),
    ("GET", "/api/sim/media/1", None),
]


async def counts(app: Any) -> dict[str, int]:
    """Rows that a message, a newcomer, a chat or a notice would leave behind."""
    out = {}
    async with app[SERVICES].sessions() as session:
        for model in (SimMessage, InboundMessage, Outbox, RollCall, Member, Chat):
            out[model.__name__] = await session.scalar(select(func.count()).select_from(model)) or 0
    return out


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_with_wecom_and_default_settings_every_simulator_route_is_off(
    aiohttp_client, db_url, clock, fake, method, path, body
):
    config = wecom_config(db_url, fake.base_url)
    assert config.sim.enabled  # the shipped config.toml turns the demo on; WeCom turns it off
    app = build_app(config, clock=clock, background=False)
    client = await aiohttp_client(app)
    before = await counts(app)
    headers = {"Content-Type": "application/json"}
    resp = await client.request(method, path, data=json.dumps(body) if body else None, headers=headers)
    assert resp.status in (403, 404), await resp.text()
    assert "yizhan-csrf" not in await resp.text()
    assert await counts(app) == before
    assert fake.contents() == []


async def test_forged_notice_reaches_nobody_and_the_demo_is_not_seeded(aiohttp_client, db_url, clock, fake):
    # Finding 1: with WeCom on, the simulator answered anyone, and the seeded sim:u00 was a secretary.
    app = build_app(wecom_config(db_url, fake.base_url), clock=clock, background=False)
    client = await aiohttp_client(app)
    resp = await client.post("/api/sim/messages", json=FORGED)
    assert resp.status == 404
    await app[SERVICES].sender.run_once()
    assert fake.contents() == []
    async with app[SERVICES].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 0  # no simulated members
        assert await session.scalar(select(func.count()).select_from(RollCall)) == 0


def test_beside_wecom_the_simulator_needs_the_flag_and_the_token_from_the_environment():
    wecom = {"enabled": True, "robot_webhooks": [f"{ROBOT_CHAT}={ROBOT_KEY}"]}
    risky = {"enabled": True, "dangerously_enable_with_real_channels": True}
    assert not parse_config({"wecom": wecom, "sim": {"enabled": True}}, env={}).sim_on
    with pytest.raises(ConfigError, match=SIM_TOKEN_ENV):
        parse_config({"wecom": wecom, "sim": risky}, env={})
    with pytest.raises(ConfigError, match="never in the file"):
        parse_config({"wecom": wecom, "sim": {**risky, "access_token": TOKEN}}, env={})
    with pytest.raises(ConfigError, match="at least 16"):
        parse_config({"wecom": wecom, "sim": risky}, env={SIM_TOKEN_ENV: "short"})
    with pytest.raises(ConfigError, match=r"\[sim\] port"):
        parse_config({"wecom": wecom, "sim": {**risky, "port": 8080}}, env={SIM_TOKEN_ENV: TOKEN})
    config = parse_config({"wecom": wecom, "sim": risky}, env={SIM_TOKEN_ENV: TOKEN})
    assert config.sim_on and config.sim_needs_token and config.sim.host == "127.0.0.1"
    assert TOKEN not in repr(config)


async def test_explicitly_enabled_it_listens_on_loopback_apart_and_asks_for_the_token(
    aiohttp_client, db_url, clock, fake, caplog
):
    config = wecom_config(db_url, fake.base_url).replace(
        sim={"dangerously_enable_with_real_channels": True, "port": 0, "access_token": TOKEN}
    )
    caplog.set_level(logging.DEBUG)
    app = build_app(config, clock=clock, background=False)
    client = await aiohttp_client(app)
    # No demo members beside a real channel: WeCom groups joining the default branch would count them.
    async with app[SERVICES].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 0
    # Nothing of the simulator on the server's own listener (the one a reverse proxy forwards).
    for method, path, _ in ROUTES:
        assert (await client.request(method, path)).status == 404
    # Its messages count against the app's one in-flight limit, and a database outage answers 503 there too.
    assert app[SIM_APP][GATE] is app[GATE]
    host, port = app[SIM_RUNNER].addresses[0][:2]
    assert host == "127.0.0.1"
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/") as resp:
            assert resp.status == 200
            assert csrf_from_page(await resp.text()) == ""  # no session without the token
        async with http.get(f"{base}/api/sim/state") as resp:
            assert resp.status == 401
        async with http.post(f"{base}/api/sim/messages", json=FORGED) as resp:
            assert resp.status == 401
        async with http.post(f"{base}/api/sim/session", json={"token": TOKEN[:-1] + "x"}) as resp:
            assert resp.status == 403
        assert len(http.cookie_jar) == 0
        async with http.post(f"{base}/api/sim/session", json={"token": TOKEN}) as resp:
            assert resp.status == 200
            csrf = (await resp.json())["csrf"]
        async with http.get(f"{base}/") as resp:
            assert csrf_from_page(await resp.text()) == ""  # handed out with the session only
        assert csrf
        async with http.get(f"{base}/api/sim/state", headers={CSRF_HEADER: csrf}) as resp:
            assert resp.status == 200
            assert [c["id"] for c in (await resp.json())["chats"]] == ["demo-group"]
        hello = {"chat": "demo-group", "user": "tester", "text": "大家好", "name": "测试员"}
        async with http.post(f"{base}/api/sim/messages", json=hello, headers={CSRF_HEADER: csrf}) as resp:
            assert resp.status == 200
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("dangerously_enable_with_real_channels" in w for w in warnings)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_yizhan_run_says_so_on_its_first_line(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "YIZHAN_WECOM_ENABLED": "true",
        "YIZHAN_WECOM_ROBOT_WEBHOOKS": f"{ROBOT_CHAT}={ROBOT_KEY}",
        "YIZHAN_WECOM_API_BASE_URL": "http://127.0.0.1:9",
        "YIZHAN_SIM_DANGEROUSLY_ENABLE_WITH_REAL_CHANNELS": "true",
        "YIZHAN_SIM_ACCESS_TOKEN": TOKEN,
        "YIZHAN_SIM_PORT": str(free_port()),
        "YIZHAN_SCHEDULER_ENABLED": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config_file(tmp_path, port)), "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        second = proc.stdout.readline()  # printed once the app is built (and the warning logged)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert first.startswith("WARNING: the simulator is ON beside a real channel (wecom)"), first
    assert "dangerously_enable_with_real_channels" in first
    assert second.startswith("yizhan ") and "请打开 http://127.0.0.1:" in second
    assert "WARNING" in err and "dangerously_enable_with_real_channels" in err  # and in the log
    assert TOKEN not in first + out + err


async def test_no_demo_members_beside_a_real_channel_even_in_a_branch_without_its_chats_yet(
    aiohttp_client, db_url, clock, fake
):
    # The shipped demo branch has only simulator chats and is the default branch: WeCom groups that first write
    # later would be bound to it, and simulated members would be counted in real notices (security review).
    config = make_config(
        db_url,
        wecom=wecom_section(fake.base_url),
        sim={"dangerously_enable_with_real_channels": True, "port": 0, "access_token": TOKEN},
    )
    app = build_app(config, clock=clock, background=False)
    await aiohttp_client(app)
    async with app[SERVICES].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 0
