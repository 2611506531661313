"""Workdays and public holidays in mainland China (chinese-calendar), with 调休 make-up workdays."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)
_warned: set[int] = set()


def is_workday(day: date) -> bool:
    """True on a working day: weekdays that are not public holidays, and 调休 make-up weekend days.

    The calendar package knows the years the State Council has announced; for a later year
    (announced each November or December) it falls back to Monday–Friday and logs that once.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("no holiday calendar for %d yet; treating Monday-Friday as workdays", day.year)
        return day.weekday() < 5


def holiday_name(day: date) -> str | None:
    """The holiday's English name from the calendar (e.g. 'National Day'), or None."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if on_holiday and name else None


def study_day_for_week(any_day: date, weekday: int, rule: str) -> date | None:
    """The effective study day of the ISO week containing any_day (weekday: 1 = Monday … 7 = Sunday).

    If the nominal day is a public holiday, rule "previous_workday" moves it to the closest earlier
    workday after the previous week's nominal day (so a 调休 make-up Saturday counts); "skip", or no
    such workday, gives None.
    """
    monday = any_day - timedelta(days=any_day.weekday())
    nominal = monday + timedelta(days=weekday - 1)
    if is_workday(nominal) or (nominal.weekday() >= 5 and holiday_name(nominal) is None):
        return nominal  # a workday, or a weekend study day chosen on purpose that is no holiday
    if rule != "previous_workday":
        return None
    day = nominal - timedelta(days=1)
    while day > nominal - timedelta(days=7):
        if is_workday(day):
            return day
        day -= timedelta(days=1)
    return None


def week_key(day: date) -> str:
    """The ISO week of a day, e.g. "2026-W47"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def study_week_starting_on(today: date, weekday: int, rule: str) -> tuple[str, date] | None:
    """If today is the effective study day of this ISO week or the next, that week's key and nominal day."""
    for offset in (0, 7):
        probe = today + timedelta(days=offset)
        if study_day_for_week(probe, weekday, rule) == today:
            monday = probe - timedelta(days=probe.weekday())
            nominal = monday + timedelta(days=weekday - 1)
            return week_key(nominal), nominal
    return None


_ORDINAL_INDEX = {"first": 0, "second": 1, "third": 2, "fourth": 3}
_DAY_INDEX = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}


def rule_date(rule: str, year: int, month: int) -> date:
    """The nominal date of a monthly rule: 'last_friday', 'first_monday', …, 'day_15'."""
    ordinal, _, day_name = rule.partition("_")
    if ordinal == "day":
        return date(year, month, int(day_name))
    weekday = _DAY_INDEX[day_name]
    if ordinal == "last":
        following = date(year + month // 12, month % 12 + 1, 1)
        last = following - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * _ORDINAL_INDEX[ordinal])


def adjust_for_holiday(nominal: date, rule: str) -> date | None:
    """Move a date off a public holiday: nearest_workday (earlier on a tie), previous_workday, next_workday, skip.

    A weekend day that is no holiday stays (a meeting may be set on a Saturday on purpose); 调休 make-up
    days count as workdays.
    """
    if is_workday(nominal) or (nominal.weekday() >= 5 and holiday_name(nominal) is None):
        return nominal
    if rule == "skip":
        return None
    for distance in range(1, 15):
        earlier, later = nominal - timedelta(days=distance), nominal + timedelta(days=distance)
        if rule in ("nearest_workday", "previous_workday") and is_workday(earlier):
            return earlier
        if rule in ("nearest_workday", "next_workday") and is_workday(later):
            return later
    return None
