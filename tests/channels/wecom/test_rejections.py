"""Forged, tampered, stale, oversized and hostile callbacks are refused with a 4xx and write nothing."""

import base64
import json

import pytest
from sqlalchemy import func, select
from wechatpy.work.crypto import WeChatCrypto

from bot.core.channels.wecom.models import WecomResponseUrl
from tests.channels.wecom.conftest import AES_KEY, AIBOT_TOKEN, TOKEN, aibot_encrypt, sign

BOMB = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]><xml><Encrypt>&i;</Encrypt></xml>"
)
XXE = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>'


def resign(query: dict[str, str], encrypted: str, token: str = TOKEN) -> dict[str, str]:
    return {**query, "msg_signature": sign(token, query["timestamp"], query["nonce"], encrypted)}


def encrypt_field(body: str) -> str:
    return body.split("<Encrypt><![CDATA[")[1].split("]]>")[0]


def tamper(encrypted: str) -> str:
    raw = bytearray(base64.b64decode(encrypted))
    raw[40] ^= 0x5A  # a byte in the second block: the plaintext's length prefix and body get garbled
    return base64.b64encode(bytes(raw)).decode()


async def assert_nothing_written(wecom):
    assert await wecom.counts() == (0, 0)
    async with wecom.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WecomResponseUrl)) == 0


def forged_signature(wecom):
    query, body = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    return resign(query, encrypt_field(body), token="not-the-token"), body


def unsigned_tampering(wecom):
    query, body = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    encrypted = encrypt_field(body)
    return query, body.replace(encrypted, tamper(encrypted))


def resigned_tampering(wecom):
    query, body = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    encrypted = encrypt_field(body)
    return resign(query, tamper(encrypted)), body.replace(encrypted, tamper(encrypted))


def wrong_corp_id(wecom):
    wecom.crypto = WeChatCrypto(TOKEN, AES_KEY, "wwSomeOtherCorp00")
    return wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))


def stale_timestamp(wecom):
    envelope = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    wecom.clock.advance(minutes=6)  # tolerance is 300 s
    return envelope


def future_timestamp(wecom):
    wecom.clock.advance(minutes=6)
    envelope = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    wecom.clock.advance(minutes=-6)
    return envelope


def body_over_limit(wecom):
    query, body = wecom.app_envelope(wecom.app_text_xml("帮" * 12000, "zhangsan"))  # 36 kB of text
    return query, body


def malformed_xml(wecom):
    query, body = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    return query, body[:-10]


def entity_bomb(wecom):
    query, _ = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    return resign(query, "&i;"), BOMB


def xxe(wecom):
    query, _ = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    return resign(query, "&x;"), XXE


def xxe_inside_the_encrypted_message(wecom):
    inner = '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + wecom.app_text_xml("&x;", "zhangsan")
    return wecom.app_envelope(inner)


def bomb_inside_the_encrypted_message(wecom):
    inner = BOMB.replace("<xml><Encrypt>&i;</Encrypt></xml>", wecom.app_text_xml("&i;", "zhangsan"))
    return wecom.app_envelope(inner)


def create_time_out_of_range(wecom):
    xml = wecom.app_text_xml("帮助", "zhangsan").replace(f"<CreateTime>{wecom.now()}<", "<CreateTime>" + "9" * 30 + "<")
    return wecom.app_envelope(xml)


def msg_id_out_of_range(wecom):
    return wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan", msg_id=10**40))


def sender_too_long(wecom):
    return wecom.app_envelope(wecom.app_text_xml("帮助", "u" * 200))


def timestamp_of_unicode_digits(wecom):
    query, body = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    return {**query, "timestamp": "²"}, body  # str.isdigit() says yes, int() says no


def missing_parameters(wecom):
    query, body = wecom.app_envelope(wecom.app_text_xml("帮助", "zhangsan"))
    del query["nonce"]
    return query, body


def text_without_msg_id(wecom):
    xml = wecom.app_text_xml("帮助", "zhangsan")
    start = xml.index("<MsgId>")
    return wecom.app_envelope(xml[:start] + xml[xml.index("</MsgId>") + len("</MsgId>") :])


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (forged_signature, 403),
        (unsigned_tampering, 403),
        (resigned_tampering, 400),
        (wrong_corp_id, 403),
        (stale_timestamp, 403),
        (future_timestamp, 403),
        (body_over_limit, 413),
        (malformed_xml, 400),
        (entity_bomb, 400),
        (xxe, 400),
        (xxe_inside_the_encrypted_message, 400),
        (bomb_inside_the_encrypted_message, 400),
        (missing_parameters, 400),
        (text_without_msg_id, 400),
        (create_time_out_of_range, 400),
        (msg_id_out_of_range, 400),
        (sender_too_long, 400),
        (timestamp_of_unicode_digits, 400),
    ],
)
async def test_app_callback_refuses(wecom, make, status):
    query, body = make(wecom)
    resp = await wecom.client.post("/wecom/callback", params=query, data=body)
    assert resp.status == status
    await assert_nothing_written(wecom)


async def test_url_verification_refuses_a_forged_signature(wecom):
    timestamp, nonce = wecom.now(), "n"
    query, body = wecom.app_envelope("<xml>1234</xml>")
    echostr = encrypt_field(body)
    params = {"msg_signature": sign("nope", timestamp, nonce, echostr), "timestamp": timestamp, "nonce": nonce}
    resp = await wecom.client.get("/wecom/callback", params={**params, "echostr": echostr})
    assert resp.status == 403


# --- the AI bot ------------------------------------------------------------------------------------
def ai_forged(wecom):
    query, body = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    return {
        **query,
        "msg_signature": sign("nope", query["timestamp"], query["nonce"], json.loads(body)["encrypt"]),
    }, body


def ai_tampered(wecom):
    query, body = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    encrypted = tamper(json.loads(body)["encrypt"])
    return resign(query, encrypted, AIBOT_TOKEN), json.dumps({"encrypt": encrypted})


def ai_other_key(wecom):
    query, _ = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    other = base64.b64encode(bytes(range(50, 82))).decode().rstrip("=")
    encrypted = aibot_encrypt(json.dumps(wecom.aibot_payload("@bot 帮助")), key=other)
    return resign(query, encrypted, AIBOT_TOKEN), json.dumps({"encrypt": encrypted})


def ai_stale(wecom):
    envelope = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    wecom.clock.advance(minutes=10)
    return envelope


def ai_malformed_json(wecom):
    query, body = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    return query, body[:-2]


def ai_malformed_inner_json(wecom):
    return wecom.aibot_envelope('{"msgid": "x", "msgtype": "text", "text": {"content": "帮助"')


def ai_inner_not_an_object(wecom):
    return wecom.aibot_envelope("[1, 2, 3]")


def ai_no_sender(wecom):
    payload = wecom.aibot_payload("@bot 帮助")
    del payload["from"]
    return wecom.aibot_envelope(payload)


def ai_group_without_chatid(wecom):
    payload = wecom.aibot_payload("@bot 帮助")
    del payload["chatid"]
    return wecom.aibot_envelope(payload)


def ai_nested_json(wecom):
    query, _ = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    return query, "[" * 10_000 + "]" * 10_000


def ai_nested_json_around_a_signed_field(wecom):
    query, body = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    return query, body[:-1] + ', "x": ' + "[" * 10_000 + "]" * 10_000 + "}"


def ai_surrogate_in_the_envelope(wecom):
    query, _ = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    return query, '{"encrypt": "\\ud800"}'


def ai_huge_number_in_the_envelope(wecom):
    query, _ = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    return query, '{"encrypt": ' + "9" * 5000 + "}"


def ai_envelope_in_utf16(wecom):
    query, body = wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助"))
    return query, body.encode("utf-16")


def ai_nested_inner_json(wecom):
    return wecom.aibot_envelope('{"a": ' * 2000 + "1" + "}" * 2000)


def ai_surrogate_in_the_text(wecom):
    payload = json.dumps(wecom.aibot_payload("帮助", chat=None))
    return wecom.aibot_envelope(payload.replace("\\u5e2e", "\\ud800"))


def ai_nul_in_the_user_id(wecom):
    return wecom.aibot_envelope(json.dumps(wecom.aibot_payload("@bot 帮助", user="li\x00si")))


def ai_user_id_too_long(wecom):
    return wecom.aibot_envelope(wecom.aibot_payload("@bot 帮助", user="u" * 200))


def ai_over_limit(wecom):
    return wecom.aibot_envelope(wecom.aibot_payload("帮" * 12000))


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (ai_forged, 403),
        (ai_tampered, 400),
        (ai_other_key, 400),
        (ai_stale, 403),
        (ai_malformed_json, 400),
        (ai_malformed_inner_json, 400),
        (ai_inner_not_an_object, 400),
        (ai_no_sender, 400),
        (ai_group_without_chatid, 400),
        (ai_over_limit, 413),
        (ai_nested_json, 400),
        (ai_nested_json_around_a_signed_field, 400),
        (ai_surrogate_in_the_envelope, 400),
        (ai_huge_number_in_the_envelope, 400),
        (ai_envelope_in_utf16, 400),
        (ai_nested_inner_json, 400),
        (ai_surrogate_in_the_text, 400),
        (ai_nul_in_the_user_id, 400),
        (ai_user_id_too_long, 400),
    ],
)
async def test_aibot_callback_refuses(wecom, make, status):
    query, body = make(wecom)
    resp = await wecom.client.post("/wecom/aibot", params=query, data=body)
    assert resp.status == status
    await assert_nothing_written(wecom)


async def test_callbacks_are_not_served_when_not_configured(start_wecom):
    wecom = await start_wecom(
        callback_token="", encoding_aes_key="", aibot_token="", aibot_encoding_aes_key="", robot_webhooks=()
    )
    assert (await wecom.client.post("/wecom/callback", data="<xml/>")).status == 404
    assert (await wecom.client.post("/wecom/aibot", data="{}")).status == 404


async def test_a_signed_message_with_a_lone_surrogate_is_refused_on_every_retry(wecom):
    """WeCom retries a message it got no answer to: each copy gets the same 400, none a 500, nothing is stored."""
    payload = json.dumps(wecom.aibot_payload("@bot 签到", user="li\udc80si"))
    assert "\\udc80" in payload
    query, body = wecom.aibot_envelope(payload)
    for _ in range(3):
        resp = await wecom.client.post("/wecom/aibot", params=query, data=body)
        assert resp.status == 400
    await assert_nothing_written(wecom)


async def test_an_escaped_surrogate_pair_is_a_character_and_is_accepted(wecom):
    """Emoji arrive as \\ud83d\\ude00 escapes: a pair is one character, only a lone half is refused."""
    payload = json.dumps(wecom.aibot_payload("帮助\U0001f600", chat=None), ensure_ascii=True)
    assert "\\ud83d\\ude00" in payload
    status, answer = await wecom.aibot_post(json.loads(payload))
    assert status == 200 and answer is not None
