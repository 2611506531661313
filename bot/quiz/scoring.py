"""竞赛 scoring and the rankings shown at the end of a quiz (respecting opt-outs and branch settings)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import QuizConfig
from bot.core.models import Member, PartyGroup
from bot.quiz.models import QuizAttempt, QuizRound, RankingOptOut


def match_score(config: QuizConfig, elapsed_ms: int, seconds: int, previous_streak: int) -> int:
    """A correct 竞赛 answer: base − (base − floor) × t/T (at least floor), plus the streak bonus.

    previous_streak is how many questions in a row the member answered correctly just before this one;
    the bonus is streak_bonus for each, up to streak_bonus_cap.
    """
    fraction = min(max(elapsed_ms / 1000 / seconds, 0.0), 1.0)
    speed = round(config.match_base_score - (config.match_base_score - config.match_floor_score) * fraction)
    bonus = min(config.match_streak_bonus * previous_streak, config.match_streak_bonus_cap)
    return max(config.match_floor_score, speed) + bonus


async def previous_streak(session: AsyncSession, quiz_id: int, position: int, member_id: int) -> int:
    """Consecutive correct answers by a member in the rounds right before `position`."""
    if position <= 1:
        return 0
    rows = await session.execute(
        select(QuizRound.position, QuizAttempt.correct)
        .join(QuizAttempt, QuizAttempt.round_id == QuizRound.id)
        .where(QuizRound.session_id == quiz_id, QuizRound.position < position, QuizAttempt.member_id == member_id)
    )
    correct = {pos for pos, ok in rows if ok}
    streak, pos = 0, position - 1
    while pos in correct:
        streak, pos = streak + 1, pos - 1
    return streak


@dataclass(frozen=True)
class Standing:
    member: Member
    value: int
    group: str


async def opted_out(session: AsyncSession, member_ids: list[int]) -> set[int]:
    if not member_ids:
        return set()
    return set(await session.scalars(select(RankingOptOut.member_id).where(RankingOptOut.member_id.in_(member_ids))))


async def standings(session: AsyncSession, totals: dict[int, int]) -> list[Standing]:
    """Members with their totals, best first (ties by member id); groups resolved for team totals."""
    if not totals:
        return []
    rows = await session.execute(
        select(Member, PartyGroup.name)
        .outerjoin(PartyGroup, PartyGroup.id == Member.party_group_id)
        .where(Member.id.in_(list(totals)))
    )
    result = [Standing(member, totals[member.id], group or "") for member, group in rows]
    return sorted(result, key=lambda s: (-s.value, s.member.id))


def team_totals(rows: list[Standing]) -> list[tuple[str, int]]:
    teams: dict[str, int] = defaultdict(int)
    for row in rows:
        teams[row.group] += row.value
    return sorted(teams.items(), key=lambda item: (-item[1], item[0]))
