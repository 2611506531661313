"""Finding a member's mention in a command's text: names with spaces, and hostile texts that cost nothing."""

import time

from bot.core.mentions import typed_mention, without_mention
from bot.core.models import Member


def test_a_name_with_a_space_is_taken_out_whole():
    member = Member(display_name="Tom Li")
    assert without_mention("准假 @Tom Li\u2005#2", member).split() == ["准假", "#2"]
    assert typed_mention("准假 @Tom Li\u2005#2", "tom li") == "Tom Li"


def test_long_runs_of_what_a_name_folds_away_cost_no_more_than_a_short_text():
    """fold() drops spaces and brackets: a mention made of thousands of them once took seconds (quadratic)."""
    member = Member(display_name="张三")
    for filler in ("【", " ", "\u3000"):
        text = "准假 " + ("@" + filler * 2000) * 2
        started = time.perf_counter()
        rest = without_mention(text, member)
        typed = typed_mention(text, "张三")
        assert time.perf_counter() - started < 0.5  # 0.25 s for one such mention before the bound; ~1 ms now
        assert "准假" in rest and typed == "张三"
