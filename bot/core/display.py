"""Formatting of dates, names and percentages for chat text (the templates live in the texts modules)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.core import texts
from bot.core.models import Member
from bot.core.timeparse import TimeProblem

T = TypeVar("T")


def when(moment: datetime, tz: ZoneInfo, year: bool = False) -> str:
    """'11月21日（周六）09:00' in the branch's time zone (with year: '2099年1月1日（周四）14:30')."""
    local = moment.astimezone(tz)
    return (texts.YEAR_PREFIX.format(year=local.year) if year else "") + texts.DATETIME_FORMAT.format(
        month=local.month,
        day=local.day,
        weekday=texts.WEEKDAY_NAMES[local.weekday()],
        hour=local.hour,
        minute=local.minute,
    )


def day(value: date) -> str:
    """'11月20日（周五）'."""
    return texts.DATE_FORMAT.format(month=value.month, day=value.day, weekday=texts.WEEKDAY_NAMES[value.weekday()])


def names(members: Iterable[Member]) -> str:
    """'张伟、王芳' (or the empty-list word)."""
    listed = [m.display_name for m in members]
    return texts.NAME_SEPARATOR.join(listed) if listed else texts.NONE_LISTED


def percent(value: float) -> str:
    """'60%' for whole percentages, '72.7%' otherwise."""
    template = texts.PERCENT if round(value * 100, 6).is_integer() else texts.PERCENT_PRECISE
    return template.format(value=value)


def time_problem(problem: TimeProblem, text: str, moment: datetime | None, tz: ZoneInfo) -> str:
    """Why a typed time was not taken, and what to write instead (text: the time as written, ParsedTime.matched)."""
    if problem is TimeProblem.AMBIGUOUS:
        return texts.NOTICE_TIME_AMBIGUOUS.format(text=text)
    if problem is TimeProblem.PAST and moment is not None:
        return texts.NOTICE_TIME_PAST.format(when=when(moment, tz))
    if problem is TimeProblem.MISSING:
        return texts.NOTICE_TIME_MISSING
    if problem is TimeProblem.TOO_FAR and moment is not None:
        return texts.NOTICE_TIME_TOO_FAR.format(when=when(moment, tz, year=True))
    return texts.NOTICE_TIME_INVALID


def week(key: str) -> str:
    """An ISO week key ('2026-W47') as the dates a secretary writes: '11月16日至22日' (Monday to Sunday)."""
    year, number = key.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    sunday = monday + timedelta(days=6)
    end = (
        texts.WEEK_END_SAME_MONTH.format(day=sunday.day)
        if sunday.month == monday.month
        else texts.WEEK_END_OTHER_MONTH.format(month=sunday.month, day=sunday.day)
    )
    return texts.WEEK_SPAN.format(month=monday.month, day=monday.day, end=end)


def duration(seconds: float) -> str:
    """A time taken, as it is said: '不到1分钟', '12分钟', '2小时5分钟', '1天3小时'."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return texts.DURATION_UNDER_A_MINUTE
    if minutes < 60:
        return texts.DURATION_MINUTES.format(minutes=minutes)
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return (
            texts.DURATION_HOURS.format(hours=hours, minutes=rest)
            if rest
            else texts.DURATION_HOURS_ONLY.format(hours=hours)
        )
    days, hours = divmod(hours, 24)
    return texts.DURATION_DAYS.format(days=days, hours=hours) if hours else texts.DURATION_DAYS_ONLY.format(days=days)


@dataclass(frozen=True)
class Place(Generic[T]):
    """One row of a ranking: its place (equal values share a place, 1, 1, 3) and whether it is shared."""

    place: int
    item: T
    tied: bool

    @property
    def mark(self) -> str:
        """'（并列）' after a shared place, else nothing."""
        return texts.RANK_TIED if self.tied else ""


def ranking(items: Sequence[T], value: Callable[[T], object]) -> list[Place[T]]:
    """Places for items already sorted best first: equal values get the same place (并列), the next place
    skips as many as shared it (standard competition ranking, as scores are read out: 1, 1, 3)."""
    values = [value(item) for item in items]
    places: list[Place[T]] = []
    for index, item in enumerate(items):
        place = places[-1].place if index and values[index] == values[index - 1] else index + 1
        tied = (index > 0 and values[index] == values[index - 1]) or (
            index + 1 < len(items) and values[index] == values[index + 1]
        )
        places.append(Place(place, item, tied))
    return places
