"""The numbers members type to name a row — 会议#3, 第3号通知, 完成 3 — read before they reach a query."""

from __future__ import annotations

from bot.core.timeparse import chinese_number

# Numerals as a row number may be written in words ("第三号通知"): up to 九十九 (chinese_number).
CHINESE_NUMERALS = "零〇一二两三四五六七八九十"

# The largest number a numbered row (RollCall.seq, TaskItem.seq: INTEGER columns) can carry on either database
# (PostgreSQL's integer is 32-bit; SQLite refuses a Python int beyond 64 bits). A larger typed number names no row.
MAX_ROW_NUMBER = 2**31 - 1


def row_number(digits: str) -> int | None:
    """The row number typed as digits ('3', '03', '３') or in words ('三', '十二'); None when no row can have it
    (too large, or not a number), so the caller answers as for any number it does not find — never a query the
    database refuses."""
    if digits and all(ch in CHINESE_NUMERALS for ch in digits):
        return chinese_number(digits)
    if not digits.isdecimal():
        return None
    significant = digits.lstrip("0")
    if len(significant) > len(str(MAX_ROW_NUMBER)):  # before int(): a long string is no row's number
        return None
    number = int(significant or "0")  # (int() refuses a string of over 4,300 digits, zeros included)
    return number if number <= MAX_ROW_NUMBER else None
