"""Cards (模板卡片): buttons or choices on a push, and what a tap on them means.

A card is channel-neutral data stored with its outbox row (Outbox.card); a channel that shows cards renders it
(WeCom: bot/core/channels/wecom/cards.py), every other channel sends the row's text, which stands on its own.

A tap is not a second way into the bot: the channel turns it into the Message a member would have typed (the
card's word: 收到, 签到, 请假, 学习打卡, a quiz answer), with Message.card_key set to the tapped key, and the
message goes through the same pipeline, handlers and refusals as the typed word. The key says what the card was
about, so a handler can refuse a tap on a stale card (a quiz question that is no longer the live one).

Keys: "receipt:<roll call id>", "check_in:<roll call id>", "leave:<roll call id>", "study:<roll call id>",
"quiz:<round id>:<answer>" (a button), "quiz:<round id>" (the submit button of a multiple-choice card, with the
chosen option ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import texts
from bot.core.models import EntryStatus, Member, RollCallEntry
from bot.quiz.answers import LETTERS
from bot.quiz.models import Question, QuestionType, QuizAttempt

Card = dict[str, Any]

RECEIPT = "receipt"
CHECK_IN = "check_in"
LEAVE = "leave"
STUDY = "study"
QUIZ = "quiz"
# A judge question's two buttons: the option ids, and the words they stand for.
JUDGE_TRUE, JUDGE_FALSE = "T", "F"

# The word each tap stands for (the first, plainest form of the typed command).
_WORDS = {
    RECEIPT: texts.RECEIPT_WORDS[0],
    CHECK_IN: texts.CMD_CHECK_IN[0],
    LEAVE: texts.CMD_LEAVE[0],
    STUDY: texts.CMD_STUDY_CHECK_IN[0],
}


def buttons(title: str, *pairs: tuple[str, str]) -> Card:
    """A card with buttons: (label, key) pairs."""
    return {"kind": "buttons", "title": title, "buttons": [{"text": text, "key": key} for text, key in pairs]}


def receipt_card(roll_call_id: int, title: str) -> Card:
    """A notice: one 收到 button."""
    return buttons(title, (texts.CARD_RECEIPT_BUTTON, f"{RECEIPT}:{roll_call_id}"))


def meeting_card(roll_call_id: int, title: str) -> Card:
    """A meeting: 签到 and 请假."""
    return buttons(
        title,
        (texts.CARD_CHECK_IN_BUTTON, f"{CHECK_IN}:{roll_call_id}"),
        (texts.CARD_LEAVE_BUTTON, f"{LEAVE}:{roll_call_id}"),
    )


def study_card(roll_call_id: int, title: str) -> Card:
    """The study day: 学习打卡."""
    return buttons(title, (texts.CARD_STUDY_BUTTON, f"{STUDY}:{roll_call_id}"))


def quiz_card(round_id: int, question: Question, title: str) -> Card | None:
    """A quiz question: a button per option (single), 对/错 (judge), a multiple choice with 提交 (multi).

    None for a blank: its answer is typed.
    """
    if question.type == QuestionType.JUDGE:
        return buttons(
            title,
            (texts.CARD_JUDGE_TRUE, f"{QUIZ}:{round_id}:{JUDGE_TRUE}"),
            (texts.CARD_JUDGE_FALSE, f"{QUIZ}:{round_id}:{JUDGE_FALSE}"),
        )
    letters = LETTERS[: len(question.options)]
    if question.type == QuestionType.SINGLE and len(letters) <= MAX_BUTTONS:
        return buttons(title, *((letter, f"{QUIZ}:{round_id}:{letter}") for letter in letters))
    if question.type in (QuestionType.SINGLE, QuestionType.MULTI) and letters:
        return {
            "kind": "choice",
            "title": title,
            "multiple": question.type == QuestionType.MULTI,
            "question_key": f"{QUIZ}:{round_id}",
            "options": [{"id": letter, "text": letter} for letter in letters],
            "submit": {"text": texts.CARD_SUBMIT_BUTTON, "key": f"{QUIZ}:{round_id}"},
        }
    return None


def asks_a_live_question(card: Card | None) -> bool:
    """Whether a card puts the question of a running 抢答/竞赛 (marked "live" by the engine; not the 每日一题, a
    notice, meeting or study-day card).

    The WeCom AI bot's HTTP callback can push such a card into a group only by an unused response_url of that
    group (bot/core/channels/wecom/routing.py); reminders and notices never take one.
    """
    return card is not None and card.get("live") is True


# WeCom's button_interaction shows at most 6 buttons (button_list "列表长度不超过 6"); more options: a choice card.
MAX_BUTTONS = 6


@dataclass(frozen=True)
class Tap:
    """A tap, understood: the word it stands for and what it refers to."""

    key: str
    action: str
    ref: int
    word: str


def understand(key: str, chosen: tuple[str, ...] = ()) -> Tap | None:
    """The typed word a tapped key (and, for a choice card, its chosen option ids) stands for; None if unknown."""
    parts = key.split(":")
    # An id is ASCII digits of a size a row id can have ('²'.isdigit() is True; int() of it is not).
    if len(parts) < 2 or not (parts[1].isascii() and parts[1].isdigit() and len(parts[1]) <= 18):
        return None
    action, ref = parts[0], int(parts[1])
    if action in _WORDS and len(parts) == 2:
        return Tap(key, action, ref, _WORDS[action])
    if action != QUIZ:
        return None
    answer = parts[2] if len(parts) == 3 else "".join(sorted(set(chosen)))
    if answer == JUDGE_TRUE:
        word = texts.CARD_JUDGE_TRUE
    elif answer == JUDGE_FALSE:
        word = texts.CARD_JUDGE_FALSE
    elif answer and all(letter in LETTERS for letter in answer):
        word = answer
    else:
        return None
    return Tap(key, action, ref, word)


def tapped_roll_call(card_key: str | None, action: str) -> int | None:
    """The roll call (notice, meeting, study week) a tap of this action is about; None for a typed word.

    A tap acts on that roll call only — never on another one the typed word would have chosen."""
    tap = understand(card_key) if card_key else None
    return tap.ref if tap is not None and tap.action == action else None


def quiz_round(card_key: str | None) -> int | None:
    """The quiz round a tap answers (None for a typed answer or another card)."""
    tap = understand(card_key, ("A",)) if card_key else None
    return tap.ref if tap is not None and tap.action == QUIZ else None


async def state_label(session: AsyncSession, member: Member, tap: Tap) -> str | None:
    """What the tapper's copy of the card says now ("已收到", "已签到"…); None while nothing was recorded."""
    if tap.action == QUIZ:
        found = await session.scalar(
            select(QuizAttempt.id).where(QuizAttempt.round_id == tap.ref, QuizAttempt.member_id == member.id)
        )
        return texts.CARD_DONE_ANSWERED if found is not None else None
    status = await session.scalar(
        select(RollCallEntry.status).where(RollCallEntry.roll_call_id == tap.ref, RollCallEntry.member_id == member.id)
    )
    if status == EntryStatus.DONE:
        return {RECEIPT: texts.CARD_DONE_RECEIPT, STUDY: texts.CARD_DONE_STUDY}.get(
            tap.action, texts.CARD_DONE_CHECK_IN
        )
    if status in (EntryStatus.LEAVE, EntryStatus.LEAVE_REQUESTED):
        return texts.CARD_DONE_LEAVE
    return None
