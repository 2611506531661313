"""Forgiving parsing of the dates and times Chinese office workers write at the start of a command.

"明天下午三点 …", "11.28 14:30 …", "12月3日（周四）14:30 …", "下周一上午九点 …", "3号下午3点 …", "明早8点半 …",
"下午2点-4点 …", full-width digits and colons. Anything the parser cannot be sure of is reported, never guessed:
a bare "3点" is ambiguous (上午还是下午？), a weekday that does not match the date is flagged, past times are
returned as past so a handler that needs the future can refuse them, and times more than a year ahead as too far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, date, datetime, time, timedelta
from enum import Enum

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "零〇一二两三四五六七八九十"
_NUM = rf"[0-9{_CN}]+"
_WEEKDAY_CHARS = "一二三四五六日"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
# Full-width digits and punctuation folded one character for one, so positions in the folded text are
# positions in the original (the rest of the command is returned as typed).
_FOLD = str.maketrans("０１２３４５６７８９：．／－～\u3000", "0123456789:./-~ ")

_DAY_WORDS = {
    "大前天": (-3, None),
    "大后天": (3, None),
    "今天": (0, None),
    "今日": (0, None),
    "今早": (0, "早上"),
    "今晨": (0, "早上"),
    "今晚": (0, "晚上"),
    "明天": (1, None),
    "明日": (1, None),
    "明早": (1, "早上"),
    "明晨": (1, "早上"),
    "明晚": (1, "晚上"),
    "后天": (2, None),
    "昨天": (-1, None),
    "昨日": (-1, None),
    "昨晚": (-1, "晚上"),
    "前天": (-2, None),
}
_MORNING = frozenset(("凌晨", "清晨", "早上", "早晨", "上午", "早"))
_AFTERNOON = frozenset(("下午", "午后", "傍晚", "晚上", "晚间", "夜里", "夜间", "晚"))
_NIGHT = frozenset(("晚上", "晚间", "夜里", "夜间", "晚"))
# "三点要求", "两点意见": a count of points, not a time.
_NOT_AFTER_HOUR = (
    "要求",
    "意见",
    "建议",
    "体会",
    "内容",
    "看法",
    "原因",
    "做法",
    "共识",
    "措施",
    "任务",
    "工作",
    "思考",
    "心得",
    "收获",
    "不足",
    "问题",
    "经验",
    "说明",
    "希望",
)

_SPACE = re.compile(r"[\s,，、]*")
_LABEL = re.compile(r"(?:时间\s*[:：]?|定于|拟于|于)\s*")
_ISO = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_MONTH_DAY = re.compile(rf"({_NUM})\s*月\s*({_NUM})\s*[日号]?")
# "11.28", "12/28", "12-28": only before a space, a bracket, a weekday, a part of the day or the end,
# so "12.5万元" or the range "9-10点" are not dates.
_NUMERIC_MONTH_DAY = re.compile(r"(\d{1,2})[./-](\d{1,2})[日号]?(?=$|\s|[(（周星礼上下中午晚早凌傍夜清])")
_RELATIVE_MONTH = re.compile(rf"(本月|这个月|这月|下个?月)\s*({_NUM})\s*[日号]")
_DAY_OF_MONTH = re.compile(rf"({_NUM})\s*[日号](?![楼院室厅门栋层线])")
_DAY_WORD = re.compile("|".join(sorted(_DAY_WORDS, key=len, reverse=True)))
_WEEKDAY = re.compile(r"(下下个?|下个?|本|这个?|上个?)?\s*(?:周|星期|礼拜)([一二三四五六日天末1-7])")
_WEEKDAY_NOTE = re.compile(r"[(（]?\s*(?:周|星期|礼拜)([一二三四五六日天1-7])\s*[)）]?")
_PART = re.compile("|".join(sorted({"中午", *_MORNING, *_AFTERNOON}, key=len, reverse=True)))
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::\d{2})?(?!\d)")
_DOT_CLOCK = re.compile(r"(\d{1,2})\.(\d{2})(?!\d)")
_HOUR = re.compile(
    rf"({_NUM})\s*[点點时時]钟?"
    rf"(?:(半)|(一刻)|(三刻)|[整正]|(\d{{1,2}})\s*分|(\d{{2}})(?!\d)|([{_CN}]+)\s*分|([{_CN}]{{2,}}))?"
)
# The start of "2-4点" / "两到四点": an hour whose 点 comes after the range's end.
_BARE_HOUR = re.compile(rf"({_NUM})(?=\s*(?:-|~|—|–|至|到)\s*{_NUM}\s*[点點时時])")
_RANGE = re.compile(r"\s*(?:-|~|—|–|至|到)+\s*")


class TimeProblem(Enum):
    """Why a time could not be taken as given."""

    MISSING = "missing"
    AMBIGUOUS = "ambiguous"  # e.g. "3点" without 上午/下午
    PAST = "past"
    INVALID = "invalid"
    WEEKDAY = "weekday"  # "12月3日（周三）" when 12月3日 is a Thursday
    TOO_FAR = "too_far"  # on or after this day next year: "2099年1月1日" (see _too_far)


@dataclass(frozen=True)
class ParsedTime:
    """What parse_when found: the moment (also when past), the rest of the text, and what was understood."""

    when: datetime | None
    rest: str
    problem: TimeProblem | None = None
    ends: datetime | None = None  # the end of a range ("14:30—16:00"), if one was written
    day: date | None = None  # the date understood, even when the time was not
    matched: str = ""  # the text taken as the date and time, as quoted back ("明天3点", "12.3 3:30")


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


class _Cursor:
    """A position in the folded text; match() consumes what a pattern matches there."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def match(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        found = pattern.match(self.text, self.pos)
        if found is not None:
            self.pos = found.end()
        return found

    def skip_space(self) -> None:
        self.match(_SPACE)


@dataclass
class _Day:
    value: date | None  # None: a date was written but does not exist
    part: str | None = None  # a part of the day carried by the word ("明晚")


def _safe_date(year: int, month: int | None, day: int | None) -> date | None:
    if month is None or day is None or year >= MAXYEAR:  # 9999年12月31日晚上12点 would be past datetime's end
        return None
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):  # OverflowError: "99999999999999999999号"
        return None


def _read_day(cur: _Cursor, today: date) -> _Day | None:
    """A date at the cursor, or None if none is written there."""
    if m := cur.match(_ISO):
        return _Day(_safe_date(int(m[1]), int(m[2]), int(m[3])))
    if m := cur.match(_MONTH_DAY):
        found = _safe_date(today.year, chinese_number(m[1]), chinese_number(m[2]))
        if found is not None and found < today - timedelta(days=180):  # "1月5日" said in December: next year
            found = found.replace(year=today.year + 1)
        return _Day(found)
    start = cur.pos
    if (m := cur.match(_NUMERIC_MONTH_DAY)) is not None:
        month, day = int(m[1]), int(m[2])
        if 1 <= month <= 12 and 1 <= day <= 31:
            found = _safe_date(today.year, month, day)
            if found is not None and found < today - timedelta(days=180):
                found = found.replace(year=today.year + 1)
            return _Day(found)
        cur.pos = start
    if m := cur.match(_RELATIVE_MONTH):
        first = today.replace(day=1)
        if m[1].startswith("下"):
            first = (first + timedelta(days=32)).replace(day=1)
        return _Day(_safe_date(first.year, first.month, chinese_number(m[2])))
    if m := cur.match(_DAY_OF_MONTH):
        number = chinese_number(m[1])
        found = _safe_date(today.year, today.month, number)
        if found is None or found < today:  # "3号" said on the 20th: the 3rd of next month
            following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            found = _safe_date(following.year, following.month, number)
        return _Day(found)
    if m := cur.match(_DAY_WORD):
        offset, part = _DAY_WORDS[m[0]]
        return _Day(today + timedelta(days=offset), part)
    if m := cur.match(_WEEKDAY):
        prefix, day_char = (m[1] or "").replace("个", ""), m[2]
        weekday = int(day_char) - 1 if day_char.isdigit() else _WEEKDAYS[day_char]
        monday = today - timedelta(days=today.weekday())
        weeks = {"": 0, "本": 0, "这": 0, "下": 1, "下下": 2, "上": -1}[prefix]
        found = monday + timedelta(weeks=weeks, days=weekday)
        if not prefix and found < today:
            found += timedelta(weeks=1)  # "周一" said on a Wednesday: the coming Monday
        return _Day(found)
    return None


@dataclass
class _Clock:
    hour: int
    minute: int
    part: str | None
    twenty_four: bool  # written as a 24-hour time: "08:30", "06点", "14点"


def _read_clock(cur: _Cursor, after_date: bool) -> _Clock | None:
    """A time of day at the cursor ("14:30", "下午两点半", "8点05"), or None."""
    start = cur.pos
    part = None
    if m := cur.match(_PART):
        part = m[0]
        cur.skip_space()
    if m := cur.match(_CLOCK) or (cur.match(_DOT_CLOCK) if after_date else None):
        # "06:13" and "15:30" are 24-hour times; "3:30" is as ambiguous as "3点半" (上午还是下午？).
        return _Clock(int(m[1]), int(m[2]), part, twenty_four=m[1].startswith("0") or int(m[1]) >= 13)
    if (m := cur.match(_HOUR)) is not None:
        if cur.text.startswith(_NOT_AFTER_HOUR, cur.pos):
            cur.pos = start
            return None
        hour = chinese_number(m[1])
        minute: int | None = 0
        if m[2]:
            minute = 30
        elif m[3]:
            minute = 15
        elif m[4]:
            minute = 45
        elif number := m[5] or m[6] or m[7] or m[8]:
            minute = chinese_number(number)
        if hour is None or minute is None:
            cur.pos = start
            return None
        return _Clock(hour, minute, part, twenty_four=m[1].startswith("0") or hour >= 13)
    if m := cur.match(_BARE_HOUR):
        hour = chinese_number(m[1])
        if hour is not None:
            return _Clock(hour, 0, part, twenty_four=m[1].startswith("0") or hour >= 13)
    if part == "中午":
        return _Clock(12, 0, part, twenty_four=True)
    return None


def _hours(clock: _Clock) -> tuple[int | None, bool]:
    """(hour of the day 0–24, ambiguous); None when the hour cannot be right ("上午14点", "25:00")."""
    hour, part = clock.hour, clock.part
    if hour > 24 or clock.minute > 59:
        return None, False
    if part in _AFTERNOON:
        if hour < 12:
            hour += 12
        elif hour == 12 and part in _NIGHT:
            hour = 24  # 晚上12点: midnight
    elif part == "中午" and hour < 6:
        hour += 12
    elif part in _MORNING and hour > 12:
        return None, False
    if hour == 24 and (part not in _NIGHT or clock.minute):
        return None, False
    ambiguous = part is None and 1 <= hour <= 6 and not clock.twenty_four
    return hour, ambiguous


def _moment(day: date, hour: int, minute: int, now: datetime) -> datetime:
    return datetime.combine(day, time(0, minute), tzinfo=now.tzinfo) + timedelta(hours=hour)


def _too_far(day: date, today: date) -> bool:
    """Whether day is a year from today or later. Meetings and notices are planned weeks, at most months, ahead, and
    the bot shows their dates without a year ("1月1日（周四）"): within a year such a date names the next day of that
    name, and nobody misreads it; from this day next year on it could be this year's (or a typo: "2099年")."""
    try:
        a_year_on = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        a_year_on = date(today.year + 1, 3, 1)
    return day >= a_year_on


def _weekday_char(value: date) -> str:
    return _WEEKDAY_CHARS[value.weekday()]


_SPACES = re.compile(r"\s+")


def _fold_spaces(text: str) -> str:
    """Spaces dropped, but one kept between two numbers ("明天 3点" → "明天3点", "12.3 3:30" stays readable)."""
    text = text.strip()
    return _SPACES.sub(
        lambda m: " " if _numeric_edge(text, m.start() - 1) and _numeric_edge(text, m.end()) else "", text
    )


def _numeric_edge(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isdigit() or text[i] in ":：.")


def parse_when(text: str, now: datetime) -> ParsedTime:
    """Parse a date+time at the start of text, relative to now (aware); without a date it is today.

    A range ("下午2点-4点", "14:30—16:00") gives `ends` as well. Past moments come back with PAST, those a year
    ahead or more with TOO_FAR.
    """
    original = text.strip()
    cur = _Cursor(original.translate(_FOLD))
    cur.match(_LABEL)
    label_end = cur.pos
    today = now.date()
    day = _read_day(cur, today)
    date_end = cur.pos

    def done(problem: TimeProblem, when: datetime | None = None, found: date | None = None) -> ParsedTime:
        matched = _fold_spaces(original[label_end : cur.pos])
        return ParsedTime(when, original, problem, day=found, matched=matched)

    if day is not None and day.value is None:
        return done(TimeProblem.INVALID)
    cur.skip_space()
    note = cur.match(_WEEKDAY_NOTE) if day is not None else None
    if note is not None and day is not None and day.value is not None:
        written = _WEEKDAY_CHARS[int(note[1]) - 1] if note[1].isdigit() else note[1].replace("天", "日")
        if written != _weekday_char(day.value):
            return done(TimeProblem.WEEKDAY, found=day.value)
    cur.skip_space()
    clock_start = cur.pos
    clock = _read_clock(cur, after_date=day is not None)
    if clock is None:
        if cur.pos == clock_start:
            cur.pos = date_end if day is not None else label_end
        return done(TimeProblem.MISSING, found=day.value if day else None)
    if clock.part is None and day is not None:
        clock.part = day.part
    hour, ambiguous = _hours(clock)
    if hour is None:
        return done(TimeProblem.INVALID, found=day.value if day else None)
    on = day.value if day is not None and day.value is not None else today
    when = _moment(on, hour, clock.minute, now)
    ends = None
    before_range = cur.pos
    if cur.match(_RANGE) and (end := _read_clock(cur, after_date=True)) is not None:
        own_part = end.part is not None
        if not own_part:
            end.part = clock.part
        end_hour, _ = _hours(end)
        if end_hour is None:
            return done(TimeProblem.INVALID, found=on)
        if not own_part and end_hour < hour and end_hour < 12 and not end.twenty_four:
            end_hour += 12  # "上午11点-1点": the first 1 o'clock after 11
        ends = _moment(on, end_hour, end.minute, now)
        if ends <= when:
            return done(TimeProblem.INVALID, found=on)
    else:
        cur.pos = before_range
    if ambiguous:
        return done(TimeProblem.AMBIGUOUS, found=on)
    matched = _fold_spaces(original[label_end : cur.pos])
    rest = original[cur.pos :]
    if when <= now:
        return ParsedTime(when, rest.strip(), TimeProblem.PAST, ends, on, matched)
    if _too_far(on, today):
        return ParsedTime(when, rest.strip(), TimeProblem.TOO_FAR, ends, on, matched)
    return ParsedTime(when, rest.lstrip(" ，,：:、\u3000").strip(), None, ends, on, matched)
