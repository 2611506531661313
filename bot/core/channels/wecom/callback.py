"""The self-built app's callback (自建应用 接收消息): URL verification, encrypted XML in, passive XML reply out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from aiohttp import web

from bot.core.cards import Tap
from bot.core.channels.wecom import api, cards
from bot.core.channels.wecom.channel import (
    WecomChannel,
    channel_of,
    empty,
    open_callback,
    rejection,
    verify_callback_url,
)
from bot.core.channels.wecom.client import CHANNEL
from bot.core.channels.wecom.crypto import (
    USER_ID_MAX_BYTES,
    CallbackRejected,
    Cipher,
    cdata,
    ciphertext,
    encrypted_xml_reply,
    parse_envelope,
    parse_message,
    platform_id,
)
from bot.core.channels.wecom.routing import TEXT_MAX_BYTES
from bot.core.channels.wecom.split import utf8_len
from bot.core.groupcommit import PassivePolicy, ReplyRow
from bot.core.message import Message
from bot.core.outbox import PermanentError, TransientError

log = logging.getLogger(__name__)

PATH = "/wecom/callback"


def _cipher(channel: WecomChannel) -> Cipher:
    if channel.app_cipher is None:
        raise web.HTTPNotFound()
    return channel.app_cipher


async def verify_url(request: web.Request) -> web.Response:
    """GET: answer WeCom's URL check with the decrypted echostr."""
    channel = channel_of(request)
    return verify_callback_url(request, _cipher(channel), channel.config.callback_token, "app")


async def receive(request: web.Request) -> web.Response:
    """POST: a member's 1:1 message or an event; a text gets a passive reply when it is ready in time."""
    channel = channel_of(request)
    started = channel.started()
    cipher = _cipher(channel)
    config = channel.config
    try:
        plaintext, nonce = await open_callback(request, cipher, config.callback_token, _encrypted)
        tap = _card_tap(plaintext, channel) if cards.APP_EVENT in plaintext else None
        if tap is not None:
            return await _tapped(channel, *tap)
        msg = _message(plaintext, channel)
    except CallbackRejected as exc:
        return rejection(request, exc)
    if msg is None:
        return empty()
    outcome = await channel.process(msg, _passive_policy(channel, msg.sender_id))
    if outcome is None:
        return empty()
    if outcome.duplicate:
        # WeCom retries only an answer it did not get: give it the one the first copy claimed (if any).
        again = (await channel.answered_before(msg, "user", msg.sender_id))[:1]
        text = again[0].text if again and await channel.in_time(started, [again[0].id]) else None
    else:
        claimed = outcome.passive or []  # the group commit wrote it as answered here
        text = claimed[0].text if claimed and await channel.in_time(started, [claimed[0].id]) else None
    if text is None:
        return empty()
    now = str(int(channel.services.clock().timestamp()))
    reply_xml = (
        f"<xml><ToUserName>{cdata(msg.sender_id)}</ToUserName><FromUserName>{cdata(config.corp_id)}</FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(text)}</Content></xml>"
    )
    body = encrypted_xml_reply(cipher, config.callback_token, reply_xml, now, nonce)
    return web.Response(text=body, content_type="application/xml")


def _card_tap(plaintext: str, channel: WecomChannel) -> tuple[Message, Tap, str] | None:
    """A tap on one of our cards in the app's 1:1 chat (cards.py [90240]); None for anything else."""
    try:
        parsed = parse_message(plaintext)
    except CallbackRejected:
        raise
    except Exception:
        raise CallbackRejected(400, "decrypted message is malformed") from None
    data = getattr(parsed, "_data", None)  # wechatpy has no class for this event: its fields as parsed
    if not isinstance(data, dict) or str(data.get("MsgType") or "").lower() != "event":
        return None
    return cards.read_app_tap(data, channel.services.clock())


async def _tapped(channel: WecomChannel, msg: Message, tap: Tap, response_code: str) -> web.Response:
    """The tap's word through the pipeline (its replies are pushed), then the tapper's button renamed by
    message/update_template_card with the event's ResponseCode (once: a retried event changes nothing)."""
    outcome = await channel.process(msg)
    if outcome is None or outcome.duplicate:
        return empty()
    await channel.services.sender.release(outcome.reply_ids)  # pushed now, not held for an answer
    label = await cards.tap_label(channel, msg, tap)
    if label is not None:
        try:
            await channel.client.update_app_button(msg.sender_id, response_code, label)
        except (api.ApiError, TransientError, PermanentError) as exc:
            log.warning("wecom: the app card of %s was not updated: %s", msg.sender_id, exc)
    return empty()


def _encrypted(body: bytes) -> str:
    return ciphertext(parse_envelope(body).get("Encrypt", ""))


def _passive_policy(channel: WecomChannel, sender_id: str) -> PassivePolicy:
    """The passive reply is one message: the first row for this member, if it fits as text (no image a push can
    show); the rest go by the outbox."""

    def carried(rows: Sequence[ReplyRow]) -> list[int]:
        for index, row in enumerate(rows):
            if row.target_kind == "user" and row.target_id == sender_id:
                fits = utf8_len(row.text) <= TEXT_MAX_BYTES and not channel.pushes_image(row)
                return [index] if fits else []
        return []

    return carried


def _message(plaintext: str, channel: WecomChannel) -> Message | None:
    """Our Message for a text; None for events and other message types (acknowledged, not handled)."""
    try:
        parsed = parse_message(plaintext)
        kind = parsed.type
        if kind != "text":
            # Events (enter_agent, subscribe, …) and media: nothing to do; an empty answer acknowledges them.
            # Were they ever handled, their dedupe id would be FromUserName + CreateTime (they have no MsgId).
            log.debug("wecom: app callback %s ignored", kind)
            return None
        msg_id, sender, created, content = parsed.id, parsed.source, parsed.time, parsed.content
    except CallbackRejected:
        raise
    except Exception:  # ParseError, KeyError, ValueError … on a malformed message
        raise CallbackRejected(400, "decrypted message is malformed") from None
    if not msg_id or not sender or not isinstance(content, str) or not isinstance(created, int):
        raise CallbackRejected(400, "text message without MsgId, FromUserName, CreateTime or Content")
    if not 0 < msg_id < 2**64 or platform_id(sender, USER_ID_MAX_BYTES) is None:
        raise CallbackRejected(400, "MsgId is not a 64-bit number or FromUserName is over 64 bytes")
    try:
        sent_at = datetime.fromtimestamp(created, channel.services.config.tz)
    except (OverflowError, OSError, ValueError):
        raise CallbackRejected(400, "CreateTime is out of range") from None
    return Message(
        channel=CHANNEL,
        platform_msg_id=str(msg_id),
        sender_id=sender,
        text=content,
        sent_at=sent_at,
        chat_id=None,
    )
