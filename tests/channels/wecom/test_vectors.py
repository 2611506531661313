"""The official callback-crypto vectors, through the running app and through our cipher."""

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from wechatpy.work.crypto import WeChatCrypto

from bot import texts
from bot.app import build_app
from bot.channels.wecom.crypto import Cipher, signature
from bot.clock import FakeClock
from bot.models import InboundMessage
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
