"""The numbers members type to name a row — 会议#3, 第3号通知, 完成 3 — read before they reach a query."""

from __future__ import annotations

# The largest number a numbered row (RollCall.seq, TaskItem.seq: INTEGER columns) can carry on either database
# (PostgreSQL's integer is 32-bit; SQLite refuses a Python int beyond 64 bits). A larger typed number names no row.
MAX_ROW_NUMBER = 2**31 - 1


def row_number(digits: str) -> int | None:
    """The row number typed as digits ('3', '03', '３'); None when no row can have it (too large, or no digits), so
    the caller answers as for any number it does not find — never a query the database refuses."""
    if not digits.isdecimal():
        return None
    significant = digits.lstrip("0")
    if len(significant) > len(str(MAX_ROW_NUMBER)):  # before int(): a long string is no row's number
        return None
    number = int(digits)
    return number if number <= MAX_ROW_NUMBER else None
