"""Template cards (模板卡片) on WeCom: render a card row, read a tap, update the tapper's copy of the card.

What a card means is bot/core/cards.py; this module only speaks WeCom's formats. Where each field comes from:
- [101031] developer.work.weixin.qq.com/document/path/101031 "智能机器人 被动回复消息": a message may be
  answered with `template_card` or `stream_with_template_card` ({"msgtype", "stream", "template_card"}; one
  card per message); a tap (template_card_event) is answered with "回复消息更新模板卡片":
  {"response_type": "update_template_card", "userids": [...], "template_card": {...}} — userids: whose copy is
  replaced ("若不填，则表示替换当前消息涉及到的所有用户"), the card's task_id as in the event.
- [101027] path/101027 "智能机器人 接收事件": every event is {"msgid" (排重: "开发者需据此进行事件排重"),
  "create_time", "aibotid", "chatid", "chattype" single|group, "from": {"userid"}, "msgtype": "event",
  "event": {"eventtype": "template_card_event", "template_card_event": {...}}}; the card event carries
  card_type, event_key, task_id and, for vote/multiple cards, selected_items {"selected_item": [{"question_key",
  "option_ids": {"option_id": [...]}}]} (the JSON form of the app's SelectedItems, path/90240).
- [101138] path/101138 "主动回复消息": an event's response_url may also be used once within an hour; markdown
  or template_card.
- [101463] path/101463 "智能机器人长连接" and WeCom's Node SDK (WecomTeam/aibot-node-sdk src/client.ts,
  src/types/api.ts, src/types/event.ts): a push is aibot_send_msg {"chatid", "msgtype": "template_card",
  "template_card"}; the event arrives as aibot_event_callback with event.eventtype template_card_event
  (event_key, task_id); the update is aibot_respond_update_msg in the event's req_id, within 5 s.
- TemplateCard fields (SDK types/api.ts, same as the app's path/90236): card_type button_interaction |
  vote_interaction; main_title {title ≤26 字建议, desc}; sub_title_text (≤112 字建议); button_list ≤6
  {text, style 1–4, key ≤1024 bytes}; checkbox {question_key, mode 0 单选 | 1 多选, disable (更新时),
  option_list ≤20 {id ≤128 bytes, text, is_checked}}; submit_button {text, key}; task_id "同一个机器人不能
  重复，只能由数字、字母和"_-@"组成，最长 128 字节".
The app: its template cards go to members 1:1 only (a notice's nudge, a meeting's reminder to members, below;
one card to many members in one call, touser "a|b|c": client.py deliver_batch); the app reaches groups only by
appchat/send, which has no template_card (path/90248 lists text, image, voice, video, file, textcard, news,
mpnews, markdown), so a card row to an app group chat goes as its text.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.core.cards import Card, Tap, state_label, understand
from bot.core.channels.wecom.crypto import USER_ID_MAX_BYTES, CallbackRejected, platform_id
from bot.core.channels.wecom.split import truncate, utf8_len
from bot.core.db import read_only
from bot.core.message import Message
from bot.core.models import Member, MemberIdentity, Outbox

if TYPE_CHECKING:
    from bot.core.channels.wecom.channel import Reply, WecomChannel
    from bot.core.message import Outgoing

EVENT = "template_card_event"
UPDATE = "update_template_card"
# The text shown in a button card (sub_title_text): longer text goes as its own message before the card.
SUB_TITLE_MAX_BYTES = 1024
_TASK_PREFIX = "yz-"
DONE_PREFIX = "done:"  # the key of the one button an updated card shows (a tap on it is ignored)
CHANNEL = "wecom"


def task_id(outbox_id: int) -> str:
    """A task_id unique per send (a re-sent row gets a new one), naming the row the card came from."""
    return f"{_TASK_PREFIX}{outbox_id}-{uuid.uuid4().hex[:8]}"


def outbox_id_of(task: str) -> int | None:
    if not task.startswith(_TASK_PREFIX):
        return None
    head = task[len(_TASK_PREFIX) :].split("-", 1)[0]
    return int(head) if head.isascii() and head.isdigit() and len(head) <= 18 else None


def text_in_card(card: Card, text: str) -> bool:
    """Whether the row's text is shown inside the card (a button card with short text), not as its own message."""
    return card.get("kind") == "buttons" and utf8_len(text) <= SUB_TITLE_MAX_BYTES


def template_card(card: Card, text: str, task: str, *, with_text: bool = True) -> dict[str, Any]:
    """The WeCom TemplateCard for a card (bot/core/cards.py); the text goes in it where a button card can show it."""
    title = {"title": card.get("title", "")}
    if card.get("kind") == "choice":
        return {
            "card_type": "vote_interaction",
            "main_title": title,
            "checkbox": {
                "question_key": card["question_key"],
                "mode": 1 if card.get("multiple") else 0,
                "option_list": [{"id": o["id"], "text": o["text"]} for o in card["options"]],
            },
            "submit_button": dict(card["submit"]),
            "task_id": task,
        }
    body: dict[str, Any] = {"card_type": "button_interaction", "main_title": title}
    if with_text and text:
        body["sub_title_text"] = truncate(text, SUB_TITLE_MAX_BYTES, "……")
    body["button_list"] = [{"text": b["text"], "style": 1, "key": b["key"]} for b in card["buttons"]]
    body["task_id"] = task
    return body


def answered_card(card: Card, text: str, task: str, label: str) -> dict[str, Any]:
    """The tapper's copy after the tap: the same card, its buttons replaced by one that says what was recorded."""
    body = template_card(card, text, task, with_text=text_in_card(card, text))
    if body["card_type"] == "vote_interaction":
        body["checkbox"]["disable"] = True  # "是否不可选 … 仅更新模版卡片时有效"
        body["submit_button"] = {"text": label, "key": f"{DONE_PREFIX}{card['submit']['key']}"}
    else:
        body["button_list"] = [{"text": label, "style": 2, "key": f"{DONE_PREFIX}{task}"}]
    return body


# --- taps in ------------------------------------------------------------------------------------
def is_tap(payload: dict[str, Any]) -> bool:
    event = payload.get("event")
    return payload.get("msgtype") == "event" and isinstance(event, dict) and event.get("eventtype") == EVENT


def read_tap(payload: dict[str, Any], now: datetime) -> tuple[Message, Tap, str] | None:
    """A template_card_event as the message it stands for, the tap, and the card's task_id; None if not ours."""
    event = payload["event"]
    section = event.get(EVENT)
    section = section if isinstance(section, dict) else event  # the long connection's SDK types put them flat
    key, task = section.get("event_key"), section.get("task_id")
    if not isinstance(key, str) or not isinstance(task, str) or key.startswith(DONE_PREFIX):
        return None
    tap = understand(key, _chosen(section.get("selected_items")))
    if tap is None:
        return None
    msg_id, chat_id = platform_id(payload.get("msgid")), platform_id(payload.get("chatid"))
    origin = payload.get("from")
    sender = platform_id(origin.get("userid"), USER_ID_MAX_BYTES) if isinstance(origin, dict) else None
    if msg_id is None or sender is None:
        raise CallbackRejected(400, "card event without a valid msgid or from.userid")
    group = payload.get("chattype") == "group"
    if group and chat_id is None:
        raise CallbackRejected(400, "group card event without a chatid")
    msg = Message(
        channel=CHANNEL,
        platform_msg_id=f"aibot:{msg_id}",  # the event's msgid: a retried event is a duplicate (dedupe)
        sender_id=sender,
        text=tap.word,
        sent_at=now,  # (the event's create_time is not trusted as a clock: the injected clock is)
        chat_id=chat_id if group else None,
        mentions_bot=group,  # a tap is addressed to the bot as an @-message is
        card_key=key,
    )
    return msg, tap, task


def _chosen(items: Any) -> tuple[str, ...]:
    """Option ids chosen on a vote/multiple card: selected_items.selected_item[].option_ids.option_id[]."""
    if not isinstance(items, dict):
        return ()
    found: list[str] = []
    selected = items.get("selected_item")
    for item in selected if isinstance(selected, list) else [selected]:
        ids = item.get("option_ids") if isinstance(item, dict) else None
        option = ids.get("option_id") if isinstance(ids, dict) else None
        for value in option if isinstance(option, list) else [option]:
            if isinstance(value, str):
                found.append(value)
    return tuple(found)


async def update_for(channel: WecomChannel, msg: Message, tap: Tap, task: str) -> dict[str, Any] | None:
    """The update_template_card answer for the tapper, from what is stored now; None if nothing was recorded.

    Read from the database, not from this tap's outcome, so a retried event (a duplicate) gets the same update.
    """
    row_id = outbox_id_of(task)
    async with read_only(channel.services.sessions) as session:
        member = await session.scalar(
            select(Member)
            .join(MemberIdentity, MemberIdentity.member_id == Member.id)
            .where(MemberIdentity.channel == CHANNEL, MemberIdentity.platform_user_id == msg.sender_id)
        )
        if member is None or row_id is None:
            return None
        row = (
            await session.execute(select(Outbox.card, Outbox.text, Outbox.target_id).where(Outbox.id == row_id))
        ).first()
        if row is None or row.card is None:
            return None
        # The card must be one sent where the tap came from, and carry the tapped key.
        if row.target_id not in (msg.chat_id, msg.sender_id) or tap.key not in _keys(row.card):
            return None
        label = await state_label(session, member, tap)
    if label is None:
        return None
    return {
        "response_type": UPDATE,
        "userids": [msg.sender_id],
        "template_card": answered_card(row.card, row.text, task, label),
    }


# --- cards in passive answers -------------------------------------------------------------------
def answer_body(content: str, rows: Sequence[Reply | Outgoing]) -> dict[str, Any]:
    """A finished stream carrying rows (content: their text), with the card when one of them has one
    (stream_with_template_card, [101031]: "同一个消息只能回复一次" a card). The card's text is in the stream: the
    card shows title and buttons."""
    stream = {"id": secrets.token_hex(16), "finish": True, "content": content}  # 32 hex digits, as a uuid4's
    carded = next((row for row in rows if row.card is not None), None)
    if carded is None or carded.card is None:
        return {"msgtype": "stream", "stream": stream}
    return {
        "msgtype": "stream_with_template_card",
        "stream": stream,
        "template_card": template_card(carded.card, carded.text, task_id(carded.id), with_text=False),
    }


# --- the self-built app: cards in 1:1 messages ------------------------------------------------------
# [90236] path/90236 发送应用消息, 模板卡片消息 按钮交互型: {"touser", "msgtype": "template_card", "agentid",
# "template_card": {card_type, main_title, sub_title_text, button_list, task_id}, enable_duplicate_check, …}.
# [90240] path/90240 接收事件, 模板卡片事件推送: <MsgType>event</MsgType><Event>template_card_event</Event>
# <EventKey>, <TaskId>, <CardType>, <ResponseCode>, <AgentID> (no MsgId: the dedupe id is made of the sender,
# CreateTime, TaskId and EventKey, which a retry repeats).
# [94888] path/94888 更新模版卡片消息: POST message/update_template_card {"userids", "agentid", "response_code",
# "button": {"replace_name"}}: the ResponseCode is used once, within 72 h.
APP_EVENT = "template_card_event"


def app_card_shown(card: Card | None, text: str) -> bool:
    """Whether an app message shows this row as a card (a button card whose text fits in it)."""
    return card is not None and text_in_card(card, text)


def read_app_tap(data: dict[str, Any], now: datetime) -> tuple[Message, Tap, str] | None:
    """The app callback's template_card_event as (message, tap, ResponseCode); None if it is not one of ours."""
    if str(data.get("Event") or "").lower() != APP_EVENT:
        return None
    key, task, code = data.get("EventKey"), data.get("TaskId"), data.get("ResponseCode")
    sender, created = data.get("FromUserName"), data.get("CreateTime")
    if not all(isinstance(v, str) and v for v in (key, task, code, sender, created)):
        raise CallbackRejected(400, "card event without EventKey, TaskId, ResponseCode, FromUserName or CreateTime")
    assert isinstance(key, str) and isinstance(task, str) and isinstance(code, str) and isinstance(sender, str)
    if key.startswith(DONE_PREFIX) or platform_id(sender, USER_ID_MAX_BYTES) is None or not str(created).isdigit():
        return None
    tap = understand(key)
    if tap is None:
        return None
    msg = Message(
        channel=CHANNEL,
        platform_msg_id=f"app-card:{sender}:{created}:{task}:{key}"[:128],
        sender_id=sender,
        text=tap.word,
        sent_at=now,
        card_key=key,
    )
    return msg, tap, code


async def tap_label(channel: WecomChannel, msg: Message, tap: Tap) -> str | None:
    """What the tapper's copy says now (read from the database), or None while nothing was recorded."""
    async with read_only(channel.services.sessions) as session:
        member = await session.scalar(
            select(Member)
            .join(MemberIdentity, MemberIdentity.member_id == Member.id)
            .where(MemberIdentity.channel == CHANNEL, MemberIdentity.platform_user_id == msg.sender_id)
        )
        return await state_label(session, member, tap) if member is not None else None


def _keys(card: Card) -> set[str]:
    """The keys a card's taps can carry."""
    keys = {str(button.get("key", "")) for button in card.get("buttons", ())}
    submit = card.get("submit") or {}
    keys.add(str(submit.get("key", "")))
    return keys
