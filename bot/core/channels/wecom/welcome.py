"""The AI bot's welcome: a short greeting when a member enters its single chat (enter_chat).

Platform facts, and where each comes from:
- 接收事件 (developer.work.weixin.qq.com/document/path/101027): an event is {"msgid", "create_time", "aibotid",
  "chattype", "from": {"userid"}, "msgtype": "event", "event": {"eventtype", …}}; "msgid 本次回调的唯一性标志，开发者
  需据此进行事件排重（可能因为网络等原因重复回调）". 进入会话事件 (eventtype enter_chat): "当用户当天首次进入智能机器人
  单聊会话时，触发该事件。开发者可回复一条文本消息或者模板卡片消息。若未回复消息，用户当天再次进入也不再推送".
- 被动回复消息 (path/101031), 回复欢迎语: {"msgtype": "text", "text": {"content"}}; "目前仅支持进入会话回调事件时，
  支持被动回复文本消息". Over HTTP it is the callback's (encrypted) answer, within WeCom's 5 s.
- Over the long connection (path/101463, 回复欢迎语) the reply is `aibot_respond_welcome_msg` in the event frame's
  context (its req_id), with the same body; WeCom's SDK sends it within 5 s of the event.
So: one text per event (deduplicated by msgid in wecom_welcome), greeting the member by name where we know it or can
read it from the contacts within [wecom] contacts_timeout_seconds.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from bot.core import texts
from bot.core.channels.wecom.crypto import USER_ID_MAX_BYTES, platform_id
from bot.core.channels.wecom.models import WecomWelcome
from bot.core.db import transaction

if TYPE_CHECKING:
    from bot.core.channels.wecom.channel import WecomChannel

log = logging.getLogger(__name__)

ENTER_CHAT = "enter_chat"


def entered(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(msgid, userid) when the payload is an enter_chat event of a single chat; None for anything else."""
    event = payload.get("event")
    if payload.get("msgtype") != "event" or not isinstance(event, dict) or event.get("eventtype") != ENTER_CHAT:
        return None
    if payload.get("chattype") == "group":
        return None  # documented for the single chat only; a group is not greeted
    origin = payload.get("from")
    user = platform_id(origin.get("userid"), USER_ID_MAX_BYTES) if isinstance(origin, dict) else None
    msgid = platform_id(payload.get("msgid"))
    if user is None or msgid is None:
        log.warning("wecom: enter_chat event without a valid msgid or from.userid; no welcome")
        return None
    return msgid, user


async def welcome_for(channel: WecomChannel, msgid: str, user_id: str) -> str | None:
    """The welcome text for this event, or None if this event (msgid) was already answered."""
    try:
        async with transaction(channel.services.sessions) as session:
            session.add(WecomWelcome(msgid=msgid, user_id=user_id, received_at=channel.services.clock()))
    except IntegrityError:
        log.info("wecom: enter_chat %s was already welcomed; not again", msgid)
        return None
    bot = channel.services.config.bot.name
    name = await channel.contacts.name_for_welcome(user_id)
    if name:
        return texts.WECOM_WELCOME.format(name=name, bot=bot)
    return texts.WECOM_WELCOME_NO_NAME.format(bot=bot)


def text_reply(content: str) -> dict[str, Any]:
    """The body of a welcome: a text message (回复欢迎语)."""
    return {"msgtype": "text", "text": {"content": content}}


async def answer_over_long_connection(channel: WecomChannel, frame: dict[str, Any]) -> None:
    """The long connection's enter_chat: the welcome as aibot_respond_welcome_msg in the event frame's context."""
    from bot.core.channels.wecom.longconn import RESPOND_WELCOME, FrameRefused

    body = frame.get("body")
    event = entered(body) if isinstance(body, dict) else None
    if event is None or channel.long_connection is None:
        return
    content = await welcome_for(channel, *event)
    if content is None:
        return
    try:
        await channel.long_connection.request(RESPOND_WELCOME, text_reply(content), req_id=frame["headers"]["req_id"])
    except (FrameRefused, ConnectionError) as exc:
        # A welcome is only accepted within 5 s of its event: it is not pushed later.
        log.warning("wecom: the welcome for enter_chat %s was not taken (%s)", event[0], exc)
