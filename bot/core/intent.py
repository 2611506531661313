"""The intent layer: what members really type, read as the command they mean — and talk left as talk.

Members abbreviate (qd, ｓｄ), wrap a word in courtesy (好的，收到 · 收到谢谢书记), say it as a sentence (我请假，家里有事
· 我已到会场 · 今日学习已完成), answer as they would to a person (b选项 · 应该是D吧 · 正确的) and ask the bot
questions (@学习驿站 入党誓词是在什么旗帜下宣誓的？). read() turns such a text into options: the command text to route
instead, each with the context it needs. The rule of confidence: an interpretation is taken only while its context is
live — a check-in window is open, a notice awaits this member's receipt, a meeting expects them, the study day is
open, a quiz is taking answers. Otherwise the text stays what it was: silence in a group, the short help when it was
addressed to the bot. Exact command words keep working as before, except where the word is only part of talk about
it ("签到了吗", "请假条怎么写"): that is not a command (veto).

The pipeline uses it twice: before the write a message with options is left to the transaction (the options'
contexts are in the database), and there live_contexts() says which contexts are live and the chosen option's text
is routed. read() is pure
and cached, so chatter costs one dictionary look-up after the first time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from bot import all_texts
from bot.core import texts
from bot.core.message import Message
from bot.core.normalize import fold, normalize

if TYPE_CHECKING:
    from bot.core.context import Context

# Contexts an interpretation may need (the phrase sets in tests/data name them the same way).
NOTICE_OPEN = "notice_open"
CHECKIN_OPEN = "checkin_open"
MEETING_UPCOMING = "meeting_upcoming"
STUDY_DAY = "study_day"
QUIZ = "quiz"

RECEIPT, CHECK_IN, LEAVE, STUDY_CHECK_IN = "receipt", "check_in", "leave", "study_check_in"
ANSWER, LOOKUP, HELP, POINTS, COMMAND, CHATTER = "answer", "lookup", "help", "points", "command", "chatter"


@dataclass(frozen=True)
class Option:
    """One reading of a text: the command text to route instead, and the context it needs (None: none)."""

    label: str
    text: str
    need: str | None = None


@dataclass(frozen=True)
class Reading:
    """What a text may mean, best first; veto: a command word inside talk about it, not a command."""

    options: tuple[Option, ...] = ()
    veto: bool = False

    @property
    def needs(self) -> frozenset[str]:
        return frozenset(o.need for o in self.options if o.need is not None)

    def choose(self, live: frozenset[str]) -> Option | None:
        """The first option whose context is live."""
        return next((o for o in self.options if o.need is None or o.need in live), None)


_NOTHING = Reading()
# The context a member command needs when it is only an interpretation (an abbreviation, a statement).
_NEEDS = {CHECK_IN: CHECKIN_OPEN, LEAVE: MEETING_UPCOMING, STUDY_CHECK_IN: STUDY_DAY}

# --- vocabulary, folded once --------------------------------------------------------------------------------


def _folded(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(sorted({fold(w).replace(" ", "") for w in words}, key=len, reverse=True))


def _command_words() -> list[tuple[str, str, bool]]:
    """Every command word (folded) with the label of its member command (or COMMAND) and whether it is exact-only."""
    labels = {
        "CMD_CHECK_IN": CHECK_IN,
        "CMD_LEAVE": LEAVE,
        "CMD_STUDY_CHECK_IN": STUDY_CHECK_IN,
        "CMD_LOOKUP": LOOKUP,
        "CMD_HELP": HELP,
        "CMD_MY_POINTS": POINTS,
        "CMD_POINTS_BARE": POINTS,
    }
    words: list[tuple[str, str, bool]] = []
    for name, value in all_texts.items():
        if not name.startswith("CMD_"):
            continue
        groups = value.values() if isinstance(value, dict) else [value]
        for group in groups:
            for word in group:
                exact = name == "CMD_POINTS_BARE" or (name == "CMD_CHECK_IN" and word in texts.SHORT_CHECK_INS)
                words.append((fold(word), labels.get(name, COMMAND), exact))
    return sorted(words, key=lambda w: len(w[0]), reverse=True)


_COMMANDS_BY_FIRST: dict[str, list[tuple[str, str, bool]]] = {}
for _entry in _command_words():  # longest first within each first character
    _COMMANDS_BY_FIRST.setdefault(_entry[0][:1], []).append(_entry)
RECEIPTS = frozenset(fold(w) for w in texts.RECEIPT_WORDS)
# The secretary's 签到码 (bot/meetings/texts.py) followed by four digits is a member sending the code.
_CODE_WORDS = frozenset(fold(w) for name, words in all_texts.items() if name == "CMD_MEETING_CODE" for w in words)
_CODE_SENT = re.compile(r"[\s:：是为]*(\d{4})")
_COURTESY = _folded([*texts.RECEIPT_WORDS, *texts.INTENT_COURTESY_WORDS])
_LEADING = _folded(texts.INTENT_LEADING_WORDS)
_LEADING_FIRST = frozenset(w[0] for w in _LEADING)
_ABBREVIATION = re.compile(
    r"^(" + "|".join(sorted(texts.INTENT_ABBREVIATIONS, key=len, reverse=True)) + r")(?![a-z])\s*(.*)$"
)
_SEPARATORS = re.compile(r"[\s,.。、!~;:…·]+")
# Emoji and symbols (one regex instead of a Unicode category per character: this runs for every message).
_SYMBOLS = re.compile(
    "[\"#$%&'()*+<=>@\\[\\]^_`{|}\u00a6-\u00bf\u2010-\u2bff\u2e00-\u2e7f\u3000-\u303f\u3200-\u33ff"
    "\ufe00-\ufe0f\ufe30-\ufe4f\U0001f000-\U0001faff]+"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TICKS, _CROSSES = "√✓✔☑", "×✗✘❌"

# The words of a member command followed by talk about it: '签到了吗', '请假条怎么写', '学习打卡怎么弄'.
_TALK_AFTER = re.compile(
    r"^(?:了?吗|了?么|了?没|了没有|的|里|上|条|单|表|人|时|情况|制度|流程|时间|要不要|能不能|怎|如何|在哪|哪|找谁|谁)"
)
_ASKING = ("谁", "怎么", "哪", "什么", "吗", "几点")
# A how-question set apart from the command word is talk up to this length ('请假 怎么请'); a longer text is a note
# ('学习打卡 如何做一名合格党员').
_HOW_SET_APART = 4
_QUESTION_END = re.compile(r"(?:吗|么|没|没有|呢|\?)$")
# Set apart from the command word, these alone are talk about it ('请假 流程', '签到 时间', '请假 找谁'), not a
# reason or a note; so is a short question word ('学习打卡 谁还没学', '请假 哪天'). '请假 上级检查' is a reason.
_TALK_SET_APART = re.compile(
    r"情况|制度|流程|时间|规定|要求|要不要|能不能|可不可以|找谁|谁批|谁审批|在哪|在哪里|哪里|怎么办|几点|什么时候"
)
_ASKING_SET_APART = ("谁", "哪", "什么", "几点")

_LOOKUP_PREFIX = re.compile(r"^(?:搜索?|搜一下|问|请问|查询?|查一下)\s*:\s*(\S.*)$")
_CHECK_IN_STATEMENT = re.compile(
    r"^(?:我|本人)?(?:已经?)?(?:签到|签个到|签了到|签上了|打卡签到|签到打卡)(?:了|啦|完毕|成功)?$"
    r"|^(?:我|本人)?(?:已经?)?(?:到|到达|抵达)了?(?:会场|现场|会议室|活动室|党员活动室)?了?$"
)
_PUNCH = re.compile(r"^(?:我|本人)?(?:已经?)?打卡(?:了|啦|完毕|成功)?$")
_PUNCH_NOTE = re.compile(r"^打卡(\s*[:,]?\s*)(\S.*)$")
_STUDY_DONE = re.compile(
    r"^(?:今天|今日|本周)?的?学习(?:任务)?(?:已经?)?(?:完成|学完|完毕|结束)(?:了|啦)?$"
    r"|^(?:我|今天|今日)?(?:已经?)?(?:完成|学完)了?(?:学习|今天的学习|今日学习|本周学习)?了?$"
)
_DONE_WORDS = ("完成", "学完", "完毕", "结束")
# Closing brackets and quotes normalisation trims from a text's end, by the opening one they pair.
_CLOSER_OF = {"《": "》", "“": "”", "‘": "’", "(": ")", "「": "」", "『": "』", "〈": "〉", "〔": "〕"}
_CLOSERS = frozenset(_CLOSER_OF.values())
_WHEN = r"(?:今天|明天|后天|今晚|这次|本次|下午|上午|晚上|今天下午|今天上午|明天上午|明天下午)?"
_LEAVE_FIRST = re.compile(
    r"^(?:书记|报告)?[\s,]*(?:我|本人)?" + _WHEN + r"(?:要|想|需要|得|申请|只能)?请(?:个|一下|一天|半天)?假(?:了|一下)?"
    r"(?:[\s,.。;!~]+(?P<reason>.*))?$"
)
_LEAVE_AFTER = re.compile(r"^(?P<reason>[^\s,]{2,20}?)[\s,]*(?:我|本人)?(?:需要|要|想|申请|只能)?请(?:个|一下)?假$")
_LETTERS = re.compile(
    r"^(?:我|俺)?(?:觉得|认为|猜)?(?:应该)?(?:是|选|选择)?(?:答案|选项)?(?:是|选)?"
    r"([a-f](?:[和与及/]?[a-f]){0,5})(?:选项|项)?(?:吧|啊|呀)?$"
)
_JUDGE = re.compile(r"^(?:我)?(?:觉得|认为|选)?(?:是)?(对|错|正确|错误)(?:的|吧)?$")


def _squash(text: str) -> str:
    """Text without separators, emoji and symbols: what courtesy and statements are compared on."""
    return _SYMBOLS.sub("", _SEPARATORS.sub("", text))


def _by_first(words: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Words by their first character, longest first (a text can only start with a word of its own first one)."""
    index: dict[str, list[str]] = {}
    for word in words:
        index.setdefault(word[:1], []).append(word)
    return {first: tuple(found) for first, found in index.items()}


_COURTESY_INDEX = _by_first(_COURTESY)
# What after '学习已完成' is no note: courtesy, and the cheering that is no receipt ('大家加油', '请书记查收').
_NOT_A_NOTE_INDEX = _by_first(_folded([*_COURTESY, *texts.INTENT_CHEERING_WORDS]))
_GREETING_INDEX = _by_first(
    _folded([*_COURTESY, *texts.INTENT_LEADING_WORDS, *texts.INTENT_GREETING_WORDS, *texts.INTENT_CHEERING_WORDS])
)


def _consume(text: str, words: dict[str, tuple[str, ...]]) -> list[str] | None:
    """text as a sequence of words (longest first at each step), or None if some of it is none of them."""
    found: list[str] = []
    while text:
        word = next((w for w in words.get(text[0], ()) if text.startswith(w)), None)
        if word is None:
            return None
        found.append(word)
        text = text[len(word) :]
    return found


def is_receipt(core: str) -> bool:
    """Receipt words with courtesy around them ('好的收到', '收到准时参加'), at least one of them a receipt word."""
    words = _consume(core, _COURTESY_INDEX)
    return bool(words) and any(w in RECEIPTS for w in words or ())


def gives_no_command(text: str) -> bool:
    """A message for the bot that asks nothing: empty once normalised (a bare @, emoji), or greeting and courtesy
    only ('你好', '在吗', '辛苦了')."""
    core = _squash(text)
    return not core or _consume(core, _GREETING_INDEX) is not None


def _strip_leading(core: str) -> str:
    """Drop courtesy said before a statement ('好的，已签到' → '已签到')."""
    if core[:1] not in _LEADING_FIRST:
        return core
    for word in _LEADING:
        if core.startswith(word) and len(core) > len(word):
            return core[len(word) :]
    return core


def command_word(text: str) -> tuple[str, str, str] | None:
    """The command word text starts with (as the dispatcher matches it), its label, and the rest."""
    for word, label, exact in _COMMANDS_BY_FIRST.get(text[:1], ()):
        if text == word:
            return word, label, ""
        if exact or not text.startswith(word):
            continue
        nxt = text[len(word)]
        if word[-1].isascii() and word[-1].isalnum() and nxt.isascii() and nxt.isalnum():
            continue
        return word, label, text[len(word) :].strip()
    return None


def _talk(args: str, joined: bool = True) -> bool:
    """The rest after a command word is talk about it ('了吗', '条怎么写', '要找谁', '里说的材料交给谁').

    joined: the rest follows the word without a space or colon — a command's own arguments are set apart
    ('请假 家里有事，可以吗' is a leave; '学习打卡 上党课', '请假 上级检查' are a note and a reason), talk about the
    word runs on from it ('签到上班了吗', '签到表放哪了'). Set apart, only a short question or a word about the
    command is talk ('请假 可以吗', '请假 怎么请', '请假 流程', '学习打卡 谁还没学').
    """
    rest = _SEPARATORS.sub("", args)
    if not rest:
        return False
    if len(rest) <= 6 and _QUESTION_END.search(rest):
        return True
    if not joined:
        if _TALK_SET_APART.fullmatch(rest):
            return True
        short = len(rest) <= _HOW_SET_APART
        return short and (rest.startswith(texts.INTENT_HOW_WORDS) or any(w in rest for w in _ASKING_SET_APART))
    return bool(_TALK_AFTER.match(rest)) or (len(rest) <= 8 and any(word in rest for word in _ASKING))


def _how_to(core: str) -> bool:
    return any(w in core for w in texts.INTENT_HOW_WORDS) and any(w in core for w in texts.INTENT_FEATURE_WORDS)


def _asked_command(core: str, opening: tuple[str, str, str] | None = None) -> str | None:
    """The command word a how-question names (its help answers it), of two characters or more. opening: the command
    word the text opens with and the talk after it (command_word()): asked about when the talk asks how ('请假条怎么
    写'). Else the text opens with a how-word (怎么, 如何 …; after a 请问 or 我想问), a command word within a couple of
    characters, little after it ('怎么请假', '请问如何才能签到', '怎样搜题呢' → 请假, 签到, 搜题). A question about
    something else holds its subject first ('预备党员如何延期转正', '张三怎么还没到', '在职党员如何到社区报到'): a quiz
    question or talk, not a question about the bot."""
    if opening is not None:
        word, _label, talk = opening
        named: Iterable[str] = [word] if any(how in talk for how in texts.INTENT_HOW_WORDS) else []
    else:
        named = _named_after_how(core)
    return next((word for word in named if len(word) >= 2), None)


def _named_after_how(core: str) -> Iterator[str]:
    """The command words the text names after its opening how-word (see _asked_command()), nearest first."""
    for lead in texts.INTENT_HOW_LEADS:
        if core.startswith(lead):
            core = core[len(lead) :]
            break
    for how in texts.INTENT_HOW_WORDS:
        if not core.startswith(how):
            continue
        rest = core[len(how) :]
        gaps = range(min(len(rest), texts.INTENT_HOW_GAP + 1))
        for gap in gaps:
            found = command_word(rest[gap:])
            if found is not None and len(found[2]) <= texts.INTENT_HOW_TAIL:
                yield found[0]
        # A word that names a help topic without being a command word ('怎么打卡'): asked after the commands.
        for gap in gaps:
            for word in _HELP_ALIASES:
                if rest.startswith(word, gap) and len(rest) - gap - len(word) <= texts.INTENT_HOW_TAIL:
                    yield word


def _help_on(word: str) -> Option:
    """帮助 with the command word asked about: that command's topic or line (handlers/help.py), else the menu."""
    return Option(HELP, f"{texts.CMD_HELP[0]} {word}")


def _question(raw: str, core: str) -> bool:
    """Asked like a quiz question: a question mark, or a word that asks for a fact and no chat particle at the end
    ('今天天气怎么样', '中午吃什么好呢' are small talk)."""
    if "?" in fold(raw):
        return True
    return any(word in core for word in texts.INTENT_FACT_WORDS) and not core.endswith(texts.INTENT_CHAT_PARTICLES)


_HELP_TOPIC_WORDS = frozenset(texts.HELP_TOPICS.values()) | frozenset(texts.HELP_TOPIC_ALIASES)
_HELP_ALIASES = _folded(list(texts.HELP_TOPIC_ALIASES))


@lru_cache(maxsize=4096)
def read(raw: str, text: str, addressed: bool) -> Reading:
    """What a message may mean. raw: as typed; text: normalised (bot/core/normalize.py); addressed: @-mention or direct."""
    if not text:
        # √ and × are symbols, trimmed by normalisation like emoji: a text of nothing else is a true/false answer.
        marks = {"对" if ch in _TICKS else "错" for ch in fold(raw) if ch in _TICKS or ch in _CROSSES}
        if len(marks) == 1:
            return Reading((Option(ANSWER, marks.pop(), QUIZ),))
        return _NOTHING  # a bare @ or '？': the short help when addressed, else nothing
    found = command_word(text)
    if found is not None:
        word, label, args = found
        code = _CODE_SENT.fullmatch(args) if word in _CODE_WORDS else None
        if code is not None:  # '签到码1324': a code sent to check in, not a request for the code (签到码 alone)
            return Reading((Option(CHECK_IN, f"{texts.CMD_CHECK_IN[0]} {code.group(1)}"),))
        if label in _NEEDS and args in ("了", "啦"):  # '请假了': maybe a report of the past; only in its context
            return Reading((Option(label, word, _NEEDS[label]),), veto=True)
        joined = text[len(word) : len(word) + 1] not in (" ", ",", ":", "")
        # '帮助 会议' / '帮助会议' ask for a help topic; '帮助一下群众' is talk.
        help_talk = label == HELP and not addressed and args and joined and args not in _HELP_TOPIC_WORDS
        if label in _NEEDS and _talk(args, joined) or help_talk:
            # '请假怎么请' asks how: that command's help; '签到了吗' the menu.
            asked = None if help_talk else _asked_command(text, opening=found)
            option = _help_on(asked) if asked is not None else Option(HELP, texts.CMD_HELP[0])
            return Reading((option,) if addressed else (), veto=True)
        # '通知里说的材料交给谁', '竞赛什么时候开始': talk, not a refusal or a notice ('通知 明天几点交材料' is one).
        if label == COMMAND and not addressed and joined and _talk(args):
            return Reading(veto=True)
        return _NOTHING  # a command as written: the router takes it
    prefixed = _LOOKUP_PREFIX.match(text)
    if prefixed:
        return Reading((Option(LOOKUP, f"{texts.CMD_LOOKUP[0]} {prefixed.group(1).strip()}"),))
    abbreviated = _ABBREVIATION.match(text)
    if abbreviated:
        word = texts.INTENT_ABBREVIATIONS[abbreviated.group(1)]
        rest = closed(abbreviated.group(2).strip(), raw)
        expanded = f"{word} {rest}" if rest else word
        found = command_word(expanded)
        if found is not None and found[1] in _NEEDS and not _talk(found[2], joined=False):  # ('qj 流程': talk)
            return Reading((Option(found[1], expanded, _NEEDS[found[1]]),))
        text = expanded
    core = _squash(text)
    options = [*_statements(text, core, raw), *_answers(core)] if core else []
    asked = _asked_command(core) if addressed and not options else None
    if asked is not None:
        options.append(_help_on(asked))
    elif addressed and not options:
        if _how_to(core):
            options.append(Option(HELP, texts.CMD_HELP[0]))
        elif "积分" in core and not any(w in core for w in ("排", "规则", "榜")):
            options.append(Option(POINTS, texts.CMD_MY_POINTS[0]))
        elif len(_CJK.findall(core)) >= texts.LOOKUP_MIN_QUESTION_CHARS and _question(raw, core):
            options.append(Option(LOOKUP, f"{texts.CMD_LOOKUP[0]} {text}"))
    return Reading(tuple(options))


def _statements(text: str, core: str, raw: str) -> list[Option]:
    """Receipts, check-ins, study check-ins and leave said the way people say them (core: text squashed)."""
    if is_receipt(core):
        return [Option(RECEIPT, texts.RECEIPT_WORDS[0], NOTICE_OPEN)]
    stated = _strip_leading(core)
    if _CHECK_IN_STATEMENT.match(stated):
        return [Option(CHECK_IN, texts.CMD_CHECK_IN[0], CHECKIN_OPEN)]
    if _PUNCH.match(stated):
        return [
            Option(CHECK_IN, texts.CMD_CHECK_IN[0], CHECKIN_OPEN),
            Option(STUDY_CHECK_IN, texts.CMD_STUDY_CHECK_IN[0], STUDY_DAY),
        ]
    note = _PUNCH_NOTE.match(text)
    if note and not _talk(note.group(2), joined=not note.group(1)):
        return [_study_check_in(note.group(2).strip(), raw)]
    if _STUDY_DONE.match(stated):
        return [_study_check_in("", raw)]
    if "学" in core and any(word in core for word in _DONE_WORDS):
        done = _study_done_with_note(text)
        if done is not None:
            return [_study_check_in(done, raw)]
    leave = _leave_reason(text)
    if leave is not None:
        return [Option(LEAVE, f"{texts.CMD_LEAVE[0]} {closed(leave, raw)}".strip(), MEETING_UPCOMING)]
    return []


def _study_check_in(note: str, raw: str) -> Option:
    """学习打卡 with the note, as the member closed it ('打卡 纪录片《榜样》': normalisation trimmed the 》)."""
    note, word = closed(note, raw), texts.CMD_STUDY_CHECK_IN[0]
    return Option(STUDY_CHECK_IN, f"{word} {note}" if note else word, STUDY_DAY)


def _study_done_with_note(text: str) -> str | None:
    """The note after a study check-in said as a sentence ('今日学习已完成，读了原著' → '读了原著'), else None; a note of
    courtesy only ('今日学习已完成，谢谢书记') is no note ('')."""
    for separator in _SEPARATORS.finditer(text):
        head, note = text[: separator.start()], text[separator.end() :]
        if not note or not _STUDY_DONE.match(_strip_leading(_squash(head))):
            continue
        if len(note) <= 6 and _QUESTION_END.search(_SEPARATORS.sub("", note)):
            return None  # a question about the check-in itself ('今日学习已完成，对吗')
        if _talk(note, joined=False) or _consume(_squash(note), _NOT_A_NOTE_INDEX) is not None:
            return ""  # done, and talk or courtesy after it ('…，谁还没学', '…，谢谢书记'): a check-in, no note
        return note.strip()
    return None


def closed(note: str, raw: str) -> str:
    """note, a text's end, with the closing brackets and quotes normalisation trimmed after it in raw (as typed)
    where they pair an opening one in the note ('纪录片《榜样' → '纪录片《榜样》')."""
    if not any(ch in _CLOSER_OF for ch in note):
        return note
    pending: list[str] = []  # the closers the note still owes, innermost last
    for ch in note:
        if ch in _CLOSER_OF:
            pending.append(_CLOSER_OF[ch])
        elif ch in _CLOSERS and pending and pending[-1] == ch:
            pending.pop()
    folded = fold(raw)
    at = folded.rfind(note)
    if not pending or at < 0:
        return note
    for ch in folded[at + len(note) :]:
        if not pending or ch != pending[-1]:
            break
        note += pending.pop()
    return note


def _leave_reason(text: str) -> str | None:
    """The reason of a leave said as a sentence ('我请假，孩子发烧' → '孩子发烧'; '今天请假' → ''), else None."""
    first = _LEAVE_FIRST.match(text)
    if first:
        reason = (first.group("reason") or "").strip()
        # A question or a word about leave after it ('我要请假，找谁', '明天请假 流程') is no reason: talk.
        return None if reason and (_QUESTION_END.search(reason) or _talk(reason, joined=False)) else reason
    after = _LEAVE_AFTER.match(_SEPARATORS.sub(",", text).strip(","))
    if after and any(hint in after.group("reason") for hint in texts.INTENT_LEAVE_REASON_HINTS):
        return after.group("reason")
    return None


def _answers(core: str) -> list[Option]:
    """Answer forms the quiz's own parser does not take as they are ('b选项', '应该是D吧', '正确的')."""
    letters = _LETTERS.match(core)
    if letters and letters.group(1) != core:
        return [Option(ANSWER, re.sub(r"[^a-f]", "", letters.group(1)), QUIZ)]
    judge = _JUDGE.match(core)
    if judge and judge.group(0) != judge.group(1):
        return [Option(ANSWER, "对" if judge.group(1) in ("对", "正确") else "错", QUIZ)]
    return []


def may_be_blank_answer(text: str) -> bool:
    """Could this unmarked text answer a 填空 question? Short, not a receipt or courtesy, not talk about the quiz.

    A 填空 answer is a term, not a sentence: at most 16 characters, no laughter, no question, none of the words
    people use to talk about a question ('这题', '好难', '不会', '谁'…), and not a receipt ('收到', '好的'). A member
    who means such a text as the answer marks it: '答 …'.
    """
    core = _squash(fold(text))
    if not core or "?" in core or len(core) > 16:
        return False
    if is_receipt(core) or _consume(core, _COURTESY_INDEX) is not None:
        return False
    return not any(word in core for word in texts.INTENT_QUIZ_TALK)


def rewritten(msg: Message, text: str, mentioned: bool) -> Message:
    """msg as the chosen option says it (the handler reads the message; the stored inbound keeps what was typed)."""
    return replace(msg, text=text, mentions_bot=msg.mentions_bot or mentioned)


async def live_contexts(ctx: Context, needs: frozenset[str]) -> frozenset[str]:
    """Which of the needed contexts are live for this member here and now (a few small queries, only those needed)."""
    from bot.meetings.domain import next_meeting_for, open_meetings, window
    from bot.notices.domain import open_notices
    from bot.quiz.models import QuizMode, QuizSession
    from bot.quiz.state import RUNNING, live_session
    from bot.study.domain import current_study

    member, branch = ctx.member, ctx.branch
    if member is None or branch is None:
        return frozenset()
    live: set[str] = set()
    if NOTICE_OPEN in needs and await open_notices(ctx, member):
        live.add(NOTICE_OPEN)
    if CHECKIN_OPEN in needs:
        now = ctx.clock()
        if any(
            window(ctx, v.meeting)[0] <= now <= window(ctx, v.meeting)[1] for v in await open_meetings(ctx, branch.id)
        ):
            live.add(CHECKIN_OPEN)
    if MEETING_UPCOMING in needs and await next_meeting_for(ctx, branch, member) is not None:
        live.add(MEETING_UPCOMING)
    if STUDY_DAY in needs and await current_study(ctx, branch) is not None:
        live.add(STUDY_DAY)
    if QUIZ in needs:
        from sqlalchemy import select

        if ctx.message is not None and ctx.message.is_direct:
            quiz = await ctx.session.scalar(
                select(QuizSession.id)
                .where(
                    QuizSession.mode == QuizMode.PRACTICE,
                    QuizSession.member_id == member.id,
                    QuizSession.status == RUNNING,
                )
                .limit(1)
            )
            if quiz is not None:
                live.add(QUIZ)
        elif await live_session(ctx.session, ctx.chat, include_daily=True) is not None:
            live.add(QUIZ)
    return frozenset(live)


# --- classifying a phrase in a named context (the phrase sets; the same decisions the pipeline takes) ----------

CONTEXTS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "notice_open": frozenset({NOTICE_OPEN}),
    "checkin_open": frozenset({CHECKIN_OPEN, MEETING_UPCOMING}),  # a meeting whose window is open is also coming
    "meeting_upcoming": frozenset({MEETING_UPCOMING}),
    "study_day": frozenset({STUDY_DAY}),
    "quiz_single": frozenset({QUIZ, "single"}),
    "quiz_multi": frozenset({QUIZ, "multi"}),
    "quiz_judge": frozenset({QUIZ, "judge"}),
    "quiz_fill": frozenset({QUIZ, "blank"}),
}


def classify(raw: str, context: str, bot_names: tuple[str, ...] = ("学习驿站",)) -> str:
    """The label of what the bot does with raw said in a group in context: receipt, check_in, answer:B, chatter…"""
    text, mentioned, _names = normalize(raw, bot_names)
    live = CONTEXTS[context]
    reading = read(raw, text, mentioned)
    option = reading.choose(live)
    if option is not None:
        raw = text = option.text
    elif reading.veto:
        return CHATTER
    found = command_word(text)
    if found is not None and text not in texts.SHORT_CHECK_INS:
        return found[1]
    kind = next((k for k in ("single", "multi", "judge", "blank") if k in live), None)
    if kind is not None:
        answer = _parse_answer(raw, text, kind)
        if answer is not None:
            return f"{ANSWER}:{answer}"
    if text in RECEIPTS and NOTICE_OPEN in live:
        return RECEIPT
    if text in texts.SHORT_CHECK_INS and CHECKIN_OPEN in live:
        return CHECK_IN
    return HELP if mentioned else CHATTER


def _parse_answer(raw: str, text: str, kind: str) -> str | None:
    from bot.quiz.answers import parse
    from bot.quiz.models import Question

    if kind == "blank" and not may_be_blank_answer(text):
        from bot.quiz.answers import has_answer_prefix

        if not has_answer_prefix(raw):
            return None
    question = Question(type=kind, options=["甲", "乙", "丙", "丁"], answer="")
    return parse(raw, question)
