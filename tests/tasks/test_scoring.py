"""量化计分 and 年评比 over a generated year of records for 6 branches: every score equals a hand computation from
the documented rules (README "量化计分"); the ranking is private unless public_ranking; xlsx and chart read back."""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from bot.core import texts
from bot.core.models import Branch, EntryStatus, Member, Outbox, RollCall, RollCallEntry, RollCallKind
from bot.meetings.models import Meeting, MeetingKind
from bot.quiz.chart import cjk_family
from bot.tasks import texts as task_texts
from bot.tasks.models import TaskItem, TaskStatus
from bot.tasks.scoring import RULES, BranchScore, RuleScore, ranking_text
from tests.conftest import IN_CI, ROOT, TZ
from tests.core.test_org import BRANCHES, NAMES, populated, tree_config, tree_toml, unit_ids

YEAR = 2025
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=TZ)
AUDIENCE = 4  # each branch's secretary and three members


def at(day: date, hour: int = 15) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


class Plan:
    """What branch i (1…6) did in the year, and the score the README's rules give it, computed by hand."""

    def __init__(self, i: int) -> None:
        self.i = i
        self.committee_months = 6 + i  # 支委会, monthly: held in months 1…6+i
        self.assembly_quarters = min(i, 4)  # 支部党员大会, quarterly
        self.lecture_quarters = i % 4  # 党课, quarterly
        self.theme_months = 12 - i  # 主题党日 in months 1…12-i
        self.study_done = [min((week + i) % 5, AUDIENCE) for week in range(10)]  # 10 study weeks
        self.notice_done = [min((n * i) % 5, AUDIENCE) for n in range(1, 7)]  # 6 notices of its own
        self.on_time, self.late, self.open = i, 1, 1  # tasks due in the year

    def expected(self) -> dict[str, float]:
        meetings = round(2.0 * (self.committee_months + self.assembly_quarters + self.lecture_quarters + 0), 1)
        theme_day = round(1.0 * self.theme_months, 1)
        study = round(10.0 * sum(self.study_done) / (10 * AUDIENCE), 1)
        # Its own 6 notices, and the 党委's one notice (2 of its members acknowledged it).
        notices = round(10.0 * (sum(self.notice_done) + 2) / (7 * AUDIENCE), 1)
        tasks = round(20.0 * self.on_time / (self.on_time + self.late + self.open), 1)
        rules = {"meetings": meetings, "theme_day": theme_day, "study": study, "notices": notices, "tasks": tasks}
        return rules | {"total": round(sum(rules.values()), 1)}


async def generate(bot) -> dict[str, Plan]:
    """Write a year of records as the bot would have kept them."""
    ids = await unit_ids(bot)
    plans = {key: Plan(n + 1) for n, key in enumerate(BRANCHES)}
    async with bot.services.sessions() as session, session.begin():
        members = {
            key: list(await session.scalars(select(Member).where(Member.branch_id == ids[key]).order_by(Member.id)))
            for key in BRANCHES
        }
        assert all(len(m) == AUDIENCE for m in members.values())
        seq: dict[tuple[int, str], int] = {}

        def roll_call(branch_id: int, kind: str, opens: datetime, status: str = "closed") -> RollCall:
            seq[(branch_id, kind)] = seq.get((branch_id, kind), 0) + 1
            row = RollCall(
                branch_id=branch_id,
                kind=kind,
                seq=seq[(branch_id, kind)],
                title="t",
                audience_label="全体党员",
                status=status,
                opens_at=opens,
                created_at=opens,
            )
            session.add(row)
            return row

        async def entries(row: RollCall, people: list[Member], done: int) -> None:
            await session.flush()
            for n, member in enumerate(people):
                status = EntryStatus.DONE if n < done else EntryStatus.PENDING
                session.add(RollCallEntry(roll_call_id=row.id, member_id=member.id, status=status))

        async def meeting(branch_id: int, kind: str, day: date, cancelled: bool = False) -> None:
            row = roll_call(branch_id, RollCallKind.MEETING, at(day))
            await session.flush()
            session.add(
                Meeting(branch_id=branch_id, roll_call_id=row.id, kind=kind, starts_at=at(day), cancelled=cancelled)
            )

        for key, plan in plans.items():
            unit = ids[key]
            for month in range(1, plan.committee_months + 1):
                await meeting(unit, MeetingKind.COMMITTEE, date(YEAR, month, 10))
            for quarter in range(plan.assembly_quarters):
                await meeting(unit, MeetingKind.MEMBER_ASSEMBLY, date(YEAR, 3 * quarter + 2, 12))
                await meeting(unit, MeetingKind.MEMBER_ASSEMBLY, date(YEAR, 3 * quarter + 2, 13))  # twice: one period
            for quarter in range(plan.lecture_quarters):
                await meeting(unit, MeetingKind.PARTY_LECTURE, date(YEAR, 3 * quarter + 3, 5))
            for month in range(1, plan.theme_months + 1):
                await meeting(unit, MeetingKind.THEME_DAY, date(YEAR, month, 20))
            await meeting(unit, MeetingKind.COMMITTEE, date(YEAR, 12, 28), cancelled=True)  # not held
            await meeting(unit, MeetingKind.PARTY_LECTURE, date(YEAR - 1, 12, 28))  # another year
            for week, done in enumerate(plan.study_done):
                await entries(
                    roll_call(unit, RollCallKind.STUDY, at(date(YEAR, 3, 3) + timedelta(weeks=week))),
                    members[key],
                    done,
                )
            for n, done in enumerate(plan.notice_done):
                await entries(roll_call(unit, RollCallKind.NOTICE, at(date(YEAR, 4, 1 + n))), members[key], done)
            # A scheduled notice that never went out: its entries count for nothing.
            await entries(roll_call(unit, RollCallKind.NOTICE, at(date(YEAR, 5, 1)), "scheduled"), members[key], 0)
            due = date(YEAR, 6, 30)
            states = (
                [("on_time", i) for i in range(plan.on_time)]
                + [("late", 0)] * plan.late
                + [("open", 0)] * plan.open
                + [("next_year", 0)]
            )
            for n, (state, _) in enumerate(states, start=1):
                session.add(
                    TaskItem(
                        issuer_id=ids["dw"],
                        branch_id=unit,
                        seq=n,
                        month="2025-06",
                        kind="任务",
                        title=f"事项{n}",
                        criteria="",
                        due=date(YEAR + 1, 1, 20) if state == "next_year" else due,
                        original_due=due,
                        status=TaskStatus.DONE if state in ("on_time", "late") else TaskStatus.OPEN,
                        done_at=at(due, 23)
                        if state == "on_time"
                        else at(due + timedelta(days=1), 8)
                        if state == "late"
                        else None,
                        done_note="",
                        extension_reason="",
                        reminders_sent=[],
                        created_at=at(date(YEAR, 6, 1)),
                    )
                )
        everyone = [m for key in BRANCHES for m in members[key]]
        dw_notice = roll_call(ids["dw"], RollCallKind.NOTICE, at(date(YEAR, 9, 1)))
        await session.flush()
        for key in BRANCHES:
            for n, member in enumerate(members[key]):
                status = EntryStatus.DONE if n < 2 else EntryStatus.PENDING
                session.add(RollCallEntry(roll_call_id=dw_notice.id, member_id=member.id, status=status))
        assert len(everyone) == 24
    return plans


async def test_the_years_scores_equal_the_hand_computation_and_the_ranking_stays_private(
    aiohttp_client, db_url, clock, tmp_path, monkeypatch
):
    clock.set(NOW)
    # The 条例 asks a 党课 of the 书记 once a year (the default); these branches set themselves one a quarter.
    config = tree_config(db_url).replace(meetings={"cadence_party_lecture": "quarter"})
    assert {k: config.meetings.cadence(k) for k in ("committee", "member_assembly", "party_lecture")} == {
        "committee": "month",
        "member_assembly": "quarter",
        "party_lecture": "quarter",
    }
    assert config.meetings.cadence("group_meeting") == "month" and not config.scoring.public_ranking
    bot = await populated(aiohttp_client, config, clock)
    plans = await generate(bot)

    # Each branch checks its own score, rule by rule.
    for key, plan in plans.items():
        answer = await bot.say(f"考核得分 {YEAR}", user=f"{key}m001", chat=f"{key}-group")
        text = answer["replies"][-1]["text"]
        want = plan.expected()
        assert text.splitlines()[0] == task_texts.SCORE_BREAKDOWN.format(
            unit=NAMES[key], year=YEAR, total=want["total"], lines=""
        ).rstrip("\n")
        for line, rule in zip(
            text.splitlines()[1:], ("meetings", "theme_day", "study", "notices", "tasks"), strict=True
        ):
            assert line.startswith(f"· {task_texts.SCORE_RULE_NAMES[rule]}：{want[rule]:g}分"), (key, line)
    b3 = (await bot.say(f"考核得分 {YEAR}", user="b3m001", chat="b3-group"))["replies"][-1]["text"]
    assert "支委会9/12期" in b3 and "党小组会0/12期" in b3 and "9/12个月" in b3  # the inputs are shown

    # 年度评比: a member of the 党委's chat may not; its secretary gets it privately, not in the group.
    refused = await bot.say(f"年度评比 {YEAR}", user="b1m001", chat="dw-group")
    assert refused["replies"][-1]["text"] == texts.ORG_NOT_ALLOWED_OUTSIDER.format(word=task_texts.CMD_RANKING[0])
    answer = await bot.say(f"年度评比 {YEAR}", user="dw00", chat="dw-group")
    group_replies = [r["text"] for r in answer["replies"] if r["to"] == "dw-group"]
    assert group_replies == [task_texts.SCORE_RANKING_SENT_DIRECT]
    ranking = [r["text"] for r in answer["replies"] if r["to"] == "dw00"][-1]
    order = sorted(plans, key=lambda k: -plans[k].expected()["total"])
    assert [line.split("：")[0] for line in ranking.splitlines()[1:]] == [
        f"{n}. {NAMES[key]}" for n, key in enumerate(order, start=1)
    ]
    for key in BRANCHES:
        assert f"{NAMES[key]}：{plans[key].expected()['total']:g}分" in ranking
    # Asked directly, the answer carries the chart (where the machine has a CJK font; else the text alone).
    await bot.say(f"年度评比 {YEAR}", user="dw00", chat=None)
    async with bot.services.sessions() as session:
        media = await session.scalar(
            select(Outbox.media_id).where(Outbox.target_id == "dw00").order_by(Outbox.id.desc())
        )
    if cjk_family() is None:
        assert not IN_CI, "no CJK font: CI installs fonts-wqy-microhei"
        assert media is None
    else:
        assert media is not None
    # Public when the unit turns it on.
    public = await populated(aiohttp_client, config.replace(scoring={"public_ranking": True}), clock)
    answer = await public.say(f"年度评比 {YEAR}", user="dw00", chat="dw-group")
    assert answer["replies"][-1]["to"] == "dw-group" and answer["replies"][-1]["text"].startswith(
        task_texts.SCORE_RANKING_HEAD.format(unit=NAMES["dw"], year=YEAR, header="").split("（")[0]
    )

    # The xlsx and the chart through the CLI.
    config_path = tmp_path / "config.toml"
    shipped = (ROOT / "config.toml").read_text(encoding="utf-8")
    quarterly = shipped.replace('cadence_party_lecture = "year"', 'cadence_party_lecture = "quarter"')
    assert quarterly != shipped
    config_path.write_text(quarterly + "\n" + tree_toml(), encoding="utf-8")
    monkeypatch.setenv("YIZHAN_DATABASE_URL", db_url)
    out, chart = tmp_path / "scores.xlsx", tmp_path / "scores.png"
    args = ["--config", str(config_path), "tasks", "scores", "--year", str(YEAR), "--unit", "dw", "--chart", str(chart)]
    font = cjk_family() is not None
    # Without a CJK font the chart asked for is not drawn: the command says so and fails, the xlsx is written.
    assert await asyncio.to_thread(main, [*args, str(out)]) == (0 if font else 1)
    book = load_workbook(out, read_only=True)
    head, *rows = list(book[task_texts.SCORE_SHEET_RANKING.format(year=YEAR)].iter_rows(values_only=True))
    assert head[:2] == (task_texts.SCORE_COL_RANK, task_texts.SCORE_COL_UNIT) and head[-1] == task_texts.SCORE_COL_TOTAL
    by_name = {NAMES[k]: k for k in BRANCHES}
    for row in rows:
        want = plans[by_name[row[1]]].expected()
        assert list(row[2:]) == [want[r] for r in ("meetings", "theme_day", "study", "notices", "tasks", "total")]
    assert [row[1] for row in rows] == [NAMES[k] for k in order]
    _, *detail = list(book[task_texts.SCORE_SHEET_DETAIL].iter_rows(values_only=True))
    assert len(detail) == 5 * len(BRANCHES)
    if not font:
        assert not chart.exists()
        return
    from PIL import Image

    image = Image.open(io.BytesIO(chart.read_bytes()))
    assert image.format == "PNG" and image.width > 600 and image.height > 300


def test_equal_totals_share_a_place_in_the_ranking() -> None:
    def score(name: str, total: float) -> BranchScore:
        rules = [RuleScore(rule, total if rule == RULES[0] else 0.0, 10.0, "") for rule in RULES]
        return BranchScore(Branch(name=name), rules)

    unit = Branch(name="机关党委")
    text = ranking_text(unit, [score("第一党支部", 9), score("第二党支部", 9), score("第三党支部", 7)], 2026)
    assert [line.split("：")[0] for line in text.splitlines()[1:]] == [
        f"1. 第一党支部{texts.RANK_TIED}",
        f"1. 第二党支部{texts.RANK_TIED}",
        "3. 第三党支部",
    ]


async def test_a_rate_with_nothing_to_count_shows_no_percentage(aiohttp_client, db_url, clock):
    clock.set(NOW)
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    text = (await bot.say(f"考核得分 {YEAR}", user="b1m001", chat="b1-group"))["replies"][-1]["text"]
    lines = {line.split("：")[0]: line for line in text.splitlines()[1:]}
    for rule in ("study", "notices", "tasks"):  # no study week, notice or item in the year
        line = lines[f"· {task_texts.SCORE_RULE_NAMES[rule]}"]
        assert line.endswith(f"；{task_texts.SCORE_RATE_NONE}）") and "0/0" not in line, line
