"""The AI bot's welcome on enter_chat: over the HTTP callback and over the long connection, one per event."""

import json

from sqlalchemy import func, select

from bot.core import texts
from bot.core.channels.wecom.channel import WECOM
from bot.core.channels.wecom.models import WecomWelcome
from tests.channels.wecom.conftest import ADMIN
from tests.channels.wecom.test_longconn import start_long_connection, ws  # noqa: F401 - fixtures


def enter_chat(msgid: str = "EVT-1", user: str = "zhangsan", chattype: str = "single") -> dict:
    """An 进入会话事件 as 接收事件 (path/101027) shows it."""
    return {
        "msgid": msgid,
        "create_time": 1_700_000_000,
        "aibotid": "AIBOTID",
        "chattype": chattype,
        "from": {"userid": user},
        "msgtype": "event",
        "event": {"eventtype": "enter_chat"},
    }


async def test_enter_chat_is_answered_with_a_welcome_by_name(wecom, fake):
    fake.contacts["zhangsan"] = "张三"
    status, answer = await wecom.aibot_post(enter_chat())
    assert status == 200
    assert answer == {"msgtype": "text", "text": {"content": texts.WECOM_WELCOME.format(name="张三", bot="学习驿站")}}


async def test_a_retried_event_is_welcomed_once(wecom, fake):
    fake.contacts["zhangsan"] = "张三"
    assert (await wecom.aibot_post(enter_chat()))[1] is not None
    assert await wecom.aibot_post(enter_chat()) == (200, None)
    async with wecom.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WecomWelcome)) == 1


async def test_a_known_member_is_greeted_by_their_stored_name_without_a_lookup(wecom, fake):
    fake.contacts[ADMIN] = "王书记"
    await wecom.aibot_say("@学习驿站 我是谁", user=ADMIN)
    await wecom.app[WECOM].contacts.settle()
    calls = len(fake.user_get_calls)
    _, answer = await wecom.aibot_post(enter_chat(user=ADMIN, msgid="EVT-2"))
    assert answer["text"]["content"] == texts.WECOM_WELCOME.format(name="王书记", bot="学习驿站")
    assert len(fake.user_get_calls) == calls


async def test_someone_the_contacts_do_not_know_is_greeted_without_a_name(wecom):
    _, answer = await wecom.aibot_post(enter_chat(user="stranger", msgid="EVT-3"))
    assert answer["text"]["content"] == texts.WECOM_WELCOME_NO_NAME.format(bot="学习驿站")


async def test_a_slow_contacts_api_does_not_hold_the_welcome(start_wecom, fake):
    fake.contacts["zhangsan"] = "张三"
    fake.latency_seconds = 1.0
    wecom = await start_wecom(contacts_timeout_seconds=0.2)
    _, answer = await wecom.aibot_post(enter_chat())
    assert answer["text"]["content"] == texts.WECOM_WELCOME_NO_NAME.format(bot="学习驿站")
    assert "呢" not in answer["text"]["content"] and "哦" not in answer["text"]["content"]


async def test_a_group_enter_chat_is_not_greeted(wecom):
    assert await wecom.aibot_post(enter_chat(chattype="group")) == (200, None)


async def test_enter_chat_over_the_long_connection_is_welcomed_once(start_long_connection, ws, fake):  # noqa: F811
    fake.contacts["lisi"] = "李四"
    await start_long_connection()
    await ws.wait_subscribed()
    frame = ws.event_frame("enter_chat", user="lisi")
    await ws.push(frame)
    reply = await ws.reply_to(frame["headers"]["req_id"])
    assert reply is not None and reply.cmd == "aibot_respond_welcome_msg"
    assert reply.body == {
        "msgtype": "text",
        "text": {"content": texts.WECOM_WELCOME.format(name="李四", bot="学习驿站")},
    }
    # The same event delivered again (a reconnect) gets no second welcome.
    again = json.loads(json.dumps(frame))
    again["headers"]["req_id"] = "req-evt-again"
    await ws.push(again)
    assert await ws.reply_to("req-evt-again", timeout=0.5) is None
    assert [s.cmd for s in ws.sent] == ["aibot_respond_welcome_msg"]
