"""The group commit's statements run Prepared (compiled once, on the DBAPI cursor): the same rows as execute()."""

from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, null, select, text
from sqlalchemy.exc import IntegrityError

from bot.core import db
from bot.core.batchwrite import INBOUND_KEYS, OUTBOX_KEYS, Statements
from bot.core.config import DatabaseConfig
from bot.core.models import Member
from tests.conftest import START


async def test_batch_inserts_store_what_execute_stores(db_url):
    """The same rows written by conn.execute() (SQLAlchemy's insertmanyvalues) and by the batch insert (70 rows:
    statements of 64, 4, 1 and 1) are stored alike: times, JSON (and a JSON null apart from SQL NULL), texts."""
    engine = db.create_engine(DatabaseConfig(url=db_url), inline=True)
    statements = Statements(engine.dialect.name)
    now = START + timedelta(microseconds=123456)
    inbound = [
        (
            "test",
            f"m{i}",
            None if i % 2 else "c1",
            f"u{i}",
            None,
            f"说 {i} ’'\x01",
            now - timedelta(seconds=i),
            now,
            "h",
        )
        for i in range(70)
    ]
    # A card: a dict, None (JSON null, as the ORM stores it) or SQL NULL (a decided reply's).
    cards = [{"buttons": [{"key": "k", "label": "收到"}]}, None, null()]
    outbox = [
        ("test", "user", f"u{i}", f"t{i}", ["a", "b"] if i % 3 else [], None, "sent", 1, now, now)
        + (None if i % 2 else now, "passive", None, cards[i % 3])
        for i in range(70)
    ]
    read_inbound = text(f"SELECT {', '.join(INBOUND_KEYS)} FROM inbound_message WHERE channel = 'test' ORDER BY id")
    read_outbox = text(f"SELECT {', '.join(OUTBOX_KEYS)} FROM outbox WHERE channel = 'test' ORDER BY id")

    def write(conn: Any) -> None:
        rows = conn.execute(statements.insert_inbound, [dict(zip(INBOUND_KEYS, r, strict=True)) for r in inbound]).all()
        assert len(rows) == 70
        conn.execute(statements.insert_outbox, [dict(zip(OUTBOX_KEYS, r, strict=True)) for r in outbox])
        by_core = (conn.execute(read_inbound).all(), conn.execute(read_outbox).all())
        conn.execute(text("DELETE FROM outbox WHERE channel = 'test'"))
        conn.execute(text("DELETE FROM inbound_message WHERE channel = 'test'"))

        rows = statements.inbound_rows.execute(conn, inbound)
        assert sorted(r.platform_msg_id for r in rows) == sorted(f"m{i}" for i in range(70))
        assert {r.channel for r in rows} == {"test"}
        written = statements.outbox_rows.execute(conn, outbox)
        assert len(written) == 70 and {r.delivered_via for r in written} == {"passive"}
        assert (conn.execute(read_inbound).all(), conn.execute(read_outbox).all()) == by_core
        nulls = text("SELECT card IS NULL FROM outbox WHERE channel = 'test' ORDER BY id")
        assert [bool(n) for (n,) in conn.execute(nulls)] == [i % 3 == 2 for i in range(70)]
        # A message already stored inserts nothing (ON CONFLICT DO NOTHING): only the new one comes back.
        again = statements.inbound_rows.execute(conn, [inbound[5], ("test", "m-new", *inbound[0][2:])])
        assert [r.platform_msg_id for r in again] == ["m-new"]

    try:
        async with engine.begin() as conn:
            await conn.run_sync(write)
    finally:
        await engine.dispose()


async def test_prepared_statements_read_as_execute_reads(bot):
    commits = bot.services.pipeline.commits
    statements = commits.statements

    def read(conn: Any) -> None:
        members = conn.execute(select(Member.id, Member.branch_id, Member.role, Member.display_name)).all()
        assert len(members) >= 3
        # Three ids go as four parameters (the last repeated); the rows are the same, by name too.
        got = statements.members.rows(conn, {"ids": [m.id for m in members[:3]]})
        assert sorted(tuple(r) for r in got) == sorted(tuple(m) for m in members[:3])
        assert {r.display_name for r in got} == {m.display_name for m in members[:3]}
        assert statements.busy_quizzes.rows(conn, {"since": START}) == []
        assert statements.identity_member.first(conn, {"channel": "nowhere", "user_id": "nobody"}) is None

    async with commits.engine.begin() as conn:
        await conn.run_sync(read)


async def test_a_prepared_statements_error_is_sqlalchemys(bot):
    commits = bot.services.pipeline.commits
    member = {"branch_id": 10**9, "display_name": "x", "role": "member", "created_at": START}
    with pytest.raises(IntegrityError):  # no such branch (a foreign key)
        async with commits.engine.begin() as conn:
            await conn.run_sync(lambda sync: commits.statements.insert_member.first(sync, member))


def test_a_statement_prepared_cannot_run_is_refused():
    from sqlalchemy.dialects import sqlite

    expanding = db.Prepared(lambda _: select(Member.id).where(Member.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="not a statement"):
        expanding.form(sqlite.dialect(), 0)


async def test_a_push_is_found_pending_by_its_due_time(bot):
    """A time given to a Prepared statement is bound as execute() binds it (UTC, the stored format)."""
    commits = bot.services.pipeline.commits
    statements = commits.statements
    due = START + timedelta(minutes=5)
    push = {
        "channel": "wecom",
        "target_kind": "user",
        "target_id": "u1",
        "text": "通知",
        "mentions": [],
        "cause_inbound_id": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": START,
        "sent_at": None,
        "delivered_via": None,
        "media_id": None,
        "card": None,
    }

    def pending(conn: Any) -> list[list[Any]]:
        conn.execute(statements.insert_outbox, [push])
        asked = {"channel": "wecom", "targets": ["u0", "u1", "u2"]}
        return [
            [tuple(r) for r in statements.pushes_pending.rows(conn, {**asked, "now": now})]
            for now in (due - timedelta(seconds=1), due, due.astimezone(UTC) + timedelta(seconds=1))
        ]

    async with commits.engine.begin() as conn:
        before, at, after = await conn.run_sync(pending)
        await conn.rollback()
    assert (before, at, after) == ([], [("user", "u1")], [("user", "u1")])


async def test_times_an_hour_apart_that_compare_equal_are_bound_apart(db_url):
    """In one zone, 01:30 before and after the clocks go back compare equal (== ignores fold) but are an hour apart:
    the batch insert binds each as execute() would, not the first one's value for both."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.core.models import InboundMessage

    before = datetime(2023, 11, 5, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    after = before.replace(fold=1)
    assert before == after and after - before == timedelta(0) and after.utcoffset() != before.utcoffset()
    engine = db.create_engine(DatabaseConfig(url=db_url), inline=True)
    statements = Statements(engine.dialect.name)
    # Four rows: one statement (two would go as two statements of one row).
    times = (before, after, after, before)
    rows = [("test", f"m{i}", None, "u1", None, "t", sent, START, None) for i, sent in enumerate(times)]
    read = select(InboundMessage.sent_at).where(InboundMessage.channel == "test").order_by(InboundMessage.id)

    def write(conn: Any) -> list[Any]:
        statements.inbound_rows.execute(conn, rows)
        return list(conn.scalars(read))

    try:
        async with engine.begin() as conn:
            stored = await conn.run_sync(write)
            await conn.rollback()
    finally:
        await engine.dispose()
    assert [t.astimezone(UTC) for t in stored] == [t.astimezone(UTC) for t in times]
    assert stored[1] - stored[0] == timedelta(hours=1)


async def test_a_prepared_statement_begins_a_transaction_as_execute_does(bot):
    """On a connection with no transaction yet, a Prepared statement begins one (as execute() would: on SQLite,
    BEGIN IMMEDIATE); it is not committed on its own, so a rollback undoes it."""
    from bot.core.models import Branch

    commits = bot.services.pipeline.commits
    member = {"display_name": "未提交", "role": "member", "created_at": START}
    named = select(Member.id).where(Member.display_name == "未提交")
    async with commits.engine.connect() as conn:
        member["branch_id"] = await conn.scalar(select(Branch.id).limit(1))
        await conn.rollback()
        assert not conn.in_transaction()
        await conn.run_sync(lambda sync: commits.statements.insert_member.first(sync, member))
        assert conn.in_transaction()
        await conn.rollback()
        assert (await conn.execute(named)).all() == []


async def test_every_form_of_the_decided_write_compiles_at_start_up(db_url):
    """The warm-up (bot/app.py) compiles every form of the group commit's statements for the writer's dialect."""
    engine = db.create_engine(DatabaseConfig(url=db_url), inline=True)
    try:
        statements = Statements.of(engine.dialect.name)
        assert Statements.of(engine.dialect.name) is statements  # one set per process and dialect
        statements.warm(engine.dialect)
        assert all((engine.dialect.name, count) in statements.members._forms for count in (1, 4, 16, 64)), (
            statements.members._forms.keys()
        )
        assert (engine.dialect.name, 0) in statements.busy_quizzes._forms
    finally:
        await engine.dispose()
