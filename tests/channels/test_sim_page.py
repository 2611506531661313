"""The simulator page in a real headless Chromium against the real app on a real port.

Needs the playwright package and a system Chromium (/usr/bin/chromium, or YIZHAN_CHROMIUM); Playwright's own
browser download is never used. Skipped where either is missing, except under CI=true, where it fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.app import build_app
from bot.core import texts
from bot.core.channels.sim import MAX_TEXT
from bot.core.channels.sim.access import CSRF_HEADER
from bot.core.clock import FakeClock
from bot.core.config import Config
from bot.core.context import Context
from bot.core.db import transaction
from bot.core.models import Chat, InboundMessage, Outbox, RollCall, SimMessage
from bot.core.services import SERVICES
from bot.demo import DEMO_CHAT_NAME, DEMO_MEMBERS
from tests.support import csrf_from_page

CHROMIUM = os.environ.get("YIZHAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing() -> str:
    needs = []
    if importlib.util.find_spec("playwright") is None:
        needs.append("the playwright package (pip install playwright)")
    if not Path(CHROMIUM).exists():
        needs.append(f"{CHROMIUM} (apt-get install chromium)")
    return " and ".join(needs)


MISSING = _missing()
if MISSING and not IN_CI:
    pytest.skip(f"the browser test needs {MISSING}", allow_module_level=True)
if not MISSING:
    from playwright.async_api import Browser, Page, Request, Route, async_playwright, expect

NAMES = {user_id: name for user_id, name, _ in DEMO_MEMBERS}
BOT_BUBBLES = '.msg[data-sender="bot"] .bubble'
OWN_BUBBLES = ".msg.own .bubble"
ENDPOINT = "/api/sim/messages"


# One browser for the module (a launch costs about a second); the tests, the server and the pages share
# the module's event loop with it. The database and config fixtures give plain values, so any loop will do.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    if MISSING:
        pytest.fail(f"CI=true but the browser test needs {MISSING}", pytrace=False)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def server(config: Config, clock: FakeClock) -> AsyncIterator[TestServer]:
    """The real app on 127.0.0.1 (a free port); no background tasks, so the test runs the sender itself."""
    test_server = TestServer(build_app(config, clock=clock, background=False), host="127.0.0.1")
    await test_server.start_server()
    yield test_server
    await test_server.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser, server: TestServer) -> AsyncIterator[Page]:
    """A fresh phone-sized page (its own storage); closed before the server stops."""
    context = await browser.new_context(
        viewport={"width": 420, "height": 820}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(5000)
    new_page = await context.new_page()
    dialogs: list[str] = []
    new_page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    try:
        yield new_page
    finally:
        await context.close()
    assert dialogs == [], "the page must not use alert()"


async def open_page(page: Page, server: TestServer) -> None:
    """Load the simulator and wait until its live stream is connected."""
    await page.goto(str(server.make_url("/")))
    await expect(page.locator("#status")).to_have_text("")


async def say_in_page(page: Page, text: str) -> dict[str, Any]:
    """Type text, press Enter; return the JSON the page posted."""
    async with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(ENDPOINT)) as posted:
        await page.fill("#text", text)
        await page.press("#text", "Enter")
    return (await posted.value).post_data_json


async def session(server: TestServer) -> tuple[aiohttp.ClientSession, dict[str, str]]:
    """An HTTP client with a session of its own, got as the page gets it; and the headers a POST needs."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # unsafe: cookies for 127.0.0.1
    async with http.get(server.make_url("/")) as resp:
        csrf = csrf_from_page(await resp.text())
    return http, {CSRF_HEADER: csrf}


async def post(server: TestServer, body: dict[str, Any]) -> dict[str, Any]:
    http, headers = await session(server)
    async with http, http.post(server.make_url(ENDPOINT), json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def transcript(server: TestServer, chat: str = "demo-group") -> list[dict[str, Any]]:
    http, headers = await session(server)
    async with http, http.get(server.make_url(ENDPOINT), params={"chat": chat}, headers=headers) as resp:
        assert resp.status == 200
        return (await resp.json())["messages"]


async def shown_ids(page: Page) -> list[int]:
    return await page.eval_on_selector_all(".msg", "rows => rows.map(r => Number(r.dataset.id))")


async def test_member_types_help_and_sees_the_reply(server, page):
    await open_page(page, server)
    await expect(page).to_have_title(texts.SIM_TITLE)
    await expect(page.locator("#title")).to_have_text(f"{DEMO_CHAT_NAME}({len(DEMO_MEMBERS) + 1})")
    await expect(page.locator("#who")).to_have_value("u01")  # the first ordinary member
    await page.select_option("#who", "u01")

    sent = await say_in_page(page, texts.CMD_HELP[0])
    assert sent["user"] == "u01" and sent["chat"] == "demo-group" and sent["text"] == texts.CMD_HELP[0]
    assert isinstance(sent["id"], str) and sent["id"]

    await expect(page.locator(BOT_BUBBLES)).to_have_count(1)
    await expect(page.locator(OWN_BUBBLES)).to_have_text([texts.CMD_HELP[0]])
    user_line, bot_line = await transcript(server)
    shown = await page.locator(BOT_BUBBLES).inner_text()
    assert shown == bot_line["text"]  # every line of the multi-line reply, newlines kept
    assert shown.startswith(texts.HELP_HEADER.format(name=NAMES["u01"]))
    assert texts.HELP_LINE.format(word=texts.CMD_WHOAMI[0], summary=texts.SUMMARY_WHOAMI) in shown.splitlines()
    assert shown.endswith(texts.HELP_FOOTER)

    # A retry carrying the page's id is recognised by the server; nothing new appears.
    assert (await post(server, sent))["duplicate"] is True
    second = await say_in_page(page, texts.CMD_WHOAMI[0])
    assert second["id"] != sent["id"]
    await expect(page.locator(BOT_BUBBLES)).to_have_count(2)
    await expect(page.locator(OWN_BUBBLES)).to_have_text([texts.CMD_HELP[0], texts.CMD_WHOAMI[0]])
    # History, the live stream and the post-send catch-up all deliver these lines: each is shown once.
    assert await shown_ids(page) == [line["id"] for line in await transcript(server)]


async def test_lines_from_elsewhere_arrive_live(server, page, clock, config):
    await open_page(page, server)
    await expect(page.locator(".time")).to_have_count(0)

    clock.advance(minutes=6)
    data = await post(server, {"chat": "demo-group", "user": "u00", "text": texts.CMD_WHOAMI[0], "id": "other-1"})
    [reply] = data["replies"]
    other = page.locator('.msg[data-sender="u00"]')
    await expect(other.locator(".name")).to_have_text(NAMES["u00"])
    await expect(other.locator(".avatar")).to_have_text(NAMES["u00"][-2:])
    await expect(other.locator(".bubble")).to_have_text(texts.CMD_WHOAMI[0])
    await expect(page.locator(BOT_BUBBLES)).to_have_text([reply["text"]])
    await expect(page.locator(OWN_BUBBLES)).to_have_count(0)  # u00's line is not "mine"

    # A push nobody typed for (as a scheduled job sends it), mentioning 张伟: it arrives over the live stream.
    clock.advance(minutes=6)
    services = server.app[SERVICES]
    push = "测试推送：本周五学习日，请按时参加。"
    async with transaction(services.sessions) as session:
        chat = await session.scalar(
            select(Chat).where(Chat.channel == "sim", Chat.platform_chat_id == config.demo.chat)
        )
        assert chat is not None
        await Context(config=config, session=session, clock=clock).send_to_chat(chat, push, mentions=("u01",))
    assert await services.sender.run_once() == 1
    last = page.locator(BOT_BUBBLES).last
    await expect(last).to_have_text(f"@{NAMES['u01']} {push}")
    await expect(last.locator(".at")).to_have_text(f"@{NAMES['u01']}")
    await expect(page.locator(".time")).to_have_count(2)  # a time line after each quiet spell over 5 minutes


async def test_direct_chat_and_an_api_error(server, page, config):
    await open_page(page, server)
    await page.get_by_role("tab", name="私聊机器人").click()
    await expect(page.locator("#title")).to_have_text(config.bot.name)
    await expect(page.locator("#status")).to_have_text("")
    sent = await say_in_page(page, texts.CMD_WHOAMI[0])
    assert sent["chat"] is None
    await expect(page.locator(BOT_BUBBLES)).to_have_count(1)
    assert [line["sender"] for line in await transcript(server, "dm:u01")] == ["u01", "bot"]
    assert await transcript(server) == []

    # The real server refuses an over-long text; the page shows its reason as a grey line and keeps the draft.
    async def too_long(route: Route) -> None:
        body = {**route.request.post_data_json, "text": "长" * (MAX_TEXT + 1)}
        await route.continue_(post_data=json.dumps(body))

    await page.route(f"**{ENDPOINT}", too_long)
    await say_in_page(page, texts.CMD_HELP[0])
    error = texts.SIM_BAD_REQUEST.format(reason=f"text 超过 {MAX_TEXT} 字")
    await expect(page.locator(".sys")).to_have_text([error])
    await expect(page.locator("#text")).to_have_value(texts.CMD_HELP[0])


async def test_reconnect_fetches_what_was_missed(server, page):
    await post(server, {"chat": "demo-group", "user": "u03", "text": "大家好", "id": "before"})
    catch_ups: list[str] = []
    streams = 0

    def record(request: Request) -> None:
        if streams > 1 and request.method == "GET" and ENDPOINT in request.url:
            catch_ups.append(request.url)

    async def drop_first_stream(route: Route) -> None:
        nonlocal streams
        streams += 1
        if streams == 1:
            # The first stream ends at once and asks for a quick retry, as a dropped connection would.
            await route.fulfill(status=200, content_type="text/event-stream", body="retry: 100\n: bye\n\n")
            return
        # While the page is disconnected (and has shown the history), 王芳 asks something:
        # only the catch-up after the reconnect can show it.
        await expect(page.locator('.msg[data-sender="u03"]')).to_have_count(1)
        await post(server, {"chat": "demo-group", "user": "u02", "text": texts.CMD_WHOAMI[0], "id": "missed"})
        await route.continue_()

    page.on("request", record)
    await page.route("**/api/sim/events*", drop_first_stream)
    await page.goto(str(server.make_url("/")))
    await expect(page.locator('.msg[data-sender="u02"]')).to_have_count(1)
    await expect(page.locator(BOT_BUBBLES)).to_have_count(1)
    await expect(page.locator("#status")).to_have_text("")
    first = (await transcript(server))[0]["id"]
    assert any(url.endswith(f"after={first}") for url in catch_ups), catch_ups
    assert await shown_ids(page) == [line["id"] for line in await transcript(server)]


# A page on another origin (another port of the same host: the same *site*, so even the SameSite=Strict
# session cookie goes along) that tries to post 通知 as the secretary in every way a page can.
ATTACKER_PAGE = """<!doctype html><meta charset="utf-8"><title>attacker</title>
<iframe name="sink"></iframe>
<form id="form" method="POST" enctype="text/plain" target="sink" action="TARGET/api/sim/messages">
<input name='{"chat": "demo-group", "user": "u00", "text": "通知 表单伪造", "x": "' value='"}'></form>
<script>
const url = "TARGET/api/sim/messages";
const body = (text) => JSON.stringify({chat: "demo-group", user: "u00", text: "通知 " + text});
const attempts = [
  fetch(url, {method: "POST", mode: "no-cors", credentials: "include",
              headers: {"Content-Type": "text/plain"}, body: body("no-cors 文本")}),
  fetch(url, {method: "POST", mode: "no-cors", credentials: "include",
              headers: {"Content-Type": "application/json"}, body: body("no-cors JSON")}),
  fetch(url, {method: "POST", credentials: "include",
              headers: {"Content-Type": "application/json"}, body: body("cors JSON")}),
  fetch(url, {method: "POST", credentials: "include",
              headers: {"Content-Type": "application/json", "X-Yizhan-CSRF": "guess"}, body: body("cors 令牌")}),
  fetch("TARGET/api/sim/messages?chat=dm:u00", {credentials: "include"}).then((r) => r.text()),
];
window.outcome = Promise.allSettled(attempts).then((results) => {
  document.getElementById("form").submit();
  return results.map((r) => r.status);
});
</script>"""


async def test_a_page_on_another_origin_cannot_post_as_a_member(server, page):
    # The member has the simulator open: the browser holds a session cookie for 127.0.0.1.
    await open_page(page, server)
    target = str(server.make_url("")).rstrip("/")

    async def attacker_page(_: web.Request) -> web.Response:
        return web.Response(text=ATTACKER_PAGE.replace("TARGET", target), content_type="text/html")

    attacker = web.Application()
    attacker.router.add_get("/", attacker_page)
    attacker_server = TestServer(attacker, host="127.0.0.1")
    await attacker_server.start_server()
    statuses: list[int] = []

    def record(response: Any) -> None:  # the attacker's posts (the simulator page only reads)
        if response.url.startswith(target + ENDPOINT) and response.request.method == "POST":
            statuses.append(response.status)

    page.on("response", record)
    try:
        async with page.expect_response(
            lambda r: r.request.method == "POST" and "sim/messages" in r.url and r.request.resource_type == "document"
        ):
            await page.goto(str(attacker_server.make_url("/")))
            outcome = await page.evaluate("window.outcome")
    finally:
        await attacker_server.close()
    assert outcome == ["fulfilled", "fulfilled", "rejected", "rejected", "rejected"]  # opaque, or blocked by CORS
    # Every attempt that reached the bot was refused (the CORS ones never got past their preflight).
    # Both no-cors posts and the form reached the bot and were refused; the CORS ones never got past their
    # preflight, and the CORS read is refused too (Playwright reports it as failed, not as a response).
    assert statuses == [403, 403, 403], statuses
    services = server.app[SERVICES]
    async with services.sessions() as session:
        for model in (SimMessage, InboundMessage, Outbox, RollCall):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model.__name__
    assert await services.sender.run_once() == 0  # no notice waits to go out


async def test_where_the_access_token_is_needed_the_page_asks_for_it(browser, config, clock):
    token = "operator-token-for-the-page"
    app = build_app(config.replace(sim={"access_token": token}), clock=clock, background=False)
    token_server = TestServer(app, host="127.0.0.1")
    await token_server.start_server()
    context = await browser.new_context(viewport={"width": 420, "height": 820}, locale="zh-CN")
    context.set_default_timeout(5000)
    try:
        page = await context.new_page()
        await page.goto(str(token_server.make_url("/")))
        await expect(page.locator("#login")).to_be_visible()
        await page.fill("#token", "not-the-token-at-all")
        await page.press("#token", "Enter")
        await expect(page.locator("#login-error")).to_have_text(texts.SIM_BAD_TOKEN)
        await page.fill("#token", token)
        await page.press("#token", "Enter")
        # The page reloads with its session and works as in the demo.
        await expect(page.locator("#login")).to_be_hidden()
        await expect(page.locator("#status")).to_have_text("")
        await say_in_page(page, texts.CMD_HELP[0])
        await expect(page.locator(BOT_BUBBLES)).to_have_count(1)
    finally:
        await context.close()
        await token_server.close()


async def test_time_lines_show_the_bots_time_zone_not_the_browsers(browser, server, clock):
    """A browser set to UTC shows the time lines in Beijing time ([bot] timezone), as the bot's replies do."""
    context = await browser.new_context(viewport={"width": 420, "height": 820}, locale="zh-CN", timezone_id="UTC")
    context.set_default_timeout(5000)
    utc_page = await context.new_page()
    try:
        await open_page(utc_page, server)
        assert await utc_page.evaluate("new Date(0).getTimezoneOffset()") == 0  # the browser is on UTC
        clock.advance(minutes=6)
        await post(server, {"chat": "demo-group", "user": "u00", "text": texts.CMD_WHOAMI[0], "id": "tz-1"})
        beijing = clock().strftime("%H:%M")  # 10:06 in Asia/Shanghai
        utc = clock().astimezone(ZoneInfo("UTC")).strftime("%H:%M")  # 02:06
        assert beijing != utc
        divider = utc_page.locator(".time").first
        await expect(divider).to_have_text(re.compile(rf"(^|\s){beijing}$"))
        # The day, too, is Beijing's: 11月20日, never the UTC day.
        assert f"{clock().month}月{clock().day}日" in await divider.inner_text()
    finally:
        await context.close()
