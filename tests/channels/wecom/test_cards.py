"""Template cards end to end through the fake WeCom: members tap instead of typing (issue #14, point 2).

Over the long connection (with the connection dropped in the middle) and over the AI bot's HTTP callback (with
WeCom's retries of an event): a 主题党日 checked in by taps, a notice acknowledged by taps, a 抢答 answered by
taps; and taps that are not allowed change nothing and get the typed word's answer.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.core import texts
from bot.core.config import BranchConfig
from bot.core.models import EntryStatus, InboundMessage, MemberIdentity, PointsEntry, RollCallEntry
from bot.meetings import texts as meeting_texts
from bot.notices import texts as notice_texts
from bot.quiz import texts as quiz_texts
from bot.quiz.models import Question, QuizAttempt, QuizRound
from bot.quiz.timer import tick
from tests.channels.wecom.conftest import (
    ADMIN,
    AIBOT_CHAT,
    APPCHAT,
    ROBOT_CHAT,
    ROBOT_KEY,
    WecomDriver,
    wecom_config,
)
from tests.channels.wecom.fake_api import FakeWecom
from tests.channels.wecom.fake_ws import FakeLongConnection
from tests.channels.wecom.test_longconn import FAST
from tests.conftest import TZ

START = datetime(2026, 11, 27, 14, 30, tzinfo=TZ)
TAG = "卡片"


async def start_long(aiohttp_client: Any, db_url: str, clock: Any, fake: FakeWecom) -> WecomDriver:
    from bot.app import build_app

    config = wecom_config(db_url, fake.base_url, long_connection_url=fake.long_connection_url, **FAST)
    app = build_app(config, clock=clock, background=False)
    return WecomDriver(await aiohttp_client(app), app, fake, clock)


async def count(wecom: WecomDriver, model: Any, *where: Any) -> int:
    async with wecom.services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def settle(wecom: WecomDriver, inbound: int, timeout: float = 10.0) -> None:
    """Until the pipeline has stored `inbound` messages (taps included)."""
    async with asyncio.timeout(timeout):
        while await count(wecom, InboundMessage) < inbound:
            await asyncio.sleep(0.02)


async def drain_over_minutes(wecom: WecomDriver, clock: Any, minutes: int = 5) -> None:
    """Deliver everything, letting the per-chat rate limit's minute pass between rounds."""
    for _ in range(minutes):
        await wecom.drain_outbox()
        clock.advance(seconds=61)
    await wecom.drain_outbox()


async def join(ws: FakeLongConnection, users: list[str]) -> None:
    for user in users:  # a first @-message registers a member of the chat's branch
        assert await ws.say("@学习驿站 帮助", user=user, chat=AIBOT_CHAT) is not None


async def tap_and_wait(ws: FakeLongConnection, task: str, user: str, label: str, **kw: Any) -> Any:
    return await ws.reply_to(await ws.tap(task, user, label, AIBOT_CHAT, **kw))


async def add_questions(wecom: WecomDriver, count_: int = 6) -> None:
    now = wecom.services.clock()
    async with wecom.services.sessions() as session, session.begin():
        for i in range(count_):
            session.add(
                Question(
                    key=f"card-{i}",
                    type="single",
                    stem=f"卡片题{i + 1}：党的最高领导机关是？",
                    options=["党的全国代表大会和它所产生的中央委员会", "党的全国代表大会", "中央委员会", "中央政治局"],
                    answer="B" if i % 2 else "A",
                    explanation="党章第十条。",
                    source="《中国共产党章程》第二章第十条",
                    tags=[TAG],
                    difficulty=1,
                    created_at=now,
                    updated_at=now,
                )
            )


async def open_answer(wecom: WecomDriver) -> tuple[int, str]:
    """(round id, correct letter) of the round open now."""
    async with wecom.services.sessions() as session:
        row = (
            await session.execute(
                select(QuizRound.id, Question.answer)
                .join(Question, Question.id == QuizRound.question_id)
                .where(QuizRound.status == "open")
            )
        ).one()
    return row[0], row[1]


async def round_state(wecom: WecomDriver, round_id: int) -> tuple[QuizRound, list[int]]:
    """The round, and the members with an attempt on it (one entry per attempt)."""
    async with wecom.services.sessions() as session:
        rnd = await session.get(QuizRound, round_id)
        answered = list(await session.scalars(select(QuizAttempt.member_id).where(QuizAttempt.round_id == round_id)))
    assert rnd is not None
    return rnd, answered


def wrong(letter: str) -> str:
    return "C" if letter != "C" else "D"


# --- long connection -------------------------------------------------------------------------------
async def test_theme_day_checked_in_by_taps_over_the_long_connection(aiohttp_client, db_url, clock, fake):
    ws = fake.long_connection
    wecom = await start_long(aiohttp_client, db_url, clock, fake)
    await ws.wait_subscribed()
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    users = [f"m{i:02d}" for i in range(23)]
    await join(ws, users)
    created = await ws.say("发起主题党日 11月27日14:30 三楼会议室 主题：学习党章", user=ADMIN)
    assert created is not None and "应到24人" in created.content  # 23 + the admin
    await wecom.drain_outbox()
    card = fake.cards.latest(AIBOT_CHAT, "主题党日#1")
    task = card["task_id"]
    assert [b["text"] for b in card["button_list"]] == [texts.CARD_CHECK_IN_BUTTON, texts.CARD_LEAVE_BUTTON]
    assert "三楼会议室" in card["sub_title_text"]

    clock.set(START - timedelta(minutes=15))  # in the check-in window
    inbound = await count(wecom, InboundMessage)
    for i, user in enumerate(users[:20]):
        if i in (7, 14):  # the connection drops with a tap in flight: WeCom re-delivers it once reconnected
            subscribes = ws.subscribes
            await ws.push(ws.tap_frame(task, user, texts.CARD_CHECK_IN_BUTTON, AIBOT_CHAT))
            await ws.drop()
            await ws.wait_subscribed(after=subscribes)
            await settle(wecom, inbound + i + 1)
            continue
        update = await tap_and_wait(ws, task, user, texts.CARD_CHECK_IN_BUTTON)
        assert update is not None and update.cmd == "aibot_respond_update_msg"
        assert update.body["userids"] == [user]
    for user in users[20:22]:
        update = await tap_and_wait(ws, task, user, texts.CARD_LEAVE_BUTTON)
        assert update is not None
    await settle(wecom, inbound + 22)
    async with asyncio.timeout(5):  # the re-delivered taps' updates, too
        while not all(fake.cards.labels(task, u) == [texts.CARD_DONE_CHECK_IN] for u in users[:20]):
            await asyncio.sleep(0.02)
    assert all(fake.cards.labels(task, u) == [texts.CARD_DONE_LEAVE] for u in users[20:22])
    assert fake.cards.labels(task, users[22]) == [texts.CARD_CHECK_IN_BUTTON, texts.CARD_LEAVE_BUTTON]
    # Nothing doubled: one inbound row per tap, one entry per member.
    assert await count(wecom, InboundMessage) == inbound + 22
    assert await count(wecom, RollCallEntry, RollCallEntry.status == EntryStatus.DONE) == 20
    assert await count(wecom, RollCallEntry, RollCallEntry.status == EntryStatus.LEAVE) == 2
    async with wecom.services.sessions() as session:
        notes = set(await session.scalars(select(RollCallEntry.note).where(RollCallEntry.status == EntryStatus.LEAVE)))
    assert notes == {meeting_texts.CARD_LEAVE_NO_REASON}

    # A tap's answer goes to the group as the typed word's would (pushed: an event is not answered by a stream).
    await drain_over_minutes(wecom, clock, 2)
    pushed = [p.content for p in ws.pushes(AIBOT_CHAT)]
    assert pushed.count(meeting_texts.MEETING_CHECKED_IN.format(name="m00", kind="主题党日", time="14:15")) == 1
    assert meeting_texts.CARD_LEAVE_ADD_REASON.format(seq=1) in pushed

    clock.set(START + timedelta(minutes=31))
    await wecom.services.jobs.fire("tick_roll_calls", clock())
    await drain_over_minutes(wecom, clock, 2)
    [summary] = [p.content for p in ws.pushes(AIBOT_CHAT) if p.content.startswith("【主题党日#1 签到结果】")]
    assert "应到24人，实到20人，请假2人，缺席2人。" in summary
    assert "m20" not in summary and "m21" not in summary  # the group sees counts; the names go to the 支委


async def test_notice_acknowledged_by_taps_over_the_long_connection(aiohttp_client, db_url, clock, fake):
    ws = fake.long_connection
    wecom = await start_long(aiohttp_client, db_url, clock, fake)
    await ws.wait_subscribed()
    users = [f"n{i:02d}" for i in range(32)]
    await join(ws, users)
    sent = await ws.say("通知 周五下午三点在三楼会议室集中学习", user=ADMIN)
    assert sent is not None and "第1号通知" in sent.content
    await wecom.drain_outbox()
    card = fake.cards.latest(AIBOT_CHAT, "第1号通知")
    task = card["task_id"]
    assert "周五下午三点" in card["sub_title_text"]
    inbound = await count(wecom, InboundMessage)
    for i, user in enumerate(users[:30]):
        if i == 10:
            await ws.drop()
            await ws.wait_subscribed(after=ws.subscribes)
        update = await tap_and_wait(ws, task, user, texts.CARD_RECEIPT_BUTTON)
        assert update is not None and update.body["template_card"]["task_id"] == task
        assert fake.cards.labels(task, user) == [texts.CARD_DONE_RECEIPT]  # each tapper's card shows it
    await settle(wecom, inbound + 30)
    assert fake.cards.labels(task, users[30]) == [texts.CARD_RECEIPT_BUTTON]  # the others' cards do not
    assert await count(wecom, RollCallEntry, RollCallEntry.status == EntryStatus.DONE) == 30
    status = await ws.say("通知情况", user=ADMIN)
    assert status is not None
    # The 32 members asked (the sender is not); 30 acknowledged; the rest listed by name.
    assert "应回执32人，已回执30人。\n未回执（2人）：n30、n31" in status.content
    # Taken quietly in the group, as a typed 收到 is: the card says it.
    await wecom.drain_outbox()
    assert [p for p in ws.pushes(AIBOT_CHAT) if p.body["msgtype"] == "markdown"] == []


async def test_rush_answered_by_taps_over_the_long_connection(aiohttp_client, db_url, clock, fake):
    ws = fake.long_connection
    wecom = await start_long(aiohttp_client, db_url, clock, fake)
    await ws.wait_subscribed()
    await add_questions(wecom)
    users = [f"q{i:02d}" for i in range(6)]
    await join(ws, users)
    started = await ws.say(f"@学习驿站 抢答 5题 {TAG}", user=ADMIN, chat=AIBOT_CHAT)
    assert started is not None and started.body["msgtype"] == "stream_with_template_card"
    winners: list[str] = []
    for position in range(1, 6):
        card = fake.cards.latest(AIBOT_CHAT, quiz_texts.CARD_TITLE_QUIZ.format(position=position))
        task = card["task_id"]
        assert [b["text"] for b in card["button_list"]] == ["A", "B", "C", "D"]
        round_id, right = await open_answer(wecom)
        inbound = await count(wecom, InboundMessage)
        await tap_and_wait(ws, task, users[0], wrong(right))  # wrong: recorded, no more tries
        frames = [ws.tap_frame(task, user, right, AIBOT_CHAT) for user in users[1:]]
        for frame in frames:  # five members tap the right answer at once
            await ws.push(frame)
        if position in (2, 4):  # the connection drops in the middle of the answers
            await ws.drop()
            await ws.wait_subscribed(after=ws.subscribes)
        await settle(wecom, inbound + 6)
        rnd, answered = await round_state(wecom, round_id)
        assert rnd.winner_member_id is not None and rnd.winner_member_id in answered
        assert len(answered) == len(set(answered))  # one attempt per member, re-delivered taps included
        # The wrong tap and the winner's are recorded; a right tap that lost the race is recorded only if it was
        # in before the round closed (on PostgreSQL they run at once), never doubled.
        assert 2 <= len(answered) <= 6
        await drain_over_minutes(wecom, clock, 1)
        await tick(wecom.services.config, wecom.services.sessions, wecom.services.clock)
        await wecom.drain_outbox()
        winners.append(str(rnd.winner_member_id))
    assert len(winners) == 5
    assert await count(wecom, QuizRound, QuizRound.winner_member_id.is_not(None)) == 5
    assert await count(wecom, PointsEntry, PointsEntry.source.like("quiz%")) == 5
    assert await count(wecom, InboundMessage, InboundMessage.platform_msg_id.like("aibot:CARDEVT%")) == 30
    await drain_over_minutes(wecom, clock, 2)
    assert any(p.content.startswith("【抢答结束】") for p in ws.pushes(AIBOT_CHAT))


# --- the AI bot's HTTP callback --------------------------------------------------------------------
async def test_notice_and_rush_by_taps_over_the_http_callback_with_retries(wecom, fake, clock):
    users = [f"h{i:02d}" for i in range(30)]
    for user in users:
        await wecom.aibot_say("@学习驿站 帮助", user=user)
    status, answer = await wecom.aibot_say("@学习驿站 通知 周五下午三点集中学习", user=ADMIN)
    assert status == 200 and answer["msgtype"] == "stream_with_template_card"
    assert "周五下午三点集中学习" in answer["stream"]["content"]
    task = answer["template_card"]["task_id"]
    for user in users:
        payload = wecom.tap_payload(task, user, texts.CARD_RECEIPT_BUTTON)
        first = await wecom.aibot_post(payload)
        again = await wecom.aibot_post(payload)  # WeCom retries the event (same msgid)
        assert first[1] is not None and first[1]["response_type"] == "update_template_card"
        assert again[1] is not None and again[1]["template_card"]["button_list"] == [
            {"text": texts.CARD_DONE_RECEIPT, "style": 2, "key": first[1]["template_card"]["button_list"][0]["key"]}
        ]
        assert fake.cards.labels(task, user) == [texts.CARD_DONE_RECEIPT]
    assert await count(wecom, RollCallEntry, RollCallEntry.status == EntryStatus.DONE) == 30
    assert await count(wecom, InboundMessage, InboundMessage.platform_msg_id.like("aibot:CARDEVT%")) == 30
    _, status_answer = await wecom.aibot_say("@学习驿站 通知情况", user=ADMIN)
    assert "应回执30人，已全部回执。" in status_answer["stream"]["content"]

    await add_questions(wecom)
    _, answer = await wecom.aibot_say(f"@学习驿站 抢答 5题 {TAG}", user=ADMIN)
    assert answer["msgtype"] == "stream_with_template_card"
    for position in range(1, 6):
        card = fake.cards.latest(AIBOT_CHAT, quiz_texts.CARD_TITLE_QUIZ.format(position=position))
        round_id, right = await open_answer(wecom)
        await wecom.aibot_tap(card["task_id"], users[0], wrong(right))
        taps = [wecom.tap_payload(card["task_id"], user, right) for user in users[1:6]]
        results = await asyncio.gather(*(wecom.aibot_post(p) for p in taps))
        await asyncio.gather(*(wecom.aibot_post(p) for p in taps))  # every tap retried by WeCom
        updated = {r[1]["userids"][0] for r in results if r[1] is not None}
        rnd, answered = await round_state(wecom, round_id)
        assert rnd.winner_member_id is not None and len(answered) == len(set(answered))
        # Exactly the tappers whose answer was recorded see 已作答 (the winner always; a loser if it was in time).
        async with wecom.services.sessions() as session:
            recorded = set(
                await session.scalars(
                    select(MemberIdentity.platform_user_id).where(MemberIdentity.member_id.in_(answered))
                )
            )
        assert updated == recorded - {users[0]} and updated
        assert all(fake.cards.labels(card["task_id"], u) == [texts.CARD_DONE_ANSWERED] for u in updated)
        await wecom.drain_outbox()
        # The next question is a push: over HTTP only a response_url can carry it (as a card). A member's
        # @-message answered in its own response leaves its response_url for it.
        await wecom.aibot_say("@学习驿站 帮助", user=users[7])
        clock.advance(seconds=61)
        await tick(wecom.services.config, wecom.services.sessions, wecom.services.clock)
        await wecom.drain_outbox()
    assert await count(wecom, QuizRound, QuizRound.winner_member_id.is_not(None)) == 5
    assert await count(wecom, PointsEntry, PointsEntry.source.like("quiz%")) == 5  # one win a question


# --- taps that are not allowed ---------------------------------------------------------------------
async def test_taps_that_are_not_allowed_change_nothing(aiohttp_client, db_url, clock, fake):
    from bot.app import build_app

    other_chat = "wrOtherBranchGroup"
    base = wecom_config(db_url, fake.base_url)
    first = base.branches[0]
    second = BranchConfig(id="second", name="市城管局机关第二党支部", chats=(f"wecom:{other_chat}",))
    config = base.replace(branches=(first, second))
    app = build_app(config, clock=clock, background=False)
    wecom = WecomDriver(await aiohttp_client(app), app, fake, clock)
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    for user in ("a1", "a2", "a3"):
        await wecom.aibot_say("@学习驿站 帮助", user=user)
    for user in ("g1", "g2"):  # members of the second branch
        await wecom.aibot_say("@学习驿站 帮助", user=user, chat=other_chat)

    _, answer = await wecom.aibot_say("@学习驿站 发起主题党日 11月27日14:30 三楼会议室", user=ADMIN)
    meeting_task = answer["template_card"]["task_id"]
    # Where WeCom shows no interactive card (the group robot, an app group chat) the same row goes as its text.
    await wecom.drain_outbox()
    for endpoint, chat in (("webhook/send", ROBOT_KEY), ("appchat/send", APPCHAT)):
        [announced] = [c for c in fake.contents(endpoint, chat) if c.startswith("【主题党日】")]
        assert announced in answer["stream"]["content"]
    assert fake.cards.in_chat(ROBOT_CHAT) == [] and fake.cards.in_chat(APPCHAT) == []
    # Outside the window: the tap gets what a typed 签到 gets, and nothing is stored.
    typed = await wecom.aibot_say("@学习驿站 签到", user="a2")
    early = wecom.tap_payload(meeting_task, "a1", texts.CARD_CHECK_IN_BUTTON)
    _, update = await wecom.aibot_post(early)
    assert update is None  # the card is not changed
    await wecom.drain_outbox()
    # The tap's answer goes to the group through the event's response_url (path/101138).
    assert fake.contents("aibot/response", f"code-{early['msgid']}") == [typed[1]["stream"]["content"]]
    assert await count(wecom, RollCallEntry, RollCallEntry.status != EntryStatus.PENDING) == 0
    assert fake.cards.labels(meeting_task, "a1") == [texts.CARD_CHECK_IN_BUTTON, texts.CARD_LEAVE_BUTTON]

    _, answer = await wecom.aibot_say("@学习驿站 通知 周五集中学习", user=ADMIN)
    task = answer["template_card"]["task_id"]
    stale = wecom.tap_payload(task, "a1", texts.CARD_RECEIPT_BUTTON)  # another device still shows 收到
    _, done = await wecom.aibot_tap(task, "a1", texts.CARD_RECEIPT_BUTTON)
    assert done is not None
    async with wecom.services.sessions() as session:
        before = (await session.execute(select(RollCallEntry.status, RollCallEntry.responded_at))).all()
        points_before = await session.scalar(select(func.count()).select_from(PointsEntry))
    clock.advance(minutes=5)
    _, second_tap = await wecom.aibot_post(stale)  # a second tap: the answer a second typed 收到 gets
    assert second_tap is not None and second_tap["template_card"]["button_list"][0]["text"] == texts.CARD_DONE_RECEIPT
    typed_again = await wecom.aibot_say("@学习驿站 收到", user="a1")
    await wecom.drain_outbox()
    assert fake.contents("aibot/response", f"code-{stale['msgid']}") == [typed_again[1]["stream"]["content"]]
    async with wecom.services.sessions() as session:
        after = (await session.execute(select(RollCallEntry.status, RollCallEntry.responded_at))).all()
        points_after = await session.scalar(select(func.count()).select_from(PointsEntry))
    assert after == before and points_after == points_before

    # A guest from the other branch taps 收到 on this branch's notice: the typed word's answer, nothing counted.
    typed = await wecom.aibot_say("@学习驿站 收到", user="g2")
    guest = wecom.tap_payload(task, "g1", texts.CARD_RECEIPT_BUTTON)
    _, guest_update = await wecom.aibot_post(guest)
    assert guest_update is None
    await wecom.drain_outbox()
    assert fake.contents("aibot/response", f"code-{guest['msgid']}") == [typed[1]["stream"]["content"]]
    _, status = await wecom.aibot_say("@学习驿站 通知情况", user=ADMIN)
    assert "已回执1人" in status["stream"]["content"]


async def test_study_day_card_and_judge_and_multiple_choice_quiz_cards(aiohttp_client, db_url, clock, fake):
    ws = fake.long_connection
    wecom = await start_long(aiohttp_client, db_url, clock, fake)
    await ws.wait_subscribed()
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=TZ))  # Friday: the study day
    users = [f"s{i:02d}" for i in range(4)]
    await join(ws, users)
    assert await wecom.services.jobs.fire("study_reminder.demo", clock())
    await wecom.drain_outbox()
    card = fake.cards.latest(AIBOT_CHAT, "学习日")
    assert [b["text"] for b in card["button_list"]] == [texts.CARD_STUDY_BUTTON]
    for user in users[:3]:
        assert await tap_and_wait(ws, card["task_id"], user, texts.CARD_STUDY_BUTTON) is not None
        assert fake.cards.labels(card["task_id"], user) == [texts.CARD_DONE_STUDY]
    assert await count(wecom, RollCallEntry, RollCallEntry.status == EntryStatus.DONE) == 3

    now = wecom.services.clock()
    async with wecom.services.sessions() as session, session.begin():
        common = {"explanation": "", "source": "", "tags": ["判断多选"], "difficulty": 1}
        session.add(
            Question(
                key="j1",
                type="judge",
                stem="党员应当按期交纳党费。",
                options=[],
                answer="对",
                **common,
                created_at=now,
                updated_at=now,
            )
        )
        session.add(
            Question(
                key="m1",
                type="multi",
                stem="“三会一课”包括？",
                options=["支部党员大会", "年终总结会", "党小组会"],
                answer="AC",
                **common,
                created_at=now,
                updated_at=now,
            )
        )
    started = await ws.say("@学习驿站 抢答 2题 判断多选", user=ADMIN, chat=AIBOT_CHAT)
    assert started is not None
    for position in (1, 2):
        card = fake.cards.latest(AIBOT_CHAT, quiz_texts.CARD_TITLE_QUIZ.format(position=position))
        round_id, right = await open_answer(wecom)
        if card["card_type"] == "button_interaction":  # the judge question: 对 / 错
            assert [b["text"] for b in card["button_list"]] == [texts.CARD_JUDGE_TRUE, texts.CARD_JUDGE_FALSE]
            await tap_and_wait(ws, card["task_id"], users[0], texts.CARD_JUDGE_FALSE)
            update = await tap_and_wait(ws, card["task_id"], users[1], texts.CARD_JUDGE_TRUE)
        else:  # the multiple-choice question: a vote card with 提交 (its text went just before it)
            assert card["card_type"] == "vote_interaction" and card["checkbox"]["mode"] == 1
            assert [o["id"] for o in card["checkbox"]["option_list"]] == ["A", "B", "C"]
            assert any("三会一课" in p.content for p in [*ws.pushes(AIBOT_CHAT), *ws.replies()])
            await tap_and_wait(ws, card["task_id"], users[0], texts.CARD_SUBMIT_BUTTON, chosen=("A",))
            update = await tap_and_wait(ws, card["task_id"], users[1], texts.CARD_SUBMIT_BUTTON, chosen=("C", "A"))
            assert update is not None and update.body["template_card"]["checkbox"]["disable"] is True
        assert update is not None
        async with wecom.services.sessions() as session:
            rnd = await session.get(QuizRound, round_id)
            answers = set(await session.scalars(select(QuizAttempt.answer).where(QuizAttempt.round_id == round_id)))
        assert rnd is not None and rnd.winner_member_id is not None and right in answers and len(answers) == 2
        clock.advance(seconds=61)
        await wecom.drain_outbox()
        await tick(wecom.services.config, wecom.services.sessions, wecom.services.clock)
        await wecom.drain_outbox()


# --- the self-built app ------------------------------------------------------------------------------
async def test_a_notice_nudge_in_the_app_is_acknowledged_by_its_button(wecom, fake, clock):
    for user in ("p1", "p2", "p3"):
        await wecom.aibot_say("@学习驿站 帮助", user=user)
    _, answer = await wecom.aibot_say("@学习驿站 通知 周五集中学习", user=ADMIN)
    assert answer["msgtype"] == "stream_with_template_card"
    await wecom.drain_outbox()
    clock.advance(minutes=61)  # the first nudge: to each member who has not acknowledged, in the app's 1:1 chat
    await wecom.services.jobs.fire("tick_roll_calls", clock())
    await wecom.drain_outbox()
    [nudge] = fake.cards.in_chat("p1")
    nudged = notice_texts.NOTICE_NUDGE_ALL.format(seq=1, title="周五集中学习")
    assert nudge["card_type"] == "button_interaction" and nudge["sub_title_text"] == nudged
    assert fake.cards.in_chat("p2") == [nudge]  # one card to all three members, in one call
    assert sorted(fake.app_calls[-1]) == ["p1", "p2", "p3"]
    assert [b["text"] for b in nudge["button_list"]] == [texts.CARD_RECEIPT_BUTTON]
    task = nudge["task_id"]
    tap = wecom.app_tap_xml(task, "p1", texts.CARD_RECEIPT_BUTTON)
    assert await wecom.app_post_xml(tap) == (200, "")  # the update goes by message/update_template_card
    assert fake.cards.labels(task, "p1") == [texts.CARD_DONE_RECEIPT]
    assert await wecom.app_post_xml(tap) == (200, "")  # WeCom retries the event: handled once
    assert await count(wecom, InboundMessage, InboundMessage.platform_msg_id.like("app-card:%")) == 1
    assert await count(wecom, RollCallEntry, RollCallEntry.status == EntryStatus.DONE) == 1
    await wecom.drain_outbox()
    # A 收到 said directly is answered directly (as typed in the app's chat): which notices it acknowledged.
    assert fake.contents("message/send", "p1")[-1] == notice_texts.NOTICE_ACK_DIRECT.format(
        notices=notice_texts.NOTICE_REF.format(seq=1)
    )
    assert fake.cards.labels(fake.cards.in_chat("p2")[0]["task_id"], "p2") == [texts.CARD_RECEIPT_BUTTON]
