"""The database layer: concurrent writers wait instead of failing; migrations are applied and current."""

import asyncio
from datetime import timedelta
from typing import cast

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from bot.core import db
from bot.core.config import DatabaseConfig
from bot.core.models import InboundMessage, Member, ScheduledFire
from tests.conftest import START


async def test_an_upgrade_with_nothing_to_apply_does_not_run_alembic(db_url, monkeypatch):
    """A start on a migrated database (every start but the first) answers from the version table; a database
    behind the scripts is still migrated by Alembic."""
    engine = db.create_engine(DatabaseConfig(url=db_url))
    runs: list[str] = []
    real = db.command.upgrade
    monkeypatch.setattr(db.command, "upgrade", lambda config, revision: runs.append(revision) or real(config, revision))
    try:
        await db.upgrade(engine)
        assert runs == []
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0016'"))
            await conn.execute(text("ALTER TABLE roll_call_entry DROP COLUMN code_misses"))
        await db.upgrade(engine)
        assert runs == ["heads"]
        assert await db.current_revision(engine) == ",".join(sorted(db._script_heads()))
    finally:
        await engine.dispose()


async def test_fifty_concurrent_writers_through_http(bot):
    """50 newcomers at once: each registers a member and writes a reply; none hits 'database is locked'."""
    results = await asyncio.gather(*(bot.say("我是谁", user=f"rush-{i}", name=f"新同志{i}") for i in range(50)))
    assert all(r["handled_by"] == "handle_whoami" and len(r["replies"]) == 1 for r in results)
    async with bot.services.sessions() as session:
        handled = await session.scalars(select(InboundMessage.handled_by))
        members = await session.scalar(select(func.count()).select_from(Member))
    assert set(handled) == {"handle_whoami"}
    assert members == 11 + 50


async def test_fifty_read_then_write_transactions_on_two_engines(db_url):
    """Read-then-write transactions from two engines (like two processes) all commit."""
    engines = [db.create_engine(DatabaseConfig(url=db_url)) for _ in range(2)]
    makers = [db.session_factory(e) for e in engines]

    async def writer(i: int) -> None:
        async with db.transaction(makers[i % 2]) as session:
            await session.scalar(select(func.count()).select_from(ScheduledFire))
            session.add(ScheduledFire(job=f"w{i}", slot=START + timedelta(minutes=i), fired_at=START))

    try:
        await asyncio.gather(*(writer(i) for i in range(50)))
        async with makers[0]() as session:
            assert await session.scalar(select(func.count()).select_from(ScheduledFire)) == 50
    finally:
        for engine in engines:
            await engine.dispose()


async def test_migrations_are_current(db_url):
    engine = db.create_engine(DatabaseConfig(url=db_url))
    try:
        await db.upgrade(engine)  # idempotent
        from alembic.script import ScriptDirectory

        from bot.core.db import _alembic_config

        heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
        assert await db.current_revision(engine) == ",".join(sorted(heads))
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(db_url):
    """Every model change has its migration: autogenerate finds nothing left to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import bot.core.channels.wecom  # noqa: F401 - registers the WeCom tables on the metadata
    from bot.core.models import Base

    engine = db.create_engine(DatabaseConfig(url=db_url))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    finally:
        await engine.dispose()
    assert diff == []


# A statement that keeps SQLite busy for a while (about a second), so that a task can be cancelled in the middle.
_SLOW = text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c")


async def test_a_write_cancelled_mid_statement_gives_back_its_connection_and_the_writer_lock(tmp_path):
    """A background task stopped (cancelled) while its write transaction runs a statement: the cancellation is
    what the task ends with (not PendingRollbackError from the rollback that ends it), its connection goes back
    to the pool, this process's writer lock is given back, and the engine disposes (as at a shutdown, e.g. when
    the port is in use at start)."""
    engine = db.create_engine(DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path}/cancel.db"))
    sessions = db.session_factory(engine)
    running = asyncio.Event()

    async def write() -> None:
        async with db.transaction(sessions) as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            running.set()
            await session.execute(_SLOW)

    try:
        task = asyncio.create_task(write())
        await asyncio.wait_for(running.wait(), 10)
        await asyncio.sleep(0.05)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=30)
        assert done and task.cancelled(), task.exception() if done else "not stopped"
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert not db.writer_queue(engine).locked()  # this process's next writer does not queue forever
        async with asyncio.timeout(30):
            await engine.dispose()
    finally:
        await engine.dispose()


async def test_a_read_cancelled_mid_statement_gives_back_its_connection(tmp_path):
    """The same for a read_only() transaction (the quiz clock's and the sender's every-second look)."""
    engine = db.create_engine(DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path}/cancel.db"))
    sessions = db.session_factory(engine)
    running = asyncio.Event()

    async def read() -> None:
        async with db.read_only(sessions) as session:
            running.set()
            await session.execute(_SLOW)

    try:
        task = asyncio.create_task(read())
        await asyncio.wait_for(running.wait(), 10)
        await asyncio.sleep(0.05)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=30)
        assert done and task.cancelled(), task.exception() if done else "not stopped"
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        async with asyncio.timeout(30), db.transaction(sessions) as session:
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_a_prepared_statement_refuses_a_required_parameter_not_given(db_url):
    """A Prepared statement binds what Connection.execute() would: a parameter the statement holds a value for may
    be left out (that value is bound); one it holds none for must be given, or it raises as execute() does (rather
    than bind NULL and quietly match nothing)."""
    from sqlalchemy import bindparam, literal
    from sqlalchemy.exc import InvalidRequestError, StatementError

    engine = db.create_engine(DatabaseConfig(url=db_url))
    statement = select(literal(1).label("one")).where(
        bindparam("wanted", type_=Member.display_name.type) == bindparam("given", "x", type_=Member.display_name.type)
    )
    prepared = db.Prepared(lambda _: statement)
    try:
        async with engine.connect() as conn:
            with pytest.raises(StatementError, match="'wanted'") as by_execute:
                await conn.execute(statement, {})
            with pytest.raises(StatementError, match="'wanted'") as by_prepared:
                await conn.run_sync(lambda sync: prepared.rows(sync, {}))
            assert isinstance(by_prepared.value.orig, InvalidRequestError)
            assert str(by_prepared.value.orig) == str(by_execute.value.orig)
            assert [tuple(r) for r in await conn.run_sync(lambda sync: prepared.rows(sync, {"wanted": "x"}))] == [(1,)]
            assert await conn.run_sync(lambda sync: prepared.rows(sync, {"wanted": "y"})) == []
            found = await conn.run_sync(lambda sync: prepared.rows(sync, {"wanted": "y", "given": "y"}))
            assert [tuple(r) for r in found] == [(1,)]
    finally:
        await engine.dispose()


async def test_a_prepared_statement_built_per_dialect_inserts_once_on_conflict(db_url):
    """A Prepared statement whose build gets the dialect (per_dialect=True): insert_for() writes the database's own
    INSERT … ON CONFLICT DO NOTHING, so a second claim of the same (job, slot) stores nothing and returns no row;
    one form is compiled, for the dialect it ran on."""
    from sqlalchemy import Table

    table = cast(Table, ScheduledFire.__table__)
    claim = db.Prepared(
        lambda _, dialect: (
            db.insert_for(dialect, table)
            .values(db.binds(table, "job", "slot", "fired_at", "manual"))
            .on_conflict_do_nothing(index_elements=["job", "slot"])
            .returning(table.c.id)
        ),
        per_dialect=True,
    )
    params = {"job": "nightly", "slot": START, "fired_at": START, "manual": False}
    engine = db.create_engine(DatabaseConfig(url=db_url))
    try:
        async with engine.begin() as conn:
            first = await conn.run_sync(lambda sync: claim.rows(sync, params))
            again = await conn.run_sync(lambda sync: claim.rows(sync, {**params, "fired_at": START + timedelta(1)}))
        async with engine.connect() as conn:
            stored = (await conn.execute(select(ScheduledFire.id, ScheduledFire.job, ScheduledFire.fired_at))).all()
        assert [(row.id, "nightly", START) for row in first] == [tuple(row) for row in stored]
        assert again == []
        assert list(claim._forms) == [(engine.dialect.name, 0)]
    finally:
        await engine.dispose()


def test_insert_for_writes_each_databases_own_insert():
    from sqlalchemy.dialects import postgresql, sqlite

    for dialect in (sqlite.dialect(), postgresql.dialect()):
        statement = db.insert_for(dialect.name, ScheduledFire).on_conflict_do_nothing(index_elements=["job", "slot"])
        assert str(statement.compile(dialect=dialect)).endswith("ON CONFLICT (job, slot) DO NOTHING")
    with pytest.raises(ValueError, match="'mysql'"):
        db.insert_for("mysql", ScheduledFire)


@pytest.mark.parametrize("where", ["file:{tmp}/nolock.db?nolock=1&uri=true", ":memory:"])
async def test_sqlite_that_cannot_be_put_in_wal_mode_is_refused_at_start_up(tmp_path, where):
    """Without WAL a reader's lock holds up the writer's commit (the sender's and quiz clock's looks beside the group
    commit, whose statements assume WAL) and an in-memory database is one per connection: refused, naming the mode."""
    url = f"sqlite+aiosqlite:///{where.format(tmp=tmp_path)}"
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        with pytest.raises(db.UnsuitableDatabase, match="journal mode '(delete|memory)', not WAL"):
            await db.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("inline", [False, True])
async def test_savepoints_run_as_plain_sql_named_by_depth(db_url, inline):
    """The engines' SAVEPOINT/RELEASE/ROLLBACK TO skip SQLAlchemy's statement compilation and are named by depth
    (db._plain_savepoints): savepoints, nested ones included, still keep or undo exactly their own writes, and a
    failing one raises SQLAlchemy's DBAPIError."""
    engine = db.create_engine(DatabaseConfig(url=db_url), inline=inline)
    sent: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, *_args):
        sent.append(statement)

    async def insert(conn, value: int) -> None:
        await conn.exec_driver_sql(f"INSERT INTO sp_probe VALUES ({value})")

    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TEMPORARY TABLE sp_probe (v INTEGER)")
            kept = await conn.begin_nested()
            await insert(conn, 1)
            await kept.commit()
            undone = await conn.begin_nested()
            await insert(conn, 2)
            await undone.rollback()
            outer = await conn.begin_nested()  # an inner savepoint released, then its outer one rolled back
            inner = await conn.begin_nested()
            await insert(conn, 3)
            await inner.commit()
            await insert(conn, 4)
            await outer.rollback()
            outer = await conn.begin_nested()  # an inner savepoint rolled back, its outer one kept
            inner = await conn.begin_nested()
            await insert(conn, 5)
            await inner.rollback()
            await insert(conn, 6)
            await outer.commit()
            stored = [tuple(r) for r in await conn.exec_driver_sql("SELECT v FROM sp_probe ORDER BY v")]
            assert stored == [(1,), (6,)]
            with pytest.raises(DBAPIError):
                await conn.run_sync(lambda sync: sync.dialect.do_release_savepoint(sync, "no_such_savepoint"))
            await conn.rollback()
    finally:
        await engine.dispose()
    savepoints = [s for s in sent if "SAVEPOINT" in s.upper()]
    if inline and db.is_sqlite(db_url):  # straight to sqlite3: not even a cursor statement
        assert savepoints == []
    else:  # through exec_driver_sql(), the same few texts
        assert savepoints[:4] == [
            "SAVEPOINT sp_0",
            "RELEASE SAVEPOINT sp_0",
            "SAVEPOINT sp_0",
            "ROLLBACK TO SAVEPOINT sp_0",
        ]
        assert set(savepoints) <= {
            f"{keywords} sp_{depth}"
            for keywords in ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
            for depth in (0, 1)
        } | {'RELEASE SAVEPOINT "no_such_savepoint"', "RELEASE SAVEPOINT no_such_savepoint"}
