"""The inbound pipeline: store once, resolve, route, handle — state and replies in one transaction."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import intent, texts
from bot.clock import Clock
from bot.config import Config
from bot.context import Context
from bot.db import DatabaseUnavailable, is_unavailable, transaction
from bot.members import resolve
from bot.message import Message
from bot.models import InboundMessage
from bot.normalize import normalize
from bot.quick import Directory, Outcome, PassivePolicy, QuickPath, respond
from bot.quiz.lookup import LookupCache
from bot.router import Dispatcher, Route

__all__ = ["Outcome", "Pipeline"]

log = logging.getLogger(__name__)

# Attempts for a transaction that lost a race (e.g. two first messages registering one member).
_MAX_ATTEMPTS = 3


class _Duplicate(Exception):
    pass


@dataclass
class Pipeline:
    """Runs inbound messages through dedupe, resolution, routing and the handler."""

    config: Config
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    dispatcher: Dispatcher
    lookup: LookupCache | None = None
    quick: QuickPath | None = None  # messages that need no database reads, written in group commits
    directory: Directory = field(default_factory=Directory)
    # Messages being handled here; a future once a copy waits for the first to finish.
    _inflight: dict[tuple[str, str], asyncio.Future[None] | None] = field(default_factory=dict)

    @property
    def bot_names(self) -> tuple[str, ...]:
        return (self.config.bot.name, *self.config.bot.aliases)

    async def close(self) -> None:
        if self.quick is not None:
            await self.quick.close()

    async def process(self, msg: Message, passive: PassivePolicy | None = None, *, quick: bool = True) -> Outcome:
        """Handle msg exactly once; a repeat of a stored platform message id has no effect.

        passive: which reply the caller will carry in its HTTP answer; the quick path then writes it as
        delivered (Outcome.passive). Otherwise replies are held briefly for the channel to claim.
        quick=False: the full pipeline only (the caller tried process_quickly() already).
        """
        outcome = await self._handle(msg, passive, quick, full=True)
        assert outcome is not None
        return outcome

    async def process_quickly(self, msg: Message, passive: PassivePolicy | None = None) -> Outcome | None:
        """The outcome if msg is a duplicate or the quick path can handle it; None: call process(quick=False).

        For callers with a deadline: the quick path's wait is short and bounded (bot/quick.py), so it can run
        inline, and only the full pipeline needs a task and a timer. A copy of a message still being handled
        is a duplicate at once (process() waits for the first copy to finish).
        """
        return await self._handle(msg, passive, quick=True, full=False)

    async def _handle(self, msg: Message, passive: PassivePolicy | None, quick: bool, full: bool) -> Outcome | None:
        # The inbound table's unique key decides what is a duplicate; this map only keeps two copies of one message
        # out of one group commit, and lets a copy that arrives while the first is handled here answer at once.
        key = (msg.channel, msg.platform_msg_id)
        if key in self._inflight:  # a copy is being handled in this process: it is a duplicate
            if full:
                first = self._inflight[key]
                if first is None:
                    first = self._inflight[key] = asyncio.get_running_loop().create_future()
                await asyncio.shield(first)
            return Outcome(duplicate=True)
        self._inflight[key] = None
        try:
            if quick and self.quick is not None:
                outcome = await self.quick.handle(msg, passive)
                if outcome is not None:
                    return outcome
            return await self._process_fully(msg) if full else None
        finally:
            waiting = self._inflight.pop(key)
            if waiting is not None:
                waiting.set_result(None)

    async def _process_fully(self, msg: Message) -> Outcome:
        """Handle msg in one transaction, retrying lost races; a handler's failure is stored with one apology.

        Raises DatabaseUnavailable when the message could not be stored (the database is unreachable, locked or
        full): nothing was done, and the sender should send it again. Storing an apology then would make that
        retry a duplicate, and the apology could not be stored anyway.
        """
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                return await self._process_once(msg)
            except _Duplicate:
                return Outcome(duplicate=True)
            except Exception as exc:
                if is_unavailable(exc):
                    log.warning("message %s:%s not stored: database unavailable (%s)", *_key(msg), _reason(exc))
                    raise DatabaseUnavailable(_reason(exc)) from exc
                retryable = isinstance(exc, IntegrityError) or (isinstance(exc, DBAPIError) and _is_retryable(exc))
                if not retryable:
                    what = "database error" if isinstance(exc, DBAPIError) else "handler failed"
                    log.exception("%s for %s:%s", what, *_key(msg))
                    break
                if attempt == _MAX_ATTEMPTS:
                    log.exception("database error for %s:%s", *_key(msg))
                    break
                log.info("message %s:%s lost a race (%s); retrying", *_key(msg), exc)
        try:
            return await self._record_failure(msg)
        except Exception as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailable(_reason(exc)) from exc
            raise

    async def _store(self, session: AsyncSession, msg: Message, handled_by: str | None) -> InboundMessage:
        row = InboundMessage(
            channel=msg.channel,
            platform_msg_id=msg.platform_msg_id,
            platform_chat_id=msg.chat_id,
            platform_user_id=msg.sender_id,
            text=msg.text,
            sent_at=msg.sent_at,
            received_at=self.clock(),
            handled_by=handled_by,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:
            raise _Duplicate from None
        return row

    async def _process_once(self, msg: Message) -> Outcome:
        async with transaction(self.sessions) as session:
            inbound = await self._store(session, msg, None)
            text, mentioned, names = normalize(msg.text, self.bot_names)
            mentioned = mentioned or msg.mentions_bot
            ctx = Context(
                config=self.config,
                session=session,
                clock=self.clock,
                message=msg,
                inbound_id=inbound.id,
                dispatcher=self.dispatcher,
                lookup=self.lookup,
            )
            resolved = await resolve(session, self.config, msg, self.clock())
            ctx.branch, ctx.chat, ctx.member = resolved.branch, resolved.chat, resolved.member
            inbound.member_id = resolved.member.id if resolved.member else None
            handled_by = await self._route(msg, ctx, text, mentioned, names)
            inbound.handled_by = handled_by
            await session.flush()
            reply_ids = [row.id for row in ctx.outgoing]
        self.directory.learn(msg, resolved.branch, resolved.chat, resolved.member)
        return Outcome(handled_by=handled_by, reply_ids=reply_ids)

    async def _route(
        self, msg: Message, ctx: Context, text: str, mentioned: bool, names: tuple[str, ...]
    ) -> str | None:
        addressed = mentioned or msg.is_direct
        if ctx.member is None or ctx.branch is None:
            if addressed:
                await ctx.reply(texts.CHAT_NOT_BOUND)
                return "unbound"
            return None
        # What the member meant (bot/intent.py): an interpretation whose context is live is routed instead.
        reading = intent.read(msg.text, text, addressed)
        option = reading.choose(await intent.live_contexts(ctx, reading.needs)) if reading.options else None
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

    async def _record_failure(self, msg: Message) -> Outcome:
        """The error boundary: store the message as failed and apologise, once."""
        try:
            async with transaction(self.sessions) as session:
                inbound = await self._store(session, msg, "error")
                ctx = Context(config=self.config, session=session, clock=self.clock, message=msg, inbound_id=inbound.id)
                await ctx.reply(texts.GENERIC_ERROR)
                await session.flush()
                reply_ids = [row.id for row in ctx.outgoing]
        except _Duplicate:
            return Outcome(duplicate=True)
        return Outcome(handled_by="error", reply_ids=reply_ids)


def _is_retryable(exc: DBAPIError) -> bool:
    """Serialization failures and deadlocks (PostgreSQL) may succeed on an immediate retry.

    SQLite's "database is locked" is not among them: writers begin IMMEDIATE and wait busy_timeout for the
    lock, so it means the lock was held longer than that, and the database counts as unavailable.
    """
    text = str(exc.orig).lower()
    return any(s in text for s in ("serializ", "deadlock"))


def _key(msg: Message) -> tuple[str, str]:
    return msg.channel, msg.platform_msg_id


def _reason(exc: BaseException) -> str:
    """One line on why the database was unavailable (the driver's message, without SQLAlchemy's SQL dump)."""
    orig = getattr(exc, "orig", None)
    cause = orig if orig is not None else exc
    lines = str(cause).strip().splitlines()
    return lines[0][:200] if lines else type(cause).__name__
