"""The outbox sender: restart resumption, per-target rate limits, retries with back-off, failures recorded."""

import asyncio
import contextlib
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from bot.app import build_app
from bot.core.config import DatabaseConfig
from bot.core.message import Outgoing
from bot.core.models import Chat, Outbox, OutboxStatus
from bot.core.outbox import PermanentError, RateLimit, TransientError
from bot.core.scheduler import Job
from tests.support import BotDriver, waiting_for_locks


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
    # Marked as carried in an HTTP answer, as the group commit marks a passive reply.
    async with driver.services.sessions() as session, session.begin():
        passive = dict(status=OutboxStatus.SENT, sent_at=clock(), attempts=1, delivered_via="passive")
        await session.execute(update(Outbox).where(Outbox.id == first.id).values(**passive))
    await driver.drain_outbox()
    assert [text for _, text in client.delivered] == ["通知 2"]  # not held back by the passive answer


async def test_replies_wait_for_the_passive_answer_then_fall_back_to_the_sender(bot, clock):
    from bot.core.message import Message

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


# --- leases, crashes, outages, order (issue #13) ------------------------------------------------------------


async def status_of_the_row(driver) -> str | None:
    async with driver.services.sessions() as session:
        return await session.scalar(select(Outbox.status).order_by(Outbox.id).limit(1))


def sender_on_own_engine(config, clients, clock, **outbox):
    """A second sender as another process would run it: its own engine on the same database."""
    from bot.core import db
    from bot.core.outbox import OutboxSender

    engine = db.create_engine(config.database)
    outbox_config = replace(config.outbox, **outbox) if outbox else config.outbox
    return engine, OutboxSender(db.session_factory(engine), clients, outbox_config, clock)


async def test_a_late_mark_does_not_overwrite_the_new_lease_holder(aiohttp_client, config, clock):
    """A delivery that outlived its lease was taken over and delivered; its late failure must not clobber that."""
    driver = await start(aiohttp_client, config, clock, jobs=[announce(1, channel="rec", chat="g")])
    entered, finish = asyncio.Event(), asyncio.Event()

    class Slow(RecordingClient):
        async def deliver(self, item):
            if not entered.is_set():
                entered.set()
                await finish.wait()
                raise PermanentError("the first attempt's request failed")
            await super().deliver(item)

    client = Slow(clock)
    driver.services.clients["rec"] = client
    await driver.services.jobs.run_now("announce")
    first = asyncio.create_task(driver.services.sender.run_once())
    await entered.wait()
    clock.advance(seconds=config.outbox.lease_seconds + 1)  # the first holder stalled past its lease
    engine, other = sender_on_own_engine(config, {"rec": client}, clock)
    try:
        assert await other.run_once() == 1
    finally:
        await engine.dispose()
    finish.set()
    await first
    [row] = await rows(driver)
    assert (row.status, row.last_error, row.delivered_via) == (OutboxStatus.SENT, None, "sender")
    assert [text for _, text in client.delivered] == ["通知 1"]


async def test_a_slow_delivery_keeps_its_lease_and_is_not_sent_twice(aiohttp_client, config, clock):
    """A delivery longer than the lease (token refresh, upload, several parts) is not taken over meanwhile."""
    config = config.replace(outbox={**vars(config.outbox), "lease_seconds": 0.6})
    driver = await start(aiohttp_client, config, clock, jobs=[announce(1, channel="rec", chat="g")])

    class Slow(RecordingClient):
        async def deliver(self, item):
            for _ in range(10):  # 1 s of (fake and real) time, longer than the lease
                clock.advance(seconds=0.1)
                await asyncio.sleep(0.1)
            await super().deliver(item)

    client = Slow(clock)
    driver.services.clients["rec"] = client
    await driver.services.jobs.run_now("announce")
    engine, other = sender_on_own_engine(config, {"rec": client}, clock)
    try:
        first = asyncio.create_task(driver.services.sender.run_once())
        async with asyncio.timeout(5):  # the first sender holds the row's lease before the other looks
            while await status_of_the_row(driver) != OutboxStatus.SENDING:
                await asyncio.sleep(0.01)
        takeovers = 0
        while not first.done():
            takeovers += await other.run_once()
            await asyncio.sleep(0.05)
        await first
    finally:
        await engine.dispose()
    assert takeovers == 0
    assert len(client.delivered) == 1


async def test_a_crash_mid_broadcast_resends_at_most_the_deliveries_in_flight(aiohttp_client, config, clock):
    """kill -9 in the middle of a broadcast: after the restart only the rows in flight may go twice."""
    driver = await start(aiohttp_client, config, clock)
    now = clock()
    async with driver.services.sessions() as session, session.begin():
        for i in range(100):
            session.add(
                Outbox(
                    channel="rec",
                    target_kind="user",
                    target_id=f"m{i:03d}",
                    text=f"通知 {i}",
                    mentions=[],
                    status=OutboxStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    delivered: list[str] = []

    class Network(RecordingClient):
        async def deliver(self, item):
            delivered.append(item.target_id)  # the platform has it; the answer takes a moment to come back
            await asyncio.sleep(0.01)

    driver.services.clients["rec"] = Network(clock)
    crashed = asyncio.create_task(driver.services.sender.run_once())
    for _ in range(5000):
        if len(delivered) >= 10 or crashed.done():
            break
        await asyncio.sleep(0.001)
    crashed.cancel()  # the process dies: nothing after this point is written
    with contextlib.suppress(asyncio.CancelledError):
        await crashed
    clock.advance(seconds=config.outbox.lease_seconds + 1)
    await driver.drain_outbox()
    counts = Counter(delivered)
    assert sorted(counts) == [f"m{i:03d}" for i in range(100)]  # nothing lost
    assert sum(n - 1 for n in counts.values()) <= getattr(config.outbox, "concurrency", 4)


class FlakySessions:
    """A session factory whose database can be made unreachable."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions
        self.down = False

    def __call__(self):
        if self.down:
            raise OperationalError("connect", {}, ConnectionRefusedError("database unreachable"))
        return self.sessions()


async def test_a_sent_mark_that_cannot_be_written_is_retried_not_resent(aiohttp_client, config, clock):
    """The database goes away between the delivery and its "sent" mark: the mark waits for it; no second send."""
    from bot.core.outbox import OutboxSender

    driver = await start(aiohttp_client, config, clock, jobs=[announce(3, channel="rec", chat="g")])
    flaky = FlakySessions(driver.services.sessions)

    class CutAfterFirst(RecordingClient):
        async def deliver(self, item):
            await super().deliver(item)
            if len(self.delivered) == 1:
                flaky.down = True
                asyncio.get_running_loop().call_later(0.5, setattr, flaky, "down", False)

    client = CutAfterFirst(clock)
    sender = OutboxSender(flaky, {"rec": client}, config.outbox, clock)
    await driver.services.jobs.run_now("announce")
    for _ in range(10):
        try:
            await sender.run_once()
        except OperationalError:
            await asyncio.sleep(0.2)
        clock.advance(seconds=config.outbox.lease_seconds + 1)  # any lease left behind has run out
    assert [text for _, text in client.delivered] == ["通知 1", "通知 2", "通知 3"]
    assert {r.status for r in await rows(driver)} == {OutboxStatus.SENT}


async def test_a_reply_delivered_at_once_does_not_overtake_an_earlier_push(bot, clock):
    """The simulator's immediate reply waits behind a notice still going out to the same chat."""
    now = clock()
    async with bot.services.sessions() as session, session.begin():
        session.add(
            Outbox(
                channel="sim",
                target_kind="chat",
                target_id="demo-group",
                text="先发的通知",
                mentions=[],
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    pushing = asyncio.create_task(_deliver_soon(bot))
    answer = await bot.say("帮助", user="u01")
    await pushing
    await bot.drain_outbox()
    bot_lines = [line["text"] for line in await bot.transcript() if line["sender"] == "bot"]
    assert bot_lines[0] == "先发的通知"
    assert len(bot_lines) == 2 and answer["replies"] and answer["replies"][0]["text"] == bot_lines[1]


async def _deliver_soon(bot) -> None:
    await asyncio.sleep(0.2)
    await bot.drain_outbox()


async def test_a_wake_up_during_a_pass_is_not_lost(aiohttp_client, config, clock):
    """notify() while a pass runs makes the next pass start at once, not after the poll interval."""
    config = config.replace(outbox={**vars(config.outbox), "poll_interval_seconds": 30.0})
    driver = await start(aiohttp_client, config, clock)
    sender = driver.services.sender
    passes = 0

    async def run_once() -> int:
        nonlocal passes
        passes += 1
        if passes == 1:
            await asyncio.sleep(0)
            sender.notify()  # rows committed while this pass was looking
        return 0

    sender.run_once = run_once  # type: ignore[method-assign]
    sender.start()
    try:
        for _ in range(100):
            if passes >= 2:
                break
            await asyncio.sleep(0.01)
    finally:
        await sender.stop()
    assert passes >= 2


async def test_the_sender_lets_waiting_inbound_messages_go_first_for_a_bounded_time(aiohttp_client, config, clock):
    """While the group commit has messages to write (a 竞赛's answers arriving together), a pass waits for them —
    at most inbound_first_seconds, so a steady load cannot hold the outbox back for longer."""
    config = config.replace(outbox={**vars(config.outbox), "poll_interval_seconds": 30.0, "inbound_first_seconds": 0.3})
    driver = await start(aiohttp_client, config, clock)
    sender = driver.services.sender
    assert sender.inbound_waiting == driver.services.pipeline.commits.waiting  # wired to this process's writer
    loop = asyncio.get_running_loop()
    passes: list[float] = []

    async def run_once() -> int:
        passes.append(loop.time())
        return 0

    waiting = True
    sender.run_once = run_once  # type: ignore[method-assign]
    sender.inbound_waiting = lambda: waiting
    sender.start()
    try:
        await asyncio.sleep(0.1)
        assert passes == []  # the answers go first
        waiting = False
        for _ in range(300):
            if passes:
                break
            await asyncio.sleep(0.01)
        assert len(passes) == 1  # at once when they are written
        waiting = True  # and under a load that never lets up, still a pass per inbound_first_seconds
        sender.notify()
        for _ in range(300):
            if len(passes) == 2:
                break
            await asyncio.sleep(0.01)
        assert len(passes) == 2 and passes[1] - passes[0] >= 0.25
    finally:
        await sender.stop()


async def test_under_a_load_that_never_lets_up_the_sender_still_sends_a_share_of_the_time(
    aiohttp_client, config, clock
):
    """The writer never idles: after each full wait the sender's passes run back to back for a quarter of
    inbound_first_seconds, not one pass (batch_size rows) per wait; then it waits again."""
    config = config.replace(outbox={**vars(config.outbox), "poll_interval_seconds": 30.0, "inbound_first_seconds": 0.3})
    driver = await start(aiohttp_client, config, clock)
    sender = driver.services.sender
    loop = asyncio.get_running_loop()
    passes: list[float] = []

    async def run_once() -> int:  # a pass that found rows and sent them
        passes.append(loop.time())
        await asyncio.sleep(0)
        return 1

    sender.run_once = run_once  # type: ignore[method-assign]
    sender.inbound_waiting = lambda: True
    started = loop.time()
    sender.start()
    try:
        await asyncio.sleep(1.3)
    finally:
        await sender.stop()
    assert passes and passes[0] - started >= 0.25  # the answers go first
    gaps = [b - a for a, b in zip(passes, passes[1:], strict=False)]
    waits = [gap for gap in gaps if gap >= 0.25]
    assert len(waits) >= 2  # it keeps waiting for the answers between its runs of passes
    assert len(passes) >= 3 * (len(waits) + 1)  # several passes after each wait (before: one)


async def test_two_senders_on_two_engines_deliver_each_row_once(pg_url, clock):
    """Two processes' senders race over one PostgreSQL outbox: every row is delivered exactly once."""
    from bot.core import db
    from bot.core.config import DatabaseConfig
    from bot.core.outbox import OutboxSender
    from tests.conftest import make_config

    config = make_config(pg_url)
    engines = [db.create_engine(DatabaseConfig(url=pg_url)) for _ in range(2)]
    try:
        sessions = [db.session_factory(e) for e in engines]
        now = clock()
        async with db.transaction(sessions[0]) as session:
            for i in range(200):
                session.add(
                    Outbox(
                        channel="rec",
                        target_kind="user",
                        target_id=f"m{i % 50:03d}",
                        text=f"{i}",
                        mentions=[],
                        status=OutboxStatus.PENDING,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        delivered: list[tuple[str, int]] = []

        class Shared(RecordingClient):
            async def deliver(self, item):
                delivered.append((item.target_id, int(item.text)))
                await asyncio.sleep(0.001)

        client = Shared(clock)
        senders = [OutboxSender(s, {"rec": client}, config.outbox, clock) for s in sessions]

        async def drain(sender: OutboxSender) -> None:
            while await sender.run_once():
                pass

        for _ in range(5):
            await asyncio.gather(*(drain(s) for s in senders))
        assert sorted(int(t) for _, t in delivered) == list(range(200))
        for target in {t for t, _ in delivered}:  # and in order per target
            sent = [n for t, n in delivered if t == target]
            assert sent == sorted(sent)
    finally:
        for engine in engines:
            await engine.dispose()


def add_pushes(count: int, now, channel: str = "rec") -> list[Outbox]:
    """Due pushes of count different texts to count different members (one each)."""
    return [
        Outbox(
            channel=channel,
            target_kind="user",
            target_id=f"m{i:03d}",
            text=f"回执 {i}",
            mentions=[],
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for i in range(count)
    ]


async def test_a_pass_claims_its_rows_together_and_writes_outcomes_together(aiohttp_client, config, clock):
    """The rows one pass finds are claimed by one statement; outcomes that end together are written together."""
    from sqlalchemy import event

    driver = await start(aiohttp_client, config, clock)
    async with driver.services.sessions() as session, session.begin():
        session.add_all(add_pushes(12, clock()))
    client = RecordingClient(clock)
    driver.services.clients["rec"] = client
    updates: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            updates.append(statement)

    engine = driver.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert await driver.services.sender.run_once() == 12
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sorted(text for _, text in client.delivered) == sorted(f"回执 {i}" for i in range(12))
    assert {r.status for r in await rows(driver)} == {OutboxStatus.SENT}
    assert {r.delivered_via for r in await rows(driver)} == {"sender"}
    # One at a time, each row took a claim and a mark of its own (24 statements).
    assert 2 <= len(updates) <= 1 + 12 // config.outbox.concurrency


async def test_outcomes_of_deliveries_that_end_a_little_apart_are_written_together(aiohttp_client, config, clock):
    """Deliveries in flight end within a millisecond or two of each other (a network's jitter): the first outcome
    waits for the others, so a pass's rows are marked a wave of `concurrency` at a time, not one by one."""
    from sqlalchemy import event

    driver = await start(aiohttp_client, config, clock)
    async with driver.services.sessions() as session, session.begin():
        session.add_all(add_pushes(12, clock()))

    class Jitter(RecordingClient):
        async def deliver(self, item):
            await asyncio.sleep(0.0005 * (int(item.target_id[1:]) % 4))
            await super().deliver(item)

    client = Jitter(clock)
    driver.services.clients["rec"] = client
    marks: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX SET STATUS") and "attempts" in statement:
            marks.append(len(parameters) if executemany else 1)

    engine = driver.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert await driver.services.sender.run_once() == 12
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert {r.status for r in await rows(driver)} == {OutboxStatus.SENT}
    assert sum(marks) == 12
    assert len(marks) <= 12 // config.outbox.concurrency


async def test_rows_claimed_together_keep_their_lease_while_they_wait_for_a_slot(aiohttp_client, config, clock):
    """With one delivery slot, rows claimed together wait longer than the lease: none is taken over meanwhile."""
    config = config.replace(outbox={**vars(config.outbox), "lease_seconds": 0.6, "concurrency": 1})
    driver = await start(aiohttp_client, config, clock)
    async with driver.services.sessions() as session, session.begin():
        session.add_all(add_pushes(3, clock()))

    class Slow(RecordingClient):
        async def deliver(self, item):
            for _ in range(5):  # 0.5 s of (fake and real) time each: the third waits past the lease
                clock.advance(seconds=0.1)
                await asyncio.sleep(0.1)
            await super().deliver(item)

    client = Slow(clock)
    driver.services.clients["rec"] = client
    engine, other = sender_on_own_engine(config, {"rec": client}, clock)
    try:
        first = asyncio.create_task(driver.services.sender.run_once())
        async with asyncio.timeout(5):
            while await status_of_the_row(driver) != OutboxStatus.SENDING:
                await asyncio.sleep(0.01)
        takeovers = 0
        while not first.done():
            takeovers += await other.run_once()
            await asyncio.sleep(0.05)
        assert await first == 3
    finally:
        await engine.dispose()
    assert takeovers == 0
    assert sorted(text for _, text in client.delivered) == ["回执 0", "回执 1", "回执 2"]


async def test_a_claimed_row_whose_lease_ran_out_while_it_waited_for_a_slot_is_not_sent_again(
    aiohttp_client, config, clock
):
    """Rows claimed together wait for a slot; if their lease ran out meanwhile (the renewal did not get through)
    and another instance took and delivered one, the first sender must not deliver it too."""
    config = config.replace(outbox={**vars(config.outbox), "concurrency": 1})
    driver = await start(aiohttp_client, config, clock)
    async with driver.services.sessions() as session, session.begin():
        session.add_all(add_pushes(2, clock()))
    entered, finish = asyncio.Event(), asyncio.Event()

    class Stalled(RecordingClient):
        async def deliver(self, item):
            if not entered.is_set():
                entered.set()
                await finish.wait()
            await super().deliver(item)

    client = Stalled(clock)
    driver.services.clients["rec"] = client
    first = asyncio.create_task(driver.services.sender.run_once())
    await entered.wait()  # the first row is being delivered; the second waits for the one slot
    clock.advance(seconds=config.outbox.lease_seconds + 1)  # and no renewal got through meanwhile
    engine, other = sender_on_own_engine(config, {"rec": RecordingClient(clock)}, clock)
    try:
        assert await other.run_once() == 2  # both leases ran out: the other instance takes and sends both
    finally:
        await engine.dispose()
    finish.set()
    await first
    # The first row was in flight when its lease ran out (the documented at-most-`concurrency`); the second was not.
    assert [text for _, text in client.delivered] == ["回执 0"]
    assert {r.status for r in await rows(driver)} == {OutboxStatus.SENT}


async def test_an_outcome_the_database_refuses_holds_up_its_own_row_only(aiohttp_client, config, clock):
    """Outcomes that end together are written together; one the database refuses for good (on PostgreSQL an error
    text with a NUL character) must not keep the others unwritten (their rows would be sent again)."""

    class NotText:  # a reason no database takes as text: refused on SQLite and PostgreSQL alike
        def __str__(self) -> str:
            return "refused"

    driver = await start(aiohttp_client, config, clock)
    async with driver.services.sessions() as session, session.begin():
        session.add_all(add_pushes(3, clock()))

    class Poison(RecordingClient):
        async def deliver(self, item):
            if item.target_id == "m000":
                raise PermanentError(NotText())  # type: ignore[arg-type]
            await super().deliver(item)

    client = Poison(clock)
    driver.services.clients["rec"] = client
    first = asyncio.create_task(driver.services.sender.run_once())
    try:
        async with asyncio.timeout(5):
            while {r.target_id for r in await rows(driver) if r.status == OutboxStatus.SENT} != {"m001", "m002"}:
                await asyncio.sleep(0.05)
        # A reply delivered at once is not held up behind it either.
        async with driver.services.sessions() as session, session.begin():
            [reply] = add_pushes(4, clock())[3:]
            session.add(reply)
        async with asyncio.timeout(5):
            assert [one.text for one in await driver.services.sender.deliver_now([reply.id])] == ["回执 3"]
    finally:
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first
    assert sorted(text for _, text in client.delivered) == ["回执 1", "回执 2", "回执 3"]


async def test_stop_writes_the_outcome_of_a_delivery_that_ended_before_it(aiohttp_client, config, clock, caplog):
    """A stop past its timeout cancels the delivery still running, but the "sent" mark of one that ended just before
    is written before stop() returns (the database was slow to take it): that row is not sent again after its lease.
    A mark the database does not take within the grace is given up and logged, naming its row."""
    from bot.core.outbox import OutboxSender

    driver = await start(aiohttp_client, config, clock)
    async with driver.services.sessions() as session, session.begin():
        session.add_all(add_pushes(2, clock()))
    flaky = FlakySessions(driver.services.sessions)
    hang = asyncio.Event()

    class SlowDatabaseAfterFirst(RecordingClient):
        async def deliver(self, item):
            if item.target_id == "m001":
                await hang.wait()  # never answers: still running at the stop
            await super().deliver(item)
            flaky.down = True  # the "sent" mark waits for the database
            asyncio.get_running_loop().call_later(0.5, setattr, flaky, "down", False)

    client = SlowDatabaseAfterFirst(clock)
    sender = OutboxSender(flaky, {"rec": client}, config.outbox, clock)
    sender.start()
    async with asyncio.timeout(5):
        while not client.delivered:
            await asyncio.sleep(0.01)
    await sender.stop(timeout=0.1)
    first, second = await rows(driver)
    assert (first.target_id, first.status, first.delivered_via) == ("m000", OutboxStatus.SENT, "sender")
    assert second.status == OutboxStatus.SENDING  # cancelled mid-delivery: goes again after its lease

    # The database away past the grace: stop() returns anyway and names the row whose mark it gave up.
    async with driver.services.sessions() as session, session.begin():
        session.add_all(add_pushes(3, clock())[2:])
    flaky.down = False

    class DownForGood(RecordingClient):
        async def deliver(self, item):
            await super().deliver(item)
            flaky.down = True

    sender = OutboxSender(flaky, {"rec": DownForGood(clock)}, config.outbox, clock)
    sender.start()
    async with asyncio.timeout(5):
        while not flaky.down:
            await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await sender.stop(timeout=0.1, outcomes_grace=0.3)
    assert loop.time() - began < 2
    [third] = [row for row in await rows(driver) if row.target_id == "m002"]
    assert third.status == OutboxStatus.SENDING
    assert f"1 outcomes not written within 0.3s of the stop (rows [{third.id}])" in caplog.text


async def test_a_failed_rate_limit_look_holds_back_only_its_own_rows_until_the_next_poll(aiohttp_client, config, clock):
    """The rows a pass claimed are checked against their targets' rate limits, one query per channel: one query the
    database fails holds back that channel's rows until the next poll (no attempt used up), not every row the pass
    claimed until its lease runs out; nothing is sent unchecked, lost or sent twice."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    driver = await start(aiohttp_client, config, clock)
    now = clock()
    pushes = add_pushes(3, now)
    for push, channel in zip(pushes, ("lim-a", "lim-b", "free"), strict=True):
        push.channel = channel
    async with driver.services.sessions() as session, session.begin():
        session.add_all(pushes)
    clients = {
        "lim-a": RecordingClient(clock, RateLimit(count=20, seconds=60)),
        "lim-b": RecordingClient(clock, RateLimit(count=20, seconds=60)),
        "free": RecordingClient(clock),
    }
    driver.services.clients.update(clients)
    failing = True

    def fail_lim_a(conn, cursor, statement, parameters, context, executemany) -> None:
        if failing and "sent_at >" in statement and "lim-a" in tuple(parameters):
            raise OperationalError(statement, parameters, ConnectionResetError("connection reset"))

    engine = driver.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", fail_lim_a)
    try:
        assert await driver.services.sender.run_once() == 3
    finally:
        event.remove(engine, "before_cursor_execute", fail_lim_a)
    assert [len(clients[c].delivered) for c in ("lim-a", "lim-b", "free")] == [0, 1, 1]
    held = next(row for row in await rows(driver) if row.channel == "lim-a")
    assert (held.status, held.attempts, held.lease_token) == (OutboxStatus.PENDING, 0, None)
    assert held.next_attempt_at - clock() == timedelta(seconds=config.outbox.poll_interval_seconds)
    failing = False
    clock.advance(seconds=config.outbox.poll_interval_seconds)
    assert await driver.services.sender.run_once() == 1
    assert [len(clients[c].delivered) for c in ("lim-a", "lim-b", "free")] == [1, 1, 1]
    assert {row.status for row in await rows(driver)} == {OutboxStatus.SENT}


async def test_lease_renewal_and_outcome_writes_lock_rows_in_one_order(pg_url, clock):
    """On PostgreSQL a lease renewal and a transaction of outcomes lock the rows they share in id order, so neither
    waits for the other in a cycle (a deadlock: one of them undone after a second). Made deterministic with a third
    transaction holding one row: both queue behind it, then it lets go.

    1. the renewal scanning the rows in their physical order (b before a), the outcomes going a then b;
    2. outcomes of two kinds (one statement each) for a < b < c: "sent" for a and c, "later" for b (rows b and c
       under the lease renewed);
    3. outcomes of one kind passed out of id order (c, a) — the order deliveries end in — under the lease renewed."""

    from bot.core import db
    from bot.core.outbox import OutboxSender, _Mark
    from tests.conftest import make_config

    engine = db.create_engine(DatabaseConfig(url=pg_url))
    sessions = db.session_factory(engine)
    sender = OutboxSender(sessions, {}, make_config(pg_url).outbox, clock)
    loop = asyncio.get_running_loop()

    async def leased(*tokens: str, b_first: bool = False) -> list[int]:
        async with db.transaction(sessions) as session:
            pushes = add_pushes(len(tokens), clock())
            for row, token in zip(pushes, tokens, strict=True):
                row.status, row.lease_token, row.lease_until = OutboxStatus.SENDING, token, clock()
            session.add_all(pushes)
        if b_first:  # a's new version lands after b: a scan in physical order meets b first
            async with db.transaction(sessions) as session:
                await session.execute(update(Outbox).where(Outbox.id == pushes[0].id).values(text="moved"))
        return [row.id for row in pushes]

    def sent() -> dict[str, object]:
        return {"status": OutboxStatus.SENT, "sent_at": clock(), "attempts": 1, "last_error": None}

    async def race(token: str, held: int, marks: list[_Mark]) -> bool:
        async with engine.connect() as gate:
            await gate.execute(select(Outbox.id).where(Outbox.id == held).with_for_update())
            renewal = asyncio.create_task(sender._renew_once(token))
            await waiting_for_locks(engine, 1)
            write = asyncio.create_task(sender._write(marks, retry=False))
            await waiting_for_locks(engine, 2)
            await gate.commit()
        await renewal  # raises if the database undid it to break a deadlock
        return await write

    try:
        a, b = await leased("t1", "t1", b_first=True)
        marks = [_Mark(a, "t1", sent(), loop.create_future()), _Mark(b, "t1", sent(), loop.create_future())]
        assert await race("t1", b, marks)
        a, b, c = await leased("t3", "t2", "t2")
        later = {"status": OutboxStatus.PENDING, "next_attempt_at": clock()}
        marks = [
            _Mark(a, "t3", sent(), loop.create_future()),
            _Mark(c, "t2", sent(), loop.create_future()),
            _Mark(b, "t2", later, loop.create_future()),
        ]
        assert await race("t2", b, marks)
        # 3. outcomes of one kind that end out of id order (c's delivery first): written a then c all the same.
        a, b, c = await leased("t4", "t4", "t4")
        marks = [_Mark(c, "t4", sent(), loop.create_future()), _Mark(a, "t4", sent(), loop.create_future())]
        assert await race("t4", b, marks)
        async with sessions() as session:
            statuses = list(await session.scalars(select(Outbox.status).order_by(Outbox.id)))
        assert statuses == [OutboxStatus.SENT] * 3 + [OutboxStatus.PENDING, OutboxStatus.SENT] + [
            OutboxStatus.SENT,
            OutboxStatus.SENDING,
            OutboxStatus.SENT,
        ]
    finally:
        await engine.dispose()
