"""互查 over the tree 党委 → 2 党总支 → 6 党支部 (tests/core/test_org.py builds it): the 党委 pairs its 6 branches in
a rotation, a reviewer sees the reviewed branch's quarter in counts, nobody else does, findings are stored with who
and when, and closing turns them into 问题 items of the reviewed branch only."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from sqlalchemy import select, text

from bot.core import db, texts
from bot.core.config import DatabaseConfig
from bot.core.models import Branch, Member, Outbox
from bot.tasks import texts as task_texts
from bot.tasks.crosscheck import rotation
from bot.tasks.lists import date_text
from bot.tasks.models import (
    CrosscheckFinding,
    CrosscheckPair,
    CrosscheckRound,
    CrosscheckStatus,
    TaskItem,
    TaskStatus,
)
from tests.conftest import START, TZ
from tests.core.test_org import BRANCHES, NAMES, PARENTS, populated, tree_config, unit_ids
from tests.support import fire
from tests.tasks.test_task_lists import direct, last, member_id

FRIDAY_9 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # Q4; the default study day
Q4 = task_texts.CROSSCHECK_QUARTER.format(year=2026, quarter=4)


def test_rotation_pairs_each_branch_with_the_next_never_itself():
    assert rotation([1, 2, 3]) == [(1, 2), (2, 3), (3, 1)]
    assert rotation([7, 9]) == [(7, 9), (9, 7)]
    assert rotation([5]) == [] and rotation([]) == []


async def test_a_round_pairs_six_branches_reviewers_see_counts_findings_become_problem_items(
    aiohttp_client, db_url, clock
):
    clock.set(FRIDAY_9)
    bot = await populated(aiohttp_client, tree_config(db_url), clock)

    # 第二党支部's quarter: a study day (1 of 4 checks in), a 主题党日 (2 of 4 sign in), a list item done.
    assert await fire(bot, "study_reminder.b2")
    await bot.say("学习打卡 学习党章", user="b2m000", chat="b2-group")
    clock.set(START)
    await bot.say("发起主题党日 11月20日14:30 三楼会议室 主题：学习党章", user="b200", chat="b2-group")
    await bot.say("下发清单 11月 任务 全部支部 11月30日前 报送党建工作总结", user="dw00", chat="dw-group")
    await bot.say("完成 1 已报送", user="b200", chat="b2-group")
    clock.set(datetime(2026, 11, 20, 14, 20, tzinfo=TZ))
    for user in ("b2m000", "b2m001"):
        await bot.say("签到", user=user, chat="b2-group")
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))

    # Only a 党委/党总支 secretary opens a round; a 党支部 secretary and a member are refused.
    assert last(await bot.say("开展互查 2026Q4", user="b100", chat="b1-group")) == task_texts.CROSSCHECK_ONLY_HIGHER
    refused = last(await bot.say("开展互查 2026Q4", user="b1m000", chat="b1-group"))
    assert refused == texts.NOT_ALLOWED.format(word="开展互查", role=texts.ROLE_NAMES["secretary"])
    bad = last(await bot.say("开展互查 2026Q5", user="dw00", chat="dw-group"))
    assert bad == task_texts.TASK_BAD_QUARTER.format(quarter="2026Q5")

    answer = await bot.say("开展互查 2026Q4", user="dw00", chat="dw-group")
    order = ["b1", "b2", "b3", "b4", "b5", "b6"]  # depth first: 机关党总支's three, then 执法党总支's
    pairs = [(order[i], order[(i + 1) % 6]) for i in range(6)]
    lines = "\n".join(task_texts.CROSSCHECK_PAIR_LINE.format(reviewer=NAMES[a], reviewed=NAMES[b]) for a, b in pairs)
    assert last(answer) == task_texts.CROSSCHECK_OPENED.format(quarter=Q4, count=6, lines=lines)
    ids = await unit_ids(bot)
    async with bot.services.sessions() as session:
        [round_] = (await session.scalars(select(CrosscheckRound))).all()
        stored = [(p.reviewer_id, p.reviewed_id) for p in await session.scalars(select(CrosscheckPair))]
    assert (round_.unit_id, round_.quarter, round_.status) == (ids["dw"], "2026Q4", CrosscheckStatus.OPEN)
    assert sorted(stored) == sorted((ids[a], ids[b]) for a, b in pairs)
    for reviewer, reviewed in pairs:  # each reviewing branch's secretary is told privately, once
        told = [t for t in await direct(bot, f"{reviewer}00") if t.startswith("【互查】")]
        assert told == [
            task_texts.CROSSCHECK_ASSIGNED.format(
                unit=NAMES["dw"], quarter=Q4, reviewer=NAMES[reviewer], reviewed=NAMES[reviewed]
            )
        ]
    assert not any(t.startswith("【互查】") for t in await direct(bot, "b1m000"))
    # Rounds over the same branches never run at once; a second round of the quarter is refused.
    overlap = last(await bot.say("开展互查", user="zz100", chat="zz1-group"))
    assert overlap == task_texts.CROSSCHECK_OVERLAP.format(unit=NAMES["dw"])
    again = last(await bot.say("开展互查 2026Q4", user="dw00", chat="dw-group"))
    assert again == task_texts.CROSSCHECK_ALREADY.format(unit=NAMES["dw"], quarter=Q4)

    # 第一党支部 reviews 第二党支部: counts and states, sent privately when asked in the group.
    assert last(await bot.say("互查查看", user="b100", chat="b1-group")) == task_texts.CROSSCHECK_VIEW_SENT_DIRECT
    view = (await direct(bot, "b100"))[-1]
    item_line = task_texts.TASK_LINE.format(
        seq=1,
        kind="任务",
        title="报送党建工作总结",
        due=date_text(date(2026, 11, 30), START.date()),
        criteria="",
        state="已完成",
    )
    assert view == "\n".join(
        [
            task_texts.CROSSCHECK_VIEW_HEAD.format(reviewed=NAMES["b2"], quarter=Q4, reviewer=NAMES["b1"]),
            task_texts.CROSSCHECK_VIEW_MEETINGS,
            task_texts.CROSSCHECK_VIEW_MEETING_LINE.format(kind="主题党日", count=1, expected=4, present=2, leave=0),
            task_texts.CROSSCHECK_VIEW_STUDY.format(weeks=1, rate="25%", expected=4, done=1),
            task_texts.CROSSCHECK_VIEW_TASKS.format(total=1, done=1, overdue=0),
            item_line,
            task_texts.CROSSCHECK_VIEW_FOOTER.format(count=0),
        ]
    )
    assert "同志" not in view  # no member is named
    # In a direct chat the view is the reply.
    assert last(await bot.say("互查查看 第二党支部", user="b100", chat=None)) == view

    # Nobody else sees 第二党支部: another reviewer naming it, a member, a secretary in a chat not theirs, the 党委.
    sideways = last(await bot.say("互查查看 第二党支部", user="b300", chat="b3-group"))
    assert sideways == task_texts.CROSSCHECK_NOT_YOURS.format(
        reviewer=NAMES["b3"], reviewed=NAMES["b4"], asked="第二党支部"
    )
    asked_other = last(await bot.say("互查查看 第三党支部", user="b100", chat=None))
    assert asked_other == task_texts.CROSSCHECK_NOT_YOURS.format(
        reviewer=NAMES["b1"], reviewed=NAMES["b2"], asked="第三党支部"
    )
    member = last(await bot.say("互查查看", user="b1m000", chat="b1-group"))
    assert member == texts.NOT_ALLOWED.format(word="互查查看", role=texts.ROLE_NAMES["secretary"])
    outsider = last(await bot.say("互查查看", user="b300", chat="b2-group"))
    assert outsider == texts.NOT_ALLOWED_OUTSIDER.format(word="互查查看")
    assert last(await bot.say("互查查看", user="dw00", chat="dw-group")) == task_texts.CROSSCHECK_NOT_ASSIGNED
    for user in ("b300", "b1m000", "dw00", "b200"):
        assert not any(
            t.startswith(task_texts.CROSSCHECK_VIEW_HEAD.split("{")[0] + NAMES["b2"]) for t in await direct(bot, user)
        )

    # Findings: several, with who and when; only the reviewer's secretary writes them.
    first = last(await bot.say("互查意见 主题党日签到率偏低", user="b100", chat="b1-group"))
    assert first == task_texts.CROSSCHECK_FINDING_SAVED.format(reviewed=NAMES["b2"], count=1)
    clock.advance(minutes=5)
    second = last(await bot.say("互查意见 学习日参学率不足，请加强督促", user="b100", chat=None))
    assert second == task_texts.CROSSCHECK_FINDING_SAVED.format(reviewed=NAMES["b2"], count=2)
    await bot.say("互查意见 第五党支部清单完成及时", user="b400", chat="b4-group")
    assert last(await bot.say("互查意见", user="b100", chat="b1-group")) == task_texts.CROSSCHECK_FINDING_USAGE
    refused = last(await bot.say("互查意见 不应记录", user="b1m001", chat="b1-group"))
    assert refused == texts.NOT_ALLOWED.format(word="互查意见", role=texts.ROLE_NAMES["secretary"])
    assert last(await bot.say("互查意见 不应记录", user="b300", chat="b2-group")) == texts.NOT_ALLOWED_OUTSIDER.format(
        word="互查意见"
    )
    assert (
        last(await bot.say("互查意见 不应记录", user="zz100", chat="zz1-group")) == task_texts.CROSSCHECK_NOT_ASSIGNED
    )
    b100 = await member_id(bot, "b100")
    async with bot.services.sessions() as session:
        found = (
            await session.execute(
                select(CrosscheckFinding, CrosscheckPair)
                .join(CrosscheckPair, CrosscheckPair.id == CrosscheckFinding.pair_id)
                .order_by(CrosscheckFinding.id)
            )
        ).all()
    assert [(f.text, f.author_id, p.reviewed_id) for f, p in found] == [
        ("主题党日签到率偏低", b100, ids["b2"]),
        ("学习日参学率不足，请加强督促", b100, ids["b2"]),
        ("第五党支部清单完成及时", await member_id(bot, "b400"), ids["b5"]),
    ]
    assert found[0][0].created_at == datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
    assert found[1][0].created_at == datetime(2026, 11, 23, 10, 5, tzinfo=TZ)

    status = last(await bot.say("互查情况", user="dw00", chat="dw-group"))
    assert task_texts.CROSSCHECK_STATUS_LINE.format(reviewer=NAMES["b1"], reviewed=NAMES["b2"], count=2) in status
    mine = last(await bot.say("互查情况", user="b100", chat="b1-group"))
    assert mine == task_texts.CROSSCHECK_STATUS_MINE.format(
        unit=NAMES["dw"], quarter=Q4, reviewer=NAMES["b1"], reviewed=NAMES["b2"], count=2
    )

    # Closing: only the round's unit; findings become 问题 items of the reviewed branch, due in 30 days.
    assert last(await bot.say("结束互查", user="b100", chat="b1-group")) == task_texts.CROSSCHECK_ONLY_HIGHER
    no_round = last(await bot.say("结束互查", user="zz100", chat="zz1-group"))
    assert no_round == task_texts.CROSSCHECK_NO_ROUND.format(unit=NAMES["zz1"])
    due = date(2026, 11, 23) + timedelta(days=30)
    closed = last(await bot.say("结束互查", user="dw00", chat="dw-group"))
    head = task_texts.CROSSCHECK_CLOSED.format(quarter=Q4, findings=3, units=2, due=date_text(due, START.date()))
    assert closed == f"{head}\n{task_texts.CROSSCHECK_CLOSED_SENT}"
    summary = (await direct(bot, "dw00"))[-1]
    assert summary.startswith(task_texts.CROSSCHECK_SUMMARY_HEAD.format(unit=NAMES["dw"], quarter=Q4))
    assert task_texts.CROSSCHECK_SUMMARY_LINE.format(reviewer=NAMES["b1"], reviewed=NAMES["b2"], count=2) in summary
    assert task_texts.CROSSCHECK_SUMMARY_LINE.format(reviewer=NAMES["b2"], reviewed=NAMES["b3"], count=0) in summary
    assert summary.endswith(
        task_texts.CROSSCHECK_SUMMARY_TOTAL.format(pairs=6, findings=3, due=date_text(due, START.date()))
    )
    assert last(await bot.say("结束互查", user="dw00", chat="dw-group")) == task_texts.CROSSCHECK_NO_ROUND.format(
        unit=NAMES["dw"]
    )

    async with bot.services.sessions() as session:
        problems = list(await session.scalars(select(TaskItem).where(TaskItem.kind == "问题").order_by(TaskItem.id)))
        links = list(await session.scalars(select(CrosscheckFinding.task_item_id).order_by(CrosscheckFinding.id)))
        round_ = await session.get(CrosscheckRound, round_.id)
    assert round_ is not None and (round_.status, round_.closed_by) == (
        CrosscheckStatus.CLOSED,
        await member_id(bot, "dw00"),
    )
    assert [(p.branch_id, p.issuer_id, p.seq, p.due, p.status) for p in problems] == [
        (ids["b2"], ids["dw"], 2, due, TaskStatus.OPEN),
        (ids["b2"], ids["dw"], 3, due, TaskStatus.OPEN),
        (ids["b5"], ids["dw"], 2, due, TaskStatus.OPEN),
    ]
    assert problems[0].title == task_texts.CROSSCHECK_TASK_TITLE.format(quarter=Q4, finding="主题党日签到率偏低")
    assert links == [p.id for p in problems]

    # The reviewed branch sees them in its list; a branch with no findings does not.
    b2_list = last(await bot.say("本月清单", user="b2m000", chat="b2-group"))
    assert "主题党日签到率偏低" in b2_list and "学习日参学率不足" in b2_list and "第五党支部清单" not in b2_list
    b3_list = last(await bot.say("本月清单", user="b3m000", chat="b3-group"))
    assert "互查" not in b3_list
    # The chats of 第二党支部 are told of the new items (as any 问题清单); no other branch's chat is.
    for key in BRANCHES:
        announced = [t for t in await direct_chat(bot, f"{key}-group") if "互查发现" in t]
        assert bool(announced) == (key in ("b2", "b5")), key
    # A finding after the close is refused.
    assert (
        last(await bot.say("互查意见 迟到的意见", user="b100", chat="b1-group")) == task_texts.CROSSCHECK_NOT_ASSIGNED
    )


async def direct_chat(bot, chat: str) -> list[str]:
    async with bot.services.sessions() as session:
        rows = await session.scalars(
            select(Outbox.text).where(Outbox.target_kind == "chat", Outbox.target_id == chat).order_by(Outbox.id)
        )
        return list(rows)


async def test_a_general_branch_round_and_a_unit_with_one_branch(aiohttp_client, db_url, clock):
    # 第二、第三党支部 moved to 执法党总支: 机关党总支 keeps one branch.
    bot = await populated(aiohttp_client, tree_config(db_url, {**PARENTS, "b2": "zz2", "b3": "zz2"}), clock)
    one = last(await bot.say("开展互查", user="zz100", chat="zz1-group"))
    assert one == task_texts.CROSSCHECK_ONE_BRANCH.format(unit=NAMES["zz1"])
    answer = await bot.say("开展互查", user="zz200", chat="zz2-group")  # the current quarter: 2026Q4
    order = ["b2", "b3", "b4", "b5", "b6"]
    lines = "\n".join(
        task_texts.CROSSCHECK_PAIR_LINE.format(reviewer=NAMES[order[i]], reviewed=NAMES[order[(i + 1) % 5]])
        for i in range(5)
    )
    assert last(answer) == task_texts.CROSSCHECK_OPENED.format(quarter=Q4, count=5, lines=lines)
    # 第一党支部 is not in 执法党总支's round.
    assert last(await bot.say("互查查看", user="b100", chat="b1-group")) == task_texts.CROSSCHECK_NOT_ASSIGNED
    assert last(await bot.say("互查查看 第三党支部", user="b100", chat=None)) == task_texts.CROSSCHECK_NOT_ASSIGNED
    # The 党委 above cannot open a round over the same branches meanwhile.
    busy = last(await bot.say("开展互查", user="dw00", chat="dw-group"))
    assert busy == task_texts.CROSSCHECK_OVERLAP.format(unit=NAMES["zz2"])
    # Closing without findings issues nothing.
    closed = last(await bot.say("结束互查", user="zz200", chat=None))
    due = START.date() + timedelta(days=30)
    assert closed.startswith(
        task_texts.CROSSCHECK_CLOSED.format(quarter=Q4, findings=0, units=0, due=date_text(due, START.date()))
    )
    async with bot.services.sessions() as session:
        assert (await session.scalars(select(TaskItem))).all() == []


async def test_upgrading_from_0015_keeps_task_items_and_the_new_tables_work(tmp_path):
    engine = db.create_engine(DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"))
    try:
        await db.upgrade(engine, "0015")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO branch (id, key, name, kind, parent_id, ancestor_path) VALUES "
                    "(1, 'dw', '党委', 'committee_unit', NULL, '/'), (2, 'b1', '第一党支部', 'branch', 1, '/1/'),"
                    " (3, 'b2', '第二党支部', 'branch', 1, '/1/')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO member (id, branch_id, display_name, role, created_at) "
                    "VALUES (7, 2, '张三', 'secretary', '2026-11-20 02:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO task_item (id, issuer_id, branch_id, seq, month, kind, title, criteria, due,"
                    " original_due, status, done_note, extension_reason, reminders_sent, created_at) VALUES "
                    "(5, 1, 3, 1, '2026-11', '任务', '报送总结', '', '2026-11-30', '2026-11-30', 'open', '', '',"
                    " '[]', '2026-11-20 02:00:00')"
                )
            )
        await db.upgrade(engine, "0016")  # later revisions have their own tests
        assert await db.current_revision(engine) == "0016"
        async with db.transaction(db.session_factory(engine)) as session:
            kept = await session.get(TaskItem, 5)
            assert kept is not None and (kept.title, kept.branch_id, kept.due) == ("报送总结", 3, date(2026, 11, 30))
            member = await session.get(Member, 7)
            assert member is not None and member.display_name == "张三"
            assert [b.key for b in await session.scalars(select(Branch).order_by(Branch.id))] == ["dw", "b1", "b2"]
            round_ = CrosscheckRound(
                unit_id=1, quarter="2026Q4", status=CrosscheckStatus.OPEN, opened_by=7, opened_at=START
            )
            session.add(round_)
            await session.flush()
            pair = CrosscheckPair(round_id=round_.id, reviewer_id=2, reviewed_id=3)
            session.add(pair)
            await session.flush()
            session.add(
                CrosscheckFinding(pair_id=pair.id, text="记录不全", author_id=7, created_at=START, task_item_id=5)
            )
        async with db.session_factory(engine)() as session:
            stored = await session.scalar(select(CrosscheckFinding))
            assert stored is not None and (stored.text, stored.author_id, stored.task_item_id) == ("记录不全", 7, 5)
    finally:
        await engine.dispose()


async def test_two_closes_at_once_turn_each_finding_into_one_item(aiohttp_client, db_url, clock):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    await bot.say("开展互查", user="zz100", chat="zz1-group")
    await bot.say("互查意见 发展党员材料不全", user="b300", chat="b3-group")  # 第三党支部 reviews 第一党支部
    answers = await asyncio.gather(
        bot.say("结束互查", user="zz100", chat="zz1-group"), bot.say("结束互查", user="dw00", chat="zz1-group")
    )
    due = date_text(START.date() + timedelta(days=30), START.date())
    head = task_texts.CROSSCHECK_CLOSED.format(quarter=Q4, findings=1, units=1, due=due)
    assert sorted(last(a) for a in answers) == sorted(
        [f"{head}\n{task_texts.CROSSCHECK_CLOSED_SENT}", task_texts.CROSSCHECK_NO_ROUND.format(unit=NAMES["zz1"])]
    )
    ids = await unit_ids(bot)
    async with bot.services.sessions() as session:
        items = [(i.branch_id, i.issuer_id, i.kind) for i in await session.scalars(select(TaskItem))]
    assert items == [(ids["b1"], ids["zz1"], "问题")]
