"""Answer parsing as people type on phones."""

from datetime import UTC, datetime

import pytest

from bot.quiz.answers import display_answer, is_correct, parse
from bot.quiz.models import Question

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def question(kind: str, answer, options=("甲", "乙", "丙", "丁")) -> Question:
    return Question(key="k", type=kind, stem="题", options=list(options), answer=answer, created_at=NOW, updated_at=NOW)


@pytest.mark.parametrize(
    "text", ["B", "b", "Ｂ", "选B", "答案是B", "答案：B", "B.", "B。", "@学习驿站 B", "我选b", "【B】", " B "]
)
def test_single_forms(text):
    q = question("single", "B")
    canonical = parse(text.replace("@学习驿站 ", ""), q)
    assert canonical == "B" and is_correct(canonical, q)


@pytest.mark.parametrize("text", ["BC", "B,C", "B、C", "CB", "b c", "选BC", "答案是C、B", "Ｂ，Ｃ"])
def test_multi_forms(text):
    q = question("multi", "BC")
    assert parse(text, q) == "BC"
    assert is_correct("BC", q) and not is_correct("B", q) and not is_correct("ABC", q)


@pytest.mark.parametrize(
    ("text", "value"),
    [("对", "对"), ("√", "对"), ("正确", "对"), ("错", "错"), ("×", "错"), ("错误", "错"), ("答案是对", "对")],
)
def test_judge_forms(text, value):
    assert parse(text, question("judge", "对", options=())) == value


def test_blank_is_normalised():
    q = question("blank", ["民主集中制"], options=())
    assert is_correct(parse(" 民主 集中制。", q), q)
    assert is_correct(parse("答案是：民主集中制", q), q)
    assert not is_correct(parse("集中制", q), q)
    q = question("blank", ["十八", "18"], options=())
    assert is_correct(parse("１８", q), q)


@pytest.mark.parametrize("text", ["大家好", "G", "BX", "好的收到", ""])
def test_not_answers(text):
    assert parse(text, question("single", "B")) is None


def test_letters_beyond_the_options_are_not_answers():
    assert parse("E", question("single", "B")) is None


def test_display():
    assert display_answer(question("multi", "CA")) == "A. 甲；C. 丙"
    assert display_answer(question("blank", ["民主集中制", "民主集中"], options=())) == "民主集中制"
