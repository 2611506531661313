"""The quick path: messages answered without reading the database, written in group commits.

Most of what a bot hears needs nothing from the database to be answered: group talk that no filter can want,
帮助, the short help for a direct message that matches nothing. For those the pipeline decides from what this
process already knows (the Directory: who is who, and where quizzes are live), runs the handler with a session
that refuses every query, and hands the result to a group commit: one transaction writes the inbound rows, the
replies and any newcomers of every message waiting at that moment.

The directory is a hint, never the truth. Inside that transaction the members each decision relied on and the
quiz gate are read again; a message whose grounds changed (a new role, a quiz that just started, a user another
process registered) is not written and takes the full way instead (bot/pipeline.py), as does anything the quick
path cannot decide. Dedupe stays with the inbound table's unique key: a copy that loses there is a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import NoReturn, cast, overload

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot import authority, texts
from bot.batchstore import BatchStore, BusyQuiz, Row, open_store
from bot.clock import Clock
from bot.config import Config
from bot.context import Context, Draft, reply_target
from bot.members import configured_role, declared_branch
from bot.message import Message, Outgoing
from bot.models import Branch, Chat, Member, MemberIdentity, OutboxStatus, UnitKind
from bot.normalize import normalize
from bot.quiz.answers import may_answer
from bot.quiz.state import LATE_ANSWER_SECONDS
from bot.router import Dispatcher, Hints, Route

log = logging.getLogger(__name__)

# Messages written by one transaction at most (a larger queue is written in several).
MAX_BATCH = 64

# Event-loop turns the writer task yields before taking a batch (a parsed request needs a few to reach the queue).
_GATHER_TURNS = 3

# Detached ORM objects kept for quick handlers (cleared when there are more).
_MAX_OBJECTS = 10_000

# Which reply row the channel will carry in its HTTP answer (None: it claims rows itself, or never).
PassivePolicy = Callable[[Draft], bool]


@dataclass(frozen=True)
class Outcome:
    """What happened to one inbound message."""

    duplicate: bool = False
    handled_by: str | None = None
    reply_ids: list[int] = field(default_factory=list)
    # Replies already marked as answered in the channel's HTTP response (the quick path with a PassivePolicy).
    passive: list[Outgoing] | None = None


async def respond(route: Route | None, ctx: Context, text: str, addressed: bool) -> str | None:
    """Run the chosen route for a resolved member (or answer that nothing matched); the handler's name."""
    assert ctx.member is not None and ctx.branch is not None
    if route is None:
        if addressed:
            await ctx.reply(texts.HELP_SHORT)
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
            await ctx.reply(texts.NOT_ALLOWED.format(word=word, role=texts.ROLE_NAMES[route.role]))
        return "refused"
    assert ctx.message is not None
    await route.handler(ctx.message, ctx)
    return route.name


# --- what this process knows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberCard:
    id: int  # 0: a newcomer, registered when the message is written
    branch_id: int
    role: str
    display_name: str


@dataclass(frozen=True)
class ChatCard:
    id: int
    branch_id: int


@dataclass(frozen=True)
class BranchCard:
    id: int
    key: str
    name: str
    kind: str = UnitKind.BRANCH
    ancestor_path: str = "/"


class Directory:
    """Identities, members, chats and branches as this process last saw them (loaded at start, then learnt)."""

    def __init__(self) -> None:
        self.identities: dict[tuple[str, str], int] = {}
        self.members: dict[int, MemberCard] = {}
        self.chats: dict[tuple[str, str], ChatCard] = {}
        self.branches: dict[int, BranchCard] = {}
        self.loaded = False

    async def load(self, session: AsyncSession) -> None:
        for b in await session.execute(select(Branch.id, Branch.key, Branch.name, Branch.kind, Branch.ancestor_path)):
            self.branches[b.id] = BranchCard(b.id, b.key, b.name, b.kind, b.ancestor_path)
        for c in await session.execute(select(Chat.id, Chat.branch_id, Chat.channel, Chat.platform_chat_id)):
            self.chats[(c.channel, c.platform_chat_id)] = ChatCard(c.id, c.branch_id)
        for m in await session.execute(select(Member.id, Member.branch_id, Member.role, Member.display_name)):
            self.members[m.id] = MemberCard(m.id, m.branch_id, m.role, m.display_name)
        for i in await session.execute(
            select(MemberIdentity.channel, MemberIdentity.platform_user_id, MemberIdentity.member_id)
        ):
            self.identities[(i.channel, i.platform_user_id)] = i.member_id
        self.loaded = True

    def branch_by_key(self, key: str) -> BranchCard | None:
        return next((b for b in self.branches.values() if b.key == key), None)

    def learn(self, msg: Message, branch: Branch | None, chat: Chat | None, member: Member | None) -> None:
        """Remember what the full pipeline just resolved (and committed) for msg."""
        if branch is not None:
            self.branches[branch.id] = BranchCard(branch.id, branch.key, branch.name, branch.kind, branch.ancestor_path)
        if chat is not None and msg.chat_id is not None:
            self.chats[(msg.channel, msg.chat_id)] = ChatCard(chat.id, chat.branch_id)
        if member is not None:
            self.members[member.id] = MemberCard(member.id, member.branch_id, member.role, member.display_name)
            self.identities[(msg.channel, msg.sender_id)] = member.id


@dataclass(frozen=True)
class QuizGate:
    """What the quizzes live in one chat (or in a member's 错题 practice) may take as an answer."""

    any_text: bool = False  # a 抢答/竞赛/practice with a blank question: any text
    marked_text: bool = False  # a 每日一题 blank: text marked as an answer or addressed to the bot

    def admits(self, text: str, addressed: bool) -> bool:
        """Whether text could be an answer here (a 抢答 of choice questions cannot take '收到' or '帮助')."""
        return may_answer(text, any_text=self.any_text, marked_text=self.marked_text, addressed=addressed)


def _gates(busy: list[BusyQuiz]) -> tuple[dict[int, QuizGate], dict[int, QuizGate]]:
    """Per chat id and per member id (practice), the gate of the quizzes that may take answers there."""
    chats: dict[int, QuizGate] = {}
    members: dict[int, QuizGate] = {}
    for chat_id, member_id, daily, blank in busy:
        for place, key in ((chats, chat_id), (members, member_id)):
            if key is None:
                continue
            gate = place.get(key, QuizGate())
            place[key] = QuizGate(gate.any_text or (blank and not daily), gate.marked_text or (blank and daily))
    return chats, members


def _chat(d: Directory, chat_id: int) -> ChatCard | None:
    return next((card for card in d.chats.values() if card.id == chat_id), None)


# --- deciding --------------------------------------------------------------------------------------------


class NeedsDatabase(Exception):
    """A quick handler asked the database something: the message takes the full way."""


class _Detached:
    """The session a quick handler gets: its replies are collected by the Context, any query is refused."""

    def add(self, _row: object) -> None:
        pass

    def __getattr__(self, name: str) -> NoReturn:
        raise NeedsDatabase(name)


_DETACHED = cast(AsyncSession, _Detached())


@dataclass
class _Written:
    """A group commit's results, and what its transaction saw (applied to the directory afterwards)."""

    results: list[Outcome | None]
    busy_chats: dict[int, QuizGate] = field(default_factory=dict)
    busy_members: dict[int, QuizGate] = field(default_factory=dict)
    members: dict[int, MemberCard | None] = field(default_factory=dict)  # None: no longer there
    chats: dict[int, ChatCard | None] = field(default_factory=dict)
    registered: dict[tuple[str, str], MemberCard] = field(default_factory=dict)
    pushed: bool = False  # rows for the outbox sender


@dataclass(eq=False)
class _Plan:
    msg: Message
    member: MemberCard
    chat: ChatCard | None
    gated: bool  # the decision relied on no live quiz taking this message as an answer
    handled_by: str | None
    rows: list[Draft]
    passive: PassivePolicy | None
    wake: asyncio.Future[None]
    text: str = ""  # normalised, and whether it was addressed to the bot: what a quiz gate looks at
    addressed: bool = False
    done: bool = False
    result: Outcome | None = None

    def finish(self, result: Outcome | None) -> None:
        self.done, self.result = True, result
        if not self.wake.done():
            self.wake.set_result(None)


class QuickPath:
    """Decides messages from the directory and writes them in group commits (see the module's docstring)."""

    def __init__(
        self,
        config: Config,
        engine: AsyncEngine,
        clock: Clock,
        dispatcher: Dispatcher,
        directory: Directory,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.dispatcher = dispatcher
        self.directory = directory
        self.notify = notify
        self.bot_names = (config.bot.name, *config.bot.aliases)
        self.store = open_store(config.database, engine)
        self._queue: list[_Plan] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = self.written = 0  # group commits, and the messages they carried
        self._objects: dict[int, tuple[BranchCard | MemberCard | ChatCard, Branch | Member | Chat]] = {}
        # Where quizzes were live at the last group commit (chat ids; member ids for 错题 practice).
        self._busy_chats: dict[int, QuizGate] = {}
        self._busy_members: dict[int, QuizGate] = {}

    async def close(self) -> None:
        if self.batches:
            log.info(
                "quick path: %d messages written in %d group commits (%.1f per commit)",
                self.written,
                self.batches,
                self.written / self.batches,
            )
        if self._writer is not None:
            await asyncio.shield(self._writer)
        await self.store.close()

    async def handle(self, msg: Message, passive: PassivePolicy | None = None) -> Outcome | None:
        """The outcome if msg could be handled and written here; None: take the full way."""
        plan = await self._plan(msg, passive)
        if plan is None:
            return None
        return await self._submit(plan)

    async def _plan(self, msg: Message, passive: PassivePolicy | None) -> _Plan | None:
        d = self.directory
        if not d.loaded:
            return None
        chat: ChatCard | None = None
        branch: BranchCard | None = None
        if msg.chat_id is not None:
            chat = d.chats.get((msg.channel, msg.chat_id))
            if chat is None:
                return None
            branch = d.branches.get(chat.branch_id)
        member_id = d.identities.get((msg.channel, msg.sender_id))
        if member_id is None:
            # Where a newcomer belongs, as bot/members.py's resolve() decides it.
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
                return None  # a rename is written the full way
            card = known
            branch = branch or d.branches.get(card.branch_id)
        if branch is None:
            return None
        if card.branch_id != branch.id:
            home_unit = d.branches.get(card.branch_id)
            if home_unit is None or home_unit.kind != UnitKind.BRANCH:
                # A higher unit's member in a chat of another unit: whether their role reaches it depends on the
                # tree as it is now (another process may have moved a unit), so authority is decided the full way.
                return None

        text, mentioned, names = normalize(msg.text, self.bot_names)
        addressed = mentioned or msg.mentions_bot or msg.is_direct
        found = self.dispatcher.match_command(text, names, msg.text, self.bot_names)
        route: Route | None = None
        if found is not None:
            route = found[0]
            if not route.quick and authority.may(card, route.role, branch):
                return None  # respond() would run the handler, which needs the database
        else:
            gate = self._busy_chats.get(chat.id) if chat is not None else self._busy_members.get(card.id)
            hints = Hints(text, addressed, gate is None or not gate.admits(text, addressed))
            for r in self.dispatcher.filters:
                if r.precheck is None or r.precheck(msg, hints):
                    return None
            # Nothing matched: the short help if the message was for the bot, else silence (as respond() would).
            drafts = [Draft(msg.channel, *reply_target(msg), texts.HELP_SHORT)] if addressed else []
            handled_by = "help_short" if addressed else None
            wake = asyncio.get_running_loop().create_future()
            return _Plan(msg, card, chat, True, handled_by, drafts, passive, wake, text, addressed)

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
        except Exception:  # the full pipeline has the error boundary (stored as failed, one apology)
            log.warning("quick handler for %s:%s failed; trying the full way", msg.channel, msg.platform_msg_id)
            return None
        wake = asyncio.get_running_loop().create_future()
        assert ctx.drafts is not None
        return _Plan(msg, card, chat, found is None, handled_by, ctx.drafts, passive, wake, text, addressed)

    @overload
    def _transient(self, card: BranchCard) -> Branch: ...
    @overload
    def _transient(self, card: MemberCard) -> Member: ...
    @overload
    def _transient(self, card: ChatCard) -> Chat: ...

    def _transient(self, card: BranchCard | MemberCard | ChatCard) -> Branch | Member | Chat:
        """A detached ORM object for a card, made once: quick handlers read them and never change them."""
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
            found = Member(id=card.id or None, branch_id=card.branch_id, role=card.role, display_name=card.display_name)
        else:
            found = Chat(id=card.id, branch_id=card.branch_id)
        self._objects[id(card)] = (card, found)
        return found

    # --- group commit ------------------------------------------------------------------------------------

    async def _submit(self, plan: _Plan) -> Outcome | None:
        """Queue plan for the writer task (started when the queue was empty); wait for its outcome.

        The writer is a task of its own, not one of the waiting requests: a request cancelled while it waits
        (a client gone, a shutdown) neither stops the batch being written nor strands the others.
        """
        self._queue.append(plan)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain(), name="group-commit")
        try:
            await plan.wake
        except asyncio.CancelledError:
            if plan in self._queue:  # not written yet, and nobody waits for it now: drop it
                self._queue.remove(plan)
            raise
        return plan.result

    async def _drain(self) -> None:
        batch: list[_Plan] = []
        try:
            while self._queue:
                # Let the requests already read reach the queue: the more per transaction, the cheaper each.
                for _ in range(_GATHER_TURNS):
                    await asyncio.sleep(0)
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                results = await self._write(batch)
                for item, result in zip(batch, results, strict=True):
                    item.finish(result)
        finally:
            self._writer = None
            # Only on cancellation (the loop shutting down): whoever still waits takes the full way.
            for item in (*batch, *self._queue):
                if not item.done:
                    item.finish(None)
            self._queue.clear()

    async def _write(self, batch: list[_Plan]) -> list[Outcome | None]:
        now = self.clock()
        self.batches += 1
        self.written += len(batch)
        try:
            written = await self.store.run(partial(self._write_in, batch=batch, now=now))
        except Exception:
            log.warning("group commit of %d messages failed; they take the full way", len(batch), exc_info=True)
            return [None] * len(batch)
        # What the transaction saw, for the next decisions (applied here, on the event loop's thread).
        self._busy_chats, self._busy_members = written.busy_chats, written.busy_members
        d = self.directory
        for member_id, current in written.members.items():
            if current is None:
                d.members.pop(member_id, None)
            elif d.members.get(member_id) != current:  # keep an unchanged card: it keys _transient()
                d.members[member_id] = current
        stale = {
            chat_id for chat_id, current in written.chats.items() if current is None or current != _chat(d, chat_id)
        }
        if stale:  # forget them: the full pipeline resolves those chats again and teaches the directory
            d.chats = {key: card for key, card in d.chats.items() if card.id not in stale}
        for key, card in written.registered.items():
            d.identities[key] = card.id
            d.members[card.id] = card
        if written.pushed:
            self.notify()
        return written.results

    def _write_in(self, store: BatchStore, batch: list[_Plan], now: datetime) -> _Written:
        """The group commit's transaction body (synchronous: it runs in the store's thread or greenlet)."""
        out = _Written([None] * len(batch))
        live = self._still_valid(store, batch, now, out)
        live = self._register(store, batch, live, now, out)
        if not live:
            return out
        inserted = store.insert_inbound([self._inbound(batch[i], now) for i in live])
        inbound_ids = {(channel, msg_id): row_id for row_id, channel, msg_id in inserted}
        claimed: set[int] = set()  # two plans for one message (should not happen): the second is a duplicate
        params: list[Row] = []
        owners: dict[int, int] = {}  # inbound id → batch index
        carried_rows: dict[int, Draft] = {}  # batch index → the reply carried in the HTTP answer
        # Order per target: an answer carried in an HTTP response must not overtake a push to the same chat or
        # member that is being sent or due (a notice, a quiz's question); such an answer goes to the sender,
        # behind it. Asked here, in the batch's own transaction, once per batch.
        behind: set[tuple[str, str, str]] = set()
        wanted: dict[str, set[str]] = {}
        for i in live:
            if batch[i].passive is not None:
                for row in batch[i].rows:
                    wanted.setdefault(row.channel, set()).add(row.target_id)
        for channel, targets in wanted.items():
            behind.update((channel, *t) for t in store.pushes_pending(channel, sorted(targets), now))
        for i in live:
            item = batch[i]
            inbound_id = inbound_ids.get((item.msg.channel, item.msg.platform_msg_id))
            if inbound_id is None or inbound_id in claimed:
                out.results[i] = Outcome(duplicate=True)
                continue
            claimed.add(inbound_id)
            out.results[i] = Outcome(handled_by=item.handled_by, passive=[] if item.passive else None)
            owners[inbound_id] = i
            carried = False
            for row in item.rows:
                passive = (
                    not carried
                    and item.passive is not None
                    and (row.channel, row.target_kind, row.target_id) not in behind
                    and item.passive(row)
                )
                if passive:
                    carried, carried_rows[i] = True, row
                params.append(self._outbox(row, item, inbound_id, passive, now))
        if not params:
            return out
        # One statement's rows get ascending ids in the order given: sorting restores each message's order.
        for row_id, cause, via in sorted(store.insert_outbox(params)):
            i = owners[cause]
            outcome = out.results[i]
            assert outcome is not None
            outcome.reply_ids.append(row_id)
            if via == "passive" and outcome.passive is not None:
                row = carried_rows[i]
                outcome.passive.append(Outgoing(row_id, row.channel, row.target_kind, row.target_id, row.text))
            else:
                out.pushed = True
        return out

    @staticmethod
    def _still_valid(store: BatchStore, batch: list[_Plan], now: datetime, out: _Written) -> list[int]:
        """Indices of the plans whose grounds hold in this transaction (noting what it saw in out)."""
        out.busy_chats, out.busy_members = _gates(store.busy_quizzes(now - timedelta(seconds=LATE_ANSWER_SECONDS)))
        chats = {item.chat.id: item.chat for item in batch if item.chat is not None}
        current_chats = {row[0]: ChatCard(*row) for row in store.chats(list(chats))} if chats else {}
        out.chats = {chat_id: current_chats.get(chat_id) for chat_id in chats}
        known = list({item.member.id for item in batch if item.member.id})
        current = {row[0]: MemberCard(*row) for row in store.members(known)} if known else {}
        out.members = {member_id: current.get(member_id) for member_id in known}
        valid = []
        for i, item in enumerate(batch):
            if item.member.id and current.get(item.member.id) != item.member:
                continue
            if item.chat is not None and current_chats.get(item.chat.id) != item.chat:
                continue  # rebound to another branch (another process synced its config), or gone
            if item.gated:
                gate = out.busy_chats.get(item.chat.id) if item.chat else out.busy_members.get(item.member.id)
                if gate is not None and gate.admits(item.text, item.addressed):
                    continue
            valid.append(i)
        return valid

    @staticmethod
    def _register(store: BatchStore, batch: list[_Plan], live: list[int], now: datetime, out: _Written) -> list[int]:
        """Register the newcomers among live, once per user id.

        Someone registered meanwhile (an earlier batch, another process) keeps the decision only if they are
        the member it assumed (same branch, role and name); otherwise the message goes the full way.
        """
        keep = []
        for i in live:
            item = batch[i]
            if item.member.id:
                keep.append(i)
                continue
            key = (item.msg.channel, item.msg.sender_id)
            if key not in out.registered:
                card = item.member
                member = {"branch_id": card.branch_id, "display_name": card.display_name, "role": card.role}
                out.registered[key] = MemberCard(*store.register(member, now, *key))
            if replace(out.registered[key], id=0) == item.member:
                item.member = out.registered[key]
                keep.append(i)
        return keep

    @staticmethod
    def _inbound(item: _Plan, now: datetime) -> Row:
        """In the order of batchstore.INBOUND_COLUMNS."""
        msg = item.msg
        return (
            msg.channel,
            msg.platform_msg_id,
            msg.chat_id,
            msg.sender_id,
            item.member.id,
            msg.text,
            msg.sent_at,
            now,
            item.handled_by,
        )

    def _outbox(self, row: Draft, item: _Plan, inbound_id: int, passive: bool, now: datetime) -> Row:
        """In the order of batchstore.OUTBOX_COLUMNS."""
        if passive:
            status, attempts, sent_at, via, due = OutboxStatus.SENT, 1, now, "passive", now
        else:
            # Without a passive policy the channel may still claim the row (as in the full pipeline); with one,
            # what it will not carry goes to the sender at once.
            hold = self.config.outbox.reply_hold_seconds if item.passive is None else 0
            status, attempts, sent_at, via, due = OutboxStatus.PENDING, 0, None, None, now + timedelta(seconds=hold)
        return (
            row.channel,
            row.target_kind,
            row.target_id,
            row.text,
            list(row.mentions),
            inbound_id,
            status,
            attempts,
            due,
            now,
            sent_at,
            via,
            None,  # media_id
        )
