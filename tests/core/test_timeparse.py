"""Chinese date/time parsing: forgiving forms; ambiguous or past times are refused, not guessed."""

from datetime import datetime

import pytest

from bot.timeparse import TimeProblem, chinese_number, parse_when
from tests.conftest import TZ

# Friday 2026-11-20 10:00
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "expected", "rest"),
    [
        ("明天9:00 开会", datetime(2026, 11, 21, 9, 0, tzinfo=TZ), "开会"),
        ("明天下午三点 学习党章", datetime(2026, 11, 21, 15, 0, tzinfo=TZ), "学习党章"),
        ("明天下午3点半，交材料", datetime(2026, 11, 21, 15, 30, tzinfo=TZ), "交材料"),
        ("11月28日14:30 三楼会议室", datetime(2026, 11, 28, 14, 30, tzinfo=TZ), "三楼会议室"),
        ("11月28日 下午2点 会议", datetime(2026, 11, 28, 14, 0, tzinfo=TZ), "会议"),
        ("周五 15:00 主题党日", datetime(2026, 11, 20, 15, 0, tzinfo=TZ), "主题党日"),
        ("下周一9:00 例会", datetime(2026, 11, 23, 9, 0, tzinfo=TZ), "例会"),
        ("星期三 上午十点 例会", datetime(2026, 11, 25, 10, 0, tzinfo=TZ), "例会"),
        ("2026-12-01 08:30 检查", datetime(2026, 12, 1, 8, 30, tzinfo=TZ), "检查"),
        ("后天晚上七点 观影", datetime(2026, 11, 22, 19, 0, tzinfo=TZ), "观影"),
        ("今天下午4点 通知", datetime(2026, 11, 20, 16, 0, tzinfo=TZ), "通知"),
        ("1月5日9:00 年度会", datetime(2027, 1, 5, 9, 0, tzinfo=TZ), "年度会"),
    ],
)
def test_parses(text, expected, rest):
    parsed = parse_when(text, NOW)
    assert parsed.problem is None
    assert parsed.when == expected
    assert parsed.rest == rest


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("明天3点 开会", TimeProblem.AMBIGUOUS),
        ("今天9:00 开会", TimeProblem.PAST),
        ("周五 9:00 开会", TimeProblem.PAST),
        ("2月30日 9:00", TimeProblem.INVALID),
        ("明天25:00", TimeProblem.INVALID),
        ("开会", TimeProblem.MISSING),
        ("明天 开会", TimeProblem.MISSING),
    ],
)
def test_problems(text, problem):
    assert parse_when(text, NOW).problem == problem


def test_chinese_numbers():
    assert [chinese_number(t) for t in ("三", "十", "十五", "二十三", "两", "12", "x")] == [3, 10, 15, 23, 2, 12, None]
