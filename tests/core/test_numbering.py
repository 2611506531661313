"""A row number a member types: any number of digits, read as no row's beyond an INTEGER column's range."""

import pytest

from bot.core.numbering import MAX_ROW_NUMBER, row_number


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("3", 3),
        ("03", 3),
        ("３", 3),
        ("0", 0),
        ("2147483647", MAX_ROW_NUMBER),
        ("0000000000002147483647", MAX_ROW_NUMBER),
        ("2147483648", None),
        ("99999999999999999999", None),
        ("9" * 1990, None),
        ("0" * 5000 + "3", 3),  # int() alone refuses over 4,300 digits
        ("三", 3),
        ("十二", 12),
        ("一百", None),  # (words up to 九十九)
        ("", None),
        ("-3", None),
        ("²", None),
    ],
)
def test_row_number(typed, number):
    assert row_number(typed) == number
