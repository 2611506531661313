"""A local fake of the WeCom server API (qyapi.weixin.qq.com) for tests, on aiohttp, with the AI bot's
long-connection endpoint (fake_ws.py).

Tokens expire by the injected clock; the documented rates answer 45009 when exceeded; any endpoint
fails with a chosen errcode on demand; every message received is recorded. An app message sent with
enable_duplicate_check is dropped (answered ok, not delivered) when the same request was accepted within its
duplicate_check_interval (default 1800 s), as WeCom does. message/send takes up to 1,000 members in touser
("a|b|c") and answers the unknown ones in invaliduser; every call taken is counted with its recipients. Images: the app uploads them
(media/upload, multipart field "media") and sends the media_id; a robot sends base64 with the MD5.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import itertools
import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.core.clock import Clock
from tests.channels.wecom.fake_cards import INVALID, CardBoard, CardRefused
from tests.channels.wecom.fake_ws import FakeLongConnection

# The documented limits the fake enforces (per minute).
ROBOT_PER_MINUTE = 20
APP_PER_MEMBER_PER_MINUTE = 30
APP_PER_MEMBER_PER_HOUR = 1000
APP_MAX_RECIPIENTS = 1000  # touser "最多支持1000个" (发送应用消息, path/90236)
IMAGE_MAX_BYTES = 2 * 1024 * 1024
LONG_CONNECTION_PATH = "/aibot/ws"
MENTION = re.compile(r"<@([^<>\s]+)>")
# The fake's answer to an image it cannot take (unknown media_id, bad base64 or MD5, wrong size).
BAD_MEDIA = 40007


@dataclass(frozen=True)
class Received:
    """One message the fake accepted."""

    endpoint: str  # "message/send", "appchat/send", "webhook/send", "aibot/response"
    target: str  # userid, chatid, webhook key or response code
    msgtype: str
    content: str
    at: datetime
    mentioned: tuple[str, ...] = ()
    image: bytes | None = None  # msgtype "image": the picture as delivered


@dataclass
class FakeWecom:
    clock: Clock
    corp_id: str
    secret: str
    robot_keys: set[str] = field(default_factory=set)
    base_url: str = ""  # set once the fake is served
    long_connection_url: str = ""  # likewise
    token_ttl_seconds: int = 7200
    received: list[Received] = field(default_factory=list)
    gettoken_calls: int = 0
    invalid_users: set[str] = field(default_factory=set)
    response_codes: dict[str, bool] = field(default_factory=dict)  # code -> used
    # The AI bot's long connection (ws://…/aibot/ws here; wss://openws.work.weixin.qq.com at WeCom).
    long_connection: FakeLongConnection | None = None
    media: dict[str, bytes] = field(default_factory=dict)  # media_id -> uploaded file
    cards: CardBoard = field(default_factory=CardBoard)  # template cards (shared with the long connection)
    response_chats: dict[str, str] = field(default_factory=dict)  # response code -> the chat it answers in
    card_codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # app card ResponseCode -> (task, user)
    # media_id -> when uploaded: "该media_id仅三天内有效" (上传临时素材, path/90253); older ones answer 40007.
    media_uploaded: dict[str, datetime] = field(default_factory=dict)
    uploads: int = 0
    _tokens: dict[str, datetime] = field(default_factory=dict)
    _failures: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    _windows: dict[tuple[str, str], deque[datetime]] = field(default_factory=lambda: defaultdict(deque))
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    duplicates_dropped: int = 0
    app_calls: list[tuple[str, ...]] = field(default_factory=list)  # message/send calls taken: their recipients
    over_limit_dropped: int = 0  # recipients of a many-member message/send dropped over the per-member limit
    latency_seconds: float = 0.0  # each send takes this long to answer (a real network's round trip)
    _checked: dict[str, datetime] = field(default_factory=dict)  # request JSON -> when it was accepted
    # The contacts (通讯录) as the app sees them, for 读取成员 (user/get): userid -> name. A userid in
    # `invisible` is outside the app's 可见范围 (60011); an unknown one is answered 60111; with
    # `contacts_forbidden` the app may not read the contacts at all (48002, as WeCom answers an app without
    # the interface's permission).
    contacts: dict[str, str] = field(default_factory=dict)
    invisible: set[str] = field(default_factory=set)
    contacts_forbidden: bool = False
    user_get_calls: list[str] = field(default_factory=list)

    # --- steering ---------------------------------------------------------------------------
    def fail(self, endpoint: str, errcode: int, times: int = 1) -> None:
        """The next `times` calls to endpoint answer errcode (e.g. -1 busy, 60020, 81013); 0 lets one through."""
        self._failures[endpoint].extend([errcode] * times)

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working now (42001), as if its time had run out."""
        for token in self._tokens:
            self._tokens[token] = self.clock() - timedelta(seconds=1)

    def response_url(self, base: str, code: str, chat: str | None = None) -> str:
        self.response_codes[code] = False
        if chat:
            self.response_chats[code] = chat
        return f"{base}/cgi-bin/aibot/response?response_code={code}"

    def contents(self, endpoint: str | None = None, target: str | None = None) -> list[str]:
        return [
            r.content
            for r in self.received
            if (endpoint is None or r.endpoint == endpoint) and (target is None or r.target == target)
        ]

    # --- the API ----------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._latency])
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_get("/cgi-bin/user/get", self._user_get)
        app.router.add_post("/cgi-bin/message/send", self._message_send)
        app.router.add_post("/cgi-bin/appchat/send", self._appchat_send)
        app.router.add_post("/cgi-bin/webhook/send", self._webhook_send)
        app.router.add_post("/cgi-bin/aibot/response", self._aibot_response)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update_template_card)
        if self.long_connection is not None:
            app.router.add_get(LONG_CONNECTION_PATH, self.long_connection.handle)
        return app

    def _injected(self, endpoint: str) -> web.Response | None:
        queue = self._failures.get(endpoint)
        code = queue.popleft() if queue else 0
        return _error(code, f"injected error {code}") if code else None

    def _token_error(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token", "")
        if token not in self._tokens:
            return _error(40014, "invalid access_token")
        if self._tokens[token] <= self.clock():
            return _error(42001, "access_token expired")
        return None

    def _over_hourly(self, endpoint: str, target: str, per_hour: int) -> bool:
        window = self._windows[(f"{endpoint}/hour", target)]
        now = self.clock()
        while window and window[0] <= now - timedelta(hours=1):
            window.popleft()
        if len(window) >= per_hour:
            return True
        window.append(now)
        return False

    def _over_rate(self, endpoint: str, target: str, per_minute: int) -> bool:
        window = self._windows[(endpoint, target)]
        now = self.clock()
        while window and window[0] <= now - timedelta(minutes=1):
            window.popleft()
        if len(window) >= per_minute:
            return True
        window.append(now)
        return False

    async def _gettoken(self, request: web.Request) -> web.Response:
        self.gettoken_calls += 1
        if failed := self._injected("gettoken"):
            return failed
        if request.query.get("corpid") != self.corp_id:
            return _error(40013, "invalid corpid")
        if request.query.get("corpsecret") != self.secret:
            return _error(40001, "invalid secret")
        token = f"token-{next(self._serial)}"
        self._tokens[token] = self.clock() + timedelta(seconds=self.token_ttl_seconds)
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_ttl_seconds}
        )

    async def _media_upload(self, request: web.Request) -> web.Response:
        if failed := self._token_error(request) or self._injected("media/upload"):
            return failed
        form = await request.post()
        upload = form.get("media")
        if request.query.get("type") != "image" or not isinstance(upload, web.FileField):
            return _error(BAD_MEDIA, "expected type=image and a file in the form field 'media'")
        data = upload.file.read()
        if not 5 < len(data) <= IMAGE_MAX_BYTES or not data.startswith(b"\x89PNG"):
            return _error(BAD_MEDIA, "invalid image")
        media_id = f"media-{next(self._serial)}"
        self.media[media_id] = data
        self.media_uploaded[media_id] = self.clock()
        self.uploads += 1
        created = str(int(self.clock().timestamp()))
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "type": "image", "media_id": media_id, "created_at": created}
        )

    async def _user_get(self, request: web.Request) -> web.Response:
        """读取成员: GET user/get?access_token=…&userid=… (developer.work.weixin.qq.com/document/path/90196)."""
        if failed := self._token_error(request) or self._injected("user/get"):
            return failed
        user = request.query.get("userid", "")
        self.user_get_calls.append(user)
        if self.contacts_forbidden:
            return _error(48002, "api forbidden")
        if user in self.invisible:
            return _error(60011, "no privilege to access/modify contact/party/agent")
        # userids are case-insensitive in WeCom ("不区分大小写").
        found = {key.lower(): (key, name) for key, name in self.contacts.items()}.get(user.lower())
        if found is None:
            return _error(60111, "invalid string value `userid`. userid not found")
        return web.json_response({"errcode": 0, "errmsg": "ok", "userid": found[0], "name": found[1]})

    async def _message_send(self, request: web.Request) -> web.Response:
        """发送应用消息 (path/90236): touser is up to 1,000 userids joined by "|"; the answer names in invaliduser
        those unknown (or outside the 可见范围), in lowercase ("返回包中的userid，不区分大小写，统一转为小写"); if no
        recipient is valid the call fails with 81013. Each call and its recipients are counted (app_calls)."""
        body = await request.json()
        if failed := self._token_error(request) or self._injected("message/send"):
            return failed
        users = [user for user in str(body.get("touser", "")).split("|") if user]
        if not users or len(users) > APP_MAX_RECIPIENTS or len(set(users)) != len(users):
            return _error(INVALID, "touser: 1 to 1000 distinct userids joined by |")
        invalid = [user for user in users if user in self.invalid_users]
        valid = [user for user in users if user not in self.invalid_users]
        if not valid:
            return _error(81013, "user & party & tag all invalid")
        # "每应用对同一个成员不可超过30次/分钟，1000次/小时，超过部分会被丢弃不下发" (访问频率限制, path/90312). A call
        # to one member over the limit is answered 45009 (the fake's long-standing choice); in a call to many,
        # the members over it are dropped and counted (the outbox must never let that happen).
        within = [
            user
            for user in valid
            if not self._over_rate("message/send", user, APP_PER_MEMBER_PER_MINUTE)
            and not self._over_hourly("message/send", user, APP_PER_MEMBER_PER_HOUR)
        ]
        if len(users) == 1 and not within:
            return _error(45009, "api freq out of limit")
        self.over_limit_dropped += len(valid) - len(within)
        answer = {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(user.lower() for user in invalid)}
        if self._duplicate(body):
            self.duplicates_dropped += 1
            return web.json_response(answer)
        self.app_calls.append(tuple(within))
        if body.get("msgtype") == "template_card":  # path/90236: the app's cards, in its 1:1 chat
            if "safe" in body:
                return _error(INVALID, "template_card takes no safe field")
            try:
                self.cards.post(within[0] if within else "", body.get("template_card") or {}, members=within)
            except CardRefused as exc:
                return _error(INVALID, f"invalid template_card: {exc}")
        for user in within:
            if refused := self._record("message/send", user, body):
                return refused
        return web.json_response(answer)

    @web.middleware
    async def _latency(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The message is taken at once; its answer comes back after the latency (a crash may fall between)."""
        response = await handler(request)
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        return response

    def _duplicate(self, body: dict[str, Any]) -> bool:
        """Whether WeCom's duplicate check drops this app message (the same request within the interval)."""
        if body.get("enable_duplicate_check") != 1:
            return False
        interval = timedelta(seconds=int(body.get("duplicate_check_interval", 1800)))
        key = json.dumps(body, sort_keys=True, ensure_ascii=False)
        now = self.clock()
        accepted = self._checked.get(key)
        if accepted is not None and now - accepted < interval:
            return True
        self._checked[key] = now
        return False

    async def _appchat_send(self, request: web.Request) -> web.Response:
        body = await request.json()
        if failed := self._token_error(request) or self._injected("appchat/send"):
            return failed
        return self._record("appchat/send", body["chatid"], body) or web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _webhook_send(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = request.query.get("key", "")
        if failed := self._injected("webhook/send"):
            return failed
        if key not in self.robot_keys:
            return _error(93000, "invalid webhook url")
        if self._over_rate("webhook/send", key, ROBOT_PER_MINUTE):
            return _error(45009, "api freq out of limit")
        return self._record("webhook/send", key, body) or web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _update_template_card(self, request: web.Request) -> web.Response:
        """message/update_template_card (path/94888): the ResponseCode of a tap, once; the button renamed for the
        users named."""
        body = await request.json()
        if failed := self._token_error(request) or self._injected("message/update_template_card"):
            return failed
        code = body.get("response_code")
        if code not in self.card_codes or body.get("agentid") is None:
            return _error(INVALID, "invalid response_code or agentid")
        task, tapper = self.card_codes.pop(code)  # used once
        users = body.get("userids")
        name = (body.get("button") or {}).get("replace_name")
        if not isinstance(users, list) or users != [tapper] or not isinstance(name, str) or not name:
            return _error(INVALID, "expected userids=[the tapper] and button.replace_name")
        self.cards.rename_button(task, tapper, name)
        return web.json_response({"errcode": 0, "errmsg": "ok", "invaliduser": []})

    async def _aibot_response(self, request: web.Request) -> web.Response:
        body = await request.json()
        code = request.query.get("response_code", "")
        if failed := self._injected("aibot/response"):
            return failed
        if self.response_codes.get(code, True):
            return _error(40058, "response_code invalid or used")
        if body.get("msgtype") == "template_card":  # markdown or template_card (path/101138)
            try:
                self.cards.post(self.response_chats.get(code, ""), body.get("template_card") or {})
            except CardRefused as exc:
                return _error(INVALID, f"invalid template_card: {exc}")
        self.response_codes[code] = True
        self._record("aibot/response", code, body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _record(self, endpoint: str, target: str, body: dict[str, Any]) -> web.Response | None:
        """Keep the message; an error answer if it is an image the fake cannot take."""
        msgtype = body["msgtype"]
        section = body[msgtype]
        image = None
        if msgtype == "image":
            image = self._image(section)
            if image is None:
                return _error(BAD_MEDIA, "invalid image")
        self.received.append(
            Received(
                endpoint=endpoint,
                target=target,
                msgtype=msgtype,
                content=section.get("content", section.get("sub_title_text", "")),  # a card: the text it shows
                at=self.clock(),
                # A robot @s members by mentioned_list (text) or "<@userid>" in the content (text and markdown).
                mentioned=tuple(section.get("mentioned_list", ())) + tuple(MENTION.findall(section.get("content", ""))),
                image=image,
            )
        )
        return None

    def _image(self, section: dict[str, Any]) -> bytes | None:
        if "media_id" in section:
            uploaded = self.media_uploaded.get(section["media_id"])
            if uploaded is None or self.clock() - uploaded > timedelta(days=3):
                return None
            return self.media.get(section["media_id"])
        try:
            data = base64.b64decode(section["base64"], validate=True)
        except (KeyError, binascii.Error):
            return None
        if len(data) > IMAGE_MAX_BYTES or hashlib.md5(data).hexdigest() != section.get("md5"):
            return None
        return data


def _error(code: int, message: str) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": message})
