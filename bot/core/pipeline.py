"""The one message path: every inbound message runs through the same ordered middlewares, then one writer.

In order (STYLE.md 14; each step is a method below, and `MIDDLEWARES` names them):

1. dedupe     — one copy of a message in flight per process (a copy arriving meanwhile waits for the first and is
                a duplicate); across processes and retries the inbound table's unique key decides, in the write.
2. resolve    — unit, chat and member from this process's directory (bot/core/directory.py), a cache re-checked in
                the writer's transaction; what it does not know is resolved in that transaction.
3. route      — what the member meant (bot/core/intent.py) and which route takes it: a command word, else a filter.
4. authorize  — a role belongs to a member in a unit, and reaches only that unit (and those below it, for a
                higher unit's office-holders): anything else is refused, and a filter from someone it is not for
                is taken quietly (bot/core/authority.py).
5. drop       — group talk no route wants is stored without a reply; talk addressed to the bot gets the short help.
6. boundary   — a handler that fails is rolled back to its savepoint, stored as failed, answered with one apology.
7. handler    — with a Context whose session is the writer's transaction (a savepoint of it).

Steps 2–5 run before the write when the directory knows enough and the chosen handler reads nothing (it says so
with `reads_nothing=True` at registration: 帮助); the writer (bot/core/groupcommit.py) then checks their grounds in its
transaction. Otherwise they run inside the transaction, before the handler. Either way the message, its state
changes and its replies are written by the same group commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn, cast, overload

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.core import authority, intent, texts
from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.context import Context, Draft
from bot.core.directory import BranchCard, ChatCard, Directory, Learned, MemberCard, cards_of
from bot.core.groupcommit import Decision, GroupCommit, Keep, Outcome, PassivePolicy, Plan
from bot.core.members import configured_role, declared_branch, resolve, resolve_known
from bot.core.message import Message
from bot.core.models import Branch, Chat, Member, Role, UnitKind
from bot.core.normalize import normalize
from bot.core.plans import Seen
from bot.core.router import Dispatcher, Hints, Route
from bot.quiz.lookup import LookupCache

__all__ = ["MIDDLEWARES", "Outcome", "PassivePolicy", "Pipeline"]

log = logging.getLogger(__name__)

MIDDLEWARES = ("dedupe", "resolve", "route", "authorize", "drop", "boundary", "handler")

# Detached ORM objects kept for handlers that read nothing (cleared when there are more).
_MAX_OBJECTS = 10_000


_QUIZ = frozenset({intent.QUIZ})


class NeedsDatabase(Exception):
    """A handler that was to read nothing asked the database something: it runs in the transaction instead."""


class _Detached:
    """The session a handler gets before the write: its replies are collected by the Context, any query refused."""

    def add(self, _row: object) -> None:
        pass

    def __getattr__(self, name: str) -> NoReturn:
        raise NeedsDatabase(name)


_DETACHED = cast(AsyncSession, _Detached())


@dataclass
class Pipeline:
    """Runs inbound messages through the middlewares (see the module's docstring) into the group commit."""

    config: Config
    engine: AsyncEngine
    clock: Clock
    dispatcher: Dispatcher
    lookup: LookupCache | None = None
    directory: Directory = field(default_factory=Directory)
    notify: Callable[[], None] | None = None  # the outbox sender's wake-up, for replies the writer leaves to it
    checkpoint: Callable[[], Awaitable[None]] | None = None  # SQLite's WAL checkpoint (bot/core/db.py)
    # Messages being handled here; a future once a copy waits for the first to finish.
    _inflight: dict[tuple[str, str], asyncio.Future[None] | None] = field(default_factory=dict)
    _objects: dict[int, tuple[object, Branch | Member | Chat]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        notify = self.notify if self.notify is not None else (lambda: None)
        self.commits = GroupCommit(
            self.config, self.engine, self.clock, self.directory, self.handle_in, notify, self.checkpoint
        )

    @property
    def bot_names(self) -> tuple[str, ...]:
        return (self.config.bot.name, *self.config.bot.aliases)

    async def close(self) -> None:
        await self.commits.close()

    async def process(self, msg: Message, passive: PassivePolicy | None = None, keep: Keep | None = None) -> Outcome:
        """Handle msg exactly once; a repeat of a stored platform message id has no effect.

        passive: which replies the caller will carry in its HTTP answer; they are written as delivered in the
        message's transaction (Outcome.passive), the others left to the sender. Without it replies are held
        briefly for the channel to claim. keep: the channel's own rows for msg, written in the same transaction.
        Raises DatabaseUnavailable when the message could not be stored: nothing was done, and the sender should
        send it again (storing an apology then would make that retry a duplicate).
        """
        # 1. dedupe: the inbound table's unique key decides what is a duplicate; this map keeps two copies of one
        # message out of one group commit, and lets a copy that arrives while the first is handled wait for it.
        key = (msg.channel, msg.platform_msg_id)
        if key in self._inflight:
            first = self._inflight[key]
            if first is None:
                first = self._inflight[key] = asyncio.get_running_loop().create_future()
            await asyncio.shield(first)
            return Outcome(duplicate=True)
        self._inflight[key] = None
        try:
            # Decided here when the directory knows enough and the handler reads nothing; else (None) the handler
            # runs in the transaction.
            wake = asyncio.get_running_loop().create_future()
            plan = Plan(msg, await self._decision(msg), passive, wake, keep)
            outcome = await self.commits.submit(plan)
            return outcome if outcome is not None else await self.commits.write_alone(msg, passive, keep)
        finally:
            waiting = self._inflight.pop(key)
            if waiting is not None:
                waiting.set_result(None)

    # --- 2–5 before the write, from the directory ------------------------------------------------------------

    async def _decision(self, msg: Message) -> Decision | None:
        d = self.directory
        if not d.loaded or msg.card_key is not None:
            return None  # a card tap always acts on something stored
        chat: ChatCard | None = None
        branch: BranchCard | None = None
        if msg.chat_id is not None:
            chat = d.chats.get((msg.channel, msg.chat_id))
            if chat is None:
                return None
            branch = d.branches.get(chat.branch_id)
        member_id = d.identities.get((msg.channel, msg.sender_id))
        if member_id is None:
            # Where a newcomer belongs, as bot/core/members.py's resolve() decides it.
            home_key = declared_branch(self.config, msg.channel, msg.sender_id)
            home = d.branch_by_key(home_key) if home_key else branch
            if home is None and self.config.bot.default_branch:
                home = d.branch_by_key(self.config.bot.default_branch)
            if home is None:
                return None
            role = configured_role(self.config, home.key, msg.channel, msg.sender_id)
            card = MemberCard(0, home.id, role, msg.sender_name or msg.sender_id)
            branch = branch or home
        else:
            known = d.members.get(member_id)
            if known is None or (msg.sender_name and known.display_name != msg.sender_name):
                return None  # a rename is written by resolve() in the transaction
            card = known
            branch = branch or d.branches.get(card.branch_id)
        if branch is None:
            return None
        if card.branch_id != branch.id:
            home_unit = d.branches.get(card.branch_id)
            if home_unit is None or home_unit.kind != UnitKind.BRANCH:
                # A higher unit's member in a chat of another unit: whether their role reaches it depends on the
                # tree as it is now (another process may have moved a unit), so it is decided in the transaction.
                return None

        text, mentioned, names = normalize(msg.text, self.bot_names)
        addressed = mentioned or msg.mentions_bot or msg.is_direct
        gate = self.commits.busy_chats.get(chat.id) if chat is not None else self.commits.busy_members.get(card.id)
        # What the member may have meant (bot/core/intent.py): its contexts are in the database, so decided in the
        # transaction — except an answer form while no quiz is live here (checked again as the message is written).
        reading = intent.read(msg.text, text, addressed)
        if reading.options:
            if gate is not None or any(o.need != intent.QUIZ for o in reading.options):
                return None
            text = reading.options[0].text
        found = None if reading.veto else self.dispatcher.match_command(text, names, msg.text, self.bot_names)
        route: Route | None = None
        if found is not None:
            route = found[0]
            if not route.reads_nothing and authority.may(card, route.role, branch):
                return None  # respond() would run the handler, which reads the database
        else:
            hints = Hints(text, addressed, gate is None or not gate.admits(text, addressed))
            for r in self.dispatcher.filters:
                if r.precheck is None or r.precheck(msg, hints):
                    return None
            # Nothing matched: respond() answers with the short help if the message was for the bot, else nothing.

        ctx = Context(
            config=self.config,
            session=_DETACHED,
            clock=self.clock,
            branch=self._transient(branch),
            member=self._transient(card),
            chat=self._transient(chat) if chat is not None else None,
            message=msg,
            command=found[1] if found is not None else None,
            dispatcher=self.dispatcher,
            drafts=[],
        )
        try:
            handled_by = await respond(route, ctx, text, addressed)
        except NeedsDatabase:
            return None
        except Exception:  # the writer has the error boundary (stored as failed, one apology)
            log.warning("handler for %s:%s failed before the write; running it there", msg.channel, msg.platform_msg_id)
            return None
        assert ctx.drafts is not None
        return Decision(card, chat, found is None, handled_by, ctx.drafts, text, addressed)

    @overload
    def _transient(self, card: BranchCard) -> Branch: ...
    @overload
    def _transient(self, card: MemberCard) -> Member: ...
    @overload
    def _transient(self, card: ChatCard) -> Chat: ...

    def _transient(self, card: BranchCard | MemberCard | ChatCard) -> Branch | Member | Chat:
        """A detached ORM object for a card, made once: handlers that read nothing read them and change nothing."""
        # Keyed by the card's identity (hashing a dataclass costs more than making the object): the directory
        # hands out the same card until it changes, and the entry keeps the card so its id is not reused.
        entry = self._objects.get(id(card))
        if entry is not None and entry[0] is card:
            return entry[1]
        if len(self._objects) > _MAX_OBJECTS:
            self._objects.clear()
        found: Branch | Member | Chat
        if isinstance(card, BranchCard):
            found = Branch(id=card.id, key=card.key, name=card.name, kind=card.kind, ancestor_path=card.ancestor_path)
        elif isinstance(card, MemberCard) and not card.id:  # a newcomer: a new card per message, not worth keeping
            return Member(branch_id=card.branch_id, role=card.role, display_name=card.display_name)
        elif isinstance(card, MemberCard):
            found = Member(id=card.id, branch_id=card.branch_id, role=card.role, display_name=card.display_name)
        else:
            found = Chat(id=card.id, branch_id=card.branch_id)
        self._objects[id(card)] = (card, found)
        return found

    # --- 2–7 inside the write -----------------------------------------------------------------------------

    async def handle_in(
        self, session: AsyncSession, msg: Message, inbound_id: int, seen: Seen | None
    ) -> tuple[str | None, list[Draft], Learned]:
        """Resolve, route and handle msg in session (the writer's savepoint); its inbound row is inbound_id.

        seen: what the transaction read at the start of the batch (who is who, where quizzes may take answers),
        used where it still holds (None: nothing). The handler's replies are collected, not added to the session:
        the writer inserts them once it returned."""
        text, mentioned, names = normalize(msg.text, self.bot_names)
        mentioned = mentioned or msg.mentions_bot
        ctx = Context(
            config=self.config,
            session=session,
            clock=self.clock,
            message=msg,
            inbound_id=inbound_id,
            dispatcher=self.dispatcher,
            lookup=self.lookup,
            drafts=[],
        )
        resolved = resolve_known(session, self.config, msg, seen) if seen is not None and seen.who_holds else None
        if resolved is None:  # a newcomer, a chat not bound yet, or what the batch read no longer holds
            resolved = await resolve(session, self.config, msg, self.clock())
        ctx.branch, ctx.chat, ctx.member = resolved.branch, resolved.chat, resolved.member
        if seen is not None and seen.gates_hold and resolved.member is not None:
            # The quizzes here at the start of the batch (none started since): none, or what they may take.
            gates = seen.busy_members if msg.is_direct else seen.busy_chats
            place = resolved.member.id if msg.is_direct else resolved.chat.id if resolved.chat else None
            ctx.quiz_gate = gates.get(place) if place is not None else None
            ctx.quiz_idle = ctx.quiz_gate is None
        handled_by = await self._route(msg, ctx, text, mentioned, names)
        # The handler's writes, before the writer's own statements on the session's connection (the handler's
        # name and the member on the inbound row, the replies).
        await session.flush()
        assert ctx.drafts is not None
        return handled_by, ctx.drafts, cards_of(msg, resolved.branch, resolved.chat, resolved.member)

    async def _route(
        self, msg: Message, ctx: Context, text: str, mentioned: bool, names: tuple[str, ...]
    ) -> str | None:
        addressed = mentioned or msg.is_direct
        if ctx.member is None or ctx.branch is None:
            if addressed:
                await ctx.reply(texts.CHAT_NOT_BOUND)
                return "unbound"
            return None
        # What the member meant (bot/core/intent.py): an interpretation whose context is live is routed instead.
        reading = intent.read(msg.text, text, addressed)
        needs = reading.needs - _QUIZ if ctx.quiz_idle else reading.needs
        option = reading.choose(await intent.live_contexts(ctx, needs)) if reading.options else None
        if option is not None:
            msg = ctx.message = intent.rewritten(msg, option.text, mentioned)
            text = option.text
        vetoed = reading.veto and option is None
        found = None if vetoed else self.dispatcher.match_command(text, names, msg.text, self.bot_names)
        route: Route | None = None
        if found is not None:
            route, ctx.command = found
        else:
            for candidate in self.dispatcher.filters:
                if candidate.filter is not None and await candidate.filter(msg, ctx):
                    route = candidate
                    break
        return await respond(route, ctx, text, addressed)


def _unmatched(ctx: Context, text: str) -> str:
    """The short help for a message to the bot that matched nothing: a command word one edit from it that the sender
    may use is suggested (never run)."""
    assert ctx.member is not None and ctx.branch is not None
    if intent.gives_no_command(text):
        return texts.HELP_SHORT
    if ctx.dispatcher is not None:
        near = [(w, r) for w, r in ctx.dispatcher.near(text) if authority.may(ctx.member, r.role, ctx.branch)]
        # A typo keeps its first character more often than not ('签名' → 签到 rather than 排名); one command is
        # suggested (by the first of its words found: 下法清单 → 下发清单, 下达清单 being the same command) or none.
        same_start = [(w, r) for w, r in near if w[:1] == text[:1]] or near
        by_route = {id(route): word for word, route in reversed(same_start)}
        if len(by_route) == 1:
            return texts.HELP_DID_YOU_MEAN.format(word=next(iter(by_route.values())))
    return texts.HELP_UNKNOWN


async def respond(route: Route | None, ctx: Context, text: str, addressed: bool) -> str | None:
    """4–7 for a resolved member: authorize, drop what no route wants, run the handler; the handler's name."""
    assert ctx.member is not None and ctx.branch is not None
    if route is None:
        if addressed:
            await ctx.reply(_unmatched(ctx, text))
            return "help_short"
        return None  # a group chat's ordinary talk: stay silent
    if not authority.may(ctx.member, route.role, ctx.branch):
        if not route.words:  # a filter (收到, 到, an answer) from someone it is not for: taken quietly
            return "refused"
        word = route.words[0]
        if authority.is_guest(ctx.member, ctx.branch):
            outsider = (
                texts.NOT_ALLOWED_OUTSIDER if ctx.branch.kind == UnitKind.BRANCH else texts.ORG_NOT_ALLOWED_OUTSIDER
            )
            await ctx.reply(outsider.format(word=word))
        else:
            refusal = texts.NOT_ALLOWED_ADMIN if route.role == Role.ADMIN else texts.NOT_ALLOWED
            await ctx.reply(refusal.format(word=word, role=texts.ROLE_NAMES[route.role]))
        return "refused"
    assert ctx.message is not None
    await route.handler(ctx.message, ctx)
    return route.name
