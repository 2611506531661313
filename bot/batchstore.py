"""Where the quick path's group commits go: one transaction per batch, written synchronously.

On a SQLite file the batch runs on a connection of its own in a thread of its own: one hop from the event loop
per batch, and plain `sqlite3` inside (through SQLAlchemy's async adaptation every statement costs several
thread hops and far more CPU than SQLite itself). Elsewhere (PostgreSQL, an in-memory SQLite) it runs through the
app's engine, in `AsyncConnection.run_sync`. Both write exactly what the ORM would: same tables, same value
formats (SQLite datetimes as SQLAlchemy stores them, JSON as json.dumps).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, exists, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import DatabaseConfig
from bot.db import is_sqlite, writer_queue
from bot.models import (
    Chat,
    InboundMessage,
    Member,
    MemberIdentity,
    Outbox,
    OutboxStatus,
    Question,
    QuestionType,
    QuizMode,
    QuizRound,
    QuizSession,
)
from bot.quiz.state import RUNNING

T = TypeVar("T")
# A quiz session that may take answers: chat id, member id (practice), is a 每日一题, has a blank question.
BusyQuiz = tuple[int | None, int | None, bool, bool]
log = logging.getLogger(__name__)

# A batch that cannot take SQLite's write lock this soon fails, and its messages take the full way (which
# waits as long as [database] sqlite_busy_timeout_ms allows): the quick path stays quick enough to run inline
# in a platform callback with a reply deadline.
MAX_LOCK_WAIT_SECONDS = 1.0
# The group commit's connection does not checkpoint the WAL itself (SQLite's automatic checkpoint would run in
# the commit that crosses 1,000 pages, copying and syncing pages while every message of the batch waits): after
# this many batches a PASSIVE checkpoint runs on another connection, in another thread, beside the writes.
CHECKPOINT_EVERY_BATCHES = 200

INBOUND_COLUMNS = (
    "channel",
    "platform_msg_id",
    "platform_chat_id",
    "platform_user_id",
    "member_id",
    "text",
    "sent_at",
    "received_at",
    "handled_by",
)
OUTBOX_COLUMNS = (
    "channel",
    "target_kind",
    "target_id",
    "text",
    "mentions",
    "cause_inbound_id",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "sent_at",
    "delivered_via",
    "media_id",
)


MemberRow = tuple[int, int, str, str]  # id, branch id, role, display name
# Rows to insert, as tuples in the order of INBOUND_COLUMNS / OUTBOX_COLUMNS (aware datetimes, mentions a list).
Row = tuple[Any, ...]


class BatchStore(Protocol):
    """The statements of a group commit, inside its one transaction."""

    def busy_quizzes(self, since: datetime) -> list[BusyQuiz]:
        """(chat id, member id, is a 每日一题, has a blank question) of quiz sessions running, or finished at or
        after since."""
        ...

    def chats(self, ids: list[int]) -> list[tuple[int, int]]:
        """(id, branch id) of these chats."""
        ...

    def members(self, ids: list[int]) -> list[MemberRow]:
        """(id, branch id, role, display name) of these members."""
        ...

    def register(self, member: dict[str, Any], now: datetime, channel: str, user_id: str) -> MemberRow:
        """The member with this identity: registered now, or already (by another message or process)."""
        ...

    def insert_inbound(self, rows: list[Row]) -> list[tuple[int, str, str]]:
        """(id, channel, platform message id) of the rows inserted; a known message id is skipped."""
        ...

    def pushes_pending(self, channel: str, target_ids: list[str], now: datetime) -> set[tuple[str, str]]:
        """(target kind, target id) of these targets with a push (a row answering no message) being sent or due
        by now: an answer carried in an HTTP response would overtake it (order per target, bot/outbox.py)."""
        ...

    def insert_outbox(self, rows: list[Row]) -> list[tuple[int, int, str | None]]:
        """(id, cause inbound id, delivered via) of the rows inserted."""
        ...


class Runner(Protocol):
    async def run(self, body: Callable[[BatchStore], T]) -> T: ...

    async def close(self) -> None: ...


def open_store(config: DatabaseConfig, engine: AsyncEngine) -> Runner:
    database = engine.url.database
    if is_sqlite(config.url) and database and database != ":memory:" and not database.startswith("file:"):
        return SqliteStore(database, config.sqlite_busy_timeout_ms, writer_queue(engine))
    return EngineStore(engine)


# --- SQLite: a connection and a thread of its own ----------------------------------------------------------


@lru_cache(maxsize=1024)  # a batch repeats its `now` in every row
def _sqlite_time(value: datetime | None) -> str | None:
    """As SQLAlchemy stores a UtcDateTime on SQLite: UTC, no zone, microseconds always written."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database; use an aware one")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _inbound_params(rows: list[Row]) -> list[Any]:
    """The rows' values in one flat list, as sqlite3 takes them (spelled out: this runs for every message)."""
    out: list[Any] = []
    for channel, msg_id, chat_id, user_id, member_id, text, sent_at, received_at, handled_by in rows:
        out += (channel, msg_id, chat_id, user_id, member_id, text)
        out += (_sqlite_time(sent_at), _sqlite_time(received_at), handled_by)
    return out


def _outbox_params(rows: list[Row]) -> list[Any]:
    out: list[Any] = []
    for channel, kind, target, text, mentions, cause, status, attempts, due, created, sent, via, media in rows:
        out += (channel, kind, target, text, json.dumps(mentions) if mentions else "[]", cause, status, attempts)
        out += (_sqlite_time(due), _sqlite_time(created), _sqlite_time(sent), via, media)
    return out


class SqliteStore:
    """Batches on a plain sqlite3 connection used by one worker thread (BEGIN IMMEDIATE, like the engine)."""

    def __init__(self, path: str, busy_timeout_ms: int, writers: asyncio.Lock) -> None:
        self._path = path
        self._writers = writers
        self._busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yizhan-group-commit")
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yizhan-checkpoint")
        self._batches = 0
        self._conn: sqlite3.Connection | None = None
        self._inserts: dict[tuple[str, int], str] = {}

    async def run(self, body: Callable[[BatchStore], T]) -> T:
        # In turn with the engine's writers in this process (bot.db), but not for long: a batch that cannot start
        # soon fails and its messages take the full way (where a platform's reply deadline is watched).
        await asyncio.wait_for(self._writers.acquire(), MAX_LOCK_WAIT_SECONDS)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._transaction, body)
        finally:
            self._writers.release()

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)
        self._checkpointer.shutdown(wait=True)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # Statements differ by batch size (up to MAX_BATCH rows each): keep them all prepared.
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, cached_statements=512)
            # BEGIN waits in _begin(); statements inside the transaction never wait (the lock is ours).
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._conn = conn
        return self._conn

    def _begin(self, conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE, polling finely while another connection writes.

        SQLite's own busy handler sleeps 1, 2, 5 … up to 100 ms between tries: a batch would often wait far
        longer than the other transaction lasts, and every message in it with the batch.
        """
        deadline = time.monotonic() + min(self._busy_timeout_ms / 1000, MAX_LOCK_WAIT_SECONDS)
        pause = 0.0002
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.002)

    def _transaction(self, body: Callable[[BatchStore], T]) -> T:
        conn = self._connection()
        self._begin(conn)
        try:
            result = body(self)
            conn.execute("COMMIT")
        except BaseException:
            self._abort(conn)
            raise
        self._batches += 1
        if self._batches % CHECKPOINT_EVERY_BATCHES == 0:
            self._checkpointer.submit(self._checkpoint)
        return result

    def _abort(self, conn: sqlite3.Connection) -> None:
        """Roll back; a connection that cannot is closed (it would keep SQLite's write lock)."""
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            self._close()

    def _checkpoint(self) -> None:
        try:
            with contextlib.closing(sqlite3.connect(self._path, isolation_level=None)) as conn:
                conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            log.warning("WAL checkpoint failed; the next one will try again", exc_info=True)

    def busy_quizzes(self, since: datetime) -> list[BusyQuiz]:
        return [
            (chat_id, member_id, bool(daily), bool(blank))
            for chat_id, member_id, daily, blank in self._connection().execute(
                "SELECT s.chat_id, s.member_id, s.mode = ?, EXISTS (SELECT 1 FROM quiz_round r JOIN question q"
                " ON q.id = r.question_id WHERE r.session_id = s.id AND q.type = ?)"
                " FROM quiz_session s WHERE s.status = ? OR s.finished_at >= ?",
                (QuizMode.DAILY, QuestionType.BLANK, RUNNING, _sqlite_time(since)),
            )
        ]

    def chats(self, ids: list[int]) -> list[tuple[int, int]]:
        marks = ",".join("?" * len(ids))
        return self._connection().execute(f"SELECT id, branch_id FROM chat WHERE id IN ({marks})", ids).fetchall()

    def pushes_pending(self, channel: str, target_ids: list[str], now: datetime) -> set[tuple[str, str]]:
        marks = ",".join("?" * len(target_ids))
        rows = self._connection().execute(
            "SELECT DISTINCT target_kind, target_id FROM outbox WHERE channel = ? AND target_id IN "
            f"({marks}) AND status IN ('pending', 'sending') AND cause_inbound_id IS NULL "
            "AND (status = 'sending' OR next_attempt_at <= ?)",
            [channel, *target_ids, _sqlite_time(now)],
        )
        return {(kind, target) for kind, target in rows}

    def members(self, ids: list[int]) -> list[tuple[int, int, str, str]]:
        marks = ",".join("?" * len(ids))
        return (
            self._connection()
            .execute(f"SELECT id, branch_id, role, display_name FROM member WHERE id IN ({marks})", ids)
            .fetchall()
        )

    def register(self, member: dict[str, Any], now: datetime, channel: str, user_id: str) -> MemberRow:
        conn = self._connection()
        found = conn.execute(
            "SELECT m.id, m.branch_id, m.role, m.display_name FROM member_identity AS i"
            " JOIN member AS m ON m.id = i.member_id WHERE i.channel = ? AND i.platform_user_id = ?",
            (channel, user_id),
        ).fetchone()
        if found is not None:
            return cast(MemberRow, tuple(found))
        cursor = conn.execute(
            "INSERT INTO member (branch_id, display_name, role, created_at) VALUES (?, ?, ?, ?)",
            (member["branch_id"], member["display_name"], member["role"], _sqlite_time(now)),
        )
        member_id = cast(int, cursor.lastrowid)
        # The write lock is ours since BEGIN IMMEDIATE: nobody can have added the identity meanwhile.
        conn.execute(
            "INSERT INTO member_identity (member_id, channel, platform_user_id) VALUES (?, ?, ?)",
            (member_id, channel, user_id),
        )
        return (member_id, member["branch_id"], member["role"], member["display_name"])

    def insert_inbound(self, rows: list[Row]) -> list[tuple[int, str, str]]:
        sql = self._insert_sql(
            "inbound_message",
            INBOUND_COLUMNS,
            len(rows),
            " ON CONFLICT (channel, platform_msg_id) DO NOTHING RETURNING id, channel, platform_msg_id",
        )
        return self._connection().execute(sql, _inbound_params(rows)).fetchall()

    def insert_outbox(self, rows: list[Row]) -> list[tuple[int, int, str | None]]:
        sql = self._insert_sql("outbox", OUTBOX_COLUMNS, len(rows), " RETURNING id, cause_inbound_id, delivered_via")
        return self._connection().execute(sql, _outbox_params(rows)).fetchall()

    def _insert_sql(self, table: str, columns: tuple[str, ...], count: int, tail: str) -> str:
        key = (table, count)
        if key not in self._inserts:
            row = "(" + ", ".join("?" * len(columns)) + ")"
            self._inserts[key] = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * count)}{tail}"
        return self._inserts[key]


# --- Anywhere else: the app's engine ------------------------------------------------------------------------

_INBOUND = cast(Table, InboundMessage.__table__)
_OUTBOX = cast(Table, Outbox.__table__)
_MEMBER = cast(Table, Member.__table__)
_IDENTITY = cast(Table, MemberIdentity.__table__)
_BUSY_QUIZZES = select(
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
_CHATS = select(Chat.id, Chat.branch_id).where(Chat.id.in_(bindparam("ids", expanding=True)))
_PUSHES_PENDING = (
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
_MEMBERS = select(Member.id, Member.branch_id, Member.role, Member.display_name).where(
    Member.id.in_(bindparam("ids", expanding=True))
)
# Not sort_by_parameter_order: SQLite would then insert row by row. Callers match rows by their cause.
_INSERT_OUTBOX = insert(_OUTBOX).returning(_OUTBOX.c.id, _OUTBOX.c.cause_inbound_id, _OUTBOX.c.delivered_via)
_INSERT_MEMBER = insert(_MEMBER).returning(_MEMBER.c.id)
_IDENTITY_MEMBER = (
    select(Member.id, Member.branch_id, Member.role, Member.display_name)
    .join(MemberIdentity, MemberIdentity.member_id == Member.id)
    .where(MemberIdentity.channel == bindparam("channel"), MemberIdentity.platform_user_id == bindparam("user_id"))
)
_DELETE_MEMBER = delete(_MEMBER).where(_MEMBER.c.id == bindparam("member_id"))


class EngineStore:
    """Batches through the app's engine (SQLAlchemy Core on a sync connection inside run_sync)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        upsert = sqlite.insert if engine.dialect.name == "sqlite" else postgresql.insert
        self._insert_inbound = (
            upsert(_INBOUND)
            .on_conflict_do_nothing(index_elements=["channel", "platform_msg_id"])
            .returning(_INBOUND.c.id, _INBOUND.c.channel, _INBOUND.c.platform_msg_id)
        )
        self._insert_identity = (
            upsert(_IDENTITY)
            .on_conflict_do_nothing(index_elements=["channel", "platform_user_id"])
            .returning(_IDENTITY.c.id)
        )

    async def run(self, body: Callable[[BatchStore], T]) -> T:
        async with self._engine.begin() as conn:
            return await conn.run_sync(lambda sync: body(_Bound(self, sync)))

    async def close(self) -> None:
        pass


class _Bound:
    """An EngineStore's statements on one transaction's connection."""

    def __init__(self, store: EngineStore, conn: Connection) -> None:
        self._store = store
        self._conn = conn

    def busy_quizzes(self, since: datetime) -> list[BusyQuiz]:
        rows = self._conn.execute(_BUSY_QUIZZES, {"since": since})
        return [(r.chat_id, r.member_id, bool(r.daily), bool(r.blank)) for r in rows]

    def chats(self, ids: list[int]) -> list[tuple[int, int]]:
        return [(r.id, r.branch_id) for r in self._conn.execute(_CHATS, {"ids": ids})]

    def pushes_pending(self, channel: str, target_ids: list[str], now: datetime) -> set[tuple[str, str]]:
        rows = self._conn.execute(_PUSHES_PENDING, {"channel": channel, "targets": target_ids, "now": now})
        return {(r.target_kind, r.target_id) for r in rows}

    def members(self, ids: list[int]) -> list[tuple[int, int, str, str]]:
        return [(r.id, r.branch_id, r.role, r.display_name) for r in self._conn.execute(_MEMBERS, {"ids": ids})]

    def register(self, member: dict[str, Any], now: datetime, channel: str, user_id: str) -> MemberRow:
        found = self._conn.execute(_IDENTITY_MEMBER, {"channel": channel, "user_id": user_id}).first()
        if found is None:
            member_id = self._conn.scalar(_INSERT_MEMBER, dict(member, created_at=now))
            identity = self._conn.scalar(
                self._store._insert_identity,
                {"member_id": member_id, "channel": channel, "platform_user_id": user_id},
            )
            if identity is not None:
                return (cast(int, member_id), member["branch_id"], member["role"], member["display_name"])
            # Registered meanwhile by another process (PostgreSQL): theirs counts.
            self._conn.execute(_DELETE_MEMBER, {"member_id": member_id})
            found = self._conn.execute(_IDENTITY_MEMBER, {"channel": channel, "user_id": user_id}).one()
        return (found.id, found.branch_id, found.role, found.display_name)

    def insert_inbound(self, rows: list[Row]) -> list[tuple[int, str, str]]:
        params = [dict(zip(INBOUND_COLUMNS, row, strict=True)) for row in rows]
        return [(r.id, r.channel, r.platform_msg_id) for r in self._conn.execute(self._store._insert_inbound, params)]

    def insert_outbox(self, rows: list[Row]) -> list[tuple[int, int, str | None]]:
        params = [dict(zip(OUTBOX_COLUMNS, row, strict=True)) for row in rows]
        return [(r.id, r.cause_inbound_id, r.delivered_via) for r in self._conn.execute(_INSERT_OUTBOX, params)]
