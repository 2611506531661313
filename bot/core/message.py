"""Our own message types: handlers never see a platform's objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Message:
    """An inbound message, normalised by a channel adapter."""

    channel: str
    platform_msg_id: str
    sender_id: str
    text: str
    sent_at: datetime
    chat_id: str | None = None  # None for a direct (1:1) message
    sender_name: str | None = None
    mentions_bot: bool = False
    mentions: tuple[str, ...] = ()
    # A card tap (bot/core/cards.py): the tapped key, e.g. "quiz:12:B"; the text is the word the tap stands for.
    card_key: str | None = None

    @property
    def is_direct(self) -> bool:
        return self.chat_id is None


@dataclass(frozen=True)
class Command:
    """What the router understood: the normalised text, and the matched word with its arguments."""

    text: str
    word: str = ""
    args: str = ""  # normalised: for parsing numbers, names, keywords
    mentioned_names: tuple[str, ...] = field(default=())
    original: str = ""  # the message as typed, for raw_args
    bot_names: tuple[str, ...] = ()
    matched: str = ""  # the command word as matched (folded); word is the one shown in help

    @cached_property
    def raw_args(self) -> str:
        """The arguments as typed: for text shown to people (a notice's body, a note)."""
        from bot.core.normalize import raw_args

        raw = raw_args(self.original, self.matched or self.word, self.bot_names) if self.original else None
        return self.args if raw is None else raw


@dataclass(frozen=True)
class Outgoing:
    """A message for the outbox sender to deliver through a channel client."""

    id: int
    channel: str
    target_kind: str  # "chat" or "user"
    target_id: str
    text: str
    mentions: tuple[str, ...] = ()
    media_id: int | None = None  # an image to send with the text, where the channel can show one
    image: bytes | None = None
    card: dict[str, Any] | None = None  # buttons or choices (bot/core/cards.py), where the channel shows cards
