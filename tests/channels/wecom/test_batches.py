"""App messages batched by touser (发送应用消息, path/90236): one message/send to up to 1,000 members; invaliduser;
a crash mid-batch; order per target; private meeting cards tapped through the app callback."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.core import texts
from bot.core.models import EntryStatus, Outbox, OutboxStatus, RollCallEntry
from bot.notices import texts as notice_texts
from tests.channels.wecom.conftest import ADMIN, AIBOT_CHAT, ROBOT_KEY
from tests.conftest import TZ


async def push_to(wecom, user: str, text: str, due: datetime | None = None) -> None:
    """A push to a member (answering no message), committed and due (now unless told)."""
    now = wecom.clock()
    async with wecom.services.sessions() as session, session.begin():
        session.add(
            Outbox(
                channel="wecom",
                target_kind="user",
                target_id=user,
                text=text,
                mentions=[],
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=due or now,
                created_at=now,
            )
        )


async def rows(wecom, **where: object) -> list[Outbox]:
    async with wecom.services.sessions() as session:
        found = await session.scalars(select(Outbox).filter_by(**where).order_by(Outbox.id))
        return list(found)


async def test_300_members_nudges_go_in_one_call(wecom, fake, clock):
    users = [f"p{i:03d}" for i in range(300)]
    for user in users:
        await wecom.aibot_say("@学习驿站 我是谁", user=user)
    _, answer = await wecom.aibot_say("@学习驿站 通知 周五集中学习", user=ADMIN)
    assert answer is not None and answer["msgtype"] == "stream_with_template_card"
    await wecom.drain_outbox()
    calls = len(fake.app_calls)
    clock.advance(minutes=61)  # the first nudge: to each member who has not acknowledged
    await wecom.services.jobs.fire("tick_roll_calls", clock())
    await wecom.drain_outbox()
    [call] = fake.app_calls[calls:]
    assert set(users) <= set(call) and len(call) == len(set(call))
    nudged = notice_texts.NOTICE_NUDGE_ALL.format(seq=1, title="周五集中学习")
    assert all(fake.contents("message/send", user) == [nudged] for user in users)
    [card] = fake.cards.in_chat("p150")
    assert fake.cards.in_chat("p007") == [card] and card["sub_title_text"] == nudged
    nudges = await rows(wecom, text=nudged)
    assert len(nudges) == len(call) and {row.status for row in nudges} == {OutboxStatus.SENT}
    assert fake.over_limit_dropped == 0
    # A member taps 收到 on their copy: stored, and only their button renamed.
    tap = wecom.app_tap_xml(card["task_id"], "p150", texts.CARD_RECEIPT_BUTTON)
    assert await wecom.app_post_xml(tap) == (200, "")
    assert fake.cards.labels(card["task_id"], "p150") == [texts.CARD_DONE_RECEIPT]
    assert fake.cards.labels(card["task_id"], "p007") == [texts.CARD_RECEIPT_BUTTON]
    async with wecom.services.sessions() as session:
        done = await session.scalars(select(RollCallEntry).where(RollCallEntry.status == EntryStatus.DONE))
        assert len(list(done)) == 1


async def test_a_member_wecom_does_not_know_fails_their_row_only(wecom, fake):
    fake.invalid_users.add("ghost")
    for user in ("p1", "ghost", "p3"):
        await push_to(wecom, user, "请于周五前提交学习笔记")
    await wecom.drain_outbox()
    assert fake.app_calls == [("p1", "p3")]  # one call; WeCom answered invaliduser "ghost"
    by_target = {row.target_id: row for row in await rows(wecom)}
    assert by_target["p1"].status == by_target["p3"].status == OutboxStatus.SENT
    ghost = by_target["ghost"]
    assert ghost.status == OutboxStatus.FAILED and "invaliduser ghost" in (ghost.last_error or "")
    # None of them valid: the whole call fails (81013), and so does every row of it.
    fake.invalid_users.update({"x1", "x2"})
    for user in ("x1", "x2"):
        await push_to(wecom, user, "第二条")
    await wecom.drain_outbox()
    assert {row.status for row in await rows(wecom, text="第二条")} == {OutboxStatus.FAILED}
    assert all("81013" in (row.last_error or "") for row in await rows(wecom, text="第二条"))


async def test_a_member_with_an_earlier_undelivered_row_is_not_batched_ahead_of_it(wecom, fake, clock):
    await push_to(wecom, "p1", "先发的提醒", due=clock() + timedelta(minutes=5))  # waiting (e.g. a back-off)
    for user in ("p1", "p2", "p3"):
        await push_to(wecom, user, "后发的通知")
    await wecom.drain_outbox()
    assert fake.app_calls == [("p2", "p3")]
    assert fake.contents("message/send", "p1") == []
    clock.advance(minutes=5)
    await wecom.drain_outbox()
    assert fake.contents("message/send", "p1") == ["先发的提醒", "后发的通知"]


async def test_a_member_at_the_per_minute_limit_waits_out_of_the_batch(wecom, fake, clock):
    """ "每应用对同一个成员不可超过30次/分钟" (path/90312) holds for each recipient of a batch."""
    for i in range(30):
        await push_to(wecom, "busy", f"第{i}条")
    await wecom.drain_outbox()
    assert len(fake.contents("message/send", "busy")) == 30
    for user in ("busy", "p2", "p3"):
        await push_to(wecom, user, "同一条通知")
    calls = len(fake.app_calls)
    await wecom.drain_outbox()
    assert fake.app_calls[calls:] == [("p2", "p3")]
    [held] = await rows(wecom, target_id="busy", text="同一条通知")
    assert held.status == OutboxStatus.PENDING and held.next_attempt_at > clock()
    clock.advance(seconds=61)
    await wecom.drain_outbox()
    assert fake.contents("message/send", "busy")[-1] == "同一条通知"
    assert fake.over_limit_dropped == 0


async def crash_mid_batch(wecom, fake, users: list[str]) -> None:
    """The sender dies after WeCom took the batch but before its answer came back (the "sent" marks lost)."""
    for user in users:
        await push_to(wecom, user, "请于周五前提交学习笔记")
    fake.latency_seconds = 1.0
    task = asyncio.create_task(wecom.services.sender.run_once())
    while not fake.app_calls:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    fake.latency_seconds = 0.0
    assert {row.status for row in await rows(wecom)} == {OutboxStatus.SENDING}  # leased, unmarked
    wecom.clock.advance(seconds=wecom.services.config.outbox.lease_seconds + 1)
    await wecom.drain_outbox()
    assert {row.status for row in await rows(wecom)} == {OutboxStatus.SENT}


async def test_a_batch_resent_after_a_crash_arrives_once_by_the_duplicate_check(wecom, fake):
    users = ["p1", "p2", "p3"]
    await crash_mid_batch(wecom, fake, users)
    assert fake.app_calls == [tuple(users)]  # the same request again: WeCom dropped it
    assert fake.duplicates_dropped == 1
    assert all(fake.contents("message/send", user) == ["请于周五前提交学习笔记"] for user in users)


async def test_a_batch_resent_after_a_crash_is_sent_at_most_twice(start_wecom, fake):
    """Without the duplicate check: the one batch in flight (at most `concurrency`) is sent again, once."""
    wecom = await start_wecom(duplicate_check_seconds=0)
    users = ["p1", "p2", "p3"]
    await crash_mid_batch(wecom, fake, users)
    assert fake.app_calls == [tuple(users), tuple(users)]
    assert all(len(fake.contents("message/send", user)) == 2 for user in users)


async def test_meeting_reminder_card_in_the_app_is_tapped_for_leave_and_check_in(start_wecom, fake, clock):
    wecom = await start_wecom(robot_webhooks=(f"{AIBOT_CHAT}={ROBOT_KEY}",))
    start = datetime(2026, 11, 27, 14, 30, tzinfo=TZ)
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    for user in ("m1", "m2", "m3"):
        await wecom.aibot_say("@学习驿站 我是谁", user=user)
    await wecom.aibot_say("@学习驿站 发起主题党日 11月27日14:30 三楼会议室", user=ADMIN)
    await wecom.drain_outbox()
    clock.set(start - timedelta(hours=1))
    await wecom.services.jobs.fire("tick_roll_calls", clock())
    await wecom.drain_outbox()
    [card] = fake.cards.in_chat("m1")
    assert fake.cards.in_chat("m2") == [card]  # one card to every member, in one call
    task = card["task_id"]
    # m1 cannot come: 请假 on the card in the app's chat is the typed word.
    assert await wecom.app_post_xml(wecom.app_tap_xml(task, "m1", texts.CARD_LEAVE_BUTTON)) == (200, "")
    assert fake.cards.labels(task, "m1") == [texts.CARD_DONE_LEAVE]
    # m2 taps 签到 in the check-in window.
    clock.set(start - timedelta(minutes=10))
    assert await wecom.app_post_xml(wecom.app_tap_xml(task, "m2", texts.CARD_CHECK_IN_BUTTON)) == (200, "")
    assert fake.cards.labels(task, "m2") == [texts.CARD_DONE_CHECK_IN]
    assert fake.cards.labels(task, "m3") == [texts.CARD_CHECK_IN_BUTTON, texts.CARD_LEAVE_BUTTON]
    async with wecom.services.sessions() as session:
        statuses = sorted((await session.scalars(select(RollCallEntry.status))).all())
    assert statuses.count(EntryStatus.DONE) == 1
    assert statuses.count(EntryStatus.LEAVE) + statuses.count(EntryStatus.LEAVE_REQUESTED) == 1
