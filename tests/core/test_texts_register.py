"""The register of Party work in what the bot says: 同志, no chatty filler, no greeting small talk."""

import re

import pytest

from bot import all_texts
from bot.core import texts

# Every user-facing text is held to the register, except: command words and the words members type (CMD_*,
# RECEIPT_WORDS, INTENT_*, the words an imported sheet or a question may contain), and the operator's command line.
EXEMPT = (
    "CMD_",
    "RECEIPT_WORDS",
    "INTENT_",
    "BANK_",
    "LOOKUP_QUESTION_MARKS",
    "LEADERBOARD_PERIOD_WORDS",
    "LEADERBOARD_CHAT_WORDS",
    "MEETING_TOPIC_WORDS",
    "MEETING_STATS_ALL_WORDS",
    "ORG_NO_PARENT_WORDS",
    "STUDY_TAGS",
    "CLI_",
    "TASK_FILE_",  # {name} there is a file name, for the operator
)
# Sentence-final particles and small talk that do not belong in a branch's work chat.
CHATTY = re.compile(r"[呢哦啦吧嘛呀]|您好|就行|一下|加油|感谢参与|[！!]|[🎉⏰🏁🏆✅]")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _strings(item)


CHECKED = sorted(
    (name, text)
    for name, value in all_texts.items()
    if name.isupper() and not name.startswith(EXEMPT)
    for text in _strings(value)
)


@pytest.mark.parametrize(("name", "text"), CHECKED, ids=[name for name, _ in CHECKED])
def test_no_chatty_filler(name, text):
    assert not CHATTY.search(text), f"{name}: {text}"


def test_members_are_addressed_as_comrades():
    """Where a text addresses a member by name it says "X同志", never the bare name or "您好，X"."""
    addressing = [(name, text) for name, text in CHECKED if text.startswith("{name}")]
    assert addressing, "the check found nothing to check"
    for name, text in addressing:
        assert text.startswith(("{name}同志", "{name}（")), f"{name}: {text}"
    assert texts.HELP_HEADER.format(name="张伟").startswith("【学习驿站】张伟同志")


def test_roles_read_as_permissions_not_posts():
    """Setting a role grants a permission in this app; it never announces that someone is now secretary."""
    for role in ("secretary", "admin"):
        assert texts.ROLE_NAMES[role].endswith(("权限", "权限（书记/组织委员）"))
    granted = texts.ROLE_SET.format(name="张三", role=texts.ROLE_NAMES["secretary"])
    assert granted.startswith("已授予张三同志支部管理权限") and "设为书记" not in granted and "任命" not in granted


def test_every_text_has_one_home():
    """Each name lives in one texts module: its feature's own, or core's shared words."""
    names = [name for name, _ in all_texts.items()]
    assert len(names) == len(set(names))
    assert len(all_texts.MODULES) > 1
