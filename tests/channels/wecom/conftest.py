"""Fixtures for the WeCom channel: the fake WeCom API on a test server, and the real app configured for it."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from wechatpy.work.crypto import PrpCrypto, WeChatCrypto

from bot.app import build_app
from bot.core.clock import FakeClock
from bot.core.config import BranchConfig, Config
from bot.core.logs import config_secrets, setup_logging
from bot.core.models import InboundMessage, Outbox
from bot.core.services import SERVICES, Services
from tests.channels.wecom.fake_api import LONG_CONNECTION_PATH, FakeWecom
from tests.channels.wecom.fake_cards import CardBoard
from tests.channels.wecom.fake_ws import FakeLongConnection
from tests.conftest import make_config
from tests.support import drain

CORP_ID = "ww5823bf96d3bd56c7"
AGENT_ID = 1000002
SECRET = "app-secret-for-tests"
TOKEN = "callbackToken"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
AIBOT_TOKEN = "aibotToken"
AIBOT_KEY = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
AIBOT_BOT_ID = "aibLongConnBot01"
AIBOT_SECRET = "aibot-long-connection-secret"
ROBOT_KEY = "robot-key-group-a"
ROBOT_CHAT = "wrRobotGroupA"  # a group reached through its robot webhook
APPCHAT = "appchat-group-b"  # an app group chat (appchat/create)
AIBOT_CHAT = "wrAibotGroupC"  # a group where members @ the AI bot; no robot configured
ADMIN = "boss"


def sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """msg_signature as the WeCom docs define it, written independently of the code under test."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def aibot_encrypt(plaintext: str, key: str = AIBOT_KEY) -> str:
    """The AI bot's encryption: the platform framing with an empty receive id."""
    return PrpCrypto(base64.b64decode(key + "=")).encrypt(plaintext, "").decode()


def aibot_decrypt(encrypted: str, key: str = AIBOT_KEY) -> str:
    return PrpCrypto(base64.b64decode(key + "=")).decrypt(encrypted, "")


def wecom_section(fake_base: str, **changes: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "enabled": True,
        "corp_id": CORP_ID,
        "agent_id": AGENT_ID,
        "app_secret": SECRET,
        "callback_token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "aibot_token": AIBOT_TOKEN,
        "aibot_encoding_aes_key": AIBOT_KEY,
        "aibot_bot_id": AIBOT_BOT_ID,
        "aibot_secret": AIBOT_SECRET,
        "robot_webhooks": (f"{ROBOT_CHAT}={ROBOT_KEY}",),
        "appchats": (APPCHAT,),
        "api_base_url": fake_base,
    }
    section.update(changes)
    return section


def wecom_config(db_url: str, fake_base: str, **changes: Any) -> Config:
    branch = BranchConfig(
        id="demo",
        name="市城管局机关第一党支部",
        party_groups=("执法党小组",),
        chats=("sim:demo-group", f"wecom:{ROBOT_CHAT}", f"wecom:{APPCHAT}", f"wecom:{AIBOT_CHAT}"),
        admins=("sim:u00", f"wecom:{ADMIN}"),
    )
    # SQL echo on: the DEBUG log these tests capture (below) must hold no secret even then.
    database = {"url": db_url, "echo": True}
    return make_config(db_url, wecom=wecom_section(fake_base, **changes), branches=(branch,), database=database)


class WecomDriver:
    """Drives the app as WeCom does: signed, encrypted callbacks over HTTP; reads what members got."""

    def __init__(
        self,
        client: TestClient,
        app: web.Application,
        fake: FakeWecom,
        clock: FakeClock,
        crypto: WeChatCrypto | None = None,
    ) -> None:
        self.client = client
        self.app = app
        self.fake = fake
        self.clock = clock
        self.crypto = crypto or WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
        self._ids = itertools.count(7_000_000_000_000_000_001)

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    def now(self) -> str:
        return str(int(self.clock().timestamp()))

    # --- the app callback ---------------------------------------------------------------------
    def app_text_xml(self, text: str, user: str, msg_id: int | None = None) -> str:
        msg_id = msg_id if msg_id is not None else next(self._ids)
        content = text.replace("]]>", "]]]]><![CDATA[>")  # as WeCom escapes it
        return (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{self.now()}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
        )

    def app_envelope(self, plaintext_xml: str, nonce: str = "nonce123") -> tuple[dict[str, str], str]:
        """Query and body of a callback, encrypted and signed with wechatpy (the platform's own crypto)."""
        timestamp = self.now()
        reply = self.crypto.encrypt_message(plaintext_xml, nonce, timestamp)
        encrypted = reply.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
        query = {"msg_signature": sign(TOKEN, timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce}
        body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        body += f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
        return query, body

    async def app_say(self, text: str, user: str = "zhangsan", msg_id: int | None = None) -> tuple[int, str | None]:
        """Post a member's 1:1 text to the app callback; (status, decrypted passive reply text or None)."""
        query, body = self.app_envelope(self.app_text_xml(text, user, msg_id))
        return await self.app_post(query, body)

    async def app_post(self, query: dict[str, str], body: str | bytes) -> tuple[int, str | None]:
        resp = await self.client.post("/wecom/callback", params=query, data=body)
        answer = await resp.text()
        if resp.status != 200 or not answer:
            return resp.status, None
        return resp.status, self.decrypt_app_reply(answer)

    def decrypt_app_reply(self, answer: str) -> str:
        """The Content of a passive reply, decrypted and checked with wechatpy."""
        import xml.etree.ElementTree as ET

        root = ET.fromstring(answer)
        fields = {child.tag: child.text or "" for child in root}
        plain = self.crypto.decrypt_message(answer, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
        inner = ET.fromstring(plain)
        assert inner.findtext("MsgType") == "text"
        return inner.findtext("Content") or ""

    def app_tap_xml(self, task_id: str, user: str, label: str) -> str:
        """A member's tap on an app card they see (path/90240 模板卡片事件推送), with its ResponseCode."""
        card = self.fake.cards.seen_by(task_id, user)
        key = self.fake.cards.key_of(task_id, user, label)
        code = f"rc-{next(self._ids)}"
        self.fake.card_codes[code] = (task_id, user)
        return (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{self.now()}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>"
            f"<TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[{card['card_type']}]]></CardType>"
            f"<ResponseCode><![CDATA[{code}]]></ResponseCode><AgentID>{AGENT_ID}</AgentID></xml>"
        )

    async def app_post_xml(self, plaintext_xml: str) -> tuple[int, str | None]:
        query, body = self.app_envelope(plaintext_xml)
        resp = await self.client.post("/wecom/callback", params=query, data=body)
        return resp.status, await resp.text()

    # --- the AI bot ---------------------------------------------------------------------------
    def aibot_payload(
        self, text: str, user: str = "lisi", chat: str | None = AIBOT_CHAT, msg_id: str | None = None
    ) -> dict[str, Any]:
        msg_id = msg_id or f"CAIQ{next(self._ids)}"
        code = f"code-{msg_id}"
        base = self.fake.base_url
        payload: dict[str, Any] = {
            "msgid": msg_id,
            "aibotid": "AIBOTID",
            "chattype": "group" if chat else "single",
            "from": {"userid": user},
            "response_url": self.fake.response_url(base, code, chat),
            "msgtype": "text",
            "text": {"content": text},
        }
        if chat:
            payload["chatid"] = chat
        return payload

    def aibot_envelope(self, payload: dict[str, Any] | str, nonce: str = "n0nce") -> tuple[dict[str, str], str]:
        plaintext = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        timestamp = self.now()
        encrypted = aibot_encrypt(plaintext)
        query = {
            "msg_signature": sign(AIBOT_TOKEN, timestamp, nonce, encrypted),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        return query, json.dumps({"encrypt": encrypted})

    async def aibot_say(self, text: str, **kw: Any) -> tuple[int, dict[str, Any] | None]:
        """Post an AI-bot callback; (status, decrypted passive answer or None)."""
        return await self.aibot_post(self.aibot_payload(text, **kw))

    async def aibot_post(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        """Post a callback; (status, decrypted answer). As WeCom does, a card in the answer is posted to the chat
        (stream_with_template_card), and an answer to a tap updates the tapper's copy (update_template_card)."""
        query, body = self.aibot_envelope(payload)
        resp = await self.client.post("/wecom/aibot", params=query, data=body)
        answer = await resp.text()
        if resp.status != 200 or not answer:
            return resp.status, None
        data = json.loads(answer)
        assert data["msgsignature"] == sign(AIBOT_TOKEN, data["timestamp"], data["nonce"], data["encrypt"])
        decrypted = json.loads(aibot_decrypt(data["encrypt"]))
        chat = payload.get("chatid") or payload.get("from", {}).get("userid", "")
        if decrypted.get("msgtype") == "stream_with_template_card":
            self.fake.cards.post(chat, decrypted["template_card"], decrypted["stream"]["content"])
        elif "response_type" in decrypted:
            assert payload.get("msgtype") == "event", "an update answers a card event only"
            self.fake.cards.update(decrypted, payload["event"]["template_card_event"]["task_id"])
        return resp.status, decrypted

    def tap_payload(
        self, task_id: str, user: str, label: str, chat: str | None = AIBOT_CHAT, chosen: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """A member's tap on a card they see, as the AI bot's callback delivers it ([101027]), with the
        response_url events carry ([101138])."""
        payload = self.fake.cards.event(task_id, user, label, chat, chosen=chosen)
        code = f"code-{payload['msgid']}"
        payload["response_url"] = self.fake.response_url(self.fake.base_url, code, chat)
        return payload

    async def aibot_tap(self, task_id: str, user: str, label: str, **kw: Any) -> tuple[int, dict[str, Any] | None]:
        return await self.aibot_post(self.tap_payload(task_id, user, label, **kw))

    # --- reading state --------------------------------------------------------------------------
    async def drain_outbox(self, max_passes: int = 200) -> int:
        return await drain(self.services, max_passes)

    async def outbox(self) -> list[Outbox]:
        async with self.services.sessions() as session:
            return list(await session.scalars(select(Outbox).order_by(Outbox.id)))

    async def counts(self) -> tuple[int, int]:
        """(inbound rows, outbox rows)."""
        async with self.services.sessions() as session:
            inbound = await session.scalar(select(func.count()).select_from(InboundMessage))
            outbox = await session.scalar(select(func.count()).select_from(Outbox))
        return inbound or 0, outbox or 0


# What must never reach a log: the test config's secrets and keys (the fake's access tokens are added per test).
SECRETS = (SECRET, TOKEN, AES_KEY, AIBOT_TOKEN, AIBOT_KEY, ROBOT_KEY, AIBOT_SECRET)


@pytest.fixture(autouse=True)
def secret_free_debug_log(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """Every WeCom test runs under `yizhan run`'s own logging at DEBUG; nothing secret may be logged (#11)."""
    # The fake API's access tokens: the dict it keeps them in (the fake is torn down before this fixture).
    issued: dict[str, Any] = request.getfixturevalue("fake")._tokens if "fake" in request.fixturenames else {}
    captured = io.StringIO()
    secrets = config_secrets(wecom_config("sqlite+aiosqlite:///unused.db", "http://127.0.0.1"))  # as `yizhan run`
    installed = setup_logging("DEBUG", secrets=secrets, stream=captured)
    try:
        yield captured
    finally:
        installed.close()
    text = captured.getvalue()
    leaked = [secret for secret in (*SECRETS, *issued) if secret in text]
    assert not leaked, f"secrets in the DEBUG log: {leaked}"


@pytest.fixture
async def fake(aiohttp_server: Any, clock: FakeClock) -> FakeWecom:
    board = CardBoard()  # one board: a card posted one way may be tapped and updated another
    long_connection = FakeLongConnection(AIBOT_BOT_ID, AIBOT_SECRET, cards=board)
    fake = FakeWecom(
        clock, corp_id=CORP_ID, secret=SECRET, robot_keys={ROBOT_KEY}, long_connection=long_connection, cards=board
    )
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("")).rstrip("/")
    fake.long_connection_url = str(server.make_url(LONG_CONNECTION_PATH)).replace("http://", "ws://", 1)
    return fake


@pytest.fixture
def start_wecom(aiohttp_client: Any, db_url: str, clock: FakeClock, fake: FakeWecom) -> Any:
    """Start the real app with WeCom enabled against the fake API (no background tasks), as told."""

    async def start(routers: Any = None, **changes: Any) -> WecomDriver:
        config = wecom_config(db_url, fake.base_url, **changes)
        kwargs = {} if routers is None else {"routers": routers}
        app = build_app(config, clock=clock, background=False, **kwargs)
        return WecomDriver(await aiohttp_client(app), app, fake, clock)

    return start


@pytest.fixture
async def wecom(start_wecom: Any) -> WecomDriver:
    """The real app with WeCom enabled against the fake API; tests drain the outbox themselves."""
    return await start_wecom()
