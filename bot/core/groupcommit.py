"""The group commit: every message is written by one transaction shared with the messages in flight beside it.

The pipeline (bot/core/pipeline.py) hands each message over as a Plan. A plan the directory could decide (who sent it
and where are known, and its handler reads nothing: 帮助, the short help, group talk no route wants) carries its
replies already; the others carry their message only. The writer task takes what is queued, up to MAX_BATCH
plans, and writes them in one transaction:

1. the decided plans, through SQLAlchemy Core (a few statements for the whole batch): the members and chats each
   decision relied on and the quizzes that could take an answer are read again first, so that a plan whose
   grounds changed (a new role, a quiz that just started, another process registered the sender) becomes an
   undecided one; then the newcomers, the inbound rows and the replies;
2. every undecided plan, in a savepoint of its own: its inbound row, then its handler with an ORM session. A
   handler's failure rolls back its savepoint only, and the message is stored as failed with one apology (the
   error boundary); a lost race (PostgreSQL) is tried again.

One commit then makes all of it durable. Dedupe is the inbound table's unique key: a copy that loses there is a
duplicate. If the transaction fails because the database is unavailable, every message of the batch gets
DatabaseUnavailable (nothing was stored: the sender retries); for any other failure each message of the batch
is written again in a transaction of its own, so one cannot sink the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.context import Draft, reply_target
from bot.core.db import DatabaseUnavailable, is_unavailable
from bot.core.directory import BusyQuiz, ChatCard, Directory, Learned, MemberCard, QuizGate, chat_by_id, gates
from bot.core.message import Message, Outgoing
from bot.core.models import Chat, InboundMessage, Member, MemberIdentity, Outbox, OutboxStatus
from bot.quiz.models import Question, QuestionType, QuizMode, QuizRound, QuizSession
from bot.quiz.state import LATE_ANSWER_SECONDS, RUNNING

log = logging.getLogger(__name__)

# Messages written by one transaction at most (a larger queue is written in several).
MAX_BATCH = 64

# Event-loop turns the writer task yields before taking a batch (a parsed request needs a few to reach the queue),
# and at most while the queue still grows.
_GATHER_TURNS = 3
_GATHER_TURNS_MAX = 12

# Batches between two WAL checkpoints on SQLite (the group commit's own connections do not checkpoint).
CHECKPOINT_EVERY = 200

# Attempts for a message whose savepoint lost a race (e.g. two first messages registering one member).
_MAX_ATTEMPTS = 3

# Which of a message's reply rows (in order; ids not known yet) the channel will carry in its HTTP answer, by
# index. The writer marks them as delivered in the message's own transaction and leaves the rest to the sender
# at once. None: the rows are held briefly for the channel to claim itself (OutboxSender.claim_passive).
PassivePolicy = Callable[[Sequence[Outgoing]], list[int]]

# A row a channel keeps with a message, written in its batch's transaction (e.g. a WeCom response_url): an
# INSERT statement (the same object for every message, so a batch's rows go in one executemany) and its row.
Keep = tuple[Executable, dict[str, Any]]


@dataclass(frozen=True)
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


# Runs a message's handler in session, given its stored inbound row's id (bot/core/pipeline.py): the handler's name,
# the outbox rows it added, and what the message resolved to (for the directory, once the transaction commits).
HandleIn = Callable[[AsyncSession, Message, int], Awaitable[tuple[str | None, list[Outbox], Learned | None]]]


@dataclass
class _Seen:
    """What the transaction saw, applied to the directory once it committed."""

    busy_chats: dict[int, QuizGate] = field(default_factory=dict)
    busy_members: dict[int, QuizGate] = field(default_factory=dict)
    members: dict[int, MemberCard | None] = field(default_factory=dict)  # None: no longer there
    chats: dict[int, ChatCard | None] = field(default_factory=dict)
    registered: dict[tuple[str, str], MemberCard] = field(default_factory=dict)
    pushed: bool = False  # rows for the outbox sender
    # (channel, target kind, target id) with a push due or being sent: an answer must not overtake it.
    behind: set[tuple[str, str, str]] = field(default_factory=set)
    learned: list[Learned] = field(default_factory=list)  # what handlers resolved, savepoints released
    released: bool = False  # a handler's rows were left to the sender


class GroupCommit:
    """The one writer of inbound messages (see the module's docstring)."""

    def __init__(
        self,
        config: Config,
        engine: AsyncEngine,
        clock: Clock,
        directory: Directory,
        handle_in: HandleIn,
        notify: Callable[[], None] = lambda: None,
        checkpoint: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.directory = directory
        self.handle_in = handle_in
        self.notify = notify
        # SQLite's WAL checkpoint, every CHECKPOINT_EVERY batches, beside the writes (bot/core/db.py checkpoint()).
        self.checkpoint = checkpoint
        self._checkpointing: asyncio.Task[None] | None = None
        self.statements = _Statements(engine.dialect.name)
        self._queue: list[Plan] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = self.written = 0  # group commits, and the messages they carried
        self.in_savepoints = 0  # messages whose handler ran in the transaction (the others were decided before)
        # Where quizzes were live at the last group commit (chat ids; member ids for 错题 practice).
        self.busy_chats: dict[int, QuizGate] = {}
        self.busy_members: dict[int, QuizGate] = {}

    async def close(self) -> None:
        if self.batches:
            log.info(
                "group commit: %d messages written in %d transactions (%.1f per transaction)",
                self.written,
                self.batches,
                self.written / self.batches,
            )
        if self._writer is not None:
            await asyncio.shield(self._writer)
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)

    async def submit(self, plan: Plan) -> Outcome | None:
        """Queue plan for the writer task (started when the queue was empty); wait for its outcome.

        None: the batch failed for a reason other than the database's availability; write the message alone.
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
        if plan.error is not None:
            raise plan.error
        return plan.result

    async def _drain(self) -> None:
        batch: list[Plan] = []
        try:
            while self._queue:
                # Let the requests already read reach the queue: the more per transaction, the cheaper each.
                # (The transaction itself may never yield to the loop — on SQLite its statements run inline —
                # so what arrives meanwhile waits for the next batch.) A few turns more while more arrive.
                turns, seen = 0, -1
                while turns < _GATHER_TURNS_MAX and (turns < _GATHER_TURNS or len(self._queue) != seen):
                    seen = len(self._queue)
                    await asyncio.sleep(0)
                    turns += 1
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._write(batch)
        finally:
            self._writer = None
            # Only on cancellation (the loop shutting down): whoever still waits writes alone.
            for item in (*batch, *self._queue):
                if not item.done:
                    item.finish(None)
            self._queue.clear()

    async def _write(self, batch: list[Plan]) -> None:
        now = self.clock()
        self.batches += 1
        self.written += len(batch)
        results: list[Outcome | None] = [None] * len(batch)
        seen = _Seen()
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(lambda sync: self._write_decided(sync, batch, now, results, seen))
                for i, item in enumerate(batch):
                    if results[i] is None:
                        results[i] = await self._handle(conn, item.msg, item.passive, now, seen)
        except Exception as exc:
            if _unavailable(exc):
                log.warning("group commit of %d messages: database unavailable (%s)", len(batch), exc)
                error = DatabaseUnavailable(str(exc)[:200])
                for item in batch:
                    item.finish(None, error)
                return
            log.warning("group commit of %d messages failed; each is written alone", len(batch), exc_info=True)
            for item in batch:
                item.finish(None)
            return
        try:
            self._learn(seen)
        except Exception:  # the batch is committed: what it taught the directory is only a hint
            log.exception("group commit: the directory could not learn from a batch")
        for item, result in zip(batch, results, strict=True):
            item.finish(result)
        due = self.checkpoint is not None and self.batches % CHECKPOINT_EVERY == 0
        if due and (self._checkpointing is None or self._checkpointing.done()):
            self._checkpointing = asyncio.get_running_loop().create_task(self._checkpoint(), name="checkpoint")

    async def _checkpoint(self) -> None:
        assert self.checkpoint is not None
        try:
            await self.checkpoint()
        except Exception as exc:  # the next one will try again; the WAL only grows meanwhile
            log.warning("group commit: WAL checkpoint failed (%s)", exc)

    def _learn(self, seen: _Seen) -> None:
        """Apply what the committed transaction saw to the directory (on the event loop's thread)."""
        for learned in seen.learned:
            self.directory.learn(learned)
        self.busy_chats, self.busy_members = seen.busy_chats, seen.busy_members
        d = self.directory
        for member_id, current in seen.members.items():
            if current is None:
                d.members.pop(member_id, None)
            elif d.members.get(member_id) != current:  # keep an unchanged card: the pipeline keys objects by it
                d.members[member_id] = current
        stale = {
            chat_id for chat_id, current in seen.chats.items() if current is None or current != chat_by_id(d, chat_id)
        }
        if stale:  # forget them: the next message there is resolved in the transaction and teaches the directory
            d.chats = {key: card for key, card in d.chats.items() if card.id not in stale}
        for key, card in seen.registered.items():
            d.identities[key] = card.id
            d.members[card.id] = card
        if seen.pushed or seen.released:
            self.notify()

    # --- undecided plans: the handler in a savepoint ---------------------------------------------------------

    async def write_alone(self, msg: Message, passive: PassivePolicy | None, keep: Keep | None) -> Outcome:
        """Write msg in a transaction of its own (its batch failed for a reason other than the database)."""
        now = self.clock()
        seen = _Seen()
        try:
            async with self.engine.begin() as conn:
                if keep is not None:
                    await conn.execute(keep[0], keep[1])
                seen.behind = await conn.run_sync(lambda sync: self._behind(sync, [(msg, passive)], now))
                outcome = await self._handle(conn, msg, passive, now, seen)
        except Exception as exc:
            if _unavailable(exc):
                raise DatabaseUnavailable(str(exc)[:200]) from exc
            raise
        for learned in seen.learned:
            self.directory.learn(learned)
        if seen.released:
            self.notify()
        return outcome

    async def _handle(
        self,
        conn: AsyncConnection,
        msg: Message,
        passive: PassivePolicy | None,
        now: datetime,
        seen: _Seen,
    ) -> Outcome:
        """Store msg and run its handler in a savepoint; a failure rolls it back and is stored with an apology."""
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                return await self._in_savepoint(conn, msg, passive, now, seen, failed=False)
            except Exception as exc:
                if _unavailable(exc):
                    raise
                retryable = isinstance(exc, IntegrityError) or (isinstance(exc, DBAPIError) and is_race(exc))
                if retryable and attempt < _MAX_ATTEMPTS:
                    log.info("message %s:%s lost a race (%s); retrying", msg.channel, msg.platform_msg_id, exc)
                    continue
                what = "database error" if isinstance(exc, DBAPIError) else "handler failed"
                log.exception("%s for %s:%s", what, msg.channel, msg.platform_msg_id)
                break
        return await self._in_savepoint(conn, msg, passive, now, seen, failed=True)

    async def _in_savepoint(
        self,
        conn: AsyncConnection,
        msg: Message,
        passive: PassivePolicy | None,
        now: datetime,
        seen: _Seen,
        failed: bool,
    ) -> Outcome:
        from bot.core import texts
        from bot.core.context import Context

        self.in_savepoints += 1
        session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            async with session.begin():
                params = self.statements.inbound_params(msg, 0, now, "error" if failed else None)
                inbound_id = await session.scalar(self.statements.insert_inbound_one, params)
                if inbound_id is None:
                    return Outcome(duplicate=True)
                if failed:  # the error boundary: stored as failed, one apology
                    ctx = Context(config=self.config, session=session, clock=self.clock, message=msg)
                    ctx.inbound_id = inbound_id
                    await ctx.reply(texts.GENERIC_ERROR)
                    handled_by: str | None = "error"
                    rows: list[Outbox] = ctx.outgoing
                    learned: Learned | None = None
                else:
                    handled_by, rows, learned = await self.handle_in(session, msg, inbound_id)
                carried = self._carry(rows, passive, now, seen) if passive is not None else None
                await session.flush()
                outcome = Outcome(
                    handled_by=handled_by,
                    reply_ids=[row.id for row in rows],
                    passive=[_outgoing(row) for row in carried] if carried is not None else None,
                )
        finally:
            await session.close()
        if learned is not None:  # only now: a savepoint rolled back teaches nothing
            seen.learned.append(learned)
        return outcome

    def _carry(self, rows: list[Outbox], passive: PassivePolicy, now: datetime, seen: _Seen) -> list[Outbox]:
        """Mark the rows the channel's HTTP answer carries as delivered; make the others due for the sender now.

        An answer must not overtake a push to the same target that is due or being sent (a notice, a quiz's
        question; `behind`, read at the start of the batch): from the first such row on, the rows go to the
        sender, behind it.
        """
        chosen = [rows[i] for i in passive([_outgoing(row) for row in rows])]
        cut = next(
            (i for i, row in enumerate(chosen) if (row.channel, row.target_kind, row.target_id) in seen.behind), None
        )
        chosen = chosen[:cut]
        for row in rows:
            if any(row is c for c in chosen):
                row.status, row.sent_at, row.attempts, row.delivered_via = OutboxStatus.SENT, now, 1, "passive"
                row.next_attempt_at = now
            elif row.status == OutboxStatus.PENDING and not row.attempts:
                row.next_attempt_at = now
                seen.released = True
        return chosen

    # --- decided plans: Core, a few statements for the whole batch ----------------------------------------

    def _write_decided(
        self, conn: Connection, batch: list[Plan], now: datetime, results: list[Outcome | None], seen: _Seen
    ) -> None:
        """Write the decided plans whose grounds hold (synchronous: it runs in the transaction's greenlet).

        A plan whose grounds changed loses its decision: its handler runs after this, in the same transaction.
        """
        s = self.statements
        keeps: dict[int, tuple[Executable, list[dict[str, Any]]]] = {}
        for item in batch:
            if item.keep is not None:
                keeps.setdefault(id(item.keep[0]), (item.keep[0], []))[1].append(item.keep[1])
        for statement, kept in keeps.values():
            conn.execute(statement, kept)
        seen.behind = self._behind(conn, [(item.msg, item.passive) for item in batch], now)
        behind = seen.behind
        decided = [i for i, item in enumerate(batch) if item.decision is not None]
        if not decided:
            return
        live = self._still_valid(conn, batch, decided, now, seen)
        live = self._register(conn, batch, live, now, seen)
        for i in set(decided) - set(live):
            batch[i].decision = None
        if not live:
            return
        params = []
        for i in live:
            item = batch[i]
            decision = cast(Decision, item.decision)
            params.append(s.inbound_params(item.msg, decision.member.id, now, decision.handled_by))
        inserted = conn.execute(s.insert_inbound, params)
        inbound_ids = {(r.channel, r.platform_msg_id): r.id for r in inserted}
        claimed: set[int] = set()  # two plans for one message (should not happen): the second is a duplicate
        rows: list[dict[str, Any]] = []
        owners: dict[int, int] = {}  # inbound id → batch index
        carried_rows: dict[int, list[Draft]] = {}  # batch index → the replies carried in the HTTP answer
        for i in live:
            item = batch[i]
            decision = cast(Decision, item.decision)
            inbound_id = inbound_ids.get((item.msg.channel, item.msg.platform_msg_id))
            if inbound_id is None or inbound_id in claimed:
                results[i] = Outcome(duplicate=True)
                continue
            claimed.add(inbound_id)
            results[i] = Outcome(handled_by=decision.handled_by, passive=[] if item.passive else None)
            owners[inbound_id] = i
            chosen: set[int] = set()
            if item.passive is not None:
                for index in item.passive([_draft_outgoing(row) for row in decision.rows]):
                    row = decision.rows[index]
                    if (row.channel, row.target_kind, row.target_id) in behind:
                        break
                    chosen.add(index)
            for index, row in enumerate(decision.rows):
                if index in chosen:
                    carried_rows.setdefault(i, []).append(row)
                rows.append(self._outbox(row, item, inbound_id, index in chosen, now))
        if not rows:
            return
        # One statement's rows get ascending ids in the order given: sorting restores each message's order.
        written = conn.execute(s.insert_outbox, rows)
        for row_id, cause, via in sorted((r.id, r.cause_inbound_id, r.delivered_via) for r in written):
            i = owners[cause]
            outcome = results[i]
            assert outcome is not None
            outcome.reply_ids.append(row_id)
            if via == "passive" and outcome.passive is not None:
                draft = carried_rows[i][len(outcome.passive)]
                outcome.passive.append(
                    Outgoing(row_id, draft.channel, draft.target_kind, draft.target_id, draft.text, draft.mentions)
                )
            else:
                seen.pushed = True

    def _behind(
        self, conn: Connection, items: list[tuple[Message, PassivePolicy | None]], now: datetime
    ) -> set[tuple[str, str, str]]:
        """Order per target: an answer carried in an HTTP response must not overtake a push to the same chat or
        member that is being sent or due (a notice, a quiz's question); such an answer goes to the sender,
        behind it. Asked once per batch, for the conversations whose answers a channel carries (a policy carries
        only rows to the message's own conversation)."""
        wanted: dict[str, set[str]] = {}
        for msg, passive in items:
            if passive is not None:
                wanted.setdefault(msg.channel, set()).add(reply_target(msg)[1])
        behind: set[tuple[str, str, str]] = set()
        for channel, targets in wanted.items():
            found = conn.execute(
                self.statements.pushes_pending, {"channel": channel, "targets": sorted(targets), "now": now}
            )
            behind.update((channel, r.target_kind, r.target_id) for r in found)
        return behind

    def _still_valid(
        self, conn: Connection, batch: list[Plan], decided: list[int], now: datetime, seen: _Seen
    ) -> list[int]:
        """Indices of the decided plans whose grounds hold in this transaction (noting what it saw)."""
        s = self.statements
        since = now - timedelta(seconds=LATE_ANSWER_SECONDS)
        busy: list[BusyQuiz] = [
            (r.chat_id, r.member_id, bool(r.daily), bool(r.blank))
            for r in conn.execute(s.busy_quizzes, {"since": since})
        ]
        seen.busy_chats, seen.busy_members = gates(busy)
        decisions = [cast(Decision, batch[i].decision) for i in decided]
        chats = {d.chat.id: d.chat for d in decisions if d.chat is not None}
        current_chats = (
            {r.id: ChatCard(r.id, r.branch_id) for r in conn.execute(s.chats, {"ids": list(chats)})} if chats else {}
        )
        seen.chats = {chat_id: current_chats.get(chat_id) for chat_id in chats}
        known = list({d.member.id for d in decisions if d.member.id})
        current = (
            {
                r.id: MemberCard(r.id, r.branch_id, r.role, r.display_name)
                for r in conn.execute(s.members, {"ids": known})
            }
            if known
            else {}
        )
        seen.members = {member_id: current.get(member_id) for member_id in known}
        valid = []
        for i, d in zip(decided, decisions, strict=True):
            if d.member.id and current.get(d.member.id) != d.member:
                continue
            if d.chat is not None and current_chats.get(d.chat.id) != d.chat:
                continue  # rebound to another branch (another process synced its config), or gone
            if d.gated:
                gate = seen.busy_chats.get(d.chat.id) if d.chat else seen.busy_members.get(d.member.id)
                if gate is not None and gate.admits(d.text, d.addressed):
                    continue
            valid.append(i)
        return valid

    def _register(self, conn: Connection, batch: list[Plan], live: list[int], now: datetime, seen: _Seen) -> list[int]:
        """Register the newcomers among live, once per user id.

        Someone registered meanwhile (an earlier batch, another process) keeps the decision only if they are
        the member it assumed (same branch, role and name); otherwise the plan loses its decision.
        """
        keep = []
        for i in live:
            item = batch[i]
            decision = cast(Decision, item.decision)
            if decision.member.id:
                keep.append(i)
                continue
            key = (item.msg.channel, item.msg.sender_id)
            if key not in seen.registered:
                card = decision.member
                member = {"branch_id": card.branch_id, "display_name": card.display_name, "role": card.role}
                seen.registered[key] = self.statements.register(conn, member, now, *key)
            if replace(seen.registered[key], id=0) == decision.member:
                decision.member = seen.registered[key]
                keep.append(i)
        return keep

    def _outbox(self, row: Draft, item: Plan, inbound_id: int, passive: bool, now: datetime) -> dict[str, Any]:
        if passive:
            status, attempts, sent_at, via, due = OutboxStatus.SENT, 1, now, "passive", now
        else:
            # Without a passive policy the channel may still claim the row; with one, what it will not carry
            # goes to the sender at once.
            hold = self.config.outbox.reply_hold_seconds if item.passive is None else 0
            status, attempts, sent_at, via, due = OutboxStatus.PENDING, 0, None, None, now + timedelta(seconds=hold)
        return {
            "channel": row.channel,
            "target_kind": row.target_kind,
            "target_id": row.target_id,
            "text": row.text,
            "mentions": list(row.mentions),
            "cause_inbound_id": inbound_id,
            "status": status,
            "attempts": attempts,
            "next_attempt_at": due,
            "created_at": now,
            "sent_at": sent_at,
            "delivered_via": via,
            "media_id": None,
        }


def _outgoing(row: Outbox) -> Outgoing:
    return Outgoing(
        row.id or 0,
        row.channel,
        row.target_kind,
        row.target_id,
        row.text,
        tuple(row.mentions or ()),
        row.media_id,
        card=row.card,
    )


def _draft_outgoing(draft: Draft) -> Outgoing:
    return Outgoing(0, draft.channel, draft.target_kind, draft.target_id, draft.text, draft.mentions)


def _unavailable(exc: BaseException) -> bool:
    """The database is unavailable (the whole batch answers "try again"): only the database's own errors count —
    a handler's OSError or TimeoutError (an HTTP call, a font) is that handler's failure, not the batch's."""
    return is_unavailable(exc) and not isinstance(exc, OSError | TimeoutError)


def is_race(exc: DBAPIError) -> bool:
    """Serialization failures and deadlocks (PostgreSQL) may succeed on an immediate retry.

    SQLite's "database is locked" is not among them: writers begin IMMEDIATE and wait busy_timeout for the
    lock, so it means the lock was held longer than that, and the database counts as unavailable.
    """
    text = str(exc.orig).lower()
    return any(s in text for s in ("serializ", "deadlock"))


# --- the statements ----------------------------------------------------------------------------------------

_INBOUND = cast(Table, InboundMessage.__table__)
_OUTBOX = cast(Table, Outbox.__table__)
_MEMBER = cast(Table, Member.__table__)
_IDENTITY = cast(Table, MemberIdentity.__table__)


class _Statements:
    """The group commit's Core statements (compiled once per dialect by SQLAlchemy's cache)."""

    busy_quizzes = select(
        QuizSession.chat_id,
        QuizSession.member_id,
        (QuizSession.mode == QuizMode.DAILY).label("daily"),
        exists()
        .where(
            QuizRound.session_id == QuizSession.id,
            Question.id == QuizRound.question_id,
            Question.type == QuestionType.BLANK,
        )
        .label("blank"),
    ).where(or_(QuizSession.status == RUNNING, QuizSession.finished_at >= bindparam("since")))
    chats = select(Chat.id, Chat.branch_id).where(Chat.id.in_(bindparam("ids", expanding=True)))
    pushes_pending = (
        select(Outbox.target_kind, Outbox.target_id)
        .where(
            Outbox.channel == bindparam("channel"),
            Outbox.target_id.in_(bindparam("targets", expanding=True)),
            Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
            Outbox.cause_inbound_id.is_(None),
            or_(Outbox.status == OutboxStatus.SENDING, Outbox.next_attempt_at <= bindparam("now")),
        )
        .distinct()
    )
    members = select(Member.id, Member.branch_id, Member.role, Member.display_name).where(
        Member.id.in_(bindparam("ids", expanding=True))
    )
    # Not sort_by_parameter_order: SQLite would then insert row by row. Callers match rows by their cause.
    insert_outbox = insert(_OUTBOX).returning(_OUTBOX.c.id, _OUTBOX.c.cause_inbound_id, _OUTBOX.c.delivered_via)
    insert_member = insert(_MEMBER).returning(_MEMBER.c.id)
    identity_member = (
        select(Member.id, Member.branch_id, Member.role, Member.display_name)
        .join(MemberIdentity, MemberIdentity.member_id == Member.id)
        .where(MemberIdentity.channel == bindparam("channel"), MemberIdentity.platform_user_id == bindparam("user_id"))
    )
    delete_member = delete(_MEMBER).where(_MEMBER.c.id == bindparam("member_id"))
    set_handled = (
        update(_INBOUND)
        .where(_INBOUND.c.id == bindparam("inbound_id"))
        .values(member_id=bindparam("member"), handled_by=bindparam("handled"))
    )

    def __init__(self, dialect: str) -> None:
        upsert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        # Dedupe: a message already stored (a platform's retry, another instance) inserts nothing.
        self.insert_inbound = (
            upsert(_INBOUND)
            .on_conflict_do_nothing(index_elements=["channel", "platform_msg_id"])
            .returning(_INBOUND.c.id, _INBOUND.c.channel, _INBOUND.c.platform_msg_id)
        )
        self.insert_inbound_one = (
            upsert(_INBOUND)
            .on_conflict_do_nothing(index_elements=["channel", "platform_msg_id"])
            .returning(_INBOUND.c.id)
        )
        self.insert_identity = (
            upsert(_IDENTITY)
            .on_conflict_do_nothing(index_elements=["channel", "platform_user_id"])
            .returning(_IDENTITY.c.id)
        )

    @staticmethod
    def inbound_params(msg: Message, member_id: int, now: datetime, handled_by: str | None) -> dict[str, Any]:
        return {
            "channel": msg.channel,
            "platform_msg_id": msg.platform_msg_id,
            "platform_chat_id": msg.chat_id,
            "platform_user_id": msg.sender_id,
            "member_id": member_id or None,
            "text": msg.text,
            "sent_at": msg.sent_at,
            "received_at": now,
            "handled_by": handled_by,
        }

    def register(
        self, conn: Connection, member: dict[str, Any], now: datetime, channel: str, user_id: str
    ) -> MemberCard:
        found = conn.execute(self.identity_member, {"channel": channel, "user_id": user_id}).first()
        if found is None:
            member_id = conn.scalar(self.insert_member, dict(member, created_at=now))
            identity = conn.scalar(
                self.insert_identity, {"member_id": member_id, "channel": channel, "platform_user_id": user_id}
            )
            if identity is not None:
                return MemberCard(cast(int, member_id), member["branch_id"], member["role"], member["display_name"])
            # Registered meanwhile by another process (PostgreSQL): theirs counts.
            conn.execute(self.delete_member, {"member_id": member_id})
            found = conn.execute(self.identity_member, {"channel": channel, "user_id": user_id}).one()
        return MemberCard(found.id, found.branch_id, found.role, found.display_name)
