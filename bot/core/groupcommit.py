"""The group commit: every message is written by one transaction shared with the messages in flight beside it.

The pipeline (bot/core/pipeline.py) hands each message over as a Plan. A plan the directory could decide (who sent it
and where are known, and its handler reads nothing: 帮助, the short help, group talk no route wants) carries its
replies already; the others carry their message only. The writer task takes what is queued, up to MAX_BATCH
plans, and writes them in one transaction:

1. the decided plans, through SQLAlchemy Core (a few statements for the whole batch): the members and chats each
   decision relied on and the quizzes that could take an answer are read again first, so that a plan whose
   grounds changed (a new role, a quiz that just started, another process registered the sender) becomes an
   undecided one; then the newcomers, the inbound rows and the replies;
2. every undecided plan, in a savepoint of its own: its inbound row, then its handler with the batch's ORM session
   (one for all of them, _session()), then the replies it made, through the decided plans' Core insert. A
   handler's failure rolls back its savepoint only, and the message is stored as failed with one apology (the
   error boundary); a lost race (PostgreSQL) is tried again. What the batch read before any handler ran stands in
   for a handler's own reads until a handler writes there (_HandlerSession): where quizzes may take answers (step
   1; a message where none is live asks no quiz query, Seen.gates_hold) and who sent the undecided messages where
   (one read for all of them; resolve() then loads nothing, Seen.who_holds).

One commit then makes all of it durable. Dedupe is the inbound table's unique key: a copy that loses there is a
duplicate. If the transaction fails because the database is unavailable, every message of the batch gets
DatabaseUnavailable (nothing was stored: the sender retries); for any other failure each message of the batch
is written again in a transaction of its own, so one cannot sink the others.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.exc import StaleDataError

from bot.core.batchwrite import DecidedWriter, Statements, outgoing
from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.context import Draft
from bot.core.db import DatabaseUnavailable, is_unavailable
from bot.core.directory import Directory, Learned, QuizGate
from bot.core.message import Message
from bot.core.models import Branch, Chat, Member, MemberIdentity
from bot.core.plans import Decision, Keep, Outcome, PassivePolicy, Plan, ReplyRow, Seen, carried
from bot.quiz.models import Question, QuizRound, QuizSession

__all__ = [
    "CHECKPOINT_EVERY",
    "MAX_BATCH",
    "Decision",
    "GroupCommit",
    "Keep",
    "Outcome",
    "PassivePolicy",
    "Plan",
    "ReplyRow",
]

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

# Runs a message's handler in session, given its stored inbound row's id and what its transaction read at the start
# of the batch, if any of it may be trusted (bot/core/pipeline.py): the handler's name and the replies it made
# (written by the group commit once it returned), and what the message resolved to (its member on the inbound row;
# for the directory, once the transaction commits).
HandleIn = Callable[
    [AsyncSession, Message, int, Seen | None], Awaitable[tuple[str | None, list[Draft], Learned | None]]
]


class _HandlerSession(Session):
    """A savepoint's session (info["seen"]: its transaction's Seen). What the batch read before any handler ran is
    stale for the rest of it once a handler writes there: a quiz session (started, ended) the quiz gates
    (Seen.gates_hold); a member, identity, chat or unit who sent what where (Seen.who_holds). (A handler's
    prepared statements, bot/core/prepared.py, pass no session event: it calls info["wrote"] with their table.)
    Another process's writes committed after the batch's read are not seen by the rest of the batch: every message
    in it arrived before that read, so it is handled as if it came before them (a role withdrawn meanwhile applies
    from the next batch on), as the decided messages are. A member deleted meanwhile fails its savepoint (a foreign
    key, or StaleDataError on a rename), which is retried with a fresh resolve().
    A handler neither commits nor rolls back: the session is the batch's (one for all its messages); a handler that
    fails raises, and its savepoint alone is rolled back.
    """

    def commit(self) -> None:
        raise InvalidRequestError("a handler does not end its transaction: the group commit commits it")

    def rollback(self) -> None:
        # With the batch's session joined as "rollback_only", this would roll back every message of the batch.
        raise InvalidRequestError("a handler does not end its transaction: raise, and its savepoint is rolled back")


class _SavepointLost(Exception):
    """A handler's savepoint was rolled back under it (a flush error it caught)."""


@event.listens_for(_HandlerSession, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    # Every statement a handler runs through its session, Core's included.
    if state.is_insert or state.is_update or state.is_delete:
        _wrote(state.session.info["seen"], getattr(getattr(state.statement, "table", None), "name", None))


@event.listens_for(_HandlerSession, "before_flush")
def _on_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    # ... and the ORM objects added, changed or deleted.
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, QuizSession | QuizRound | Question):
            session.info["seen"].live_rows.clear()
        if isinstance(obj, QuizSession):
            session.info["seen"].gates_hold = False
        elif isinstance(obj, Member | MemberIdentity | Chat | Branch):
            session.info["seen"].who_holds = False


def _wrote(seen: Seen, table: str | None) -> None:
    """A handler wrote table (None: a statement that writes nothing)."""
    if table in _LIVE_QUIZ:
        seen.live_rows.clear()
    if table == _QUIZ_SESSIONS:
        seen.gates_hold = False
    elif table in _WHO:
        seen.who_holds = False


_QUIZ_SESSIONS = QuizSession.__tablename__
_LIVE_QUIZ = frozenset(model.__tablename__ for model in (QuizSession, QuizRound, Question))
_WHO = frozenset(model.__tablename__ for model in (Member, MemberIdentity, Chat, Branch))


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
        self.statements = Statements.of(engine.dialect.name)
        self.decided = DecidedWriter(config, self.statements)
        self._queue: list[Plan] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = self.written = 0  # group commits, and the messages they carried
        self.in_savepoints = 0  # messages whose handler ran in the transaction (the others were decided before)
        # Where quizzes were live at the last group commit (chat ids; member ids for 错题 practice).
        self.busy_chats: dict[int, QuizGate] = {}
        self.busy_members: dict[int, QuizGate] = {}

    def waiting(self) -> bool:
        """Whether messages wait to be written, or a batch is being written (the outbox sender lets them go first)."""
        return bool(self._queue) or self._writer is not None

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
        seen = Seen()
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(lambda sync: self.decided.write(sync, batch, now, results, seen))
                undecided = [item.msg for i, item in enumerate(batch) if results[i] is None]
                if undecided:
                    await conn.run_sync(lambda sync: self.decided.who(sync, undecided, seen))
                    session = _session(conn, seen)
                    try:
                        for i, item in enumerate(batch):
                            if results[i] is None:
                                results[i] = await self._handle(session, item.msg, item.passive, now, seen)
                    finally:
                        await session.close()
        except Exception as exc:
            # (A handler's own OSError or TimeoutError never gets here: _handle() stores it as that message's
            # failure. What does is the database's: a refused connection, a lock held too long, a full disk.)
            if is_unavailable(exc):
                log.warning("group commit of %d messages: database unavailable (%s)", len(batch), exc)
                error = DatabaseUnavailable(str(exc)[:200])
                for item in batch:
                    item.finish(None, error)
                return
            log.warning("group commit of %d messages failed; each is written alone", len(batch), exc_info=True)
            for item in batch:
                item.finish(None)
            return
        self.busy_chats, self.busy_members = seen.busy_chats, seen.busy_members
        self._learn(seen)
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

    def _learn(self, seen: Seen) -> None:
        """Apply what a committed transaction saw to the directory; wake the sender for rows left to it."""
        try:
            for learned in seen.learned:
                self.directory.learn(learned)
            self.directory.refresh(seen.members, seen.chats, seen.registered)
        except Exception:  # the transaction is committed: what it taught the directory is only a hint
            log.exception("group commit: the directory could not learn from a transaction")
        if seen.pushed or seen.released:
            self.notify()

    # --- undecided plans: the handler in a savepoint ---------------------------------------------------------

    async def write_alone(self, msg: Message, passive: PassivePolicy | None, keep: Keep | None) -> Outcome:
        """Write msg in a transaction of its own (its batch failed for a reason other than the database)."""
        now = self.clock()
        seen = Seen()
        try:
            async with self.engine.begin() as conn:
                if keep is not None:
                    await conn.execute(keep[0], keep[1])
                seen.behind = await conn.run_sync(lambda sync: self.decided.behind(sync, [(msg, passive)], now))
                session = _session(conn, seen)
                try:
                    outcome = await self._handle(session, msg, passive, now, seen)
                finally:
                    await session.close()
        except Exception as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailable(str(exc)[:200]) from exc
            raise
        self._learn(seen)
        return outcome

    async def _handle(
        self,
        session: AsyncSession,
        msg: Message,
        passive: PassivePolicy | None,
        now: datetime,
        seen: Seen,
    ) -> Outcome:
        """Store msg and run its handler in a savepoint; a failure rolls it back and is stored with an apology."""
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                return await self._in_savepoint(session, msg, passive, now, seen, attempt)
            except Exception as exc:
                if _unavailable(exc):
                    raise
                # StaleDataError: a row the batch read (a member) was deleted by another process meanwhile; the
                # retry reads afresh.
                retryable = isinstance(exc, IntegrityError | StaleDataError) or (
                    isinstance(exc, DBAPIError) and is_race(exc)
                )
                if retryable and attempt < _MAX_ATTEMPTS:
                    log.info("message %s:%s lost a race (%s); retrying", msg.channel, msg.platform_msg_id, exc)
                    continue
                what = "database error" if isinstance(exc, DBAPIError) else "handler failed"
                log.exception("%s for %s:%s", what, msg.channel, msg.platform_msg_id)
                break
        return await self._in_savepoint(session, msg, passive, now, seen, attempt=0)

    async def _in_savepoint(
        self,
        session: AsyncSession,
        msg: Message,
        passive: PassivePolicy | None,
        now: datetime,
        seen: Seen,
        attempt: int,
    ) -> Outcome:
        """Store msg and run its handler (attempt: 1, 2 … after a lost race; 0: the error boundary's apology)."""
        from bot.core import texts
        from bot.core.context import Context

        failed = attempt == 0
        self.in_savepoints += 1
        try:
            async with session.begin_nested() as savepoint:
                # The savepoint begins here, and the inbound row (the dedupe point) is written in it: on the session's
                # connection, as the replies below (through the session, ORM execution costs more than the statement).
                conn = await session.connection()
                params = self.statements.inbound_params(msg, 0, now, "error" if failed else None)
                stored = await conn.run_sync(lambda sync: self.statements.inbound_one.first(sync, params))
                if stored is None:
                    return Outcome(duplicate=True)
                inbound_id: int = stored.id
                if failed:  # the error boundary: stored as failed, one apology
                    ctx = Context(
                        config=self.config,
                        session=session,
                        clock=self.clock,
                        message=msg,
                        inbound_id=inbound_id,
                        drafts=[],
                    )
                    await ctx.reply(texts.GENERIC_ERROR)
                    handled_by: str | None = "error"
                    rows: list[Draft] = ctx.drafts or []
                    learned: Learned | None = None
                else:
                    # A retry (a lost race) reads everything again itself.
                    read = seen if attempt == 1 else None
                    if read is None:
                        seen.live_rows.clear()
                    handled_by, rows, learned = await self.handle_in(session, msg, inbound_id, read)
                if not savepoint.is_active:
                    # A flush failed in the handler and SQLAlchemy rolled the savepoint back, the inbound row with it;
                    # the handler caught the error and went on. Its message fails (the error boundary).
                    raise _SavepointLost(f"{msg.channel}:{msg.platform_msg_id}")
                chosen = self._carry(rows, passive, seen) if passive is not None else None
                # What the handler made of the message, and its replies in one Core INSERT (what the ORM's flush of
                # Outbox rows would write), inside the savepoint: a failure after this rolls them back with it.
                handled = (
                    None if failed else {"inbound_id": inbound_id, "handled": handled_by, "member": _member(learned)}
                )
                ids = await conn.run_sync(lambda sync: self._written(sync, handled, rows, inbound_id, chosen, now))
                outcome = Outcome(
                    handled_by=handled_by,
                    reply_ids=ids,
                    passive=[outgoing(ids[i], rows[i]) for i in chosen] if chosen is not None else None,
                )
        finally:
            # The next message starts with no objects, as in a session of its own (a savepoint rolled back has
            # expunged what it added and expired what it changed; this drops the rest).
            session.expunge_all()
        if learned is not None:  # only now: a savepoint rolled back teaches nothing
            seen.learned.append(learned)
        return outcome

    def _written(
        self,
        conn: Connection,
        handled: dict[str, Any] | None,
        rows: list[Draft],
        inbound_id: int,
        chosen: list[int] | None,
        now: datetime,
    ) -> list[int]:
        """Store who sent the message and which handler took it (handled; None: stored as failed already), and its
        replies; their ids, in order."""
        if handled is not None:
            self.statements.handled.rows(conn, handled)
        return self.decided.replies(conn, rows, inbound_id, chosen, now) if rows else []

    def _carry(self, rows: list[Draft], passive: PassivePolicy, seen: Seen) -> list[int]:
        """The rows the channel's HTTP answer carries (written as delivered); the others are due for the sender now.

        An answer must not overtake a push to the same target that is due or being sent (a notice, a quiz's
        question; `behind`, read at the start of the batch): from the first such row on, the rows go to the
        sender, behind it.
        """
        chosen = carried(rows, passive, seen.behind)
        if len(chosen) < len(rows):
            seen.released = True
        return chosen


def _session(conn: AsyncConnection, seen: Seen) -> AsyncSession:
    """The handlers' session for one transaction: each message in a savepoint of it (Session.begin_nested()).

    One session for the batch, not one per message: making, beginning and closing a session costs more than most
    handlers' statements. It joins the transaction without a savepoint of its own and never ends it
    ("rollback_only": a failure in a message's savepoint rolls back that savepoint only, and nothing here rolls
    back the session itself; the group commit commits or rolls back the transaction, and close() leaves it be).
    """
    return AsyncSession(
        bind=conn,
        join_transaction_mode="rollback_only",
        expire_on_commit=False,
        sync_session_class=_HandlerSession,
        info={"seen": seen, "wrote": functools.partial(_wrote, seen)},
    )


def _member(learned: Learned | None) -> int | None:
    """The member a handled message was resolved to, if any."""
    return learned[3].id if learned is not None and learned[3] is not None else None


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
