"""Text normalisation for command matching: width, brackets, mentions, punctuation and emoji."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters trimmed from both ends of a command: whitespace, punctuation and symbols (emoji).
_EDGE_CATEGORIES = ("Z", "P", "S", "C")
_BRACKETS = str.maketrans({"【": " ", "】": " ", "〖": " ", "〗": " ", "[": " ", "]": " "})
_MENTION = re.compile(r"[@＠]([^\s@＠]+)")
_SPACES = re.compile(r"\s+")


def _is_edge(ch: str) -> bool:
    return unicodedata.category(ch)[0] in _EDGE_CATEGORIES and ch not in "@/"


def strip_edges(text: str) -> str:
    """Trim surrounding spaces, punctuation and emoji (but keep a leading @ or /)."""
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def fold(text: str) -> str:
    """Full-width to half-width (NFKC), ASCII lower-case, spaces collapsed, brackets dropped."""
    text = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    # WeCom and WeChat put a no-break or "four-per-em" space after an @-mention.
    text = _SPACES.sub(" ", text.replace("\u2005", " ")).strip()
    return "".join(ch.lower() if ch.isascii() else ch for ch in text)


def strip_bot_mention(text: str, bot_names: tuple[str, ...]) -> tuple[str, bool]:
    """Remove a leading (or trailing) @-mention of the bot; say whether there was one."""
    mentioned = False
    names = _folded_names(bot_names)
    changed = True
    while changed:
        changed = False
        for name in names:
            head = "@" + name
            if text.startswith(head):
                text, mentioned, changed = text[len(head) :].lstrip(), True, True
            elif text.endswith(head):
                text, mentioned, changed = text[: -len(head)].rstrip(), True, True
    return text, mentioned


@lru_cache(maxsize=8)
def _folded_names(bot_names: tuple[str, ...]) -> list[str]:
    return sorted({fold(n) for n in bot_names if n}, key=len, reverse=True)


# Members say the same short things again and again (收到, 到, 帮助): every filter normalises each message too.
@lru_cache(maxsize=4096)
def normalize(text: str, bot_names: tuple[str, ...]) -> tuple[str, bool, tuple[str, ...]]:
    """Normalised command text, whether the bot was @-mentioned, and other @-mentioned names."""
    folded = strip_edges(fold(text))
    folded, mentioned = strip_bot_mention(folded, bot_names)
    folded = strip_edges(folded)
    if folded.startswith("/"):
        folded = strip_edges(folded[1:])
    names = tuple(m.group(1) for m in _MENTION.finditer(folded))
    return folded, mentioned, names


def remove_mentions(text: str) -> str:
    """The text with every @-mention taken out."""
    return _SPACES.sub(" ", _MENTION.sub(" ", text)).strip()


_LEADING_JUNK = "【[〖/／"
_ARG_SEPARATORS = " \u3000】]〗:：,，"


def raw_args(original: str, word: str, bot_names: tuple[str, ...]) -> str | None:
    """The text after the command word as the member typed it (width, punctuation and case kept).

    Notices and notes are shown to people, so they keep their original form; None if the word
    cannot be located in the original (the caller then uses the normalised arguments).
    """
    text = original.strip()
    for name in sorted(bot_names, key=len, reverse=True):
        head = "@" + name
        if fold(text[: len(head)]) == fold(head):
            text = text[len(head) :].strip()
        if fold(text[-len(head) :]) == fold(head):
            text = text[: -len(head)].strip()
    while text and (text[0] in _LEADING_JUNK or _is_edge(text[0])):
        text = text[1:]
    target = word.replace(" ", "")
    for end in range(1, len(text) + 1):
        folded = fold(text[:end]).replace(" ", "")
        if folded == target:
            rest = text[end:].lstrip(_ARG_SEPARATORS).rstrip()
            return rest.rstrip("】]〗").rstrip()
        if len(folded) > len(target):
            break
    return None


_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _blank(ch: str) -> bool:
    return ch in _BLANK_LETTERS or unicodedata.category(ch)[0] in ("Z", "C")


def visible_text(text: str) -> str:
    """The text without invisible characters around it ('' if nothing visible is left), so a study material, a note
    or a notice of zero-width spaces is none."""
    start, end = 0, len(text)
    while start < end and _blank(text[start]):
        start += 1
    while end > start and _blank(text[end - 1]):
        end -= 1
    return text[start:end]
