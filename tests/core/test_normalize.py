"""Command normalisation: width, brackets, punctuation, emoji, @-mentions, slash forms."""

import pytest

from bot.core.normalize import normalize

BOT = ("学习驿站", "驿站")


@pytest.mark.parametrize(
    ("raw", "text", "mentioned"),
    [
        ("帮助", "帮助", False),
        ("  帮助！！ ", "帮助", False),
        ("【帮助】", "帮助", False),
        ("帮助😀", "帮助", False),
        ("@学习驿站 帮助", "帮助", True),
        ("@学习驿站\u2005帮助", "帮助", True),
        ("＠学习驿站　帮助", "帮助", True),
        ("帮助 @学习驿站", "帮助", True),
        ("@驿站 菜单", "菜单", True),
        ("/help", "help", False),
        ("／ＨＥＬＰ", "help", False),
        ("@学习驿站 /help", "help", True),
        ("设为书记 @张三", "设为书记 @张三", False),
    ],
)
def test_normalize(raw, text, mentioned):
    got_text, got_mentioned, _names = normalize(raw, BOT)
    assert (got_text, got_mentioned) == (text, mentioned)


def test_other_mentions_are_listed():
    _text, _mentioned, names = normalize("@学习驿站 设为书记 @张三", BOT)
    assert names == ("张三",)
