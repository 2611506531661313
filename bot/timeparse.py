"""Forgiving parsing of Chinese dates and times at the start of a command ("明天下午三点 …", "11月28日14:30 …")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"[0-9零〇一二两三四五六七八九十]+"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}

_DAY_WORDS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
_RE_ISO = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_RE_MONTH_DAY = re.compile(rf"^({_NUM})月({_NUM})[日号]?")
_RE_DAY_WORD = re.compile(r"^(大后天|今天|今日|明天|明日|后天)")
_RE_WEEKDAY = re.compile(r"^(下下|下|本|这)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
_RE_HALF = re.compile(r"^(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|今晚)")
_RE_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})")
_RE_HOUR = re.compile(rf"^({_NUM})[点時时](?:({_NUM})分?|(半)|(一刻)|(三刻))?")


class TimeProblem(Enum):
    """Why a time could not be taken as given."""

    MISSING = "missing"
    AMBIGUOUS = "ambiguous"  # e.g. "3点" without 上午/下午
    PAST = "past"
    INVALID = "invalid"


@dataclass(frozen=True)
class ParsedTime:
    when: datetime | None
    rest: str
    problem: TimeProblem | None = None


def chinese_number(text: str) -> int | None:
    """'十五' → 15, '二十三' → 23, '7' → 7; None if not a number."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = _DIGITS.get(tens) if tens else 1
        o = _DIGITS.get(ones) if ones else 0
        if t is None or o is None:
            return None
        return t * 10 + o
    value = 0
    for ch in text:
        value = value * 10 + _DIGITS[ch]
    return value


def _parse_date(text: str, today: date) -> tuple[date | None, str, bool]:
    """A date at the start of text: (date, rest, whether a date was found). Invalid dates → (None, text, True)."""
    if m := _RE_ISO.match(text):
        try:
            return date(int(m[1]), int(m[2]), int(m[3])), text[m.end() :], True
        except ValueError:
            return None, text, True
    if m := _RE_MONTH_DAY.match(text):
        month, day = chinese_number(m[1]), chinese_number(m[2])
        if month is None or day is None:
            return None, text, True
        try:
            found = date(today.year, month, day)
        except ValueError:
            return None, text, True
        if found < today - timedelta(days=180):  # "1月5日" said in December means next year
            found = found.replace(year=today.year + 1)
        return found, text[m.end() :], True
    if m := _RE_DAY_WORD.match(text):
        return today + timedelta(days=_DAY_WORDS[m[1]]), text[m.end() :], True
    if m := _RE_WEEKDAY.match(text):
        prefix, day_char = m[1] or "", m[2]
        weekday = int(day_char) - 1 if day_char.isdigit() else _WEEKDAYS[day_char]
        monday = today - timedelta(days=today.weekday())
        weeks = {"": 0, "本": 0, "这": 0, "下": 1, "下下": 2}[prefix]
        found = monday + timedelta(weeks=weeks, days=weekday)
        if not prefix and found < today:
            found += timedelta(weeks=1)  # "周一" said on a Wednesday: the coming Monday
        return found, text[m.end() :], True
    return None, text, False


def _parse_time(text: str) -> tuple[time | None, str, bool, bool]:
    """A time at the start of text: (time, rest, found, ambiguous)."""
    half = None
    if m := _RE_HALF.match(text):
        half, text = m[1], text[m.end() :].lstrip()
    hour = minute = None
    if m := _RE_CLOCK.match(text):
        hour, minute, text = int(m[1]), int(m[2]), text[m.end() :]
    elif m := _RE_HOUR.match(text):
        hour = chinese_number(m[1])
        if m[2]:
            minute = chinese_number(m[2])
        elif m[3]:
            minute = 30
        elif m[4]:
            minute = 15
        elif m[5]:
            minute = 45
        else:
            minute = 0
        text = text[m.end() :]
    if hour is None or minute is None:
        return None, text, half is not None, False
    ambiguous = False
    if half in ("下午", "傍晚", "晚上", "今晚") and hour < 12 or half == "中午" and hour < 6:
        hour += 12
    elif half is None and 1 <= hour <= 6:
        ambiguous = True  # "3点": 03:00 or 15:00? Ask rather than guess.
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None, text, True, False
    return time(hour, minute), text, True, ambiguous


def parse_when(text: str, now: datetime) -> ParsedTime:
    """Parse a date+time at the start of text, relative to now (aware). Needs both a day and a time."""
    text = text.strip()
    day, rest, day_found = _parse_date(text, now.date())
    if day_found and day is None:
        return ParsedTime(None, text, TimeProblem.INVALID)
    rest = rest.lstrip()
    at, rest, time_found, ambiguous = _parse_time(rest)
    if not time_found:
        return ParsedTime(None, text, TimeProblem.MISSING)
    if at is None:
        return ParsedTime(None, text, TimeProblem.INVALID)
    if ambiguous:
        return ParsedTime(None, text, TimeProblem.AMBIGUOUS)
    if not day_found:
        day = now.date()
    assert day is not None
    when = datetime.combine(day, at, tzinfo=now.tzinfo)
    if when <= now:
        return ParsedTime(when, rest.strip(), TimeProblem.PAST)
    return ParsedTime(when, rest.lstrip(" ，,：:").strip())
