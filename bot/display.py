"""Formatting of dates, names and percentages for chat text (the templates live in bot/texts.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot import texts
from bot.models import Member
from bot.timeparse import TimeProblem


def when(moment: datetime, tz: ZoneInfo) -> str:
    """'11月21日（周六）09:00' in the branch's time zone."""
    local = moment.astimezone(tz)
    return texts.DATETIME_FORMAT.format(
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
    return texts.NOTICE_TIME_INVALID
