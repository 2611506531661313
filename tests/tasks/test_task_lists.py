"""月清单 and 季调度 over the tree 党委 → 2 党总支 → 6 党支部 (tests/core/test_org.py builds it): a month's list of
8 items, reminders before due (holiday-aware), completions and extensions with who and when, overdue items to the
党委's secretary, the quarter's xlsx read back with openpyxl; authority never sideways or up."""

from __future__ import annotations

import asyncio
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import build_app
from bot.cli import main
from bot.core import texts
from bot.core.config import parse_config
from bot.core.models import Member, MemberIdentity, Outbox
from bot.tasks import texts as task_texts
from bot.tasks.lists import date_text
from bot.tasks.models import ExtensionStatus, TaskItem, TaskStatus
from tests.conftest import ROOT, TZ
from tests.core.test_org import BRANCHES, NAMES, populated, tree_config, tree_toml, unit_ids
from tests.support import fire

# Set on 25 September for October: item 1 is due on Friday 9 October, right after the National Day holiday
# (1–7 October 2026; Saturday 10 October is a 调休 workday).
SEPT_25 = datetime(2026, 9, 25, 10, 0, tzinfo=TZ)
ITEMS = [
    "任务 全部支部 10月9日前 报送三季度党建工作总结 完成标准：报送书面总结",
    "任务 全部支部 10月16日前 召开专题组织生活会",
    "责任 全部支部 10月20日前 落实意识形态工作责任制",
    "问题 第一党支部、第四党支部 10月23日前 整改党费收缴不规范问题",
    "任务 全部支部 10月26日 开展主题党日活动",
    "任务 全部支部 2026-10-28 更新党员信息",
    "责任 全部支部 10月30日前 做好发展党员工作",
    "问题 全部支部 10月31日前 整改组织生活记录不全问题",
]
LIST_TEXT = "下发清单 10月\n" + "\n".join(ITEMS)
ROWS = 7 * len(BRANCHES) + 2


async def direct(bot, user: str) -> list[str]:
    """Texts sent to user directly (target id = the sim user id)."""
    async with bot.services.sessions() as session:
        rows = await session.scalars(
            select(Outbox.text).where(Outbox.target_kind == "user", Outbox.target_id == user).order_by(Outbox.id)
        )
        return list(rows)


async def item(bot, branch: str, seq: int) -> TaskItem:
    ids = await unit_ids(bot)
    async with bot.services.sessions() as session:
        row = await session.scalar(select(TaskItem).where(TaskItem.branch_id == ids[branch], TaskItem.seq == seq))
        assert row is not None
        return row


async def member_id(bot, user: str) -> int:
    async with bot.services.sessions() as session:
        found = await session.scalar(
            select(Member.id).join(MemberIdentity).where(MemberIdentity.platform_user_id == user)
        )
        assert found is not None
        return found


def last(answer: dict) -> str:
    return answer["replies"][-1]["text"]


async def test_a_months_list_to_six_branches_reminders_completions_extensions_overdue_and_the_quarter(
    aiohttp_client, db_url, clock, tmp_path, monkeypatch
):
    clock.set(SEPT_25)
    bot = await populated(aiohttp_client, tree_config(db_url), clock)

    # Authority: a 党支部 issues nothing; a 党总支 only to its own branches; a member never.
    assert last(await bot.say(LIST_TEXT, user="b100", chat="b1-group")) == task_texts.TASK_ISSUE_ONLY_HIGHER
    sideways = "下发清单 10月 任务 第四党支部 10月9日前 报送总结"
    assert last(await bot.say(sideways, user="zz100", chat="zz1-group")) == task_texts.TASK_OWNER_NOT_BELOW.format(
        name="第四党支部", unit=NAMES["zz1"]
    )
    refused = last(await bot.say(LIST_TEXT, user="b1m001", chat="dw-group"))
    assert refused == texts.ORG_NOT_ALLOWED_OUTSIDER.format(word=task_texts.CMD_TASK_ISSUE[0])
    async with bot.services.sessions() as session:
        assert (await session.scalars(select(TaskItem))).all() == []

    answer = await bot.say(LIST_TEXT, user="dw00", chat="dw-group")
    assert last(answer) == task_texts.TASK_ISSUED.format(month="2026年10月", items=8, units=6, rows=ROWS)
    ids = await unit_ids(bot)
    async with bot.services.sessions() as session:
        items = list(await session.scalars(select(TaskItem).order_by(TaskItem.branch_id, TaskItem.seq)))
        announced = {
            target: text
            for target, text in (await session.execute(select(Outbox.target_id, Outbox.text))).all()
            if text.startswith(f"【{NAMES['dw']}下发")
        }
    assert len(items) == ROWS
    assert {i.issuer_id for i in items} == {ids["dw"]}
    per_branch = {key: [i for i in items if i.branch_id == ids[key]] for key in BRANCHES}
    assert {key: len(v) for key, v in per_branch.items()} == {k: 8 if k in ("b1", "b4") else 7 for k in BRANCHES}
    assert [i.seq for i in per_branch["b2"]] == list(range(1, 8))
    first = per_branch["b1"][0]
    assert (first.kind, first.title, first.criteria, first.due) == (
        "任务",
        "报送三季度党建工作总结",
        "报送书面总结",
        date(2026, 10, 9),
    )
    assert set(announced) == {f"{key}-group" for key in BRANCHES}  # the branches' chats; not the 总支's
    assert "整改党费收缴不规范问题" in announced["b4-group"] and "整改党费收缴不规范问题" not in announced["b2-group"]

    # Reminders: 3 workdays before the due day and on it, at 09:00. Item 1 (due 9 Oct) is reminded on 29 Sept —
    # the holiday is skipped — not on 6 Oct, three calendar days before; item 2 (due Fri 16 Oct) on 13 Oct.
    reminded: dict[date, list[str]] = {}
    day = date(2026, 9, 26)
    while day <= date(2026, 10, 16):
        clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=TZ))
        before = len(await direct(bot, "b300"))
        assert await fire(bot, "remind_tasks")
        reminded[day] = (await direct(bot, "b300"))[before:]
        if day == date(2026, 10, 8):
            # Completions are recorded with who and when; a second one changes nothing.
            answer = await bot.say("完成 1 已报送书面总结", user="b100", chat="b1-group")
            assert last(answer) == task_texts.TASK_DONE.format(seq=1, title="报送三季度党建工作总结")
            again = await bot.say("完成 1 再次报送", user="b100", chat="b1-group")
            assert last(again) == task_texts.TASK_ALREADY_DONE.format(
                seq=1, title="报送三季度党建工作总结", day="10月8日"
            )
            assert "此前" in last(again)
        day += timedelta(days=1)
    item1 = "报送三季度党建工作总结"
    days_item1 = sorted(d for d, texts_ in reminded.items() if any(item1 in t for t in texts_))
    assert days_item1 == [date(2026, 9, 29), date(2026, 10, 9)]
    days_item2 = sorted(d for d, texts_ in reminded.items() if any("召开专题组织生活会" in t for t in texts_))
    assert days_item2 == [date(2026, 10, 13), date(2026, 10, 16)]
    assert task_texts.TASK_DUE_TODAY in next(t for t in reminded[date(2026, 10, 9)] if item1 in t)
    # b1 finished item 1 on 8 October: it is not reminded on the due day.
    b1_on_due_day = [t for t in await direct(bot, "b100") if item1 in t]
    assert len(b1_on_due_day) == 1  # the 29 September reminder only

    done = await item(bot, "b1", 1)
    assert done.status == TaskStatus.DONE and done.done_note == "已报送书面总结"
    assert done.done_by == await member_id(bot, "b100")
    assert done.done_at == datetime(2026, 10, 8, 9, 0, tzinfo=TZ)

    # Overdue: on 10 October the 党委's secretary hears once of item 1 of the five branches that did not finish it.
    overdue = [t for t in await direct(bot, "dw00") if t.startswith(task_texts.TASK_OVERDUE.split("\n")[0])]
    assert len(overdue) == 1
    lines = overdue[0].splitlines()[1:]
    assert lines == [
        task_texts.TASK_OVERDUE_LINE.format(
            unit=NAMES[key], seq=1, title=item1, due=date_text(date(2026, 10, 9), SEPT_25.date())
        )
        for key in BRANCHES[1:]
    ]
    assert not any(item1 in t for t in await direct(bot, "zz100"))  # reported to the issuing unit, not the 总支

    # Sideways or up: another branch's secretary, a 党总支's secretary cannot complete b1's items.
    guest = await bot.say("完成 2 已召开", user="b200", chat="b1-group")
    assert last(guest) == texts.NOT_ALLOWED_OUTSIDER.format(word=task_texts.CMD_TASK_DONE[0])
    # The 党总支's secretary is told who reports b1's items (not that item 2 is missing: it is there).
    above = await bot.say("完成 2 已召开", user="zz100", chat="b1-group")
    assert last(above) == task_texts.TASK_NOT_OWN_UNIT.format(unit=NAMES["b1"], action=task_texts.TASK_ACTION_DONE)
    above = await bot.say("延期 2 10月30日 人员出差", user="dw00", chat="b1-group")
    assert last(above) == task_texts.TASK_NOT_OWN_UNIT.format(unit=NAMES["b1"], action=task_texts.TASK_ACTION_EXTEND)
    assert "第一党支部书记" in last(above)
    assert (await item(bot, "b1", 2)).status == TaskStatus.OPEN
    # Chatter is not a command, from a member or a guest; a member is not a secretary.
    assert (await bot.say("完成了", user="b1m001", chat="b1-group"))["replies"] == []
    assert (await bot.say("延期了吗", user="b2m001", chat="b1-group"))["replies"] == []
    member = await bot.say("完成 2 已召开", user="b1m001", chat="b1-group")
    assert last(member) == texts.NOT_ALLOWED.format(word="完成", role=texts.ROLE_NAMES["secretary"])

    # A late completion.
    clock.set(datetime(2026, 10, 12, 16, 0, tzinfo=TZ))
    late = await bot.say("完成 1 已补报总结", user="b300", chat="b3-group")
    assert last(late) == task_texts.TASK_DONE_LATE.format(seq=1, title=item1)

    # An extension: asked by the branch, refused to a 党总支 and a sibling, approved by the issuing 党委.
    clock.set(datetime(2026, 10, 14, 11, 0, tzinfo=TZ))
    asked = await bot.say("延期 3 10月30日 支部书记参加集中培训", user="b200", chat="b2-group")
    assert last(asked) == task_texts.TASK_EXTENSION_REQUESTED.format(
        seq=3, due=date_text(date(2026, 10, 30), SEPT_25.date())
    )
    to_issuer = task_texts.TASK_EXTENSION_TO_ISSUER.format(
        unit=NAMES["b2"],
        seq=3,
        title="落实意识形态工作责任制",
        due=date_text(date(2026, 10, 20), SEPT_25.date()),
        new_due=date_text(date(2026, 10, 30), SEPT_25.date()),
        reason="支部书记参加集中培训",
    )
    assert (await direct(bot, "dw00"))[-1] == to_issuer
    # 机关党总支 is above 第二党支部 but did not issue the item; 第一党支部 is beside it and does not find it at all.
    refused = await bot.say("同意延期 第二党支部 3", user="zz100", chat="zz1-group")
    assert last(refused) == task_texts.TASK_DECIDE_NOT_ALLOWED
    sideways = await bot.say("同意延期 第二党支部 3", user="b100", chat="b1-group")
    assert last(sideways) == task_texts.TASK_DECIDE_NOT_FOUND.format(unit="第二党支部", seq="3")
    assert (await item(bot, "b2", 3)).extension_status == ExtensionStatus.REQUESTED
    clock.set(datetime(2026, 10, 15, 9, 30, tzinfo=TZ))
    approved = await bot.say("同意延期 第二党支部 3", user="dw00", chat="dw-group")
    assert last(approved) == task_texts.TASK_EXTENSION_APPROVED.format(
        unit=NAMES["b2"], seq=3, due=date_text(date(2026, 10, 30), SEPT_25.date())
    )
    extended = await item(bot, "b2", 3)
    assert (extended.due, extended.original_due) == (date(2026, 10, 30), date(2026, 10, 20))
    assert extended.extension_requested_by == await member_id(bot, "b200")
    assert extended.extension_requested_at == datetime(2026, 10, 14, 11, 0, tzinfo=TZ)
    assert extended.extension_decided_by == await member_id(bot, "dw00")
    assert extended.extension_decided_at == datetime(2026, 10, 15, 9, 30, tzinfo=TZ)
    # Done by the extended date counts as on time.
    clock.set(datetime(2026, 10, 27, 10, 0, tzinfo=TZ))
    assert last(await bot.say("完成 3 已落实", user="b200", chat="b2-group")) == task_texts.TASK_DONE.format(
        seq=3, title="落实意识形态工作责任制"
    )

    # 本月清单: a branch's own list; the 党委's overview per branch.
    mine = last(await bot.say("本月清单", user="b2m001", chat="b2-group"))
    assert mine.startswith(task_texts.TASK_LIST_HEAD.format(unit=NAMES["b2"], month="2026年10月"))
    assert len(mine.splitlines()) == 8 and task_texts.TASK_STATE_OVERDUE in mine.splitlines()[1]
    overview = last(await bot.say("本月清单", user="dw00", chat="dw-group"))
    assert task_texts.TASK_OVERVIEW_LINE.format(unit=NAMES["b1"], total=8, done=1, overdue=4) in overview

    # 季调度 in chat, and as xlsx through the CLI, read back against the stored records.
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=TZ))
    summary = last(await bot.say("季度调度 2026Q4", user="dw00", chat="dw-group"))
    expected_lines = {
        "b1": (8, 1, 0, 7),
        "b2": (7, 1, 0, 6),
        "b3": (7, 0, 1, 6),
        "b4": (8, 0, 0, 8),
        "b5": (7, 0, 0, 7),
        "b6": (7, 0, 0, 7),
    }
    for key, (total, on_time, late_count, still_open) in expected_lines.items():
        line = task_texts.TASK_QUARTER_LINE.format(
            unit=NAMES[key], total=total, on_time=on_time, late=late_count, open=still_open
        )
        assert line in summary
    zz2 = last(await bot.say("季度调度 2026Q4", user="zz200", chat="zz2-group"))
    assert NAMES["b4"] in zz2 and NAMES["b1"] not in zz2

    config_path = tmp_path / "config.toml"
    config_path.write_text((ROOT / "config.toml").read_text(encoding="utf-8") + "\n" + tree_toml(), encoding="utf-8")
    monkeypatch.setenv("YIZHAN_DATABASE_URL", db_url)
    out = tmp_path / "q4.xlsx"
    code = await asyncio.to_thread(
        main, ["--config", str(config_path), "tasks", "export", "--quarter", "2026Q4", "--unit", "dw", str(out)]
    )
    assert code == 0
    book = load_workbook(out, read_only=True)
    head, *rows = list(book[task_texts.TASK_SHEET_SUMMARY].iter_rows(values_only=True))
    assert head == task_texts.TASK_QUARTER_HEADER
    assert {row[0]: tuple(row[1:]) for row in rows} == {NAMES[k]: v for k, v in expected_lines.items()}
    head, *details = list(book[task_texts.TASK_SHEET_DETAIL].iter_rows(values_only=True))
    assert head == task_texts.TASK_DETAIL_HEADER
    assert len(details) == ROWS
    by_key = {(row[0], row[1]): dict(zip(head, row, strict=True)) for row in details}
    b1_first = by_key[(NAMES["b1"], 1)]
    assert b1_first["状态"] == task_texts.TASK_XLSX_ON_TIME and b1_first["完成时间"] == "2026-10-08 09:00"
    assert b1_first["完成人"] == f"{NAMES['b1']}书记" and b1_first["完成情况"] == "已报送书面总结"
    assert by_key[(NAMES["b3"], 1)]["状态"] == task_texts.TASK_XLSX_LATE
    b2_third = by_key[(NAMES["b2"], 3)]
    assert (b2_third["原定时限"], b2_third["现行时限"], b2_third["延期"]) == ("2026-10-20", "2026-10-30", "已同意")
    assert (b2_third["申请人"], b2_third["审批人"]) == (f"{NAMES['b2']}书记", f"{NAMES['dw']}书记")
    assert by_key[(NAMES["b6"], 7)]["状态"] == task_texts.TASK_XLSX_OPEN


async def test_a_list_issued_in_advance_across_the_year_is_shown_by_month_and_repeats_say_so(
    aiohttp_client, db_url, clock
):
    # 25 November: the 党委 issues December's list, one item due in January and one a year ahead (written with it).
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=TZ))
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    text = (
        "下发清单 12月\n任务 第一党支部 12月20日前 召开专题组织生活会\n"
        "任务 第一党支部 1月10日前 报送年度总结\n责任 第一党支部 2027-11-20 落实年度责任"
    )
    answer = await bot.say(text, user="dw00", chat="dw-group")
    assert last(answer) == task_texts.TASK_ISSUED.format(month="2026年12月", items=3, units=1, rows=3)
    assert [(i.seq, i.month, i.due) for i in [await item(bot, "b1", n) for n in (1, 2, 3)]] == [
        (1, "2026-12", date(2026, 12, 20)),
        (2, "2026-12", date(2027, 1, 10)),
        (3, "2026-12", date(2027, 11, 20)),
    ]
    lines = [
        task_texts.TASK_LINE.format(
            seq=1, kind="任务", title="召开专题组织生活会", due="12月20日", criteria="", state="未完成"
        ),
        task_texts.TASK_LINE.format(
            seq=2, kind="任务", title="报送年度总结", due="2027年1月10日", criteria="", state="未完成"
        ),
        task_texts.TASK_LINE.format(
            seq=3, kind="责任", title="落实年度责任", due="2027年11月20日", criteria="", state="未完成"
        ),
    ]
    async with bot.services.sessions() as session:
        announced = list(await session.scalars(select(Outbox.text).where(Outbox.target_id == "b1-group")))
    assert announced[-1] == task_texts.TASK_ANNOUNCE.format(
        issuer=NAMES["dw"], unit=NAMES["b1"], month="2026年12月", lines="\n".join(lines)
    )
    # 本月清单 in November names December's list; 本月清单 12月 (and its aliases) shows it.
    december = task_texts.TASK_LIST_HEAD.format(unit=NAMES["b1"], month="2026年12月") + "\n".join(lines)
    plain = last(await bot.say("本月清单", user="b1m001", chat="b1-group"))
    assert plain == task_texts.TASK_LIST_EMPTY.format(unit=NAMES["b1"], month="2026年11月") + "\n" + (
        task_texts.TASK_LIST_LATER.format(month="2026年12月", arg="12月")
    )
    for asked in ("本月清单 12月", "月清单 12月", "任务清单 2026年12月"):
        assert last(await bot.say(asked, user="b1m001", chat="b1-group")) == december, asked
    september = last(await bot.say("本月清单 9月", user="b1m001", chat="b1-group"))  # the past September
    assert september == task_texts.TASK_LIST_EMPTY.format(unit=NAMES["b1"], month="2026年9月")
    assert last(await bot.say("本月清单 13月", user="b1m001", chat="b1-group")) == task_texts.TASK_LIST_USAGE
    overview = last(await bot.say("本月清单", user="dw00", chat="dw-group"))
    assert overview.endswith("\n" + task_texts.TASK_LIST_LATER.format(month="2026年12月", arg="12月"))
    overview = last(await bot.say("本月清单 12月", user="dw00", chat="dw-group"))
    assert task_texts.TASK_OVERVIEW_LINE.format(unit=NAMES["b1"], total=3, done=0, overdue=0) in overview

    # A second 完成 says it was recorded earlier, and when; so does 延期 of a done item.
    done = await bot.say("完成 1 已召开", user="b100", chat="b1-group")
    assert last(done) == task_texts.TASK_DONE.format(seq=1, title="召开专题组织生活会")
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=TZ))
    again = await bot.say("完成 1 已召开", user="b100", chat="b1-group")
    assert last(again) == task_texts.TASK_ALREADY_DONE.format(seq=1, title="召开专题组织生活会", day="11月25日")
    extend = await bot.say("延期 1 12月31日 补充材料", user="b100", chat="b1-group")
    assert last(extend) == task_texts.TASK_EXTEND_DONE.format(seq=1, title="召开专题组织生活会", day="11月25日")
    assert (await item(bot, "b1", 1)).done_at == datetime(2026, 11, 25, 10, 0, tzinfo=TZ)

    # 15 January: item 2 is overdue; a new due date already past is refused, a later one is asked and approved once.
    clock.set(datetime(2027, 1, 15, 9, 0, tzinfo=TZ))
    past = await bot.say("延期 2 1月12日 人员出差", user="b100", chat="b1-group")
    assert last(past) == task_texts.TASK_EXTEND_PAST.format(due="1月12日")
    assert (await item(bot, "b1", 2)).extension_status is None
    asked = await bot.say("延期 2 1月31日 人员出差", user="b100", chat="b1-group")
    assert last(asked) == task_texts.TASK_EXTENSION_REQUESTED.format(seq=2, due="1月31日")
    approved = await bot.say("同意延期 第一党支部 2", user="dw00", chat="dw-group")
    assert last(approved) == task_texts.TASK_EXTENSION_APPROVED.format(unit=NAMES["b1"], seq=2, due="1月31日")
    twice = await bot.say("不同意延期 第一党支部 2", user="dw00", chat="dw-group")
    assert last(twice) == task_texts.TASK_EXTENSION_DECIDED.format(
        unit=NAMES["b1"], seq=2, state=task_texts.TASK_EXTENSION_STATES["approved"], due="1月31日"
    )
    assert (await item(bot, "b1", 2)).due == date(2027, 1, 31)


async def test_the_quarterly_push_and_recurring_items(aiohttp_client, db_url, clock):
    config = tree_config(db_url)
    from bot.core.config import RecurringTaskConfig

    rule = RecurringTaskConfig(unit="zz2", title="报送支部工作月报", due_day=5, criteria="月报表")
    config = config.replace(tasks={"recurring": (rule,)})
    clock.set(datetime(2026, 10, 1, 8, 0, tzinfo=TZ))
    bot = await populated(aiohttp_client, config, clock)
    assert await fire(bot, "issue_recurring_tasks")
    clock.set(datetime(2026, 10, 1, 8, 1, tzinfo=TZ))
    assert await fire(bot, "issue_recurring_tasks")  # a second run issues nothing new
    async with bot.services.sessions() as session:
        items = list(await session.scalars(select(TaskItem)))
    ids = await unit_ids(bot)
    assert sorted(i.branch_id for i in items) == [ids["b4"], ids["b5"], ids["b6"]]
    assert {(i.title, i.due, i.criteria, i.recurring_key) for i in items} == {
        ("报送支部工作月报", date(2026, 10, 5), "月报表", "1:2026-10")
    }
    clock.set(datetime(2027, 1, 1, 9, 30, tzinfo=TZ))
    assert await fire(bot, "push_quarter_summary")
    pushed = await direct(bot, "zz200")
    assert pushed[-1].startswith(task_texts.TASK_QUARTER_HEAD.format(unit=NAMES["zz2"], year="2026", quarter="4"))
    assert task_texts.TASK_QUARTER_LINE.format(unit=NAMES["b5"], total=1, on_time=0, late=0, open=1) in pushed[-1]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "下发清单 12月 工作 第一党支部 12月9日前 报送",
            task_texts.TASK_BAD_KIND.format(kind="工作", kinds="责任、任务、问题"),
        ),
        ("下发清单 12月 任务 第一党支部 下周 报送", task_texts.TASK_BAD_DUE.format(due="下周")),
        ("下发清单 12月 任务 第一党支部", task_texts.TASK_ITEM_FORMAT.format(line="任务 第一党支部")),
        (
            "下发清单 12月 任务 第九党支部 12月9日前 报送",
            task_texts.TASK_OWNER_NOT_BELOW.format(name="第九党支部", unit="市城管局党委"),
        ),
        # A due date before the list's month (on 20 November) or already past is a slip, not next year's item.
        (
            "下发清单 12月\n任务 全部支部 12月9日前 报送\n问题 第一党支部 11月20日前 过期事项",
            task_texts.TASK_DUE_BEFORE_MONTH.format(
                line="问题 第一党支部 11月20日前 过期事项", due="11月20日", month="2026年12月"
            ),
        ),
        (
            "下发清单 11月 任务 第一党支部 11月19日前 报送",
            task_texts.TASK_DUE_PAST.format(line="任务 第一党支部 11月19日前 报送", due="11月19日"),
        ),
        (
            "下发清单 2027年1月 任务 第一党支部 2026-12-31 报送",
            task_texts.TASK_DUE_BEFORE_MONTH.format(
                line="任务 第一党支部 2026-12-31 报送", due="12月31日", month="2027年1月"
            ),
        ),
    ],
)
async def test_a_list_that_cannot_be_issued_is_answered_and_nothing_is_written(
    aiohttp_client, db_url, clock, text, reason
):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    assert last(await bot.say(text, user="dw00", chat="dw-group")) == reason
    async with bot.services.sessions() as session:
        assert (await session.scalars(select(TaskItem))).all() == []


def test_the_template_round_trips_and_a_bad_row_is_reported(tmp_path: Path):
    from bot.tasks.files import read_list, write_template

    path = tmp_path / "t.xlsx"
    write_template(path, date(2026, 11, 20))
    items, errors = read_list(path, date(2026, 11, 20))
    assert errors == []
    assert [(month, d.kind, d.owners, d.due, d.title, d.criteria) for month, d in items] == [
        ("2026-12", "任务", ["第一党支部"], date(2026, 12, 20), "召开专题组织生活会", "报送会议记录"),
        ("2026-12", "责任", ["全部支部"], date(2026, 12, 31), "落实意识形态工作责任制", "报送年度总结"),
    ]
    # The examples are for the month after the day it is written, so they stay importable (here: across a year).
    later = tmp_path / "later.xlsx"
    write_template(later, date(2026, 12, 15))
    later_items, later_errors = read_list(later, date(2026, 12, 15))
    assert later_errors == [] and [(m, d.due) for m, d in later_items] == [
        ("2027-01", date(2027, 1, 20)),
        ("2027-01", date(2027, 1, 31)),
    ]
    book = load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet.append(["12月", "工作", "第一党支部", "2026-12-20", "x", ""])
    sheet.append(["13月", "任务", "第一党支部", "2026-12-20", "x", ""])
    book.save(path)
    _, errors = read_list(path, date(2026, 11, 20))
    assert errors == [
        task_texts.TASK_FILE_ROW.format(
            row=4, reason=task_texts.TASK_BAD_KIND.format(kind="工作", kinds="责任、任务、问题")
        ),
        task_texts.TASK_FILE_ROW.format(row=5, reason=task_texts.TASK_BAD_MONTH.format(month="13月")),
    ]


async def test_the_cli_writes_the_template_and_issues_it_all_or_nothing(
    aiohttp_client, db_url, clock, tmp_path, monkeypatch
):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    config_path = tmp_path / "config.toml"
    config_path.write_text((ROOT / "config.toml").read_text(encoding="utf-8") + "\n" + tree_toml(), encoding="utf-8")
    monkeypatch.setenv("YIZHAN_DATABASE_URL", db_url)
    # The CLI's today is the test's (20 November 2026): the template's December dates are never past.
    monkeypatch.setattr("bot.core.clock.system_clock", lambda tz: clock)
    base = ["--config", str(config_path), "tasks"]
    sheet = tmp_path / "list.xlsx"
    assert await asyncio.to_thread(main, [*base, "template", str(sheet)]) == 0
    book = load_workbook(sheet)
    assert book.active is not None
    book.active.append(["2026-12", "问题", "第四党支部", "2026-12-25", "整改问题", ""])
    book.save(sheet)
    # zz1 cannot issue to 第四党支部 (under zz2): nothing at all is issued.
    assert await asyncio.to_thread(main, [*base, "import", str(sheet), "--unit", "zz1"]) == 2
    async with bot.services.sessions() as session:
        assert (await session.scalars(select(TaskItem))).all() == []
    assert await asyncio.to_thread(main, [*base, "import", str(sheet), "--unit", "dw"]) == 0
    ids = await unit_ids(bot)
    async with bot.services.sessions() as session:
        items = list(await session.scalars(select(TaskItem)))
    assert len(items) == 1 + len(BRANCHES) + 1
    assert sorted(i.seq for i in items if i.branch_id == ids["b4"]) == [1, 2]
    assert {i.issuer_id for i in items} == {ids["dw"]}


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999"])  # past PostgreSQL's integer; SQLite's
async def test_an_item_number_no_item_can_have_is_answered_as_not_found(in_process, db_url, clock, number):
    clock.set(SEPT_25)
    bot = await in_process(build_app(tree_config(db_url), clock=clock, background=False))
    for user, chat in (("dw00", "dw-group"), ("b200", "b2-group")):
        await bot.say("大家好", user=user, chat=chat)
    await bot.say("下发清单 10月\n" + ITEMS[2], user="dw00", chat="dw-group")
    await bot.say("延期 1 10月30日 支部书记参加集中培训", user="b200", chat="b2-group")

    done = await bot.say(f"完成 {number} 已落实", user="b200", chat="b2-group")
    extend = await bot.say(f"延期 {number} 10月30日 支部书记参加集中培训", user="b200", chat="b2-group")
    assert [last(done), last(extend)] == [task_texts.TASK_NOT_FOUND.format(seq=number)] * 2
    approve = await bot.say(f"同意延期 第二党支部 {number}", user="dw00", chat="dw-group")
    assert last(approve) == task_texts.TASK_DECIDE_NOT_FOUND.format(unit="第二党支部", seq=number)
    asked = await item(bot, "b2", 1)  # the one item stays as it was: open, its extension still asked
    assert (asked.status, asked.extension_status, asked.due) == (
        TaskStatus.OPEN,
        ExtensionStatus.REQUESTED,
        date(2026, 10, 20),
    )


@pytest.mark.parametrize(
    ("today", "token", "month"),
    [
        (date(2027, 1, 3), "12月", "2026-12"),  # a late December list, early in January
        (date(2027, 1, 3), "1月", "2027-01"),
        (date(2027, 1, 3), "2月", "2027-02"),
        (date(2026, 12, 20), "1月", "2027-01"),  # issued in advance, across the year end
        (date(2026, 12, 20), "11月", "2026-11"),  # a late November list
        (date(2026, 11, 25), "10月", "2026-10"),
        (date(2026, 11, 25), "9月", "2027-09"),
        (date(2026, 11, 25), "2026年9月", "2026-09"),
    ],
)
def test_a_month_without_a_year_is_last_month_this_month_or_ahead(today: date, token: str, month: str):
    from bot.tasks.lists import parse_month

    assert parse_month(token, today) == month


async def test_a_late_december_list_issued_in_january_is_last_decembers(in_process, db_url, clock):
    clock.set(datetime(2027, 1, 3, 10, 0, tzinfo=TZ))
    bot = await in_process(build_app(tree_config(db_url), clock=clock, background=False))
    await bot.say("大家好", user="dw00", chat="dw-group")
    answer = await bot.say("下发清单 12月 任务 第一党支部 1月10日前 报送年度总结", user="dw00", chat="dw-group")
    assert last(answer) == task_texts.TASK_ISSUED.format(month="2026年12月", items=1, units=1, rows=1)
    issued = await item(bot, "b1", 1)
    assert (issued.month, issued.due) == ("2026-12", date(2027, 1, 10))


@pytest.mark.parametrize(
    ("issued_on", "list_text", "asked_on", "asked", "new_due"),
    [
        # A December item's '6月30日' is next June, not the June before its list.
        (
            datetime(2026, 11, 25, 10, 0, tzinfo=TZ),
            "下发清单 12月 任务 第一党支部 12月20日前 召开专题组织生活会",
            datetime(2026, 12, 10, 9, 0, tzinfo=TZ),
            "6月30日",
            date(2027, 6, 30),
        ),
        # A July item, overdue, asked in January: '1月15日' is the coming one.
        (
            datetime(2026, 7, 1, 10, 0, tzinfo=TZ),
            "下发清单 7月 任务 第一党支部 7月31日前 召开专题组织生活会",
            datetime(2027, 1, 5, 9, 0, tzinfo=TZ),
            "1月15日",
            date(2027, 1, 15),
        ),
    ],
)
async def test_an_extension_date_without_a_year_is_the_next_one_after_the_due_date(
    in_process, db_url, clock, issued_on, list_text, asked_on, asked, new_due
):
    clock.set(issued_on)
    bot = await in_process(build_app(tree_config(db_url), clock=clock, background=False))
    for user, chat in (("dw00", "dw-group"), ("b100", "b1-group")):
        await bot.say("大家好", user=user, chat=chat)
    await bot.say(list_text, user="dw00", chat="dw-group")
    clock.set(asked_on)
    answer = await bot.say(f"延期 1 {asked} 人员出差", user="b100", chat="b1-group")
    assert last(answer) == task_texts.TASK_EXTENSION_REQUESTED.format(seq=1, due=date_text(new_due, asked_on.date()))
    assert (await item(bot, "b1", 1)).extension_due == new_due
    # A year written out is taken as written: an earlier date is refused.
    due = (await item(bot, "b1", 1)).due
    written = await bot.say(
        f"延期 1 {due.year - 1}-{new_due.month}-{new_due.day} 人员出差", user="b100", chat="b1-group"
    )
    assert last(written) == task_texts.TASK_EXTEND_NOT_LATER.format(due=date_text(due, asked_on.date()))


async def test_an_extension_date_not_later_than_the_due_date_is_refused_not_moved_a_year(in_process, db_url, clock):
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=TZ))
    bot = await in_process(build_app(tree_config(db_url), clock=clock, background=False))
    for user, chat in (("dw00", "dw-group"), ("b100", "b1-group")):
        await bot.say("大家好", user=user, chat=chat)
    await bot.say("下发清单 12月 任务 第一党支部 12月20日前 召开专题组织生活会", user="dw00", chat="dw-group")
    clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=TZ))
    for asked in ("12月20日", "12月15日"):  # the due date itself, and an earlier one: not next December
        answer = await bot.say(f"延期 1 {asked} 人员出差", user="b100", chat="b1-group")
        assert last(answer) == task_texts.TASK_EXTEND_NOT_LATER.format(due="12月20日"), asked
    assert (await item(bot, "b1", 1)).extension_due is None


# Another 党委 with its own 第一党支部, declared first so its units are the first rows of that name.
OTHER_TREE = """
[[branches]]
id = "qw"
name = "区城管局党委"
kind = "committee_unit"
chats = ["sim:qw-group"]
secretaries = ["sim:qw00"]

[[branches]]
id = "qb1"
name = "第一党支部"
parent = "qw"
chats = ["sim:qb1-group"]
secretaries = ["sim:qb100"]
"""


async def test_an_extension_is_decided_on_the_named_unit_below_never_another_trees_namesake(in_process, db_url, clock):
    clock.set(SEPT_25)
    text = (ROOT / "config.toml").read_text(encoding="utf-8") + "\n" + OTHER_TREE + "\n" + tree_toml()
    config = parse_config(tomllib.loads(text), env={}).replace(
        database={"url": db_url}, scheduler={"enabled": False}, demo={"study_day_open": False}
    )
    bot = await in_process(build_app(config, clock=clock, background=False))
    for user, chat in (("qw00", "qw-group"), ("qb100", "qb1-group"), ("dw00", "dw-group"), ("b100", "b1-group")):
        await bot.say("大家好", user=user, chat=chat)
    for issuer, unit in (("qw", "qb1"), ("dw", "b1")):
        await bot.say(
            "下发清单 10月\n" + ITEMS[2].replace("全部支部", "第一党支部"), user=f"{issuer}00", chat=f"{issuer}-group"
        )
        await bot.say("延期 1 10月30日 支部书记参加集中培训", user=f"{unit}00", chat=f"{unit}-group")
    for issuer, unit in (("dw", "b1"), ("qw", "qb1")):
        answer = await bot.say("同意延期 第一党支部 1", user=f"{issuer}00", chat=f"{issuer}-group")
        assert last(answer) == task_texts.TASK_EXTENSION_APPROVED.format(unit="第一党支部", seq=1, due="10月30日")
        assert (await item(bot, unit, 1)).extension_status == ExtensionStatus.APPROVED
    # A 党总支 does not reach sideways: 执法党总支 finds no 第一党支部 below it.
    sideways = await bot.say("同意延期 第一党支部 1", user="zz200", chat="zz2-group")
    assert last(sideways) == task_texts.TASK_DECIDE_NOT_FOUND.format(unit="第一党支部", seq="1")


@pytest.mark.parametrize(
    ("token", "today", "expected"),
    [
        ("6月30日", date(2026, 12, 10), date(2027, 6, 30)),  # long past this year: next year's
        ("1月12日", date(2027, 1, 15), date(2027, 1, 12)),  # just past: that one (refused as past)
        ("12月31日", date(2027, 1, 5), date(2026, 12, 31)),  # just past, across New Year
        ("12月15日", date(2026, 12, 10), date(2026, 12, 15)),
        ("2月29日", date(2027, 2, 10), None),  # no such date this year: none, not a later leap year's
        ("2027-6-30", date(2026, 12, 10), date(2027, 6, 30)),
    ],
)
def test_an_extension_date_without_a_year_is_read_near_today(token, today, expected):
    from bot.tasks.lists import parse_extension_due

    assert parse_extension_due(token, today) == expected
