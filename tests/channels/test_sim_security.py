"""The demo simulator's API as an outsider meets it (issue #11): sessions, CSRF, Host, chats, names, input."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.core import texts
from bot.core.channels.sim.access import CSRF_HEADER, SESSION_COOKIE
from bot.core.config import BranchConfig
from bot.core.models import Chat, InboundMessage, Media, Member, MemberIdentity, Outbox, RollCall, SimMessage
from tests.support import BotDriver, csrf_from_page

NOTICE = {"chat": "demo-group", "user": "u00", "text": "通知 今晚八点到三楼开会"}
API_GETS = [
    "/api/sim/state",
    "/api/sim/messages?chat=demo-group",
    "/api/sim/messages?chat=dm:u03",
    "/api/sim/events?chat=dm:u03",
    "/api/sim/media/1",
]
CJK = re.compile(r"[\u4e00-\u9fff]")


async def stored(bot: BotDriver) -> dict[str, int]:
    """Rows a message, a newcomer, a chat or a notice would leave behind."""
    out = {}
    async with bot.services.sessions() as session:
        for model in (SimMessage, InboundMessage, Outbox, RollCall, Member, MemberIdentity, Chat):
            out[model.__name__] = await session.scalar(select(func.count()).select_from(model)) or 0
    return out


def short_chinese(data: dict[str, Any]) -> bool:
    return set(data) == {"error"} and len(data["error"]) <= 60 and bool(CJK.search(data["error"]))


# --- finding 1/2: nothing without a session; CSRF, content type, Origin, Host ------------------------------


async def test_without_a_session_nothing_is_read_or_posted(bot):
    before = await stored(bot)
    for path in API_GETS:
        resp = await bot.client.get(path)
        assert resp.status == 401, path
        assert (await resp.json())["error"] == texts.SIM_NO_SESSION
    resp = await bot.client.post("/api/sim/messages", json=NOTICE)
    assert resp.status == 401
    forged = f"{9999999999}.abc.{'0' * 64}"
    resp = await bot.client.post("/api/sim/messages", json=NOTICE, cookies={SESSION_COOKIE: forged})
    assert resp.status == 401
    assert await stored(bot) == before


async def test_a_post_needs_json_and_the_pages_csrf_token(bot):
    headers = await bot.headers()  # a session, as the page has one
    token = headers[CSRF_HEADER]
    wrong = token[:-1] + ("1" if token.endswith("0") else "0")
    before = await stored(bot)
    body = json.dumps(NOTICE)
    for changed, status, error in (
        ({"Content-Type": "text/plain"}, 415, texts.SIM_NOT_JSON),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, texts.SIM_NOT_JSON),
        ({CSRF_HEADER: ""}, 403, texts.SIM_BAD_CSRF),
        ({CSRF_HEADER: wrong}, 403, texts.SIM_BAD_CSRF),
        ({"Origin": "http://127.0.0.1:1"}, 403, texts.SIM_FOREIGN_ORIGIN),
        ({"Origin": "null"}, 403, texts.SIM_FOREIGN_ORIGIN),
        ({"Sec-Fetch-Site": "same-site"}, 403, texts.SIM_FOREIGN_ORIGIN),
        ({"Sec-Fetch-Site": "cross-site"}, 403, texts.SIM_FOREIGN_ORIGIN),
    ):
        resp = await bot.post_raw(body, changed)
        assert resp.status == status, changed
        assert (await resp.json())["error"] == error
    assert await stored(bot) == before
    # The page's own request (same origin) goes through.
    same = {"Origin": str(bot.client.make_url("")).rstrip("/"), "Sec-Fetch-Site": "same-origin"}
    resp = await bot.post_raw(json.dumps({**NOTICE, "text": "帮助"}), same)
    assert resp.status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "", "[::1"])
async def test_another_host_name_is_refused_on_every_route(bot, host):
    # DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 reaches the bot as itself.
    headers = await bot.headers()
    before = await stored(bot)
    for method, path in [("GET", "/"), *(("GET", p) for p in API_GETS), ("POST", "/api/sim/messages")]:
        data = json.dumps(NOTICE) if method == "POST" else None
        resp = await bot.client.request(method, path, data=data, headers={**headers, "Host": host})
        assert resp.status == 421, (host, path)
        assert (await resp.json())["error"] == texts.SIM_HOST_REFUSED
    resp = await bot.client.post("/api/sim/session", json={"token": "x" * 20}, headers={"Host": host})
    assert resp.status == 421
    assert await stored(bot) == before


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST.", "yizhan.lan"])
async def test_the_allowed_host_names_are_served(aiohttp_client, config, clock, host):
    config = config.replace(server={"allowed_hosts": ("yizhan.lan",)})
    app = build_app(config, clock=clock, background=False)
    client = await aiohttp_client(app)
    resp = await client.get("/", headers={"Host": host})
    assert resp.status == 200
    assert csrf_from_page(await resp.text())
    assert resp.cookies[SESSION_COOKIE]["httponly"] and resp.cookies[SESSION_COOKIE]["samesite"] == "Strict"


# --- finding 3: no new chats, no joining a branch through the API ------------------------------------------


async def test_an_unknown_chat_is_refused_and_nothing_is_created(bot):
    await bot.open_session()
    before = await stored(bot)
    resp = await bot.post_raw(json.dumps({"chat": "outsider-group", "user": "spy", "text": "大家好", "name": "张三"}))
    assert resp.status == 404
    assert (await resp.json())["error"] == texts.SIM_UNKNOWN_CHAT
    # Nor can an unknown user slip in through a direct message (it would join [bot] default_branch).
    resp = await bot.post_raw(json.dumps({"chat": None, "user": "spy", "text": "我是谁", "name": "张三"}))
    assert resp.status == 404
    assert (await resp.json())["error"] == texts.SIM_UNKNOWN_MEMBER
    assert await stored(bot) == before
    # The secretary's next notice goes to the branch's own chat only, and nobody unknown is waited for.
    await bot.say("通知 明天上午九点学习", user="u00")
    await bot.say("通知情况", user="u00")
    assert "spy" not in bot.replies_to("u00")[-1] and "张三" not in bot.replies_to("u00")[-1]
    resp = await bot.get("/api/sim/messages", chat="outsider-group")
    assert resp.status == 404


async def test_the_demo_seed_stays_out_of_a_branch_with_real_chats(aiohttp_client, config, clock):
    branch = config.branches[0]
    real = BranchConfig(**{**branch.__dict__, "chats": ("sim:demo-group", "wecom:wrRealGroup")})
    app = build_app(config.replace(branches=(real,)), clock=clock, background=False)
    bot = BotDriver(await aiohttp_client(app), app)
    await bot.open_session()
    async with bot.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 0
    state = await (await bot.get("/api/sim/state")).json()
    assert [c["members"] for c in state["chats"]] == [[]]


# --- finding 4: no renaming, no reading what is not a simulator transcript -----------------------------------


async def test_the_name_field_names_a_newcomer_but_never_renames(bot):
    await bot.say("大家好", user="u01", name="冒名者")
    await bot.say("大家好", user="new-1", name="钱进")
    await bot.say("大家好", user="new-1", name="改名者")
    state = await (await bot.get("/api/sim/state")).json()
    names = {m["id"]: m["name"] for m in state["chats"][0]["members"]}
    assert names["u01"] == "张伟" and names["new-1"] == "钱进"
    assert [line["name"] for line in await bot.transcript()] == ["张伟", "钱进", "钱进"]


async def test_only_simulator_transcripts_can_be_read(bot):
    await bot.open_session()
    for chat in ("dm:nobody", "dm:", "wecom-group", "x" * 200):
        resp = await bot.get("/api/sim/messages", chat=chat)
        assert resp.status == 404, chat
        resp = await bot.get("/api/sim/events", chat=chat)
        assert resp.status == 404, chat
    for query in ({"after": "9" * 30}, {"limit": "-1"}, {"after": "x"}, {"after": "²"}, {"limit": "1.5"}):
        resp = await bot.get("/api/sim/messages", chat="demo-group", **query)
        assert resp.status == 400, query
        assert short_chinese(await resp.json())


async def test_media_with_a_huge_or_bad_id_is_404_and_other_channels_images_are_not_shown(bot, clock):
    await bot.open_session()
    for media_id in ("99999999999999999999", "9223372036854775808", "-1", "abc", "1e3", "0"):
        assert (await bot.get(f"/api/sim/media/{media_id}")).status == 404, media_id
    async with bot.services.sessions() as session, session.begin():
        session.add(Media(content_type="image/png", data=b"\x89PNG", created_at=clock()))  # sent to WeCom, say
    assert (await bot.get("/api/sim/media/1")).status == 404


# --- finding 6 (the simulator's part): odd input is a short 4xx, never a 500 --------------------------------


def odd_bodies(rng: random.Random) -> list[bytes]:
    """Bodies an outsider might send: broken, nested, huge, wrongly encoded, or well-formed with odd values."""
    values: list[Any] = [
        None, True, 0, -1, 1.5, 10**30, "", " ", "\x00", "\ud800", "u01", "demo-group", "dm:u01", "帮助", "通知 x",
        [], {}, ["u01"], {"a": 1}, "x" * 3000, "长" * 40,
    ]  # fmt: skip
    keys = ["chat", "user", "text", "id", "name", "mention_bot", "extra"]
    bodies = [
        b"",
        b"{",
        b"\xff\xfe{}",
        '{"user": "u01", "text": "帮助"}'.encode("utf-16"),
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b'{"user": "u01", "text": "' + b"1" * 5000 + b'"}',
        b'{"user": 1' + b"0" * 5000 + b', "text": "x"}',
        b'{"user": "u01", "text": "\\ud800", "chat": "demo-group"}',
        b'{"user": "u01", "text": "a\\u0000b", "chat": "demo-group"}',
        b'{"user": "u01", "text": "NaN", "chat": "demo-group", "id": NaN}',
        b"null",
        b'"text"',
    ]
    for _ in range(60):
        body = {k: rng.choice(values) for k in rng.sample(keys, rng.randint(0, len(keys)))}
        bodies.append(json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass"))
    for _ in range(10):
        bodies.append(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200))))
    return bodies


async def test_fuzzed_bodies_get_a_short_chinese_4xx_never_a_500(bot):
    rng = random.Random(11)
    headers = await bot.headers()
    for body in odd_bodies(rng):
        resp = await bot.post_raw(body)
        assert resp.status in (200, 400, 404, 413), body[:80]
        if resp.status != 200:
            assert short_chinese(await resp.json()), (body[:80], await resp.text())
    resp = await bot.post_raw(b"x" * 70000)
    assert resp.status == 413 and short_chinese(await resp.json())
    for content_type in ("text/plain", "application/json-patch+json", "multipart/form-data; boundary=x", ""):
        resp = await bot.client.post("/api/sim/messages", data=b"{}", headers={**headers, "Content-Type": content_type})
        assert resp.status == 415 and short_chinese(await resp.json())
    resp = await bot.client.post("/api/sim/session", data=b"\xff", headers={"Content-Type": "application/json"})
    assert resp.status == 400 and short_chinese(await resp.json())


# --- the loopback-only demo needs no token; anything else does ---------------------------------------------


async def test_off_loopback_the_demo_asks_for_the_token(aiohttp_client, config, clock):
    config = config.replace(server={"host": "0.0.0.0"})
    app = build_app(config, clock=clock, background=False)
    client = await aiohttp_client(app)
    resp = await client.get("/")
    assert resp.status == 200 and csrf_from_page(await resp.text()) == ""
    assert SESSION_COOKIE not in resp.cookies
    resp = await client.post("/api/sim/session", json={"token": "anything-at-all-long"})
    assert resp.status == 403 and (await resp.json())["error"] == texts.SIM_BAD_TOKEN
    assert (await client.get("/api/sim/state")).status == 401


async def test_a_token_set_on_loopback_is_required_too(aiohttp_client, config, clock):
    # On a machine shared with other users, the operator can require the token for the loopback demo as well.
    token = "shared-machine-token-123"
    app = build_app(config.replace(sim={"access_token": token}), clock=clock, background=False)
    client = await aiohttp_client(app)
    assert csrf_from_page(await (await client.get("/")).text()) == ""
    resp = await client.post("/api/sim/session", json={"token": token})
    assert resp.status == 200
    csrf = (await resp.json())["csrf"]
    # The page never hands the token out for a cookie: the tab keeps the one the login gave.
    assert csrf_from_page(await (await client.get("/")).text()) == ""
    assert (await client.get("/api/sim/state", headers={CSRF_HEADER: csrf})).status == 200


async def test_a_stolen_cookie_alone_can_neither_read_nor_act(aiohttp_client, config, clock):
    """A page on another port of this host gets the session cookie from the browser (ports share cookies, and
    SameSite counts them as one site): without the CSRF token, which only the tab holds, it is worth nothing."""
    token = "shared-machine-token-123"
    app = build_app(config.replace(sim={"access_token": token}), clock=clock, background=False)
    operator = await aiohttp_client(app)
    resp = await operator.post("/api/sim/session", json={"token": token})
    csrf = (await resp.json())["csrf"]
    cookie = resp.cookies[SESSION_COOKIE].value
    thief = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    page = await (await operator.get("/", headers=thief)).text()
    assert csrf_from_page(page) == ""  # the cookie does not buy the token
    for path in ("/api/sim/state", "/api/sim/messages?chat=demo-group", "/api/sim/events?chat=demo-group"):
        assert (await operator.get(path, headers=thief)).status == 403, path
    forged = {"chat": "demo-group", "user": "u00", "text": "通知 偷来的会话"}
    assert (await operator.post("/api/sim/messages", json=forged, headers=thief)).status == 403
    assert (await operator.get("/api/sim/state", headers={**thief, CSRF_HEADER: csrf})).status == 200
