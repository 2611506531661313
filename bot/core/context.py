"""The one context object handlers and jobs receive: config, DB session, clock, and the way out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.message import Command, Message
from bot.core.models import Branch, Chat, Media, Member, MemberIdentity, Outbox, OutboxStatus

if TYPE_CHECKING:
    from bot.core.directory import QuizGate
    from bot.core.router import Dispatcher
    from bot.quiz.lookup import LookupCache


def reply_target(msg: Message) -> tuple[str, str]:
    """(target kind, target id) of a reply to msg: its group chat, or its sender for a direct message."""
    return ("user", msg.sender_id) if msg.chat_id is None else ("chat", msg.chat_id)


# Not frozen: made for every reply to a message (a frozen __init__ costs several times as much).
@dataclass
class Draft:
    """A reply to a message, written to the outbox by the group commit (bot/core/batchwrite.py):
    decided before the write (bot/core/pipeline.py), or made by a handler in the transaction."""

    channel: str
    target_kind: str  # "chat" or "user"
    target_id: str
    text: str
    mentions: tuple[str, ...] = ()
    media_id: int | None = None
    card: dict[str, Any] | None = None
    # When a handler in the transaction made it (the row's created_at); None: decided before the write, stamped
    # with the batch's time.
    created_at: datetime | None = None

    # As a passive policy reads a reply row (bot/core/plans.py ReplyRow): no id yet.
    id = None


@dataclass
class Context:
    """Everything a handler or job may use; all sends become outbox rows in this session's transaction.

    For a message (`drafts` set) the sends are collected as drafts, which the group commit inserts once the handler
    returned, still in its savepoint: a handler does not see its own replies through the session. For a job they
    are ORM rows in the session (`outgoing`)."""

    config: Config
    session: AsyncSession
    clock: Clock
    branch: Branch | None = None
    member: Member | None = None
    chat: Chat | None = None
    message: Message | None = None
    command: Command | None = None
    inbound_id: int | None = None
    slot: datetime | None = None  # for scheduled jobs: the slot being fired
    dispatcher: Dispatcher | None = None  # for the help menu
    lookup: LookupCache | None = None  # for 搜题: this process's question index (set by the pipeline)
    outgoing: list[Outbox] = field(default_factory=list)  # a job's rows (in its session)
    # Replies to a message are collected here, not in the session: the group commit writes them (before the write,
    # and in its savepoint once the handler returned). None (jobs): each send is an Outbox row in the session.
    drafts: list[Draft] | None = None
    # For scheduled jobs: the running channel clients (a job may start a channel's own upkeep, never send).
    clients: Mapping[str, object] = field(default_factory=dict)
    # No quiz could take this message as an answer: none was live (or a 抢答 just finished) here as the group commit
    # read it in this transaction, and none was started since (bot/core/groupcommit.py). False: ask the database.
    quiz_idle: bool = False
    # Else, what the quizzes here may take as an answer, from the same read (None: not known).
    quiz_gate: QuizGate | None = None
    # What a filter found out about this message, for its handler (keyed by the filter's own name).
    memo: dict[str, Any] = field(default_factory=dict)

    def forget(self, prefix: str) -> None:
        """Drop what the memo holds under keys starting with prefix (a write made it stale)."""
        for key in [k for k in self.memo if k.startswith(prefix)]:
            del self.memo[key]

    def now(self) -> datetime:
        return self.clock()

    @property
    def sent(self) -> int:
        """How many messages this handler or job has sent so far."""
        return len(self.drafts) if self.drafts is not None else len(self.outgoing)

    async def reply(self, text: str, *, mention_sender: bool = False, image: bytes | None = None) -> None:
        """Answer the current message where it came from: in its group, or directly (with a PNG, optionally).

        Channels that cannot show images send the text alone, so the text must stand on its own.
        """
        if self.message is None:
            raise RuntimeError("reply() needs a message; jobs use send_to_chat()/send_to_member()")
        msg = self.message
        mentions = (msg.sender_id,) if mention_sender and not msg.is_direct else ()
        media_id = await self._media(image) if image is not None else None
        self._add(msg.channel, *reply_target(msg), text, mentions, media_id)

    async def _media(self, image: bytes) -> int:
        row = Media(content_type="image/png", data=image, created_at=self.clock())
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def send_to_chat(
        self, chat: Chat, text: str, mentions: tuple[str, ...] = (), card: dict[str, Any] | None = None
    ) -> None:
        """Post text to a group chat; mentions are platform user ids on that chat's channel.

        card (bot/core/cards.py): buttons for channels that show template cards; the text must stand on its own.
        """
        self._add(chat.channel, "chat", chat.platform_chat_id, text, mentions, card=card)

    async def send_to_member(
        self, member: Member, text: str, channel: str | None = None, card: dict[str, Any] | None = None
    ) -> bool:
        """Send text directly to a member, on channel (default: the current message's) if they can be reached there,
        else on another channel that reaches them; whether it was sent (False: nothing was written).

        card (bot/core/cards.py): buttons, where the channel shows them in a 1:1 chat; the text stands on its own."""
        preferred = channel or (self.message.channel if self.message else None)
        msg = self.message
        if msg is not None and self.member is not None and member.id == self.member.id and preferred == msg.channel:
            # The member who wrote this message, on its channel: their id there is the message's sender.
            if not self.reaches_sender_directly:
                return False
            self._add(msg.channel, "user", msg.sender_id, text, (), card=card)
            return True
        identities = [
            identity
            for identity in await self.session.scalars(
                select(MemberIdentity).where(MemberIdentity.member_id == member.id)
            )
            if self.config.messages_members_directly(identity.channel)
        ]
        chosen = next((i for i in identities if i.channel == preferred), identities[0] if identities else None)
        if chosen is None:
            return False
        self._add(chosen.channel, "user", chosen.platform_user_id, text, (), card=card)
        return True

    def asked_in(self, chats: Iterable[Chat]) -> bool:
        """Whether this message was written in one of these group chats (a push to them is read where it asked)."""
        return self.chat is not None and any(chat.id == self.chat.id for chat in chats)

    @property
    def reaches_sender_directly(self) -> bool:
        """Whether send_to_member() reaches this message's sender in their single chat on its channel: where they
        wrote directly (the answer goes back there), or on a channel that writes to members unprompted."""
        msg = self.message
        return msg is not None and (msg.is_direct or self.config.messages_members_directly(msg.channel))

    def _add(
        self,
        channel: str,
        kind: str,
        target: str,
        text: str,
        mentions: tuple[str, ...],
        media_id: int | None = None,
        card: dict[str, Any] | None = None,
    ) -> None:
        if self.drafts is not None:
            if self.inbound_id is not None:  # in the transaction: stamped now, as a row made here would be
                self.drafts.append(Draft(channel, kind, target, text, mentions, media_id, card, self.clock()))
                return
            if media_id is not None or card is not None:
                raise RuntimeError("a handler that reads nothing cannot send media or cards")
            self.drafts.append(Draft(channel, kind, target, text, mentions))
            return
        now = self.clock()
        # A reply to an inbound message is held back briefly so the channel can carry it in its HTTP
        # response (OutboxSender.deliver_now); the sender takes it if that never happens.
        hold = self.config.outbox.reply_hold_seconds if self.inbound_id is not None else 0
        row = Outbox(
            channel=channel,
            target_kind=kind,
            target_id=target,
            text=text,
            mentions=list(mentions),
            cause_inbound_id=self.inbound_id,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now + timedelta(seconds=hold),
            created_at=now,
            media_id=media_id,
            card=card,
        )
        self.session.add(row)
        self.outgoing.append(row)
