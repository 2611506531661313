"""量化计分 of branches, computed from the records the bot keeps (never typed in), with a per-rule breakdown.

The rules ([scoring] in config.toml; README "量化计分"), for a year as of now (local dates):
- 三会一课: meetings_per_period × the periods (month or quarter, by [meetings] cadence_<kind>) of the year in
  which the branch held at least one meeting of that kind, summed over 支部党员大会, 支委会, 党小组会, 党课.
  Held = not cancelled and its start has passed (bot/meetings/domain.py held()).
- 主题党日: theme_day_per_month × the months of the year with a 主题党日 held.
- 参学率: study_full × check-ins ÷ audience over the branch's study weeks opened in the year (bot/study/domain.py).
- 回执率: notices_full × receipts ÷ audience over the notices that went out in the year (the branch's own and
  those of units above it), counting the branch's members only.
- 月清单: tasks_full × items done by their due date ÷ items counted; counted are the branch's items due in the
  year that are done or past due (an item due later and still open is not counted yet); none counted → 0.
Each rule's score is rounded to one decimal; the total is the sum of the rounded scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, case, func, select

from bot.core import display, org, texts
from bot.core.context import Context
from bot.core.models import Branch, EntryStatus, Member, RollCall, RollCallEntry, RollCallKind, UnitKind
from bot.meetings.domain import held, period_of
from bot.meetings.models import Meeting, MeetingKind
from bot.notices.domain import went_out
from bot.tasks import texts as task_texts
from bot.tasks.lists import local_midnight, local_today, on_time
from bot.tasks.models import TaskItem, TaskStatus

THREE_MEETINGS = (
    MeetingKind.MEMBER_ASSEMBLY,
    MeetingKind.COMMITTEE,
    MeetingKind.GROUP_MEETING,
    MeetingKind.PARTY_LECTURE,
)
RULES = ("meetings", "theme_day", "study", "notices", "tasks")


@dataclass
class RuleScore:
    rule: str
    score: float
    full: float
    detail: str  # the inputs, for the branch to check


@dataclass
class BranchScore:
    unit: Branch
    rules: list[RuleScore] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(rule.score for rule in self.rules), 1)

    def score(self, rule: str) -> float:
        return next(r.score for r in self.rules if r.rule == rule)


def _periods(year: int, cadence: str, today: date) -> list[tuple[date, date, bool]]:
    """The year's periods of a cadence that have begun by today: (start, end, ended)."""
    out = []
    month = 1
    while month <= 12:
        _, start, end, _ = period_of(date(year, month, 1), cadence)
        if start <= today:
            out.append((start, end, end <= today))
        month = end.month if end.year == year else 13
    return out


async def _held_in(ctx: Context, branch_id: int, kind: str, start: date, end: date) -> bool:
    count = await ctx.session.scalar(
        select(func.count())
        .select_from(Meeting)
        .where(
            Meeting.branch_id == branch_id,
            Meeting.kind == kind,
            held(ctx.clock()),
            Meeting.starts_at >= local_midnight(start, ctx),
            Meeting.starts_at < local_midnight(end, ctx),
        )
    )
    return bool(count)


async def _meeting_rule(ctx: Context, branch_id: int, year: int, today: date) -> RuleScore:
    per = ctx.config.scoring.meetings_per_period
    met = counted = 0
    parts = []
    for kind in THREE_MEETINGS:
        cadence = ctx.config.meetings.cadence(kind)
        if not cadence:
            continue
        kind_met = kind_counted = 0
        for start, end, ended in _periods(year, cadence, today):
            ok = await _held_in(ctx, branch_id, kind, start, end)
            kind_met += ok
            kind_counted += ok or ended
        met += kind_met
        counted += kind_counted
        parts.append(
            task_texts.SCORE_KIND_PART.format(kind=texts.MEETING_KIND_NAMES[kind], met=kind_met, of=kind_counted)
        )
    return RuleScore("meetings", round(per * met, 1), round(per * counted, 1), texts.NAME_SEPARATOR.join(parts))


async def _theme_day_rule(ctx: Context, branch_id: int, year: int, today: date) -> RuleScore:
    per = ctx.config.scoring.theme_day_per_month
    met = counted = 0
    for start, end, ended in _periods(year, "month", today):
        ok = await _held_in(ctx, branch_id, MeetingKind.THEME_DAY, start, end)
        met += ok
        counted += ok or ended
    return RuleScore(
        "theme_day", round(per * met, 1), round(per * counted, 1), task_texts.SCORE_MONTHS.format(met=met, of=counted)
    )


async def _rate(ctx: Context, kind: str, year: int, *where: ColumnElement[bool]) -> tuple[int, int]:
    """(done, audience) over entries of roll calls of kind opened in the year, filtered by where."""
    done = func.sum(case((RollCallEntry.status == EntryStatus.DONE, 1), else_=0))
    row = (
        await ctx.session.execute(
            select(func.count(), done)
            .select_from(RollCallEntry)
            .join(RollCall, RollCall.id == RollCallEntry.roll_call_id)
            .join(Member, Member.id == RollCallEntry.member_id)
            .where(
                RollCall.kind == kind,
                RollCall.opens_at >= local_midnight(date(year, 1, 1), ctx),
                RollCall.opens_at < local_midnight(date(year + 1, 1, 1), ctx),
                *where,
            )
        )
    ).one()
    return int(row[1] or 0), int(row[0] or 0)


def _share_rule(rule: str, full: float, done: int, of: int) -> RuleScore:
    share = done / of if of else 0.0
    detail = task_texts.SCORE_RATE.format(done=done, of=of, rate=share * 100) if of else task_texts.SCORE_RATE_NONE
    return RuleScore(rule, round(full * share, 1), full, detail)


async def _tasks_rule(ctx: Context, branch_id: int, year: int, today: date) -> RuleScore:
    items = list(
        await ctx.session.scalars(
            select(TaskItem).where(
                TaskItem.branch_id == branch_id, TaskItem.due >= date(year, 1, 1), TaskItem.due < date(year + 1, 1, 1)
            )
        )
    )
    counted = [item for item in items if item.status == TaskStatus.DONE or item.due < today]
    timely = sum(item.status == TaskStatus.DONE and on_time(item, ctx.config.tz) for item in counted)
    return _share_rule("tasks", ctx.config.scoring.tasks_full, timely, len(counted))


async def branch_score(ctx: Context, unit: Branch, year: int) -> BranchScore:
    """Every rule's score for the unit over the year, as of now."""
    today = min(local_today(ctx), date(year + 1, 1, 1))  # after the year: the whole year has ended
    scoring = ctx.config.scoring
    study_done, study_of = await _rate(ctx, RollCallKind.STUDY, year, RollCall.branch_id == unit.id)
    notice_done, notice_of = await _rate(ctx, RollCallKind.NOTICE, year, Member.branch_id == unit.id, went_out())
    return BranchScore(
        unit,
        [
            await _meeting_rule(ctx, unit.id, year, today),
            await _theme_day_rule(ctx, unit.id, year, today),
            _share_rule("study", scoring.study_full, study_done, study_of),
            _share_rule("notices", scoring.notices_full, notice_done, notice_of),
            await _tasks_rule(ctx, unit.id, year, today),
        ],
    )


async def unit_scores(ctx: Context, unit: Branch, year: int) -> list[BranchScore]:
    """年评比: every 党支部 below (or at) the unit, best first (ties by tree order)."""
    branches = [u for u in await org.subtree(ctx.session, unit.id) if u.kind == UnitKind.BRANCH]
    scores = [await branch_score(ctx, branch, year) for branch in branches]
    return sorted(scores, key=lambda s: -s.total)


def breakdown_text(score: BranchScore, year: int) -> str:
    lines = "\n".join(
        task_texts.SCORE_RULE_LINE.format(
            name=task_texts.SCORE_RULE_NAMES[r.rule], score=r.score, full=r.full, detail=r.detail
        )
        for r in score.rules
    )
    return task_texts.SCORE_BREAKDOWN.format(unit=score.unit.name, year=year, total=score.total, lines=lines)


def ranking_text(unit: Branch, scores: list[BranchScore], year: int) -> str:
    """年度评比 as text: equal totals share a place (并列, bot/core/display.py ranking)."""
    if not scores:
        return task_texts.SCORE_RANKING_EMPTY.format(unit=unit.name)
    header = task_texts.SCORE_COLUMN_SEPARATOR.join(task_texts.SCORE_RULE_NAMES[rule] for rule in RULES)
    lines = "\n".join(
        task_texts.SCORE_RANKING_LINE.format(
            rank=row.place,
            unit=row.item.unit.name + row.mark,
            total=row.item.total,
            parts=task_texts.SCORE_COLUMN_SEPARATOR.join(f"{r.score:g}" for r in row.item.rules),
        )
        for row in display.ranking(scores, lambda s: s.total)
    )
    return task_texts.SCORE_RANKING_HEAD.format(unit=unit.name, year=year, header=header) + lines
