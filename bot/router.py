"""Routers: command words and message filters registered on a router per handler module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.message import Command, Message
from bot.models import Role
from bot.normalize import fold, raw_args

if TYPE_CHECKING:
    from bot.context import Context

Handler = Callable[[Message, "Context"], Awaitable[None]]
Filter = Callable[[Message, "Context"], Awaitable[bool]]


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
    ) -> Callable[[Handler], Handler]:
        """Register a handler for command words (the first word is the one shown in help)."""
        if not words:
            raise ValueError("a command needs at least one word")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(handler, tuple(words), role, summary, exact, hidden))
            return handler

        return register

    def message(self, condition: Filter, *, role: str = Role.MEMBER) -> Callable[[Handler], Handler]:
        """Register a handler for messages that match no command but satisfy condition."""

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(handler, role=role, hidden=True, filter=condition))
            return handler

        return register


def _boundary_ok(text: str, word: str) -> bool:
    """ASCII words need a word boundary ("help me", not "helpful"); Chinese words do not."""
    if len(text) == len(word):
        return True
    nxt = text[len(word)]
    return not (word[-1].isascii() and word[-1].isalnum() and nxt.isascii() and nxt.isalnum())


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
        self._filters = [r for router in self.routers for r in router.routes if r.filter is not None]

    def match_command(
        self, text: str, mentioned: tuple[str, ...] = (), original: str = "", bot_names: tuple[str, ...] = ()
    ) -> tuple[Route, Command] | None:
        for word, route in self._words:
            if text == word or (not route.exact and text.startswith(word) and _boundary_ok(text, word)):
                args = text[len(word) :].strip()
                raw = raw_args(original, word, bot_names) if original else None
                return route, Command(
                    text=text,
                    word=route.words[0],
                    args=args,
                    mentioned_names=mentioned,
                    raw_args=args if raw is None else raw,
                )
        return None

    @property
    def filters(self) -> list[Route]:
        return self._filters

    def commands_for(self, role: str) -> list[Route]:
        """The visible commands a role may use, in router order, for the help menu."""
        return [
            route
            for router in self.routers
            for route in router.routes
            if route.words and not route.hidden and Role.at_least(role, route.role)
        ]
