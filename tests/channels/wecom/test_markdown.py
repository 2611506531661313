"""What members typed cannot format a markdown message or @ anyone; mentions use WeCom's own syntax; a
response_url answers its own conversation only, never a later push."""

import pytest

from bot.core.channels.wecom.markdown import ZWSP, escape
from bot.core.models import OutboxStatus
from tests.channels.wecom.conftest import AIBOT_CHAT, ROBOT_CHAT
from tests.channels.wecom.test_client import push

TYPED = '# 重要\n> 引用\n**加粗** [点我](http://example.invalid) <font color="warning">红</font> <@all> `code`'


@pytest.mark.parametrize(
    "text",
    [TYPED, "****", "<@zhangsan>", "a](b", "  # 缩进标题", "普通文字，没有标记"],
)
def test_escape_changes_nothing_visible(text):
    assert escape(text).replace(ZWSP, "") == text


def test_escape_breaks_every_construct():
    out = escape(TYPED)
    for construct in ("<@", "<font", "](", "**", "\n>", "`c"):
        assert construct not in out
    assert not out.startswith("#")
    assert escape("普通文字") == "普通文字"


async def test_a_robot_markdown_push_shows_typed_markdown_as_text_and_mentions_only_whom_we_mean(wecom):
    await push(wecom, "chat", ROBOT_CHAT, f"通知：{TYPED}", mentions=("zhangsan",))
    await wecom.drain_outbox()
    [got] = wecom.fake.received
    assert got.msgtype == "markdown"
    assert got.mentioned == ("zhangsan",)  # not @all: the typed "<@all>" is text
    assert got.content.replace(ZWSP, "") == f"<@zhangsan> 通知：{TYPED}"


async def test_a_passive_ai_bot_answer_is_escaped(wecom):
    _, answer = await wecom.aibot_say("@学习驿站 我是谁", user="**粗**")
    content = answer["stream"]["content"]
    assert "**粗**" not in content and "**粗**" in content.replace(ZWSP, "")


async def test_a_later_push_never_takes_a_response_url(wecom):
    # lisi @s the AI bot in a group without a robot: the answer uses the message's response_url (or passive)…
    await wecom.aibot_say("@学习驿站 帮助", user="lisi", chat=AIBOT_CHAT)
    await wecom.drain_outbox()
    used = len(wecom.fake.contents("aibot/response"))
    # …but a job's push to that group within the hour does not (it answers no message), and says what to configure.
    await push(wecom, "chat", AIBOT_CHAT, "【学习提醒】本周五学习日")
    await wecom.drain_outbox()
    assert len(wecom.fake.contents("aibot/response")) == used
    row = (await wecom.outbox())[-1]
    assert row.status == OutboxStatus.FAILED and "robot_webhooks" in (row.last_error or "")
