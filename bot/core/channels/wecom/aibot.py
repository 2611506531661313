"""The AI bot's callback (智能机器人, API mode): group @-messages and 1:1 messages as encrypted JSON."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy import Executable

from bot.core.channels.wecom import cards, markdown, welcome
from bot.core.channels.wecom.channel import (
    Reply,
    WecomChannel,
    channel_of,
    empty,
    open_callback,
    push_all,
    rejection,
    verify_callback_url,
)
from bot.core.channels.wecom.client import CHANNEL
from bot.core.channels.wecom.crypto import (
    USER_ID_MAX_BYTES,
    CallbackRejected,
    Cipher,
    ciphertext,
    encrypted_json_reply,
    parse_json_object,
    platform_id,
)
from bot.core.channels.wecom.models import WecomResponseUrl
from bot.core.channels.wecom.split import utf8_len
from bot.core.db import insert_for
from bot.core.groupcommit import Keep, PassivePolicy, ReplyRow
from bot.core.message import Message, Outgoing

log = logging.getLogger(__name__)

PATH = "/wecom/aibot"
# A passive answer is a finished stream: "content … 最长不超过20480个字节" (被动回复消息 流式消息回复,
# developer.work.weixin.qq.com/document/path/101031; the SDK's StreamReplyBody says the same). The response_url's
# markdown (routing.RESPONSE_URL_MAX_BYTES) is another message with its own limit.
STREAM_MAX_BYTES = 20480
# Room kept in a passive answer for each mention written as a name: " @" and a member's name (at most 100
# characters, member.display_name, up to 4 bytes each).
_MENTION_MAX_BYTES = 2 + 100 * 4
# Rows joined into one passive answer are separated by a blank line.
JOINER = "\n\n"
_LEADING_MENTION = re.compile(r"\A\s*@\S+[\s\u2005]*")


def _cipher(channel: WecomChannel) -> Cipher:
    if channel.aibot_cipher is None:
        raise web.HTTPNotFound()
    return channel.aibot_cipher


async def verify_url(request: web.Request) -> web.Response:
    """GET: answer the AI bot's URL check with the decrypted echostr."""
    channel = channel_of(request)
    return verify_callback_url(request, _cipher(channel), channel.config.aibot_token, "AI bot")


async def receive(request: web.Request) -> web.Response:
    """POST: a message for the bot; answered in the response (a finished stream) when ready in time."""
    channel = channel_of(request)
    started = channel.started()
    cipher = _cipher(channel)
    config = channel.config
    try:
        # The body is only an envelope around the ciphertext; what the message says is parsed only once the
        # signature on that ciphertext is checked and it decrypts (strict UTF-8).
        plaintext, nonce = await open_callback(request, cipher, config.aibot_token, _encrypt_field)
        payload = parse_json_object(plaintext, "decrypted message")
        if cards.is_tap(payload):
            return await _tap(channel, started, payload, nonce)
        if (event := welcome.entered(payload)) is not None:
            return await _welcome(channel, cipher, nonce, *event)
        found = _message(payload, channel)
    except CallbackRejected as exc:
        return rejection(request, exc)
    if found is None:
        return empty()
    msg, response_url = found
    kind, target = ("chat", msg.chat_id) if msg.chat_id is not None else ("user", msg.sender_id)
    keep = response_url_row(channel, msg, response_url) if response_url else None
    outcome = await channel.process(msg, stream_policy(channel, kind, target), keep)
    if outcome is None:
        return empty()
    if outcome.duplicate:
        # A retry: WeCom did not get the first copy's answer; give it that answer again (if there was one).
        again = await channel.answered_before(msg, kind, target)
        content = JOINER.join([await channel.spelled_out(reply) for reply in again])
        if not await channel.in_time(started, [reply.id for reply in again]):
            content, again = "", []
        answered: list[Reply | Outgoing] = list(again)
    else:
        answered = list(outcome.passive or ())  # the group commit wrote them as carried in this answer
        content = await carried_text(channel, answered)
        if not await channel.in_time(started, [reply.id for reply in answered]):
            content, answered = "", []
    if not content:
        return empty()
    # A stream that is finished at once is the reply the AI bot accepts to a message (被动回复消息); with the
    # card of a row in it, stream_with_template_card (cards.answer_body).
    return _encrypted(channel, cipher, cards.answer_body(content, answered), nonce)


def _encrypted(channel: WecomChannel, cipher: Cipher, answer: dict[str, Any], nonce: str) -> web.Response:
    plaintext = json.dumps(answer, ensure_ascii=False)
    now = str(int(channel.services.clock().timestamp()))
    body = encrypted_json_reply(cipher, channel.config.aibot_token, plaintext, now, nonce)
    return web.Response(text=body, content_type="application/json")


async def _tap(channel: WecomChannel, started: float, payload: dict[str, Any], nonce: str) -> web.Response:
    """A card tap (template_card_event): the word it stands for through the pipeline, then the tapper's copy of
    the card updated in the answer ([101031] 回复消息更新模板卡片). The tap's own replies go through the outbox
    (by the event's response_url, [101138]): the answer to an event can only update the card."""
    found = cards.read_tap(payload, channel.services.clock())
    if found is None:
        log.debug("wecom: AI bot card event with a key that is not ours; ignored")
        return empty()
    msg, tap, task = found
    response_url = payload.get("response_url")
    keep = response_url_row(channel, msg, response_url) if isinstance(response_url, str) and response_url else None
    await channel.process(msg, push_all, keep)  # the answer to an event can only update the card
    update = await cards.update_for(channel, msg, tap, task)
    if update is None or asyncio.get_running_loop().time() - started > channel.config.reply_budget_seconds:
        return empty()
    assert channel.aibot_cipher is not None
    return _encrypted(channel, channel.aibot_cipher, update, nonce)


async def _welcome(channel: WecomChannel, cipher: Cipher, nonce: str, msgid: str, user_id: str) -> web.Response:
    """Answer an enter_chat event with the welcome text (once per event: a retry is answered empty)."""
    content = await welcome.welcome_for(channel, msgid, user_id)
    if content is None:
        return empty()
    plaintext = json.dumps(welcome.text_reply(content), ensure_ascii=False)
    now = str(int(channel.services.clock().timestamp()))
    body = encrypted_json_reply(cipher, channel.config.aibot_token, plaintext, now, nonce)
    return web.Response(text=body, content_type="application/json")


def stream_policy(channel: WecomChannel, kind: str, target: str) -> PassivePolicy:
    """The rows one passive answer carries: the leading rows to this conversation that fit one finished stream.

    At most one of them has a card: a second card row and the rows after it go through the outbox, as does an
    image a push can show. A row's mentions are written as names in the answer (it cannot @ by user id): room
    for the longest name is kept for each.
    """

    def carried(rows: Sequence[ReplyRow]) -> list[int]:
        chosen: list[int] = []
        parts: list[str] = []
        carded = False
        for index, row in enumerate(rows):
            if row.target_kind != kind or row.target_id != target:
                continue
            if (kind == "chat" and channel.pushes_image(row)) or (row.card is not None and carded):
                break
            text = markdown.escape(row.text) + "x" * (_MENTION_MAX_BYTES * len(row.mentions or ()))
            if utf8_len(JOINER.join([*parts, text])) > STREAM_MAX_BYTES:
                break  # keep order: this row and the ones after it go through the outbox
            chosen.append(index)
            parts.append(text)
            carded = carded or row.card is not None
        return chosen

    return carried


async def carried_text(channel: WecomChannel, rows: Sequence[Reply | Outgoing]) -> str:
    """The text of the rows the group commit wrote as carried in one passive answer. If it cannot be written (the
    names could not be read), the rows are handed back to the sender as pushes: never lost."""
    try:
        return JOINER.join([await channel.spelled_out(row) for row in rows])
    except BaseException:
        await asyncio.shield(channel.services.sender.unclaim_passive([row.id for row in rows]))
        raise


# WeCom's envelope is exactly {"encrypt": "<base64>"}: read by this pattern, nothing is parsed before the signature.
_ENVELOPE = re.compile(rb'\A\s*\{\s*"encrypt"\s*:\s*"([A-Za-z0-9+/=]+)"\s*\}\s*\Z')


def _encrypt_field(body: bytes) -> str:
    """The ciphertext the signature is over; any other envelope shape goes through the bounded, strict parser."""
    exact = _ENVELOPE.match(body)
    if exact is not None:
        return ciphertext(exact.group(1).decode("ascii"))
    return ciphertext(parse_json_object(body, "body").get("encrypt"))


def _text(payload: dict[str, Any]) -> str | None:
    """The text of a text, mixed (text items) or voice (transcribed) message; None for anything else."""
    kind = payload.get("msgtype")
    section = payload.get(kind) if isinstance(kind, str) else None
    if not isinstance(section, dict):
        return None
    if kind in ("text", "voice"):
        content = section.get("content")
        return content if isinstance(content, str) else None
    if kind == "mixed":
        items = section.get("msg_item")
        if not isinstance(items, list):
            return None
        texts = [
            item["text"]["content"]
            for item in items
            if isinstance(item, dict)
            and item.get("msgtype") == "text"
            and isinstance(item.get("text"), dict)
            and isinstance(item["text"].get("content"), str)
        ]
        return "\n".join(texts) if texts else None
    return None  # events, stream refreshes, images, files: acknowledged, not handled


def _message(payload: dict[str, Any], channel: WecomChannel) -> tuple[Message, str] | None:
    text = _text(payload)
    if text is None:
        log.debug("wecom: AI bot callback %r ignored", payload.get("msgtype"))
        return None
    chat_type = payload.get("chattype")
    msg_id, chat_id = platform_id(payload.get("msgid")), platform_id(payload.get("chatid"))
    origin = payload.get("from")
    sender = platform_id(origin.get("userid"), USER_ID_MAX_BYTES) if isinstance(origin, dict) else None
    if msg_id is None or sender is None:
        raise CallbackRejected(400, "message without a valid msgid or from.userid")
    if chat_type not in ("single", "group") or (chat_type == "group" and chat_id is None):
        raise CallbackRejected(400, "message without a valid chattype/chatid")
    group = chat_type == "group"
    response_url = payload.get("response_url")
    msg = Message(
        channel=CHANNEL,
        platform_msg_id=f"aibot:{msg_id}",  # its own namespace: app MsgIds are another sequence
        sender_id=sender,
        text=_strip_bot_mention(text, channel.config.aibot_name, group),
        sent_at=channel.services.clock(),  # the AI bot's callback carries no send time
        chat_id=chat_id if group else None,
        mentions_bot=group,  # group messages reach the AI bot only when it is @-mentioned
    )
    return msg, response_url if isinstance(response_url, str) else ""


def _strip_bot_mention(text: str, aibot_name: str, group: bool) -> str:
    """Drop the @-mention of the AI bot (its name in WeCom may differ from [bot] name)."""
    if aibot_name:
        return _mention_of(aibot_name).sub("", text, count=1).strip()
    if group:  # the AI bot's name is not configured: a group message starts with its mention
        return _LEADING_MENTION.sub("", text, count=1)
    return text


@functools.cache
def _mention_of(aibot_name: str) -> re.Pattern[str]:
    """The AI bot's @-mention by its configured name (one name per deployment: compiled once)."""
    return re.compile(rf"@{re.escape(aibot_name)}[\s\u2005]*")


def response_url_row(channel: WecomChannel, msg: Message, url: str) -> Keep | None:
    """The message's response_url, kept for an answer that misses the reply budget (used once, within 1 h);
    written in the message's own transaction. None for a URL outside WeCom."""
    expected = channel.config.api_base_url.rstrip("/") + "/cgi-bin/aibot/response"
    if not url.startswith(expected + "?"):
        # Only ever post to WeCom itself, whatever a (signed) callback says.
        log.warning("wecom: AI bot message %s has a response_url outside %s; not kept", msg.platform_msg_id, expected)
        return None
    kind, target = ("chat", msg.chat_id) if msg.chat_id is not None else ("user", msg.sender_id)
    row = {
        "platform_msg_id": msg.platform_msg_id,
        "target_kind": kind,
        "target_id": target,
        "url": url,
        "received_at": channel.services.clock(),
    }
    return _keep_url(channel.services.engine.dialect.name), row  # a retry's row: kept already, not again


@functools.cache
def _keep_url(dialect: str) -> Executable:
    """The response_url's INSERT, one statement per dialect: the group commit runs the batch's kept rows of one
    statement as one executemany."""
    return insert_for(dialect, WecomResponseUrl).on_conflict_do_nothing()
