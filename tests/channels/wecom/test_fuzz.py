"""Hostile input on the WeCom routes (app callback GET/POST, AI bot GET/POST), signed and unsigned.

Whatever arrives — nested, huge, non-UTF-8, surrogate-bearing or wrongly typed — the answer is a 2xx or 4xx,
never a 500, and nothing is logged as an error or with a traceback. The cases are a fixed catalogue plus
seeded random mutations of valid requests, sent over real HTTP into the real app.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from wechatpy.work.crypto import PrpCrypto

from bot.core.channels.wecom.crypto import CallbackRejected, parse_json_object
from tests.channels.wecom.conftest import AES_KEY, AIBOT_CHAT, AIBOT_KEY, AIBOT_TOKEN, CORP_ID, TOKEN, sign

SEED = 20261130
RANDOM_CASES = 400
TIME_BUDGET_SECONDS = 10.0

APP = "/wecom/callback"
AIBOT = "/wecom/aibot"


@dataclass
class Case:
    label: str
    method: str
    path: str
    query: dict[str, str] | str = field(default_factory=dict)  # a str is sent as it is (already encoded)
    body: bytes = b""
    chunked: bool = False


def encrypt_bytes(plaintext: bytes, key: str, receive_id: str) -> str:
    """The platform's framing around arbitrary bytes (wechatpy passes bytes through unencoded)."""
    return PrpCrypto(base64.b64decode(key + "=")).encrypt(plaintext, receive_id).decode()


class Maker:
    """Builds signed and unsigned requests for both routes at the driver's current time."""

    def __init__(self, wecom: Any, rng: random.Random) -> None:
        self.wecom = wecom
        self.rng = rng

    def signed_query(self, token: str, encrypted: str, nonce: str = "n0nce") -> dict[str, str]:
        timestamp = self.wecom.now()
        return {"msg_signature": sign(token, timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce}

    # --- the app callback ---------------------------------------------------------------------
    def app_signed(self, label: str, inner: bytes) -> Case:
        encrypted = encrypt_bytes(inner, AES_KEY, CORP_ID)
        body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return Case(label, "POST", APP, self.signed_query(TOKEN, encrypted), body.encode())

    def app_unsigned(self, label: str, body: bytes, chunked: bool = False) -> Case:
        query = {"msg_signature": "0" * 40, "timestamp": self.wecom.now(), "nonce": "n"}
        return Case(label, "POST", APP, query, body, chunked)

    def app_text(self, content: str = "帮助", **fields: str) -> bytes:
        values = {
            "ToUserName": f"<![CDATA[{CORP_ID}]]>",
            "FromUserName": "<![CDATA[zhangsan]]>",
            "CreateTime": self.wecom.now(),
            "MsgType": "<![CDATA[text]]>",
            "Content": f"<![CDATA[{content}]]>",
            "MsgId": str(self.rng.randrange(10**18)),
            "AgentID": "1000002",
            **fields,
        }
        return ("<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in values.items() if v != "-") + "</xml>").encode(
            "utf-8", "surrogatepass"
        )

    # --- the AI bot ---------------------------------------------------------------------------
    def aibot_signed(self, label: str, inner: bytes) -> Case:
        encrypted = encrypt_bytes(inner, AIBOT_KEY, "")
        body = json.dumps({"encrypt": encrypted}).encode()
        return Case(label, "POST", AIBOT, self.signed_query(AIBOT_TOKEN, encrypted), body)

    def aibot_unsigned(self, label: str, body: bytes, chunked: bool = False) -> Case:
        query = {"msg_signature": "0" * 40, "timestamp": self.wecom.now(), "nonce": "n"}
        return Case(label, "POST", AIBOT, query, body, chunked)

    def aibot_payload(self, **changes: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "msgid": f"CAIQ{self.rng.randrange(10**12)}",
            "aibotid": "AIBOTID",
            "chattype": "group",
            "chatid": AIBOT_CHAT,
            "from": {"userid": "lisi"},
            "response_url": self.wecom.fake.response_url(self.wecom.fake.base_url, "code"),
            "msgtype": "text",
            "text": {"content": "@学习驿站 帮助"},
        }
        payload.update(changes)
        return payload

    # --- URL verification ---------------------------------------------------------------------
    def verify(self, label: str, path: str, echostr_plain: bytes, signed: bool = True) -> Case:
        key, receive_id, token = (AES_KEY, CORP_ID, TOKEN) if path == APP else (AIBOT_KEY, "", AIBOT_TOKEN)
        echostr = encrypt_bytes(echostr_plain, key, receive_id)
        query = self.signed_query(token, echostr) if signed else {"msg_signature": "x", "timestamp": "1", "nonce": "n"}
        return Case(label, "GET", path, {**query, "echostr": echostr})


def nested_json(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def nested_object(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def nested_xml(depth: int) -> bytes:
    return ("<xml>" + "<a>" * depth + "x" + "</a>" * depth + "</xml>").encode()


def catalogue(make: Maker) -> Iterator[Case]:
    """The hostile shapes every route must survive."""
    surrogate_json = b'{"encrypt": "\\ud800abc"}'
    for path, unsigned in ((APP, make.app_unsigned), (AIBOT, make.aibot_unsigned)):
        name = "app" if path == APP else "aibot"
        yield unsigned(f"{name}: nested JSON depth 100k", nested_json(100_000))
        yield unsigned(f"{name}: nested JSON depth 10k", nested_json(10_000))
        yield unsigned(f"{name}: nested objects depth 5k", nested_object(5_000))
        yield unsigned(f"{name}: nested XML depth 5k", nested_xml(5_000))
        yield unsigned(f"{name}: huge body", b"x" * 300_000)
        yield unsigned(f"{name}: huge chunked body", b"{" * 300_000, chunked=True)
        yield unsigned(f"{name}: empty body", b"")
        yield unsigned(f"{name}: random bytes", bytes(make.rng.randrange(256) for _ in range(2000)))
        yield unsigned(f"{name}: non-UTF-8 JSON", b'{"encrypt": "\xff\xfe\xfd"}')
        yield unsigned(f"{name}: UTF-16 JSON", '{"encrypt": "abc"}'.encode("utf-16"))
        yield unsigned(f"{name}: raw surrogate bytes", b'{"encrypt": "\xed\xa0\x80"}')
        yield unsigned(f"{name}: surrogate escape", surrogate_json)
        yield unsigned(f"{name}: XML with surrogate", b"<xml><Encrypt>\xed\xa0\x80</Encrypt></xml>")
        yield unsigned(f"{name}: XML with char ref surrogate", b"<xml><Encrypt>&#xD800;</Encrypt></xml>")
        yield unsigned(f"{name}: XML non-UTF-8", b"<xml><Encrypt>\xff\xfe</Encrypt></xml>")
        for value in ("5", "null", "[]", "{}", "true", '"ab\\u0000cd"', "1e999", "NaN", "9" * 5000):
            yield unsigned(f"{name}: encrypt is {value[:10]}", f'{{"encrypt": {value}}}'.encode())
        yield unsigned(f"{name}: not an object", b'["encrypt"]')
        yield unsigned(f"{name}: bare string", b'"encrypt"')
    # Signed AI-bot messages with hostile content (only the sender could make these: WeCom, or a leaked key).
    payload = json.dumps(make.aibot_payload(), ensure_ascii=True)
    yield make.aibot_signed("aibot signed: nested inner JSON", nested_json(20_000))
    yield make.aibot_signed("aibot signed: nested inner object", nested_object(900))
    yield make.aibot_signed("aibot signed: surrogate escape in text", payload.replace("帮助", "\\ud800").encode())
    yield make.aibot_signed("aibot signed: low surrogate escape", payload.replace("帮助", "\\udfff x").encode())
    yield make.aibot_signed("aibot signed: surrogate escape in userid", payload.replace("lisi", "li\\udc80").encode())
    yield make.aibot_signed("aibot signed: raw surrogate bytes", payload.encode().replace(b"\\u5e2e", b"\xed\xa0\x80"))
    yield make.aibot_signed("aibot signed: non-UTF-8", payload.encode() + b"\xff")
    yield make.aibot_signed("aibot signed: NUL in text", payload.replace("帮助", "\\u0000").encode())
    yield make.aibot_signed("aibot signed: UTF-16", payload.encode("utf-16"))
    yield make.aibot_signed("aibot signed: huge number", payload.replace('"group"', "9" * 5000).encode())
    yield make.aibot_signed("aibot signed: NaN", payload.replace('"AIBOTID"', "NaN").encode())
    for key, value in (
        ("msgid", 5),
        ("msgid", "x" * 5000),
        ("from", "lisi"),
        ("from", {"userid": ["lisi"]}),
        ("from", {"userid": "u" * 3000}),
        ("chatid", {"id": 1}),
        ("chatid", "c" * 3000),
        ("chattype", ["group"]),
        ("msgtype", {"text": 1}),
        ("text", {"content": 12}),
        ("text", "帮助"),
        ("msgtype", "mixed"),
        (
            "mixed",
            {"msg_item": [1, None, {"msgtype": "text", "text": "x"}, {"msgtype": "text", "text": {"content": 5}}]},
        ),
        ("response_url", 5),
        ("response_url", "http://evil.example/" + "x" * 5000),
    ):
        changed = make.aibot_payload(**{key: value})
        if key == "mixed":
            changed["msgtype"] = "mixed"
        yield make.aibot_signed(f"aibot signed: {key} = {str(value)[:20]}", json.dumps(changed).encode())
    # Signed app messages with hostile content.
    yield make.app_signed("app signed: nested XML", nested_xml(10_000))
    yield make.app_signed("app signed: char ref surrogate", make.app_text("&#xD800;".replace("&", "]]>&")))
    yield make.app_signed(
        "app signed: raw surrogate bytes", make.app_text("帮助").replace("帮助".encode(), b"\xed\xa0\x80")
    )
    yield make.app_signed("app signed: non-UTF-8", make.app_text("帮助") + b"\xff")
    for key, value in (
        ("CreateTime", "9" * 30),
        ("CreateTime", "-99999999999999"),
        ("CreateTime", "abc"),
        ("CreateTime", "-"),
        ("MsgId", "abc"),
        ("MsgId", "9" * 5000),
        ("MsgId", "-"),
        ("FromUserName", "u" * 3000),
        ("FromUserName", "-"),
        ("MsgType", "-"),
        ("MsgType", "<a>text</a>"),
        ("Content", "<a><b>nested</b></a>"),
        ("Content", "&#0;"),
        ("Content", "x" * 20_000),
    ):
        yield make.app_signed(f"app signed: {key} = {value[:20]}", make.app_text(**{key: value}))
    # URL verification: signed echostrs that decrypt to hostile bytes, and hostile query strings.
    for path in (APP, AIBOT):
        yield make.verify(f"GET {path}: raw surrogate echostr", path, b"\xed\xa0\x80")
        yield make.verify(f"GET {path}: non-UTF-8 echostr", path, b"\xff\xfe")
        yield make.verify(f"GET {path}: fine echostr", path, b"1234567890")
        yield make.verify(f"GET {path}: unsigned", path, b"1234567890", signed=False)
        for query in (
            "msg_signature=%ED%A0%80&timestamp=1&nonce=%FF&echostr=%ED%A0%80",
            "msg_signature=a&timestamp=%C2%B2&nonce=n&echostr=e",  # '²' is a digit to str.isdigit
            "msg_signature=a&timestamp=%D9%A3%D9%A2&nonce=n&echostr=e",  # Arabic-Indic digits
            "msg_signature=%E7%AD%BE&timestamp=1&nonce=n&echostr=%E7%AD%BE",
            "msg_signature=a&timestamp=" + "9" * 5000 + "&nonce=n&echostr=e",
            "msg_signature=a&msg_signature=b&timestamp=1",
            "",
        ):
            yield Case(f"GET {path}: query {query[:40]}", "GET", path, query)
            yield Case(f"POST {path}: query {query[:40]}", "POST", path, query, b'{"encrypt": "abc"}')


def mutations(make: Maker, count: int) -> Iterator[Case]:
    """Seeded random damage to valid requests: truncation, flipped and inserted bytes, retyped JSON values."""
    rng = make.rng
    junk = ["\ud800", "\udfff", "\x00", "\ufffe", "]]>", "<", "&", '"', "\\", "𝕏", "\u2028", "{" * 50, "[" * 50]
    for i in range(count):
        kind = rng.choice(["aibot-retype", "aibot-bytes", "app-bytes", "app-inner", "aibot-envelope", "query"])
        if kind == "aibot-retype":
            payload = make.aibot_payload()
            key = rng.choice([*payload, "extra"])
            value = rng.choice(
                [None, 0, -1, 2**70, 1.5, True, [], {}, [[[]]], "", rng.choice(junk), {"userid": rng.choice(junk)}]
            )
            payload[key] = value
            inner = json.dumps(payload, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
            yield make.aibot_signed(f"random {i}: aibot {key} = {value!r}"[:80], inner)
        elif kind == "aibot-bytes":
            inner = bytearray(json.dumps(make.aibot_payload()).encode())
            for _ in range(rng.randrange(1, 4)):
                inner[rng.randrange(len(inner))] = rng.randrange(256)
            yield make.aibot_signed(f"random {i}: aibot inner bytes", bytes(inner))
        elif kind == "app-inner":
            text = rng.choice(junk) * rng.randrange(1, 20)
            inner = make.app_text(text.replace("]]>", "")).replace(b"<![CDATA[", b"", rng.randrange(2))
            yield make.app_signed(f"random {i}: app inner {text[:10]!r}", inner)
        elif kind == "app-bytes":
            query, body = make.wecom.app_envelope(make.wecom.app_text_xml("帮助", "zhangsan"))
            raw = bytearray(body.encode())
            cut = rng.randrange(len(raw))
            raw = raw[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 8))) + raw[cut:]
            yield Case(f"random {i}: app envelope bytes", "POST", APP, query, bytes(raw))
        elif kind == "aibot-envelope":
            query, body = make.wecom.aibot_envelope(make.aibot_payload())
            raw = body.encode()
            raw = raw[: rng.randrange(len(raw) + 1)] + rng.choice(junk).encode("utf-8", "surrogatepass")
            yield Case(f"random {i}: aibot envelope cut", "POST", AIBOT, query, raw)
        else:
            path = rng.choice([APP, AIBOT])
            names = ["msg_signature", "timestamp", "nonce", "echostr"]
            parts = [
                f"{rng.choice(names)}={''.join(rng.choice(['%FF', '%ED%A0%80', 'a', '1', '%00', '+', '%C2%B2']) for _ in range(rng.randrange(0, 12)))}"
                for _ in range(rng.randrange(0, 5))
            ]
            yield Case(f"random {i}: query", rng.choice(["GET", "POST"]), path, "&".join(parts), b"{}")


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 16384):
        yield body[start : start + 16384]


async def send(wecom: Any, case: Case) -> int:
    if isinstance(case.query, str):
        url: Any = case.path + ("?" + case.query if case.query else "")
        params = None
    else:
        url, params = case.path, case.query
    data: Any = _chunks(case.body) if case.chunked else case.body
    resp = await wecom.client.request(case.method, url, params=params, data=data)
    await resp.read()
    return resp.status


async def raw_request(wecom: Any, request_line: bytes, body: bytes = b"") -> bytes:
    """A request with bytes in its target that no client library would send."""
    server = wecom.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(request_line + b"\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


def errors(caplog: Any) -> list[str]:
    return [
        f"{r.name} {r.levelname}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info
    ]


async def test_no_input_makes_a_500_or_a_traceback(wecom, caplog):
    caplog.set_level(logging.DEBUG)
    make = Maker(wecom, random.Random(SEED))
    cases = [*catalogue(make), *mutations(make, RANDOM_CASES)]
    assert len(cases) > 250
    started = time.monotonic()
    failures = [f"{case.label}: {status}" for case in cases if (status := await send(wecom, case)) >= 500]
    elapsed = time.monotonic() - started
    assert not failures, "\n".join(failures)
    assert not errors(caplog), "\n".join(errors(caplog))
    assert elapsed < TIME_BUDGET_SECONDS, f"{len(cases)} requests took {elapsed:.1f} s"


async def test_bytes_no_client_would_send_in_the_query_get_a_400(wecom, caplog):
    """Raw non-UTF-8 and surrogate bytes in the request target: aiohttp's own parser answers 400 before any
    route runs. aiohttp logs that at ERROR with a traceback; our logging (bot/core/logs.py) makes it one INFO line."""
    caplog.set_level(logging.DEBUG)
    for path in (APP.encode(), AIBOT.encode()):
        for method in (b"GET", b"POST"):
            for target in (b"?timestamp=\xed\xa0\x80&nonce=\xff", b"?msg_signature=\xc0\x80&echostr=\xed\xbf\xbf"):
                answer = await raw_request(wecom, method + b" " + path + target + b" HTTP/1.1", b"{}")
                assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.0 400")), answer[:80]
    assert errors(caplog) == []


def test_json_with_a_lone_surrogate_or_nul_is_refused_however_it_is_written():
    """Escaped (in a key, a list, a nested object) or, in text handed over as str, as it stands; without them the
    object reads as json.loads reads it."""
    refused = [
        '{"a": "\\u0000"}',
        '{"a": {"b": ["x", "y\\ud800"]}}',
        '{"\\udfff": 1}',
        '{"a": "\\\\", "b": "\\udc80"}',
        '{"a": "\ud800"}',  # a str, never UTF-8 bytes: no escape needed to hold one
    ]
    for raw in refused:
        with pytest.raises(CallbackRejected) as rejected:
            parse_json_object(raw, "message")
        assert rejected.value.status == 400, raw
    fine = '{"a": "学\\u5b66\\\\u", "b": [1, {"c": "\\n"}], "d": "学习"}'
    assert parse_json_object(fine, "message") == json.loads(fine)
    assert parse_json_object(fine.encode(), "message") == json.loads(fine)
