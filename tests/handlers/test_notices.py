"""Notices with receipts: counting once, 通知情况, capped nudges, scheduling, closing, refusals."""

import pytest
from sqlalchemy import func, select

from bot.core import texts
from bot.core.models import Outbox, PointsEntry, RollCall, RollCallEntry, RollCallStatus
from bot.notices import texts as notice_texts
from tests.conftest import make_config
from tests.support import BotDriver, fire, register


def chat_lines(lines, sender="bot"):
    return [line["text"] for line in lines if line["sender"] == sender]


async def test_notice_to_three_chats_counts_each_member_once(aiohttp_client, db_url, clock):
    from bot.app import build_app

    config = make_config(db_url)
    branch = config.branches[0]
    config = config.replace(
        branches=(branch.__class__(**{**branch.__dict__, "chats": ("sim:demo-group", "sim:g2", "sim:g3")}),),
        notices={"nudge_after_minutes": (60, 240)},
    )
    app = build_app(config, clock=clock, background=False)
    bot = BotDriver(await aiohttp_client(app), app)
    # 11 demo members + 40 newcomers spread over the three chats = 51; the secretary sends, 50 must answer.
    newcomers = [
        *await register(bot, 14, "demo-group", "a"),
        *await register(bot, 13, "g2", "b"),
        *await register(bot, 13, "g3", "c"),
    ]
    await bot.say("通知 本周五下午两点在三楼会议室召开主题党日，请准时参加。", user="u00")
    assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_SENT.format(seq=1, chats=3, expected=50)
    for chat in ("demo-group", "g2", "g3"):
        push = chat_lines(await bot.transcript(chat))[0]
        assert push == notice_texts.NOTICE_PUSH.format(
            audience="", seq=1, body="本周五下午两点在三楼会议室召开主题党日，请准时参加。", sender="李建国"
        )

    members = [f"u{i:02d}" for i in range(1, 11)] + newcomers
    answering, silent = members[:35], members[35:]
    variants = ["收到", "收到！", "好的收到", "已阅", "1", "【收到】", "收到👍"]
    for i, user in enumerate(answering):
        await bot.say(variants[i % len(variants)], user=user, chat="demo-group")
    for user in answering[:10]:  # the same people again, in another chat
        await bot.say("收到", user=user, chat="g2")
    assert chat_lines(await bot.transcript("demo-group")).count("收到") == 0  # receipts are taken quietly

    await bot.say("通知情况", user="u00")
    in_group = bot.replies_to("u00")[-1]  # counts only in the group; the names come directly
    assert "应回执50人，已回执35人，未回执15人。" in in_group and "、" not in in_group
    status = chat_lines(await bot.transcript("dm:u00"))[-1]
    assert "应回执50人，已回执35人" in status
    names = status.split("未回执（15人）：")[1].split("\n")[0].split("、")
    async with bot.services.sessions() as session:
        entries = await session.scalar(
            select(func.count()).select_from(RollCallEntry).where(RollCallEntry.status == "done")
        )
    assert entries == 35
    state = await (await bot.get("/api/sim/state")).json()
    by_id = {m["id"]: m["name"] for m in state["chats"][0]["members"]}
    expected_silent = [by_id[u] for u in silent]
    assert sorted(names) == sorted(expected_silent)

    # Nudges: after 60 and 240 minutes, directly to the silent ones; then never again.
    clock.advance(minutes=61)
    assert await fire(bot, "tick_roll_calls")
    await bot.say("收到", user=silent[0], chat=None)  # one answers after the first nudge (directly)
    for minutes in (180, 600, 60 * 24):
        clock.advance(minutes=minutes)
        await fire(bot, "tick_roll_calls")
    nudges = {}
    for user in silent:
        lines = await bot.transcript(f"dm:{user}")
        nudges[user] = [t for t in chat_lines(lines) if t.startswith("【回执提醒】")]
    assert len(nudges[silent[0]]) == 1
    assert all(len(nudges[u]) == 2 for u in silent[1:])
    for user in answering[:3]:
        assert chat_lines(await bot.transcript(f"dm:{user}")) == []


async def test_receipt_in_direct_chat_is_confirmed_and_earns_points(bot, clock):
    await bot.say("通知 请于本周内提交思想汇报。", user="u00")
    clock.advance(minutes=5)
    await bot.say("收到", user="u03", chat=None)
    await bot.say("收到", user="u03", chat=None)
    assert bot.replies_to("u03") == [
        notice_texts.NOTICE_ACK_DIRECT.format(notices="第1号通知"),
        notice_texts.NOTICE_ACK_NONE,
    ]
    async with bot.services.sessions() as session:
        points = (await session.scalars(select(PointsEntry.rule))).all()
    assert points == ["timely_receipt"]


async def test_group_notice_goes_to_one_party_group(bot):
    await bot.say("通知 环卫党小组 明早七点集合清扫积雪。", user="u00")
    assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_SENT.format(seq=1, chats=1, expected=5)
    push = chat_lines(await bot.transcript())[0]
    assert push.startswith("【第1号通知·环卫党小组】明早七点集合清扫积雪。")
    await bot.say("收到", user="u01")  # 张伟 is in 执法党小组: not in this audience
    await bot.say("收到", user="u06")
    await bot.say("回执 1", user="u00")
    assert "应回执5人，已回执1人" in bot.replies_to("u00")[-1]


async def test_member_cannot_send_notices_and_nothing_is_sent(bot):
    await bot.say("通知 大家明天放假", user="u02")
    await bot.say("定时通知 明天9:00 大家明天放假", user="u02")
    await bot.say("本周学习 党章", user="u02")
    assert bot.replies_to("u02") == [
        texts.NOT_ALLOWED.format(word="通知", role=texts.ROLE_NAMES["secretary"]),
        texts.NOT_ALLOWED.format(word="定时通知", role=texts.ROLE_NAMES["secretary"]),
        texts.NOT_ALLOWED.format(word="本周学习", role=texts.ROLE_NAMES["secretary"]),
    ]
    async with bot.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RollCall)) == 0
        texts_sent = (await session.scalars(select(Outbox.text))).all()
    assert len(texts_sent) == 3


async def test_scheduled_notice_goes_out_at_its_time(bot, clock):
    await bot.say("定时通知 明天下午3点 请到社区参加志愿服务。", user="u00")
    assert bot.replies_to("u00") == [
        notice_texts.NOTICE_SCHEDULED.format(seq=1, when="11月21日（周六）15:00", audience="全体党员", expected=10)
    ]
    before = chat_lines(await bot.transcript())
    clock.advance(hours=28, minutes=59)
    await fire(bot, "tick_roll_calls")
    assert chat_lines(await bot.transcript()) == before
    clock.advance(minutes=1)
    await fire(bot, "tick_roll_calls")
    [push] = chat_lines(await bot.transcript())[len(before) :]
    assert push.startswith("【第1号通知】请到社区参加志愿服务。")


async def test_scheduled_notice_time_problems_are_asked_again(bot):
    await bot.say("定时通知 明天3点 开会", user="u00")
    await bot.say("定时通知 今天9:00 开会", user="u00")
    await bot.say("定时通知 开会", user="u00")
    assert bot.replies_to("u00") == [
        texts.NOTICE_TIME_AMBIGUOUS.format(text="明天3点"),
        texts.NOTICE_TIME_PAST.format(when="11月20日（周五）09:00"),
        texts.NOTICE_TIME_MISSING,
    ]


async def test_close_and_list(bot, clock):
    await bot.say("通知 第一件事", user="u00")
    await bot.say("通知 第二件事", user="u00")
    await bot.say("收到", user="u01")
    await bot.say("通知列表", user="u00")
    assert bot.replies_to("u00")[-1] == "\n".join(
        [
            notice_texts.NOTICE_LIST_HEADER,
            notice_texts.NOTICE_LIST_LINE.format(seq=1, title="第一件事", done=1, expected=10),
            notice_texts.NOTICE_LIST_LINE.format(seq=2, title="第二件事", done=1, expected=10),
        ]
    )
    await bot.say("关闭通知 1", user="u00")
    # Closed in the group: the group sees the counts, the names go to the secretary directly.
    assert bot.replies_to("u00")[-1] == "第1号通知已关闭：应回执10人，已回执1人。" + notice_texts.STATUS_NAMES_SENT
    direct = [t for t in chat_lines(await bot.transcript("dm:u00")) if t.startswith("第1号通知已关闭")]
    assert len(direct) == 1 and "未回执：" in direct[0]
    await bot.say("关闭通知 1", user="u00")
    assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_ALREADY_CLOSED.format(seq=1)
    await bot.say("关闭通知 9", user="u00")
    assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_NOT_FOUND.format(seq=9)


async def test_notice_closes_by_itself_after_auto_close_days(bot, clock):
    await bot.say("通知 请更新个人信息。", user="u00")
    clock.advance(days=7, minutes=1)
    await fire(bot, "tick_roll_calls")
    closed = [t for t in chat_lines(await bot.transcript("dm:u00")) if t.startswith("第1号通知已关闭")]
    assert len(closed) == 1
    clock.advance(minutes=1)
    await fire(bot, "tick_roll_calls")
    assert len([t for t in chat_lines(await bot.transcript("dm:u00")) if t.startswith("第1号通知已关闭")]) == 1


async def test_a_scheduled_notice_is_shown_as_scheduled_not_as_unacknowledged(bot, clock):
    await bot.say("通知 第一件事", user="u00")
    await bot.say("收到", user="u01")
    await bot.say("定时通知 明天9:00 第二件事", user="u00")
    await bot.say("通知列表", user="u00")
    assert bot.replies_to("u00")[-1] == "\n".join(
        [
            notice_texts.NOTICE_LIST_HEADER,
            notice_texts.NOTICE_LIST_LINE.format(seq=1, title="第一件事", done=1, expected=10),
            notice_texts.NOTICE_LIST_SCHEDULED_LINE.format(
                seq=2, title="第二件事", when="11月21日（周六）09:00", expected=10
            ),
        ]
    )
    # 通知情况 without a number: the latest notice that went out, not the one still waiting.
    await bot.say("通知情况", user="u00")
    assert bot.replies_to("u00")[-1].startswith("第1号通知（全体党员")
    await bot.say("回执 2", user="u00")
    assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_STATUS_SCHEDULED.format(
        seq=2, audience="全体党员", when="11月21日（周六）09:00", expected=10
    )
    # Once it has gone out, receipts are counted as for any notice.
    clock.set(clock().replace(day=21, hour=9, minute=0))
    await fire(bot, "tick_roll_calls")
    await bot.say("收到", user="u02")
    await bot.say("通知情况", user="u00")
    assert "应回执10人，已回执1人" in bot.replies_to("u00")[-1]
    assert bot.replies_to("u00")[-1].startswith("第2号通知（全体党员")


async def test_closing_a_scheduled_notice_cancels_it(bot, clock):
    await bot.say("定时通知 明天9:00 第二件事", user="u00")
    await bot.say("关闭通知 1", user="u00")
    assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_CANCELLED.format(seq=1)
    await bot.say("回执 1", user="u00")
    assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_STATUS_CANCELLED.format(seq=1, audience="全体党员")
    await bot.say("通知列表", user="u00")
    assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_LIST_EMPTY
    clock.advance(days=1)
    await fire(bot, "tick_roll_calls")
    assert not [t for t in chat_lines(await bot.transcript()) if "第二件事" in t]
    assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_LIST_EMPTY  # and no final tally of a notice nobody got
    assert not [t for t in chat_lines(await bot.transcript("dm:u00")) if t.startswith("第1号通知已关闭")]


async def test_a_notice_closed_by_another_secretary_tells_them_the_counts(bot):
    await bot.say("设为书记 @王芳", user="u00")
    await bot.say("通知 周五交学习笔记", user="u00")
    await bot.say("收到", user="u01")
    await bot.say("关闭通知 1", user="u02")
    # The closer hears the counts in the group; the names go to the notice's sender directly, never to the group.
    assert bot.replies_to("u02")[-1] == "第1号通知已关闭：应回执10人，已回执1人。"
    direct = [t for t in chat_lines(await bot.transcript("dm:u00")) if t.startswith("第1号通知已关闭")]
    assert len(direct) == 1 and "未回执：" in direct[0]


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999"])  # past PostgreSQL's integer; SQLite's
async def test_a_notice_number_no_notice_can_have_is_answered_as_not_found(bot_in_process, number):
    bot = bot_in_process
    await bot.say("通知 本周五下午两点召开主题党日。", user="u00")
    asked = [f"通知情况 {number}", f"通知情况 第{number}号通知", f"回执 {number}", f"关闭通知 {number}"]
    for text in [*asked, f"关闭第{number}号通知"]:
        await bot.say(text, user="u00")
        assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_NOT_FOUND.format(seq=number), text
    async with bot.services.sessions() as session:
        assert list(await session.scalars(select(RollCall.status))) == [RollCallStatus.OPEN]


async def test_a_notice_named_in_words_is_that_notice_and_other_words_name_none(bot_in_process):
    bot = bot_in_process
    for body in ("第一件事", "第二件事", "第三件事"):
        await bot.say(f"通知 {body}", user="u00")
    await bot.say("关闭第一号通知", user="u00")
    assert bot.replies_to("u00")[-1].startswith("第1号通知已关闭：")
    await bot.say("通知情况 第二号", user="u00", chat=None)
    assert "第2号通知" in bot.replies_to("u00")[-1]
    for text in ("通知情况 周五那个", "关闭通知 第三件事"):  # no number: never the latest notice instead
        await bot.say(text, user="u00")
        assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_NEED_SEQ, text
    async with bot.services.sessions() as session:
        statuses = dict((await session.execute(select(RollCall.seq, RollCall.status))).all())
    assert statuses == {1: RollCallStatus.CLOSED, 2: RollCallStatus.OPEN, 3: RollCallStatus.OPEN}


async def test_a_notice_of_invisible_characters_only_is_no_notice(bot_in_process):
    bot = bot_in_process
    for text in ("通知 \u200b\u200b", "通知 \u2800\u3164", "定时通知 明天9:00 \u200d"):
        await bot.say(text, user="u00")
        assert bot.replies_to("u00")[-1] == notice_texts.NOTICE_NEED_BODY, text
    async with bot.services.sessions() as session:
        assert list(await session.scalars(select(RollCall))) == []
