"""The outbound client against the fake WeCom API: routes, limits, token refresh, errors, splitting."""

import logging
from datetime import timedelta

from sqlalchemy import select

from bot.core.channels.wecom.models import WecomAccessToken, WecomSentPart
from bot.core.channels.wecom.split import utf8_len
from bot.core.context import Context
from bot.core.db import transaction
from bot.core.models import Chat, Member, MemberIdentity, OutboxStatus
from tests.channels.wecom.conftest import APPCHAT, ROBOT_CHAT, ROBOT_KEY


async def push(wecom, kind: str, target: str, *texts_: str, mentions: tuple[str, ...] = ()) -> None:
    """Write outbox rows as a job would (ctx.send_to_*), in one transaction."""
    async with transaction(wecom.services.sessions) as session:
        ctx = Context(config=wecom.services.config, session=session, clock=wecom.clock)
        for text in texts_:
            if kind == "chat":
                await ctx.send_to_chat(Chat(channel="wecom", platform_chat_id=target), text, mentions)
            else:
                ctx._add("wecom", "user", target, text, mentions)


async def statuses(wecom) -> list[str]:
    return [row.status for row in await wecom.outbox()]


async def test_a_robot_gets_markdown_and_mentions_by_user_id(wecom):
    await push(wecom, "chat", ROBOT_CHAT, "本周五学习日")
    await push(wecom, "chat", ROBOT_CHAT, "请回执", mentions=("zhangsan", "lisi"))
    await wecom.drain_outbox()
    first, second = wecom.fake.received
    assert (first.endpoint, first.target, first.msgtype, first.content) == (
        "webhook/send",
        ROBOT_KEY,
        "markdown",
        "本周五学习日",
    )
    # "<@userid>" in the markdown (群机器人配置说明): the mention and up to 4096 bytes, as markdown.
    assert (second.msgtype, second.content, second.mentioned) == (
        "markdown",
        "<@zhangsan> <@lisi> 请回执",
        ("zhangsan", "lisi"),
    )
    assert wecom.fake.gettoken_calls == 0  # robots need no token


async def test_an_app_group_chat_spells_mentions_out(wecom):
    async with transaction(wecom.services.sessions) as session:
        member = Member(branch_id=1, display_name="张三", created_at=wecom.clock())
        session.add(member)
        await session.flush()
        session.add(MemberIdentity(member_id=member.id, channel="wecom", platform_user_id="zhangsan"))
    await push(wecom, "chat", APPCHAT, "请回执", mentions=("zhangsan", "ghost"))
    await wecom.drain_outbox()
    [got] = wecom.fake.received
    assert (got.endpoint, got.target, got.content) == ("appchat/send", APPCHAT, "@张三 @ghost 请回执")


async def test_a_hundred_pushes_to_one_robot_respect_twenty_a_minute(wecom):
    await push(wecom, "chat", ROBOT_CHAT, *(f"通知 {i}" for i in range(100)))
    start = wecom.clock()
    for _ in range(40):
        await wecom.drain_outbox()
        if len(wecom.fake.received) == 100:
            break
        wecom.clock.advance(seconds=15)
    times = [r.at for r in wecom.fake.received]
    assert [r.content for r in wecom.fake.received] == [f"通知 {i}" for i in range(100)]  # all, in order
    assert all(sum(1 for u in times if t <= u < t + timedelta(minutes=1)) <= 20 for t in times)
    assert times[-1] - start >= timedelta(minutes=4)  # 100 messages need five minute-windows
    assert set(await statuses(wecom)) == {OutboxStatus.SENT}


async def test_an_expired_token_mid_stream_is_refreshed_once(wecom):
    await push(wecom, "user", "zhangsan", "一")
    await wecom.drain_outbox()
    assert wecom.fake.gettoken_calls == 1
    wecom.fake.expire_tokens()  # WeCom ends the token before our cached expiry
    for user in ("zhangsan", "lisi", "wangwu", "zhaoliu"):
        await push(wecom, "user", user, "二")
    await wecom.drain_outbox()  # four concurrent senders all see 42001
    assert wecom.fake.gettoken_calls == 2
    assert sorted(r.target for r in wecom.fake.received if r.content == "二") == [
        "lisi",
        "wangwu",
        "zhangsan",
        "zhaoliu",
    ]
    assert set(await statuses(wecom)) == {OutboxStatus.SENT}


async def test_the_token_is_cached_in_the_database_until_near_expiry(wecom):
    await push(wecom, "user", "zhangsan", "一")
    await wecom.drain_outbox()
    async with wecom.services.sessions() as session:
        [row] = (await session.scalars(select(WecomAccessToken))).all()
    assert row.expires_at == wecom.clock() + timedelta(seconds=7200)
    wecom.clock.advance(seconds=7200 - 301)
    await push(wecom, "user", "zhangsan", "二")
    await wecom.drain_outbox()
    assert wecom.fake.gettoken_calls == 1
    wecom.clock.advance(seconds=2)  # inside the 300 s safety margin: refresh before WeCom would refuse it
    await push(wecom, "user", "zhangsan", "三")
    await wecom.drain_outbox()
    assert wecom.fake.gettoken_calls == 2


async def test_45009_backs_off_then_delivers(wecom):
    wecom.fake.fail("message/send", 45009)
    await push(wecom, "user", "zhangsan", "通知")
    await wecom.drain_outbox()
    [row] = await wecom.outbox()
    assert row.status == OutboxStatus.PENDING and "45009" in row.last_error
    assert row.next_attempt_at >= wecom.clock() + timedelta(seconds=60)
    wecom.clock.advance(seconds=59)
    assert await wecom.drain_outbox() == 0
    wecom.clock.advance(seconds=2)
    await wecom.drain_outbox()
    assert wecom.fake.contents("message/send") == ["通知"]


async def test_busy_is_retried_three_times_then_the_row_fails_with_its_reason(wecom):
    wecom.fake.fail("message/send", -1, times=10)
    await push(wecom, "user", "zhangsan", "通知")
    calls = 0
    for _ in range(10):
        calls += await wecom.drain_outbox()
        wecom.clock.advance(minutes=10)
    [row] = await wecom.outbox()
    assert calls == 4  # the first try and three retries
    assert row.status == OutboxStatus.FAILED
    assert "errcode -1" in row.last_error and "after 3 retries" in row.last_error
    assert wecom.fake.received == []


async def test_untrusted_ip_fails_at_once_and_says_so_in_the_log(wecom, caplog):
    wecom.fake.fail("message/send", 60020)
    await push(wecom, "user", "zhangsan", "通知")
    with caplog.at_level(logging.WARNING):
        await wecom.drain_outbox()
    [row] = await wecom.outbox()
    assert row.status == OutboxStatus.FAILED and "60020" in row.last_error and "企业可信IP" in row.last_error
    assert any("60020" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


async def test_all_recipients_invalid_fails_with_a_hint(wecom):
    wecom.fake.invalid_users.add("nobody")
    await push(wecom, "user", "nobody", "通知")
    await wecom.drain_outbox()
    [row] = await wecom.outbox()
    assert row.status == OutboxStatus.FAILED and "81013" in row.last_error and "可见范围" in row.last_error


async def test_a_chat_without_a_route_fails_naming_the_key_to_set(wecom):
    await push(wecom, "chat", "wrUnknownGroup", "通知")
    await wecom.drain_outbox()
    [row] = await wecom.outbox()
    assert row.status == OutboxStatus.FAILED
    assert "robot_webhooks" in row.last_error and "YIZHAN_WECOM_ROBOT_WEBHOOKS" in row.last_error


async def test_a_3000_byte_chinese_text_is_split_into_valid_pieces(wecom):
    text = "\n".join(f"第{i}条：学习贯彻党的二十大精神，做好城市管理工作。" for i in range(1, 42))
    assert 3000 <= utf8_len(text) <= 3400
    await push(wecom, "user", "zhangsan", text)
    await wecom.drain_outbox()
    pieces = wecom.fake.contents("message/send", "zhangsan")
    assert len(pieces) == 2
    assert all(utf8_len(piece) <= 2048 for piece in pieces)
    assert "\n".join(pieces) == text  # cut at a line boundary, nothing lost
    [row] = await wecom.outbox()
    assert row.status == OutboxStatus.SENT


async def test_a_long_line_is_cut_between_characters(wecom):
    text = "党" * 1000  # 3000 bytes, no line break
    await push(wecom, "user", "zhangsan", text)
    await wecom.drain_outbox()
    pieces = wecom.fake.contents("message/send", "zhangsan")
    assert [utf8_len(p) for p in pieces] == [2046, 954]
    assert "".join(pieces) == text


async def test_a_retry_sends_only_the_parts_not_yet_sent(wecom):
    text = "\n".join(["甲" * 600, "乙" * 600, "丙" * 600])  # three parts of 1800 bytes
    await push(wecom, "user", "zhangsan", text)
    wecom.fake.fail("message/send", 0)  # the first part goes through
    wecom.fake.fail("message/send", -1)  # the second meets a busy WeCom
    await wecom.drain_outbox()
    [row] = await wecom.outbox()
    assert row.status == OutboxStatus.PENDING
    wecom.clock.advance(minutes=1)
    await wecom.drain_outbox()
    assert wecom.fake.contents("message/send") == ["甲" * 600, "乙" * 600, "丙" * 600]
    [row] = await wecom.outbox()
    assert row.status == OutboxStatus.SENT
    async with wecom.services.sessions() as session:
        assert sorted((await session.scalars(select(WecomSentPart.part))).all()) == [0, 1, 2]


async def test_a_split_row_takes_as_many_places_in_the_robot_window_as_it_has_parts(wecom):
    await push(wecom, "chat", ROBOT_CHAT, *(f"通知 {i}" for i in range(18)))
    await wecom.drain_outbox()
    await push(wecom, "chat", ROBOT_CHAT, "\n".join(["长" * 1300, "文" * 1300, "本" * 1300]))  # 3 parts
    await wecom.drain_outbox()
    assert len(wecom.fake.received) == 18  # 18 + 3 would pass 20 a minute: it waits
    wecom.clock.advance(minutes=1, seconds=1)
    await wecom.drain_outbox()
    assert len(wecom.fake.received) == 21
