"""The outbox sender: restart resumption, per-target rate limits, retries with back-off, failures recorded."""

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from bot.app import build_app
from bot.message import Outgoing
from bot.models import Chat, Outbox, OutboxStatus
from bot.outbox import PermanentError, RateLimit, TransientError
from bot.scheduler import Job
from tests.support import BotDriver


class RecordingClient:
    """A channel client that records deliveries and fails as told."""

    name = "rec"

    def __init__(self, clock, limit: RateLimit | None = None) -> None:
        self.clock = clock
        self.limit = limit
        self.delivered: list[tuple[object, str]] = []
        self.fail_with: Exception | None = None

    def rate_limit(self, item: Outgoing) -> RateLimit | None:
        return self.limit

    async def deliver(self, item: Outgoing) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.delivered.append((self.clock(), item.text))


def announce(count: int, channel: str = "sim", chat: str = "demo-group"):
    async def announce_job(ctx) -> None:
        target = Chat(channel=channel, platform_chat_id=chat)
        for i in range(count):
            await ctx.send_to_chat(target, f"通知 {i + 1}")

    return Job(name="announce", func=announce_job, cron="0 9 * * 5", description="test push")


async def start(aiohttp_client, config, clock, jobs=()):
    app = build_app(config, clock=clock, background=False, jobs=jobs)
    return BotDriver(await aiohttp_client(app), app)


async def rows(driver: BotDriver) -> list[Outbox]:
    async with driver.services.sessions() as session:
        return list(await session.scalars(select(Outbox).order_by(Outbox.id)))


async def test_row_pending_at_shutdown_is_delivered_after_restart(aiohttp_client, config, clock):
    first = await start(aiohttp_client, config, clock, jobs=[announce(2)])
    await first.services.jobs.run_now("announce")
    # A crash mid-send: the second row was leased and never finished.
    async with first.services.sessions() as session, session.begin():
        await session.execute(
            update(Outbox)
            .where(Outbox.text == "通知 2")
            .values(status=OutboxStatus.SENDING, lease_until=clock() + timedelta(seconds=60))
        )
    await first.client.close()  # shutdown: nothing was delivered

    second = await start(aiohttp_client, config, clock, jobs=[announce(2)])
    assert await second.drain_outbox() == 1  # the leased row waits for its lease to run out
    clock.advance(seconds=61)
    assert await second.drain_outbox() == 1
    texts = [line["text"] for line in await second.transcript()]
    assert texts == ["通知 1", "通知 2"]
    assert {r.status for r in await rows(second)} == {OutboxStatus.SENT}


async def test_background_sender_delivers_and_stops_cleanly(aiohttp_client, config, clock):
    app = build_app(config, clock=clock, background=True, jobs=[announce(3)])
    driver = BotDriver(await aiohttp_client(app), app)
    await driver.services.jobs.run_now("announce")
    # The job's commit wakes the running sender; give it a moment (bounded) to deliver.
    for _ in range(200):
        if {r.status for r in await rows(driver)} == {OutboxStatus.SENT}:
            break
        await asyncio.sleep(0.01)
    assert [line["text"] for line in await driver.transcript()] == ["通知 1", "通知 2", "通知 3"]


async def test_rate_limit_spreads_pushes_to_one_target(aiohttp_client, config, clock):
    driver = await start(aiohttp_client, config, clock, jobs=[announce(100, channel="rec", chat="robot-1")])
    client = RecordingClient(clock, RateLimit(count=20, seconds=60))
    driver.services.clients["rec"] = client
    await driver.services.jobs.run_now("announce")
    started = clock()
    for _ in range(400):
        await driver.drain_outbox()
        if len(client.delivered) == 100:
            break
        clock.advance(seconds=1)
    times = [t for t, _ in client.delivered]
    assert [text for _, text in client.delivered] == [f"通知 {i + 1}" for i in range(100)]  # in order
    for i, t in enumerate(times):
        window = [u for u in times[: i + 1] if u > t - timedelta(seconds=60)]
        assert len(window) <= 20
    assert times[-1] - started >= timedelta(minutes=4)


async def test_transient_errors_back_off_then_fail_with_reason(aiohttp_client, config, clock):
    driver = await start(aiohttp_client, config, clock, jobs=[announce(1, channel="rec", chat="g")])
    client = RecordingClient(clock)
    client.fail_with = TransientError("busy (-1)")
    driver.services.clients["rec"] = client
    await driver.services.jobs.run_now("announce")
    due_times = []
    for _ in range(10):
        await driver.drain_outbox()
        [row] = await rows(driver)
        if row.status == OutboxStatus.FAILED:
            break
        due_times.append(row.next_attempt_at - clock())
        clock.set(row.next_attempt_at)
    assert due_times == [timedelta(seconds=s) for s in (2, 4, 8, 16)]
    assert row.attempts == 5
    assert row.last_error == "busy (-1) (after 5 attempts)"


async def test_transient_error_then_success(aiohttp_client, config, clock):
    driver = await start(aiohttp_client, config, clock, jobs=[announce(1, channel="rec", chat="g")])
    client = RecordingClient(clock)
    client.fail_with = TransientError("rate limited", retry_after=30)
    driver.services.clients["rec"] = client
    await driver.services.jobs.run_now("announce")
    await driver.drain_outbox()
    [row] = await rows(driver)
    assert row.next_attempt_at - clock() == timedelta(seconds=30)
    client.fail_with = None
    clock.advance(seconds=30)
    await driver.drain_outbox()
    [row] = await rows(driver)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, None)


async def test_permanent_error_fails_at_once_and_does_not_block_the_target(aiohttp_client, config, clock):
    driver = await start(aiohttp_client, config, clock, jobs=[announce(2, channel="rec", chat="g")])
    client = RecordingClient(clock)
    driver.services.clients["rec"] = client

    class FailFirst(RecordingClient):
        async def deliver(self, item):
            if item.text == "通知 1":
                raise PermanentError("81013: all recipients invalid")
            await super().deliver(item)

    driver.services.clients["rec"] = FailFirst(clock)
    await driver.services.jobs.run_now("announce")
    await driver.drain_outbox()
    first, second = await rows(driver)
    assert (first.status, first.attempts, first.last_error) == (
        OutboxStatus.FAILED,
        1,
        "81013: all recipients invalid",
    )
    assert second.status == OutboxStatus.SENT


async def test_unknown_channel_is_a_recorded_failure(aiohttp_client, config, clock):
    driver = await start(aiohttp_client, config, clock, jobs=[announce(1, channel="nowhere", chat="g")])
    await driver.services.jobs.run_now("announce")
    await driver.drain_outbox()
    [row] = await rows(driver)
    assert row.status == OutboxStatus.FAILED
    assert "no client for channel 'nowhere'" in row.last_error


async def test_passive_answers_do_not_use_the_push_quota(aiohttp_client, config, clock):
    driver = await start(aiohttp_client, config, clock, jobs=[announce(2, channel="rec", chat="robot-1")])
    client = RecordingClient(clock, RateLimit(count=1, seconds=60))
    driver.services.clients["rec"] = client
    await driver.services.jobs.run_now("announce")
    first, second = await rows(driver)
    assert [item.id for item in await driver.services.sender.claim_passive([first.id])] == [first.id]
    await driver.drain_outbox()
    assert [text for _, text in client.delivered] == ["通知 2"]  # not held back by the passive answer


async def test_replies_wait_for_the_passive_answer_then_fall_back_to_the_sender(bot, clock):
    from bot.message import Message

    async def process(msg_id: str):
        msg = Message(
            channel="sim", platform_msg_id=msg_id, sender_id="u01", text="帮助", sent_at=clock(), chat_id="demo-group"
        )
        return await bot.services.pipeline.process(msg)

    outcome = await process("held-1")
    assert await bot.services.sender.run_once() == 0  # held for the channel's own answer
    delivered = await bot.services.sender.deliver_now(outcome.reply_ids)
    assert [item.id for item in delivered] == outcome.reply_ids
    # A reply whose passive answer never comes (the endpoint died) goes out once the hold is over.
    outcome = await process("held-2")
    clock.advance(seconds=bot.services.config.outbox.reply_hold_seconds)
    assert await bot.drain_outbox() == 1
    assert [line["sender"] for line in await bot.transcript()][-1] == "bot"
