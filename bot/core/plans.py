"""What the pipeline hands the group commit: a Plan per message, and what comes back (Outcome)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Executable

from bot.core.context import Draft
from bot.core.directory import ChatCard, Learned, MemberCard, QuizGate
from bot.core.message import Message, Outgoing


class ReplyRow(Protocol):
    """What a passive policy reads of a reply row: a Draft (bot/core/context.py), before it is written."""

    @property
    def id(self) -> int | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def target_kind(self) -> str: ...
    @property
    def target_id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def mentions(self) -> Sequence[str] | None: ...
    @property
    def media_id(self) -> int | None: ...
    @property
    def card(self) -> dict[str, Any] | None: ...


# Which of a message's reply rows (in order; ids not known yet) the channel will carry in its HTTP answer, by
# index. The writer marks them as delivered in the message's own transaction and leaves the rest to the sender
# at once. None: the rows are held briefly for the channel to claim itself (OutboxSender.deliver_now, or release).
PassivePolicy = Callable[[Sequence[ReplyRow]], list[int]]


def carried(rows: Sequence[ReplyRow], passive: PassivePolicy, behind: set[tuple[str, str, str]]) -> list[int]:
    """The indices of rows the HTTP answer carries: the policy's choice, up to the first row to a target that
    has a push due or being sent (`behind`: an answer must not overtake it; from there on the sender takes them)."""
    chosen = []
    for index in passive(rows):
        row = rows[index]
        if (row.channel, row.target_kind, row.target_id) in behind:
            break
        chosen.append(index)
    return chosen


# A row a channel keeps with a message, written in its batch's transaction (e.g. a WeCom response_url): an
# INSERT statement (the same object for every message, so a batch's rows go in one executemany) and its row.
Keep = tuple[Executable, dict[str, Any]]


# Not frozen: one is made for every message, and a frozen dataclass's __init__ costs several times as much.
@dataclass
class Outcome:
    """What happened to one inbound message."""

    duplicate: bool = False
    handled_by: str | None = None
    reply_ids: list[int] = field(default_factory=list)
    # Replies already marked as answered in the channel's HTTP response (a decided plan with a PassivePolicy).
    passive: list[Outgoing] | None = None


@dataclass
class Decision:
    """What the directory decided for a plan; the group commit checks its grounds in the transaction."""

    member: MemberCard  # id 0: a newcomer, registered by the group commit
    chat: ChatCard | None
    gated: bool  # the decision relied on no live quiz taking this message as an answer
    handled_by: str | None
    rows: list[Draft]
    text: str = ""  # normalised, and whether it was addressed to the bot: what a quiz gate looks at
    addressed: bool = False


@dataclass(eq=False)
class Plan:
    msg: Message
    decision: Decision | None  # None: the handler runs in the transaction
    passive: PassivePolicy | None
    wake: asyncio.Future[None]
    keep: Keep | None = None
    done: bool = False
    result: Outcome | None = None  # None once done: write it alone (the batch failed for another reason)
    error: BaseException | None = None

    def finish(self, result: Outcome | None, error: BaseException | None = None) -> None:
        self.done, self.result, self.error = True, result, error
        if not self.wake.done():
            self.wake.set_result(None)


@dataclass
class Seen:
    """What the transaction saw, applied to the directory once it committed."""

    busy_chats: dict[int, QuizGate] = field(default_factory=dict)
    busy_members: dict[int, QuizGate] = field(default_factory=dict)
    # busy_chats and busy_members were read in this transaction and still hold: no quiz session was written since
    # (a handler that starts one clears it). Then a chat (or a member's 1:1) missing from them has no quiz that
    # could take an answer, and a handler need not ask (handlers/quiz.py _answer_target).
    gates_hold: bool = False
    # Who sent the batch's undecided messages and where, read in this transaction for resolve() in their savepoints
    # (bot/core/members.py resolve_known): member rows by (channel, user id), chat rows by (channel, chat id), unit
    # rows by id. who_holds: they still hold, no handler has written a member, identity, chat or unit since.
    known_members: dict[tuple[str, str], Any] = field(default_factory=dict)
    known_chats: dict[tuple[str, str], Any] = field(default_factory=dict)
    known_branches: dict[int, Any] = field(default_factory=dict)
    who_holds: bool = False
    # Each chat's live quiz as a handler of this transaction read it (bot/quiz/engine.py live_in_chat: the row of
    # its session, open round and question), for the next messages to the chat: every answer of a 竞赛 asks the
    # same. Emptied as soon as a handler writes a quiz session, round or question (bot/core/groupcommit.py).
    live_rows: dict[int, Any] = field(default_factory=dict)
    members: dict[int, MemberCard | None] = field(default_factory=dict)  # None: no longer there
    chats: dict[int, ChatCard | None] = field(default_factory=dict)
    registered: dict[tuple[str, str], MemberCard] = field(default_factory=dict)
    pushed: bool = False  # rows for the outbox sender
    # (channel, target kind, target id) with a push due or being sent: an answer must not overtake it.
    behind: set[tuple[str, str, str]] = field(default_factory=set)
    learned: list[Learned] = field(default_factory=list)  # what handlers resolved, savepoints released
    released: bool = False  # a handler's rows were left to the sender
