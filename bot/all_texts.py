"""Every texts module, core first: for code that reads all the words (intent's command words, the register test)."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

from bot.core import texts
from bot.meetings import texts as meeting_texts
from bot.notices import texts as notice_texts
from bot.points import texts as points_texts
from bot.quiz import texts as quiz_texts
from bot.records import texts as record_texts
from bot.study import texts as study_texts
from bot.tasks import texts as task_texts

MODULES: tuple[ModuleType, ...] = (
    texts,
    meeting_texts,
    notice_texts,
    points_texts,
    quiz_texts,
    record_texts,
    study_texts,
    task_texts,
)


def items() -> Iterator[tuple[str, Any]]:
    """Every (NAME, value) of every texts module; names are unique across them."""
    for module in MODULES:
        for name, value in vars(module).items():
            if name.isupper():
                yield name, value
