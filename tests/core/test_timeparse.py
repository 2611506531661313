"""Chinese date/time parsing: the forms office workers write; ambiguous or past times are refused, not guessed."""

from datetime import date, datetime

import pytest

from bot.core.timeparse import TimeProblem, chinese_number, parse_when
from tests.conftest import TZ

# Friday 2026-11-20 10:00
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "expected", "rest"),
    [
        # The forms the bot understood before.
        ("明天9:00 开会", at(11, 21, 9), "开会"),
        ("明天下午三点 学习党章", at(11, 21, 15), "学习党章"),
        ("明天下午3点半，交材料", at(11, 21, 15, 30), "交材料"),
        ("11月28日14:30 三楼会议室", at(11, 28, 14, 30), "三楼会议室"),
        ("11月28日 下午2点 会议", at(11, 28, 14), "会议"),
        ("周五 15:00 主题党日", at(11, 20, 15), "主题党日"),
        ("下周一9:00 例会", at(11, 23, 9), "例会"),
        ("星期三 上午十点 例会", at(11, 25, 10), "例会"),
        ("2026-12-01 08:30 检查", at(12, 1, 8, 30), "检查"),
        ("后天晚上七点 观影", at(11, 22, 19), "观影"),
        ("今天下午4点 通知", at(11, 20, 16), "通知"),
        ("1月5日9:00 年度会", at(1, 5, 9, year=2027), "年度会"),
        # The examples.
        ("明天06:13 早班", at(11, 21, 6, 13), "早班"),
        ("11.28 14:30 三楼会议室", at(11, 28, 14, 30), "三楼会议室"),
        ("12/28 14:30 三楼会议室", at(12, 28, 14, 30), "三楼会议室"),
        ("12-28 14:30 三楼会议室", at(12, 28, 14, 30), "三楼会议室"),
        ("明早8点半 学习", at(11, 21, 8, 30), "学习"),
        ("明晚7点 观影", at(11, 21, 19), "观影"),
        # Dates with a year, a weekday in brackets, Chinese numerals.
        ("2026.12.3 下午2:30 三楼", at(12, 3, 14, 30), "三楼"),
        ("2026年12月3日下午2点 会议", at(12, 3, 14), "会议"),
        ("2026/12/3 14:30", at(12, 3, 14, 30), ""),
        ("2026年12月3日（星期四）上午9:00 会议", at(12, 3, 9), "会议"),
        ("12月3日（周四）14:30 三楼", at(12, 3, 14, 30), "三楼"),
        ("12月3日周四下午2:30", at(12, 3, 14, 30), ""),
        ("12月3日 星期四 14:30", at(12, 3, 14, 30), ""),
        ("12.3(周四)14:30", at(12, 3, 14, 30), ""),
        ("12月3号 14:30", at(12, 3, 14, 30), ""),
        ("十二月三日下午三点", at(12, 3, 15), ""),
        ("11.28下午2点", at(11, 28, 14), ""),
        # Weekdays.
        ("周四下午两点半 党课", at(11, 26, 14, 30), "党课"),
        ("下周一上午九点", at(11, 23, 9), ""),
        ("下下周三 9:00", at(12, 2, 9), ""),
        ("本周六上午9点", at(11, 21, 9), ""),
        ("这周日 15:00", at(11, 22, 15), ""),
        ("下个星期一 上午9点", at(11, 23, 9), ""),
        ("礼拜天下午3点", at(11, 22, 15), ""),
        # Day of the month, this month or the next.
        ("3号下午3点 三楼", at(12, 3, 15), "三楼"),
        ("28号下午3点", at(11, 28, 15), ""),
        ("本月28日下午3点", at(11, 28, 15), ""),
        ("下月3号上午9点", at(12, 3, 9), ""),
        ("下个月3号上午9点", at(12, 3, 9), ""),
        # Day words, combined day-and-part words.
        ("今晚七点 观影", at(11, 20, 19), "观影"),
        ("后天上午10时 会议", at(11, 22, 10), "会议"),
        ("大后天下午3点", at(11, 23, 15), ""),
        ("明日14:30", at(11, 21, 14, 30), ""),
        ("明晨6点 出发", at(11, 21, 6), "出发"),
        # Times of day.
        ("14点30分 会议", at(11, 20, 14, 30), "会议"),
        ("明天十四点三十分", at(11, 21, 14, 30), ""),
        ("明天14点", at(11, 21, 14), ""),
        ("明天下午三点钟", at(11, 21, 15), ""),
        ("明天上午9点整", at(11, 21, 9), ""),
        ("明天上午8点05", at(11, 21, 8, 5), ""),
        ("明天上午八点零五分", at(11, 21, 8, 5), ""),
        ("明天下午3点一刻", at(11, 21, 15, 15), ""),
        ("明天下午3点三刻", at(11, 21, 15, 45), ""),
        ("明天中午12点半", at(11, 21, 12, 30), ""),
        ("明天中午1点", at(11, 21, 13), ""),
        ("明天中午 午间学习", at(11, 21, 12), "午间学习"),
        ("明天晚上8点", at(11, 21, 20), ""),
        ("明天晚7点", at(11, 21, 19), ""),
        ("明天早8点", at(11, 21, 8), ""),
        ("明天傍晚6点", at(11, 21, 18), ""),
        ("明天凌晨5点", at(11, 21, 5), ""),
        ("明天08:30", at(11, 21, 8, 30), ""),
        ("明天03:30 值班", at(11, 21, 3, 30), "值班"),  # a leading zero: a 24-hour time
        ("明天 下午 3:00", at(11, 21, 15), ""),
        ("明天14.30 会议", at(11, 21, 14, 30), "会议"),
        ("明天14:30:00 会议", at(11, 21, 14, 30), "会议"),
        # Full-width digits and colons.
        ("１４：３０ 会议", at(11, 20, 14, 30), "会议"),
        ("周四 14：30", at(11, 26, 14, 30), ""),
        ("３号下午３点", at(12, 3, 15), ""),
        ("１２月３日　１４：３０　三楼", at(12, 3, 14, 30), "三楼"),
        # Labels before the time.
        ("时间：明天下午3点 地点：三楼", at(11, 21, 15), "地点：三楼"),
        ("定于明天下午3点 三楼", at(11, 21, 15), "三楼"),
    ],
)
def test_parses(text, expected, rest):
    parsed = parse_when(text, NOW)
    assert parsed.problem is None
    assert parsed.when == expected
    assert parsed.rest == rest


@pytest.mark.parametrize(
    ("text", "start", "end", "rest"),
    [
        ("下午2点-4点 三楼", at(11, 20, 14), at(11, 20, 16), "三楼"),
        ("14:30—16:00 三楼", at(11, 20, 14, 30), at(11, 20, 16), "三楼"),
        ("明天上午9:00-11:30", at(11, 21, 9), at(11, 21, 11, 30), ""),
        ("明天下午2点至4点", at(11, 21, 14), at(11, 21, 16), ""),
        ("明天上午9点到11点 会议", at(11, 21, 9), at(11, 21, 11), "会议"),
        ("明天下午2-4点", at(11, 21, 14), at(11, 21, 16), ""),
        ("明天 9:00~11:00", at(11, 21, 9), at(11, 21, 11), ""),
        ("明天下午2:30－4:00", at(11, 21, 14, 30), at(11, 21, 16), ""),
        ("明天上午10点-下午3点", at(11, 21, 10), at(11, 21, 15), ""),
        ("明天上午11点-1点", at(11, 21, 11), at(11, 21, 13), ""),
    ],
)
def test_ranges(text, start, end, rest):
    parsed = parse_when(text, NOW)
    assert (parsed.problem, parsed.when, parsed.ends, parsed.rest) == (None, start, end, rest)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("明天3:30 开会", TimeProblem.AMBIGUOUS),  # no leading zero, under 13: which 3:30?
        ("明天3点 开会", TimeProblem.AMBIGUOUS),
        ("3点 开会", TimeProblem.AMBIGUOUS),
        ("周四两点半", TimeProblem.AMBIGUOUS),
        ("12月3日 5点", TimeProblem.AMBIGUOUS),
        ("明天2-4点", TimeProblem.AMBIGUOUS),
        ("今天9:00 开会", TimeProblem.PAST),
        ("周五 9:00 开会", TimeProblem.PAST),
        ("06:13", TimeProblem.PAST),  # a 24-hour time: past, not "上午还是下午？"
        ("2月30日 9:00", TimeProblem.INVALID),
        ("13月5日 9:00", TimeProblem.INVALID),
        ("32号 9:00", TimeProblem.INVALID),
        ("明天25:00", TimeProblem.INVALID),
        ("明天14:61", TimeProblem.INVALID),
        ("明天上午14点", TimeProblem.INVALID),
        ("明天下午4点-2点", TimeProblem.INVALID),
        ("12月3日（周三）14:30", TimeProblem.WEEKDAY),
        ("开会", TimeProblem.MISSING),
        ("明天 开会", TimeProblem.MISSING),
        ("明天下午 开会", TimeProblem.MISSING),
    ],
)
def test_problems(text, problem):
    assert parse_when(text, NOW).problem == problem


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("昨天下午3点", at(11, 19, 15)),
        ("昨天14:30", at(11, 19, 14, 30)),
        ("前天上午9点", at(11, 18, 9)),
        ("昨晚8点", at(11, 19, 20)),
        ("上周五下午3点", at(11, 13, 15)),
        ("今早8点", at(11, 20, 8)),
        ("本周一 9:00", at(11, 16, 9)),
        ("11月19日 15:00", at(11, 19, 15)),
    ],
)
def test_past_is_understood_as_past(text, when):
    parsed = parse_when(text, NOW)
    assert (parsed.problem, parsed.when) == (TimeProblem.PAST, when)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("明天 开会", date(2026, 11, 21)),
        ("12月3日（周四） 三楼", date(2026, 12, 3)),
        ("下周一 例会", date(2026, 11, 23)),
        ("开会", None),
    ],
)
def test_what_was_understood_without_a_time(text, day):
    parsed = parse_when(text, NOW)
    assert (parsed.problem, parsed.when, parsed.day) == (TimeProblem.MISSING, None, day)


@pytest.mark.parametrize(
    "text",
    [
        "3号楼会议室 学习",
        "三点要求：一要……",
        "两点意见",
        "一点体会",
        "12.5万元经费",
        "1.5倍",
        "第3点",
        "2026年度总结",
        "5月份工作总结",
        "周报",
        "学习二十大精神",
        "七一建党节",
        "100:00",
        "10086",
        "5.4青年节活动",
        "下午茶",
        "好的收到",
    ],
)
def test_near_misses_are_not_times(text):
    parsed = parse_when(text, NOW)
    assert (parsed.problem, parsed.when, parsed.day) == (TimeProblem.MISSING, None, None)


def test_matched_is_the_date_and_time_without_spaces_or_label():
    assert parse_when("时间： 明天 3点 三楼", NOW).matched == "明天3点"


def test_the_weekday_written_is_checked_against_the_date():
    parsed = parse_when("12月3日（周三）14:30", NOW)
    assert (parsed.problem, parsed.day) == (TimeProblem.WEEKDAY, date(2026, 12, 3))


def test_chinese_numbers():
    assert [chinese_number(t) for t in ("三", "十", "十五", "二十三", "两", "12", "x")] == [3, 10, 15, 23, 2, 12, None]


def test_matched_keeps_two_numbers_apart():
    # Quoted back to the secretary: "12.33:30" would read as nonsense.
    assert parse_when("12.3 3:30 三楼会议室", NOW).matched == "12.3 3:30"
    assert parse_when("12.3 25:00 三楼会议室", NOW).matched == "12.3 25:00"


@pytest.mark.parametrize(
    ("text", "now", "problem"),
    [
        # Shown without a year, a date within a year names the next day of that name; from this day next year on
        # it would not (or it is a slip: 2099年).
        ("2027年11月19日23:59", NOW, None),
        ("2027年11月20日0:00", NOW, TimeProblem.TOO_FAR),
        ("2099年1月1日14:30", NOW, TimeProblem.TOO_FAR),
        ("2029年2月28日10:00", datetime(2028, 2, 29, 10, 0, tzinfo=TZ), None),
        ("2029年3月1日10:00", datetime(2028, 2, 29, 10, 0, tzinfo=TZ), TimeProblem.TOO_FAR),
    ],
)
def test_a_year_ahead_or_more_is_too_far(text, now, problem):
    assert parse_when(text, now).problem is problem


@pytest.mark.parametrize(
    "text",
    ["99999999999999999999号下午3点", "99999999999999999999月1日14:30", "下个月99999999999999999999号14:30"]
    + ["9999年12月31日晚上12点"],  # past datetime's last day
)
def test_a_number_past_any_date_is_no_date(text):
    assert parse_when(text, NOW).problem is TimeProblem.INVALID
