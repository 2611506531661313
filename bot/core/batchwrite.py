"""The group commit's statements, and how it writes the plans the pipeline decided before the write.

SQLAlchemy Core, a few statements for the whole batch: the grounds each decision relied on are read again in
the transaction (members, chats, the quizzes that could take an answer); a plan whose grounds changed loses its
decision and runs its handler after this, in the same transaction (bot/core/groupcommit.py).
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Executable,
    Insert,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    insert,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Dialect

from bot.core.config import Config
from bot.core.context import Draft, reply_target
from bot.core.db import FORM_SIZES, Form, Prepared, binds, insert_for, listed
from bot.core.directory import BusyQuiz, ChatCard, MemberCard, gates
from bot.core.message import Message, Outgoing
from bot.core.models import Branch, Chat, InboundMessage, Member, MemberIdentity, Outbox, OutboxStatus
from bot.core.plans import Decision, Outcome, PassivePolicy, Plan, Seen, carried
from bot.quiz.models import Question, QuestionType, QuizMode, QuizRound, QuizSession
from bot.quiz.state import LATE_ANSWER_SECONDS, RUNNING


class DecidedWriter:
    """Writes a batch's decided plans (synchronous: it runs in the transaction's greenlet)."""

    def __init__(self, config: Config, statements: Statements) -> None:
        self.config = config
        self.statements = statements

    def write(
        self, conn: Connection, batch: list[Plan], now: datetime, results: list[Outcome | None], seen: Seen
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
        behind = seen.behind = self.behind(conn, [(item.msg, item.passive) for item in batch], now)
        self.gates(conn, now, seen)
        decided = [i for i, item in enumerate(batch) if item.decision is not None]
        if not decided:
            return
        live = self._still_valid(conn, batch, decided, now, seen)
        live = self._register(conn, batch, live, now, seen)
        for i in set(decided) - set(live):
            batch[i].decision = None
        if not live:
            return
        inbound = []
        for i in live:
            item = batch[i]
            msg, decision = item.msg, cast(Decision, item.decision)
            member_id = decision.member.id or None
            inbound.append(
                (msg.channel, msg.platform_msg_id, msg.chat_id, msg.sender_id, member_id, msg.text, msg.sent_at, now)
                + (decision.handled_by,)
            )
        inserted = s.inbound_rows.execute(conn, inbound)
        inbound_ids = {(r.channel, r.platform_msg_id): r.id for r in inserted}
        claimed: set[int] = set()  # two plans for one message (should not happen): the second is a duplicate
        rows: list[tuple[Any, ...]] = []
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
            chosen = set(carried(decision.rows, item.passive, behind)) if item.passive is not None else set()
            # Without a passive policy the channel may still claim the rows; with one, what it will not carry
            # goes to the sender at once.
            held = item.passive is None
            for index, row in enumerate(decision.rows):
                if index in chosen:
                    carried_rows.setdefault(i, []).append(row)
                rows.append(self._outbox(row, inbound_id, index in chosen, held, now))
        if not rows:
            return
        # One statement's rows get ascending ids in the order given: sorting restores each message's order.
        written = s.outbox_rows.execute(conn, rows)
        for row_id, cause, via in sorted((r.id, r.cause_inbound_id, r.delivered_via) for r in written):
            i = owners[cause]
            outcome = results[i]
            assert outcome is not None
            outcome.reply_ids.append(row_id)
            if via == "passive" and outcome.passive is not None:
                outcome.passive.append(outgoing(row_id, carried_rows[i][len(outcome.passive)]))
            else:
                seen.pushed = True

    def replies(
        self, conn: Connection, rows: list[Draft], inbound_id: int, chosen: list[int] | None, now: datetime
    ) -> list[int]:
        """Insert the replies a handler made to the message stored as inbound_id (in its savepoint, after the
        handler returned); their ids, in order.

        chosen: the rows the channel's HTTP answer carries (bot/core/plans.py carried), written as delivered, the
        others due now; None (no passive policy): held for the channel to claim, as a decided plan's.
        """
        picked = set(chosen) if chosen is not None else ()
        held = chosen is None
        values = [self._outbox(row, inbound_id, i in picked, held, now) for i, row in enumerate(rows)]
        # One statement's rows get ascending ids in the order given (as the decided plans' replies).
        return sorted(r.id for r in self.statements.outbox_rows.execute(conn, values))

    def behind(
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
            found = self.statements.pushes_pending.rows(
                conn, {"channel": channel, "targets": sorted(targets), "now": now}
            )
            behind.update((channel, r.target_kind, r.target_id) for r in found)
        return behind

    def gates(self, conn: Connection, now: datetime, seen: Seen) -> None:
        """Read where quizzes may take answers (live, or a 抢答 just finished) in this transaction, for the decided
        plans' grounds and for the handlers in the savepoints after them (Seen.gates_hold)."""
        since = now - timedelta(seconds=LATE_ANSWER_SECONDS)
        busy: list[BusyQuiz] = [
            (r.chat_id, r.member_id, bool(r.daily), bool(r.blank))
            for r in self.statements.busy_quizzes.rows(conn, {"since": since})
        ]
        seen.busy_chats, seen.busy_members = gates(busy)
        seen.gates_hold = True

    def who(self, conn: Connection, msgs: list[Message], seen: Seen) -> None:
        """Read who sent msgs (the undecided messages) and where: the members by identity, the chats, and the units
        of both, for resolve() in the savepoints after this (Seen.who_holds)."""
        s = self.statements
        users: dict[str, set[str]] = {}
        chats: dict[str, set[str]] = {}
        for msg in msgs:
            users.setdefault(msg.channel, set()).add(msg.sender_id)
            if msg.chat_id is not None:
                chats.setdefault(msg.channel, set()).add(msg.chat_id)
        for channel, ids in users.items():
            for r in s.known_members.rows(conn, {"channel": channel, "users": sorted(ids)}):
                seen.known_members[(channel, r.user_id)] = r
        for channel, ids in chats.items():
            for r in s.known_chats.rows(conn, {"channel": channel, "chats": sorted(ids)}):
                seen.known_chats[(channel, r.platform_chat_id)] = r
        units = {r.branch_id for r in (*seen.known_members.values(), *seen.known_chats.values())}
        if units:
            seen.known_branches.update((r.id, r) for r in s.known_branches.rows(conn, {"ids": sorted(units)}))
        seen.who_holds = True

    def _still_valid(
        self, conn: Connection, batch: list[Plan], decided: list[int], now: datetime, seen: Seen
    ) -> list[int]:
        """Indices of the decided plans whose grounds hold in this transaction (noting what it saw)."""
        s = self.statements
        decisions = [cast(Decision, batch[i].decision) for i in decided]
        chats = {d.chat.id: d.chat for d in decisions if d.chat is not None}
        current_chats = (
            {r.id: ChatCard(r.id, r.branch_id) for r in s.chats.rows(conn, {"ids": list(chats)})} if chats else {}
        )
        seen.chats = {chat_id: current_chats.get(chat_id) for chat_id in chats}
        known = list({d.member.id for d in decisions if d.member.id})
        current = (
            {r.id: MemberCard(r.id, r.branch_id, r.role, r.display_name) for r in s.members.rows(conn, {"ids": known})}
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

    def _register(self, conn: Connection, batch: list[Plan], live: list[int], now: datetime, seen: Seen) -> list[int]:
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

    def _outbox(self, row: Draft, inbound_id: int, passive: bool, held: bool, now: datetime) -> tuple[Any, ...]:
        """An outbox row in OUTBOX_KEYS' order: carried in the HTTP answer (passive), else pending — held briefly
        for the channel to claim (OutboxSender.deliver_now), or due now."""
        created = row.created_at or now
        # A handler's reply without a card stores None as its ORM row did (JSON null); a decided one never had
        # the column (SQL NULL). Both read as None.
        card = row.card if row.card is not None or row.created_at is not None else _SQL_NULL
        target = (*_target(row), _mentions(row), inbound_id)
        if passive:
            return (*target, OutboxStatus.SENT, 1, now, created, now, "passive", row.media_id, card)
        due = created + timedelta(seconds=self.config.outbox.reply_hold_seconds) if held else now
        return (*target, OutboxStatus.PENDING, 0, due, created, None, None, row.media_id, card)


def outgoing(row_id: int, row: Draft) -> Outgoing:
    """What a channel carries in its HTTP answer for the reply row_id, made as row."""
    return Outgoing(
        row_id, row.channel, row.target_kind, row.target_id, row.text, row.mentions, row.media_id, card=row.card
    )


def _target(row: Draft) -> tuple[str, str, str, str]:
    return row.channel, row.target_kind, row.target_id, row.text


def _mentions(row: Draft) -> list[str]:
    # One list object for the rows that mention nobody: the JSON is made once per batch (BatchInsert).
    return list(row.mentions) if row.mentions else _NO_MENTIONS


_NO_MENTIONS: list[str] = []
_SQL_NULL = null()


# --- the statements ----------------------------------------------------------------------------------------

_INBOUND = cast(Table, InboundMessage.__table__)
_OUTBOX = cast(Table, Outbox.__table__)
_MEMBER = cast(Table, Member.__table__)
_IDENTITY = cast(Table, MemberIdentity.__table__)
_CHAT = cast(Table, Chat.__table__)
_BRANCH = cast(Table, Branch.__table__)


class BatchInsert:
    """An INSERT … RETURNING of many rows in a few statements (bot/core/db.py Prepared, a form per row count).

    The statement is Core's multi-row VALUES form of `statement` (what SQLAlchemy's insertmanyvalues sends for an
    executemany with RETURNING), with values made by the columns' own bind processors: what reaches the database
    is what conn.execute(statement, rows) would send. It saves that path's per-row work (a parameter dict built
    and processed per row) and calls a processor once for a value the rows share (the batch's time; a second's
    messages' sent_at).
    """

    def __init__(self, statement: Insert, keys: tuple[str, ...]) -> None:
        self.statement = statement
        self.keys = keys  # a row is a tuple in this order
        table = cast(Table, statement.table)
        self.prepared = Prepared(
            lambda count: statement.values(
                [
                    {name: bindparam(f"r{i}_{j}", type_=table.c[name].type) for j, name in enumerate(keys)}
                    for i in range(count)
                ]
            )
        )
        self._columns: dict[tuple[str, int], list[tuple[int, Any]]] = {}

    def execute(self, conn: Connection, rows: list[tuple[Any, ...]]) -> list[Any]:
        """The RETURNING rows of rows inserted (in no particular order)."""
        if conn.dialect.name != "sqlite":
            # On a server each statement is a round trip: SQLAlchemy's own executemany sends the batch as one
            # multi-row statement (insertmanyvalues), where the forms here would take up to 9.
            return list(conn.execute(self.statement, [dict(zip(self.keys, row, strict=True)) for row in rows]))
        found: list[Any] = []
        start = 0
        while start < len(rows):
            # The largest form size that fits (bot/core/db.py FORM_SIZES): few compiled forms, few statements.
            count = FORM_SIZES[bisect.bisect_right(FORM_SIZES, len(rows) - start) - 1]
            chunk = rows[start : start + count]
            start += count
            form, columns = self._form(conn.dialect, count)
            values: list[Any] = []
            last: list[Any] = [_NOTHING] * len(columns)
            made: list[Any] = [None] * len(columns)
            for row in chunk:
                for k, (j, process) in enumerate(columns):
                    value = row[j]
                    if process is not None:
                        if value is not last[k] and not _same_time(value, last[k]):
                            last[k], made[k] = value, process(value)
                        value = made[k]
                    values.append(value)
            found.extend(form.run(conn, tuple(values)))
        return found

    def warm(self, dialect: Dialect) -> None:
        """Compile every form now (see Statements.warm)."""
        if dialect.name == "sqlite":
            for count in FORM_SIZES:
                self._form(dialect, count)

    def _form(self, dialect: Dialect, count: int) -> tuple[Form, list[tuple[int, Any]]]:
        """The form for count rows, and per placeholder of a row: the row's position and its bind processor."""
        form = self.prepared.form(dialect, count)
        columns = self._columns.get((dialect.name, count))
        if columns is None:
            first = {f"r0_{j}": j for j in range(len(self.keys))}
            columns = [(first.get(name, -1), process) for name, process in form.binds[: len(self.keys)]]
            # Every row's placeholders in one order, all of them ours (no default added for a missing column).
            if [name for name, _ in form.binds] != [f"r{i}_{j}" for i in range(count) for j, _ in columns]:
                raise ValueError(f"the insert does not compile to {count} rows of {self.keys}")
            self._columns[(dialect.name, count)] = columns
        return form, columns


_NOTHING = object()


def _same_time(value: Any, last: Any) -> bool:
    """Two equal datetimes (messages of one second have one sent_at, as distinct objects): bound alike.

    Equal offsets too: in one zone, == ignores fold, so the 01:30 before and after a clock goes back compare equal
    though an hour apart."""
    return (
        type(value) is datetime and type(last) is datetime and value == last and value.utcoffset() == last.utcoffset()
    )


# The columns of the rows the decided writer inserts, in the order of its tuples.
INBOUND_KEYS = (
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
OUTBOX_KEYS = (
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
    "card",
)


class Statements:
    """The group commit's Core statements; those of the decided write run Prepared (bot/core/db.py)."""

    # The rows come back in no particular order: callers match them by their cause.
    insert_outbox = insert(_OUTBOX).returning(_OUTBOX.c.id, _OUTBOX.c.cause_inbound_id, _OUTBOX.c.delivered_via)
    delete_member = delete(_MEMBER).where(_MEMBER.c.id == bindparam("member_id"))

    @staticmethod
    @cache
    def of(dialect: str) -> Statements:
        """The statements for a dialect, one set per process (their compiled forms are kept with them)."""
        return Statements(dialect)

    def warm(self, dialect: Dialect) -> None:
        """Compile every form of the decided write now (at start-up, bot/app.py): compiled at first use, they
        cost the first batches tens to hundreds of milliseconds."""
        self.inbound_rows.warm(dialect)
        self.outbox_rows.warm(dialect)
        for prepared in (
            self.busy_quizzes,
            self.chats,
            self.members,
            self.pushes_pending,
            self.identity_member,
            self.known_members,
            self.known_chats,
            self.known_branches,
            self.inbound_one,
            self.handled,
        ):
            prepared.warm(dialect)
        self.insert_member.warm(dialect)
        self.insert_identity.warm(dialect)

    def __init__(self, dialect: str) -> None:
        # Dedupe: a message already stored (a platform's retry, another instance) inserts nothing.
        self.insert_inbound = (
            insert_for(dialect, _INBOUND)
            .on_conflict_do_nothing(index_elements=["channel", "platform_msg_id"])
            .returning(_INBOUND.c.id, _INBOUND.c.channel, _INBOUND.c.platform_msg_id)
        )
        self.inbound_rows = BatchInsert(self.insert_inbound, INBOUND_KEYS)
        self.outbox_rows = BatchInsert(self.insert_outbox, OUTBOX_KEYS)
        # A savepoint's inbound row (its dedupe point, before the handler runs), and what the handler made of it.
        self.inbound_one = Prepared(
            lambda _: (
                insert_for(dialect, _INBOUND)
                .values(binds(_INBOUND, *INBOUND_KEYS))
                .on_conflict_do_nothing(index_elements=["channel", "platform_msg_id"])
                .returning(_INBOUND.c.id)
            )
        )
        self.handled = Prepared(lambda _: _SET_HANDLED)
        self.busy_quizzes = Prepared(lambda _: _BUSY_QUIZZES)
        self.chats = Prepared(lambda n: select(Chat.id, Chat.branch_id).where(Chat.id.in_(listed("ids", n))), "ids")
        self.members = Prepared(lambda n: _MEMBER_CARD.where(Member.id.in_(listed("ids", n))), "ids")
        self.pushes_pending = Prepared(_pushes_pending, "targets")
        self.known_members = Prepared(
            lambda n: _KNOWN_MEMBERS.where(MemberIdentity.platform_user_id.in_(listed("users", n))), "users"
        )
        self.known_chats = Prepared(
            lambda n: select(*_CHAT.c).where(
                _CHAT.c.channel == bindparam("channel"), _CHAT.c.platform_chat_id.in_(listed("chats", n))
            ),
            "chats",
        )
        self.known_branches = Prepared(lambda n: select(*_BRANCH.c).where(_BRANCH.c.id.in_(listed("ids", n))), "ids")
        self.identity_member = Prepared(lambda _: _IDENTITY_MEMBER)
        self.insert_member = Prepared(
            lambda _: (
                insert(_MEMBER)
                .values(binds(_MEMBER, "branch_id", "display_name", "role", "created_at"))
                .returning(_MEMBER.c.id)
            )
        )
        self.insert_identity = Prepared(
            lambda _: (
                insert_for(dialect, _IDENTITY)
                .values(binds(_IDENTITY, "member_id", "channel", "platform_user_id"))
                .on_conflict_do_nothing(index_elements=["channel", "platform_user_id"])
                .returning(_IDENTITY.c.id)
            )
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
        who = {"channel": channel, "user_id": user_id}
        found = self.identity_member.first(conn, who)
        if found is None:
            member_id = self.insert_member.first(conn, dict(member, created_at=now)).id
            identity = self.insert_identity.first(
                conn, {"member_id": member_id, "channel": channel, "platform_user_id": user_id}
            )
            if identity is not None:
                return MemberCard(member_id, member["branch_id"], member["role"], member["display_name"])
            # Registered meanwhile by another process (PostgreSQL): theirs counts.
            conn.execute(self.delete_member, {"member_id": member_id})
            found = self.identity_member.first(conn, who)
        return MemberCard(found.id, found.branch_id, found.role, found.display_name)


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
).where(
    # (RUNNING is written into the SQL: bot/core/models.py IndexedWord.)
    or_(QuizSession.status == RUNNING, QuizSession.finished_at >= bindparam("since"))
)
_SET_HANDLED = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("inbound_id"))
    .values(member_id=bindparam("member"), handled_by=bindparam("handled"))
)
_MEMBER_CARD = select(Member.id, Member.branch_id, Member.role, Member.display_name)
_KNOWN_MEMBERS = (
    select(MemberIdentity.platform_user_id.label("user_id"), *_MEMBER.c)
    .join_from(MemberIdentity, Member, Member.id == MemberIdentity.member_id)
    .where(MemberIdentity.channel == bindparam("channel"))
)
_IDENTITY_MEMBER = _MEMBER_CARD.join(MemberIdentity, MemberIdentity.member_id == Member.id).where(
    MemberIdentity.channel == bindparam("channel"), MemberIdentity.platform_user_id == bindparam("user_id")
)


def _pushes_pending(count: int) -> Select[str, str]:
    return (
        select(Outbox.target_kind, Outbox.target_id)
        .where(
            Outbox.channel == bindparam("channel"),
            Outbox.target_id.in_(listed("targets", count)),
            Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
            Outbox.cause_inbound_id.is_(None),
            or_(Outbox.status == OutboxStatus.SENDING, Outbox.next_attempt_at <= bindparam("now")),
        )
        .distinct()
    )
