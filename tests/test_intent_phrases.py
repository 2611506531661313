"""The intent layer (bot/core/intent.py) on two labelled sets of what members write in a WeCom group.

tests/data/phrases_holdout.json was written FIRST, before the layer was tuned, and was never tuned on: the layer's
rules were adjusted only against tests/data/phrases_tune.json. Keep it that way — add a phrase that fails to the tune
set (or a new holdout set written before the fix), not to this holdout.

Honest record: the holdout's first run scored 99.0% (206/208) and took two chatter phrases as commands ('请假要找谁'
as a leave, '通知里说的材料交给谁' as the secretary's 通知). The rule was then generalised (a command word followed by
a short question about it is talk) and tested on new tune phrases of that kind; the holdout has been 100% since, so
for that one kind it is no longer unseen.

Each item is {text, context, expected}: context is what is live (none, notice_open, checkin_open, meeting_upcoming,
study_day, quiz_single, quiz_multi, quiz_judge, quiz_fill); expected is what the bot should do (receipt, check_in,
leave, study_check_in, answer:B / answer:对 / answer:<blank>, lookup, help, points, chatter). A text starting with
@学习驿站 is addressed to the bot.
"""

import json
from pathlib import Path

import pytest

from bot.core.intent import CONTEXTS, classify

DATA = Path(__file__).parent / "data"
REQUIRED = 0.95


def load(name: str) -> list[dict[str, str]]:
    return json.loads((DATA / f"phrases_{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["tune", "holdout"])
def test_phrase_set(name: str) -> None:
    items = load(name)
    assert len(items) >= 150
    assert all(item["context"] in CONTEXTS for item in items)
    chatter = [item for item in items if item["expected"] == "chatter"]
    assert len(chatter) >= len(items) // 4, "about a third of the set is chatter"
    results = [(item, classify(item["text"], item["context"])) for item in items]
    wrong = [(item["context"], item["text"], item["expected"], got) for item, got in results if got != item["expected"]]
    false_commands = [
        (item["context"], item["text"], got) for item, got in results if item in chatter and got != "chatter"
    ]
    score = 1 - len(wrong) / len(items)
    print(f"\nintent phrases {name}: {score:.1%} of {len(items)} ({len(chatter)} chatter, {len(false_commands)} taken)")
    for line in wrong:
        print("   ", line)
    assert false_commands == []
    assert score >= REQUIRED, wrong


def test_sets_do_not_share_phrases() -> None:
    tune = {(i["context"], i["text"]) for i in load("tune")}
    holdout = {(i["context"], i["text"]) for i in load("holdout")}
    assert len(tune | holdout) >= 300
    # The same everyday words (收到, 签到, B) are in both; most phrases are not.
    assert len(tune & holdout) < len(holdout) // 3
