"""Images over WeCom (the leaderboard's chart): a robot gets base64 with the MD5, the app uploads a media_id."""

import logging
import struct
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.context import Context
from bot.core.db import transaction
from bot.core.models import Member, MemberIdentity, OutboxStatus, PointsEntry
from bot.quiz import texts as quiz_texts
from tests.channels.wecom.conftest import AIBOT_CHAT, APPCHAT, ROBOT_CHAT, ROBOT_KEY


def png(side: int = 2, padding: int = 0) -> bytes:
    """A valid grey PNG of side × side pixels (padding: that many extra bytes in an ancillary chunk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    extra = chunk(b"teXt", b"x" * padding) if padding else b""
    idat = chunk(b"IDAT", zlib.compress(rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + idat + chunk(b"IEND", b"")


async def push_image(wecom, kind: str, target: str, text: str, image: bytes) -> None:
    """An outbox row with an image, as Context.reply(text, image=…) writes one."""
    async with transaction(wecom.services.sessions) as session:
        ctx = Context(config=wecom.services.config, session=session, clock=wecom.clock)
        ctx._add("wecom", kind, target, text, (), await ctx._media(image))


async def test_a_robot_gets_the_text_then_the_image_as_base64_with_its_md5(wecom):
    image = png()
    await push_image(wecom, "chat", ROBOT_CHAT, "本周积分榜", image)
    await wecom.drain_outbox()
    text, picture = wecom.fake.received
    assert (text.endpoint, text.target, text.msgtype, text.content) == (
        "webhook/send",
        ROBOT_KEY,
        "markdown",
        "本周积分榜",
    )
    assert (picture.endpoint, picture.target, picture.msgtype, picture.image) == (
        "webhook/send",
        ROBOT_KEY,
        "image",
        image,
    )
    assert [row.status for row in await wecom.outbox()] == [OutboxStatus.SENT]


@pytest.mark.parametrize(
    ("kind", "target", "endpoint"), [("user", "zhangsan", "message/send"), ("chat", APPCHAT, "appchat/send")]
)
async def test_the_app_uploads_the_image_then_sends_its_media_id(wecom, kind, target, endpoint):
    image = png(3)
    await push_image(wecom, kind, target, "本周积分榜", image)
    await wecom.drain_outbox()
    text, picture = wecom.fake.received
    assert (text.endpoint, text.target, text.msgtype, text.content) == (endpoint, target, "text", "本周积分榜")
    assert (picture.endpoint, picture.target, picture.msgtype, picture.image) == (endpoint, target, "image", image)
    assert list(wecom.fake.media.values()) == [image]  # uploaded once, as type=image
    assert [row.status for row in await wecom.outbox()] == [OutboxStatus.SENT]


async def test_an_image_that_fails_is_retried_without_repeating_the_text(wecom):
    image = png()
    wecom.fake.fail("webhook/send", 0)  # the text goes through …
    wecom.fake.fail("webhook/send", -1)  # … the image meets "system busy"
    await push_image(wecom, "chat", ROBOT_CHAT, "本周积分榜", image)
    await wecom.drain_outbox()
    assert [r.msgtype for r in wecom.fake.received] == ["markdown"]
    [row] = await wecom.outbox()
    assert row.status == OutboxStatus.PENDING and "busy" in (row.last_error or "")
    wecom.clock.advance(minutes=5)
    await wecom.drain_outbox()
    assert [(r.msgtype, r.image) for r in wecom.fake.received] == [("markdown", None), ("image", image)]
    assert [row.status for row in await wecom.outbox()] == [OutboxStatus.SENT]


async def test_a_failed_upload_is_retried_with_a_fresh_token_once_it_expired(wecom):
    image = png()
    await push_image(wecom, "user", "zhangsan", "本周积分榜", image)
    wecom.fake.fail("media/upload", -1)
    await wecom.drain_outbox()
    assert [r.msgtype for r in wecom.fake.received] == ["text"]
    wecom.fake.expire_tokens()
    wecom.clock.advance(minutes=5)
    await wecom.drain_outbox()
    assert [(r.msgtype, r.image) for r in wecom.fake.received] == [("text", None), ("image", image)]
    assert [row.status for row in await wecom.outbox()] == [OutboxStatus.SENT]


async def test_an_image_refused_for_good_is_let_go_once_its_text_is_delivered(wecom, caplog):
    await push_image(wecom, "user", "zhangsan", "本周积分榜", png())
    wecom.fake.fail("media/upload", 40004)  # not busy, not a rate or token error: WeCom will not take it
    with caplog.at_level(logging.WARNING, logger="bot.core.channels.wecom.client"):
        await wecom.drain_outbox()
    assert [(r.msgtype, r.content) for r in wecom.fake.received] == [("text", "本周积分榜")]
    assert "was not delivered, its text was" in caplog.text and "40004" in caplog.text
    assert [row.status for row in await wecom.outbox()] == [OutboxStatus.SENT]


async def test_an_image_over_two_megabytes_leaves_its_text_to_go_alone(wecom, caplog):
    big = png(padding=2 * 1024 * 1024)
    await push_image(wecom, "chat", ROBOT_CHAT, "本周积分榜", big)
    with caplog.at_level(logging.WARNING, logger="bot.core.channels.wecom.client"):
        await wecom.drain_outbox()
    assert [(r.msgtype, r.content) for r in wecom.fake.received] == [("markdown", "本周积分榜")]
    assert "over 2 MB" in caplog.text
    assert [row.status for row in await wecom.outbox()] == [OutboxStatus.SENT]


# --- end to end: a member asks for the leaderboard --------------------------------------------------------


def _need_cjk_font() -> None:
    from bot.quiz.chart import cjk_family
    from tests.conftest import IN_CI

    if cjk_family() is None:
        if IN_CI:
            pytest.fail("no CJK font: CI installs fonts-wqy-microhei")
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei): the leaderboard has no chart")


async def _give_points(wecom, user: str, points: int) -> None:
    async with transaction(wecom.services.sessions) as session:
        member = (
            await session.execute(
                select(Member.id, Member.branch_id)
                .join(MemberIdentity, MemberIdentity.member_id == Member.id)
                .where(MemberIdentity.channel == "wecom", MemberIdentity.platform_user_id == user)
            )
        ).one()
        session.add(
            PointsEntry(
                branch_id=member.branch_id,
                member_id=member.id,
                points=points,
                rule="quiz_match",
                source=f"test:{user}",
                created_at=wecom.clock(),
            )
        )


async def test_the_leaderboard_asked_in_the_app_is_pushed_with_its_chart(wecom):
    _need_cjk_font()
    await wecom.app_say("你好")  # registers zhangsan
    await _give_points(wecom, "zhangsan", 12)
    status, passive = await wecom.app_say("排行榜 全部")
    assert (status, passive) == (200, None)  # a passive answer carries text only: the row is pushed instead
    await wecom.drain_outbox()
    text, picture = [r for r in wecom.fake.received if r.endpoint == "message/send"]
    assert text.target == picture.target == "zhangsan"
    assert quiz_texts.LEADERBOARD_PERIODS["all"] in text.content and "12" in text.content
    assert picture.msgtype == "image" and picture.image.startswith(b"\x89PNG")


async def test_the_leaderboard_asked_of_the_ai_bot_goes_to_the_group_by_its_robot(wecom):
    _need_cjk_font()
    await wecom.aibot_say("@学习驿站 你好", user="lisi", chat=ROBOT_CHAT)  # registers lisi
    await _give_points(wecom, "lisi", 7)
    status, answer = await wecom.aibot_say("@学习驿站 排行榜 全部", user="lisi", chat=ROBOT_CHAT)
    assert (status, answer) == (200, None)  # pushed by the robot, which can show the chart
    await wecom.drain_outbox()
    text, picture = [r for r in wecom.fake.received if r.endpoint == "webhook/send"]
    assert text.msgtype == "markdown" and "7" in text.content
    assert picture.msgtype == "image" and picture.image.startswith(b"\x89PNG")  # the fake checked its MD5
    # Where no push can show it (a group with the AI bot only), the passive answer carries the text.
    await wecom.aibot_say("@学习驿站 你好", user="wangwu", chat=AIBOT_CHAT)
    status, answer = await wecom.aibot_say("@学习驿站 排行榜 全部", user="wangwu", chat=AIBOT_CHAT)
    assert status == 200 and answer is not None and "7" in answer["stream"]["content"]


async def test_the_leaderboard_asked_of_the_ai_bot_one_to_one_is_answered_there_in_text(wecom):
    """A 1:1 question to the AI bot is answered in that conversation (text only), not moved to the app."""
    _need_cjk_font()
    await wecom.aibot_say("你好", user="lisi", chat=None)  # registers lisi
    await _give_points(wecom, "lisi", 9)
    status, answer = await wecom.aibot_say("排行榜 全部", user="lisi", chat=None)
    assert status == 200 and answer is not None and "9" in answer["stream"]["content"]
    await wecom.drain_outbox()
    assert not [r for r in wecom.fake.received if r.target == "lisi"]


async def test_rows_with_images_count_two_messages_in_the_robots_window(wecom):
    """Twelve leaderboards to one robot are 24 messages: the window holds back what would meet 45009."""
    image = png()
    for i in range(12):
        await push_image(wecom, "chat", ROBOT_CHAT, f"积分榜 {i}", image)
    for _ in range(12):
        await wecom.drain_outbox()
        if len(wecom.fake.received) == 24:
            break
        wecom.clock.advance(seconds=15)
    times = [r.at for r in wecom.fake.received]
    assert [r.content for r in wecom.fake.received if r.msgtype == "markdown"] == [f"积分榜 {i}" for i in range(12)]
    assert all(sum(1 for u in times if t <= u < t + timedelta(minutes=1)) <= 20 for t in times)
    rows = await wecom.outbox()
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert {row.attempts for row in rows} == {1}  # none was refused with 45009 and retried
