"""Routers: command words and message filters registered on a router per handler module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.core.message import Command, Message
from bot.core.models import Role
from bot.core.normalize import fold

if TYPE_CHECKING:
    from bot.core.context import Context

T = TypeVar("T")
Handler = Callable[[Message, "Context"], Awaitable[None]]
Filter = Callable[[Message, "Context"], Awaitable[bool]]


@dataclass(frozen=True)
class Hints:
    """What the pipeline knows about a message before the write, without the database (bot/core/pipeline.py)."""

    text: str  # normalised
    addressed: bool  # @-mentioned or direct
    # No quiz running or just finished here could take this text as an answer (a 抢答 of choice questions cannot
    # take '收到'); checked again when the message is written.
    quiz_idle: bool


# A filter's precheck: False only when the filter certainly does not match (then a message is decided before the write without it).
Precheck = Callable[[Message, Hints], bool]


@dataclass(frozen=True)
class Route:
    """One handler: reached by command words, or by a filter when no command matched."""

    handler: Handler
    words: tuple[str, ...] = ()
    role: str = Role.MEMBER
    summary: str = ""
    exact: bool = False
    hidden: bool = False
    filter: Filter | None = None
    # reads_nothing: the handler needs no database (only ctx.member/branch/chat/dispatcher): it may run before the
    # write, from the directory (bot/core/pipeline.py), and its replies are written by the group commit.
    reads_nothing: bool = False
    # For a filter: a database-free test that may rule it out; without one every message goes the full way.
    precheck: Precheck | None = None

    @property
    def name(self) -> str:
        return self.handler.__name__


class Router:
    """A module's routes, in registration order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []

    def command(
        self,
        *words: str,
        role: str = Role.MEMBER,
        summary: str = "",
        exact: bool = False,
        hidden: bool = False,
        reads_nothing: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register a handler for command words (the first word is the one shown in help).

        reads_nothing=True declares that the handler reads nothing from the database and writes only replies.
        """
        if not words:
            raise ValueError("a command needs at least one word")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(handler, tuple(words), role, summary, exact, hidden, reads_nothing=reads_nothing))
            return handler

        return register

    def message(
        self, condition: Filter, *, role: str = Role.MEMBER, precheck: Precheck | None = None
    ) -> Callable[[Handler], Handler]:
        """Register a handler for messages that match no command but satisfy condition.

        precheck(msg, hints) must be False only where condition is certainly False: it lets the pipeline
        answer ordinary messages without asking this filter's database questions.
        """

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(handler, role=role, hidden=True, filter=condition, precheck=precheck))
            return handler

        return register


def _boundary_ok(text: str, word: str) -> bool:
    """ASCII words need a word boundary ("help me", not "helpful"); Chinese words do not."""
    if len(text) == len(word):
        return True
    nxt = text[len(word)]
    return not (word[-1].isascii() and word[-1].isalnum() and nxt.isascii() and nxt.isalnum())


_NEAR_LONGEST = 4  # the longest command word a typo is suggested for


class Dispatcher:
    """Matches a normalised text against the routers, longest command word first."""

    def __init__(self, routers: Sequence[Router]) -> None:
        self.routers = tuple(routers)
        words: list[tuple[str, Route]] = []
        seen: dict[str, str] = {}
        for router in self.routers:
            for route in router.routes:
                for word in route.words:
                    key = fold(word)
                    if key in seen:
                        raise ValueError(f"command word {word!r} registered twice ({seen[key]}, {route.name})")
                    seen[key] = route.name
                    words.append((key, route))
        self._words = sorted(words, key=lambda pair: len(pair[0]), reverse=True)
        # By first character (a word can only match a text that starts with its first character).
        self._by_first: dict[str, list[tuple[str, Route]]] = {}
        for word, route in self._words:
            self._by_first.setdefault(word[0], []).append((word, route))
        self._commands_for: dict[str, list[Route]] = {}
        self._memo: dict[Hashable, object] = {}
        self._filters = [r for router in self.routers for r in router.routes if r.filter is not None]

    def match_command(
        self, text: str, mentioned: tuple[str, ...] = (), original: str = "", bot_names: tuple[str, ...] = ()
    ) -> tuple[Route, Command] | None:
        for word, route in self._by_first.get(text[:1], ()):
            if text == word or (not route.exact and text.startswith(word) and _boundary_ok(text, word)):
                return route, Command(
                    text=text,
                    word=route.words[0],
                    args=text[len(word) :].strip(),
                    mentioned_names=mentioned,
                    original=original,
                    bot_names=bot_names,
                    matched=word,
                )
        return None

    def near(self, text: str) -> list[tuple[str, Route]]:
        """Command words one edit from text (or from its first word), for a typo's suggestion ('签倒', '学习打开').

        Only words of 2–4 characters, and a 2-character word only by a changed character: closer than that, a short
        text is as likely to be some other word. Run only for a message to the bot that matched nothing."""
        head = text.split(" ", 1)[0]
        if not 2 <= len(head) <= _NEAR_LONGEST + 1:
            return []
        by_length = self.memo("near", self._near_words)
        found: list[tuple[str, Route]] = []
        for length in (len(head),) if len(head) == 2 else (len(head), len(head) - 1, len(head) + 1):
            words, routes = by_length.get(length, ((), ()))
            matches = process.extract(head, words, scorer=Levenshtein.distance, score_cutoff=1, limit=None)
            found += [(word, routes[index]) for word, _distance, index in matches]
        return found

    def _near_words(self) -> dict[int, tuple[list[str], list[Route]]]:
        """The words near() may suggest by length, with their routes (a 2-character one only for 2 characters)."""
        by_length: dict[int, tuple[list[str], list[Route]]] = {}
        for router in self.routers:
            for route in router.routes:
                for word in route.words:
                    if 2 <= len(word) <= _NEAR_LONGEST and not word.isascii():
                        words, routes = by_length.setdefault(len(word), ([], []))
                        words.append(word)
                        routes.append(route)
        return by_length

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """A value derived from the routes alone (e.g. a role's help menu), made once."""
        if key not in self._memo:
            self._memo[key] = make()
        return cast(T, self._memo[key])

    @property
    def filters(self) -> list[Route]:
        return self._filters

    def commands_for(self, role: str) -> list[Route]:
        """The visible commands a role may use, in router order, for the help menu."""
        if role not in self._commands_for:
            self._commands_for[role] = [
                route
                for router in self.routers
                for route in router.routes
                if route.words and not route.hidden and Role.at_least(role, route.role)
            ]
        return list(self._commands_for[role])
