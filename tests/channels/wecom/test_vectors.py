"""The official callback-crypto vectors, through the running app and through our cipher."""

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from wechatpy.work.crypto import WeChatCrypto

from bot.app import build_app
from bot.core import texts
from bot.core.channels.wecom.crypto import Cipher, signature
from bot.core.clock import FakeClock
from bot.core.models import InboundMessage
from tests.channels.wecom.conftest import WecomDriver, wecom_config
from tests.conftest import TZ

# A copy of shared/wecom_official_vectors.json (WeCom 加解密方案说明 and the WXBizMsgCrypt samples).
VECTORS = json.loads((Path(__file__).with_name("official_vectors.json")).read_text(encoding="utf-8"))


def vector_config(db_url, fake_base):
    return wecom_config(
        db_url,
        fake_base,
        corp_id=VECTORS["corp_id"],
        callback_token=VECTORS["token"],
        encoding_aes_key=VECTORS["encoding_aes_key"],
    )


async def start(aiohttp_client, db_url, fake, when: int) -> WecomDriver:
    clock = FakeClock(datetime.fromtimestamp(when, TZ))
    app = build_app(vector_config(db_url, fake.base_url), clock=clock, background=False)
    crypto = WeChatCrypto(VECTORS["token"], VECTORS["encoding_aes_key"], VECTORS["corp_id"])
    return WecomDriver(await aiohttp_client(app), app, fake, clock, crypto)


def test_our_cipher_and_signature_match_the_vectors():
    cipher = Cipher(VECTORS["encoding_aes_key"], VECTORS["corp_id"])
    verify = VECTORS["url_verification"]
    assert cipher.decrypt(verify["echostr"]) == verify["expected_plaintext"]
    assert (
        signature(VECTORS["token"], verify["timestamp"], verify["nonce"], verify["echostr"]) == verify["msg_signature"]
    )


def test_what_we_encrypt_is_framed_as_the_documentation_says():
    """random(16B, a random string) + msg_len(4B, network order) + msg + receive id, PKCS#7 to 32 bytes, AES-CBC
    with the key's first 16 bytes as IV (加解密方案说明)."""
    import base64
    import struct

    from cryptography.hazmat.primitives.ciphers import Cipher as AesCipher
    from cryptography.hazmat.primitives.ciphers import algorithms, modes
    from wechatpy.crypto import PrpCrypto

    key = base64.b64decode(VECTORS["encoding_aes_key"] + "=")
    for text in ("", "学" * 10, "x" * 12):  # 12 ASCII bytes + 20 + the corp id's 18: a whole block of padding
        sealed = base64.b64decode(Cipher(VECTORS["encoding_aes_key"], VECTORS["corp_id"]).encrypt(text))
        decryptor = AesCipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        framed = decryptor.update(sealed) + decryptor.finalize()
        padding = framed[-1]
        assert 1 <= padding <= 32 and framed[-padding:] == bytes((padding,)) * padding and len(framed) % 32 == 0
        framed = framed[:-padding]
        assert framed[:16].isascii() and framed[:16].decode().isalnum()
        (length,) = struct.unpack(">I", framed[16:20])
        assert framed[20 : 20 + length].decode() == text
        assert framed[20 + length :].decode() == VECTORS["corp_id"]
        # … and wechatpy's decryption (WeCom's own samples') reads it back.
        assert PrpCrypto(key).decrypt(base64.b64encode(sealed), VECTORS["corp_id"]) == text


async def test_url_verification_answers_the_plaintext(aiohttp_client, db_url, fake):
    verify = VECTORS["url_verification"]
    driver = await start(aiohttp_client, db_url, fake, int(verify["timestamp"]))
    params = {k: verify[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    resp = await driver.client.get("/wecom/callback", params=params)
    assert resp.status == 200
    assert await resp.text() == "1616140317555161061"


async def test_vector_message_decrypts_to_hello_from_mycreate(aiohttp_client, db_url, fake):
    vector = VECTORS["message"]
    driver = await start(aiohttp_client, db_url, fake, int(vector["timestamp"]))
    query = {k: vector[k] for k in ("msg_signature", "timestamp", "nonce")}
    resp = await driver.client.post("/wecom/callback", params=query, data=vector["body"])
    assert resp.status == 200
    async with driver.services.sessions() as session:
        [row] = (await session.scalars(select(InboundMessage))).all()
    assert (row.channel, row.platform_user_id, row.text) == ("wecom", "mycreate", "hello")
    assert row.platform_msg_id == vector["expected"]["MsgId"]
    assert row.platform_chat_id is None
    # "hello" is no command; a direct message gets the short help, as a passive reply.
    assert driver.decrypt_app_reply(await resp.text()) == texts.HELP_SHORT


PARITY_SAMPLES = [
    # A text (WeCom 接收消息 · 文本消息), with spaces around the content and a `]]>` split across two sections.
    "<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[  学习 ]]]]><![CDATA[> 打卡  ]]></Content><MsgId>1234567890123456</MsgId>"
    "<AgentID>1</AgentID></xml>",
    # An empty text.
    "<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[]]></Content>"
    "<MsgId>7</MsgId><AgentID>1</AgentID></xml>",
    # An image, and an event with nested, repeated elements (选择图片 · SendPicsInfo).
    "<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[u1]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/y]]></PicUrl>"
    "<MediaId><![CDATA[m1]]></MediaId><MsgId>8</MsgId><AgentID>1</AgentID></xml>",
    "<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[u1]]></FromUserName>"
    "<CreateTime>1408090816</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[pic_weixin]]></Event>"
    "<EventKey><![CDATA[6]]></EventKey><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[a]]>"
    "</PicMd5Sum></item><item><PicMd5Sum><![CDATA[b]]></PicMd5Sum></item></PicList></SendPicsInfo>"
    "<AgentID>1</AgentID></xml>",
    "<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[u1]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event>"
    "<EventKey><![CDATA[]]></EventKey><AgentID>1</AgentID></xml>",
]


def test_our_parse_message_reads_what_wechatpy_reads():
    """ElementTree makes the dict, wechatpy's classes read it: the same message as wechatpy's own parser."""
    from wechatpy.work.parser import parse_message as wechatpy_parse

    from bot.core.channels.wecom.crypto import parse_message

    for xml in PARITY_SAMPLES:
        ours, theirs = parse_message(xml), wechatpy_parse(xml)
        assert type(ours) is type(theirs)
        assert ours._data == theirs._data
        for name in ("id", "source", "target", "time", "type", "content", "agent", "event", "media_id"):
            assert getattr(ours, name, None) == getattr(theirs, name, None), name


def _fuzz_documents(count: int) -> list[str]:
    """Small documents near WeCom's flat shape, many just off it (for the pattern that reads flat ones)."""
    import random

    rng = random.Random(20261129)
    texts = ["", " ", "hello", "学习 打卡", "a]b", "x]]>y", "<b>", "&amp;", "a\r\nb", "\x01", "\t1\n", "]]", "&#20013;"]
    tags = ["MsgType", "Content", "MsgId", "A_1", "x-y", "Event"]

    def element(depth: int) -> str:
        tag = rng.choice(tags)
        pick = rng.random()
        if pick < 0.4:
            body = f"<![CDATA[{rng.choice(texts)}]]>"
        elif pick < 0.55:
            body = f"<![CDATA[{rng.choice(texts)}]]><![CDATA[{rng.choice(texts)}]]>"
        elif pick < 0.85 or depth > 1:
            body = rng.choice(texts)
        else:
            body = "".join(element(depth + 1) for _ in range(rng.randint(1, 2)))
        attrs = rng.choice([' id="1"', ' xmlns:a="u"', ' xmlns="u"', ""]) if rng.random() < 0.08 else ""
        return f"<{tag}{attrs}>{body}</{tag}>" + rng.choice(["", "", " ", "\n", "<!-- c -->"])

    out = []
    for _ in range(count):
        inner = "".join(element(0) for _ in range(rng.randint(0, 5)))
        out.append(rng.choice(["<xml>", "<xml>", "<xml>\n"]) + inner + rng.choice(["</xml>", "</xml>\n", "</xml>x"]))
    return out


def test_flat_documents_read_as_elementtree_reads_them():
    """The pattern for WeCom's flat documents agrees with ElementTree and wechatpy, or leaves the document to them."""
    from xml.etree import ElementTree

    from wechatpy.work.parser import parse_message as wechatpy_parse

    from bot.core.channels.wecom.crypto import CallbackRejected, flat_fields, parse_envelope, parse_message

    def outcome(read, document):
        try:
            return read(document)
        except Exception:  # which error does not matter, only that both fail
            return "failed"

    def tree_fields(document: str):
        return {child.tag: child.text or "" for child in ElementTree.fromstring(document)}

    import random

    rng = random.Random(7)
    flat = 0
    for document in _fuzz_documents(3000):
        if flat_fields(document) is not None:
            flat += 1
        theirs = outcome(tree_fields, document)
        ours = outcome(lambda d: parse_envelope(d.encode()), document)
        assert ours == theirs or (theirs == "failed" and isinstance(ours, str)), document
        kind = rng.choice(["<MsgType>text</MsgType>", "<MsgType> </MsgType>", "<MsgType>event</MsgType><Event/>"])
        typed = document.replace("<xml>", "<xml>" + kind, 1)
        mine, wechatpy = outcome(parse_message, typed), outcome(wechatpy_parse, typed)
        # Namespaces are refused: WeCom sends none, and ElementTree and xmltodict read them differently.
        if wechatpy == "failed" or "xmlns" in typed:
            assert mine == "failed", typed
        else:
            assert mine != "failed" and mine._data == wechatpy._data, typed
    assert flat > 300  # the generator does reach the pattern's path
    with pytest.raises(CallbackRejected) as rejected:  # not UTF-8: ElementTree refuses it
        parse_envelope(b"<xml><Encrypt>\xff</Encrypt></xml>")
    assert rejected.value.status == 400
