"""Migration 0014 (the organisation tree) on a database of schema 0011 with data in it: nothing is lost, every
branch becomes a root 党支部, and the app runs on it with the branches declared under a new 党委."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.core import db
from bot.core.config import DatabaseConfig, parse_config
from bot.core.models import UtcDateTime
from bot.notices import texts as notice_texts
from tests.conftest import ROOT, START
from tests.support import BotDriver

T = UtcDateTime()
BRANCH = sa.table("branch", sa.column("id"), sa.column("key"), sa.column("name"))
PARTY_GROUP = sa.table("party_group", sa.column("id"), sa.column("branch_id"), sa.column("name"))
MEMBER = sa.table(
    "member",
    sa.column("id"),
    sa.column("branch_id"),
    sa.column("display_name"),
    sa.column("role"),
    sa.column("party_group_id"),
    sa.column("created_at", T),
)
IDENTITY = sa.table(
    "member_identity", sa.column("id"), sa.column("member_id"), sa.column("channel"), sa.column("platform_user_id")
)
CHAT = sa.table(
    "chat",
    sa.column("id"),
    sa.column("branch_id"),
    sa.column("channel"),
    sa.column("platform_chat_id"),
    sa.column("name"),
)
ROLL_CALL = sa.table(
    "roll_call",
    *(sa.column(c) for c in ("id", "branch_id", "kind", "seq", "title", "body", "audience_label", "created_by")),
    *(sa.column(c) for c in ("status", "nudges_sent")),
    *(sa.column(c, T) for c in ("opens_at", "closes_at", "created_at")),
)
ROLL_CALL_CHAT = sa.table("roll_call_chat", sa.column("id"), sa.column("roll_call_id"), sa.column("chat_id"))
ENTRY = sa.table(
    "roll_call_entry",
    *(sa.column(c) for c in ("id", "roll_call_id", "member_id", "status", "note", "nudges_received")),
    sa.column("responded_at", T),
)
POINTS = sa.table(
    "points_entry",
    *(sa.column(c) for c in ("id", "branch_id", "member_id", "points", "rule", "source")),
    sa.column("created_at", T),
)

SNAPSHOT_TABLES = (
    "party_group",
    "member",
    "member_identity",
    "chat",
    "roll_call",
    "roll_call_chat",
    "roll_call_entry",
    "points_entry",
)

TREE = """
[[branches]]
id = "b"
name = "市城管局执法大队党支部"
chats = ["sim:b-group"]
secretaries = ["sim:b00"]
parent = "dw"

[[branches]]
id = "dw"
name = "市城管局党委"
kind = "committee_unit"
chats = ["sim:dw-group"]
secretaries = ["sim:dw00"]
"""


async def fill_0011(engine: AsyncEngine) -> None:
    """Rows as a deployment at schema 0011 has them: two branches, members, chats, a notice with a receipt."""
    now = START - timedelta(days=1)
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(BRANCH),
            [
                {"id": 1, "key": "demo", "name": "市城管局机关第一党支部"},
                {"id": 2, "key": "b", "name": "执法大队党支部"},
            ],
        )
        await conn.execute(sa.insert(PARTY_GROUP), [{"id": 1, "branch_id": 1, "name": "执法党小组"}])
        members = [(1, 1, "老书记", "admin", None), (2, 1, "张伟", "member", 1), (3, 2, "B书记", "secretary", None)]
        await conn.execute(
            sa.insert(MEMBER),
            [
                {"id": i, "branch_id": b, "display_name": n, "role": r, "party_group_id": g, "created_at": now}
                for i, b, n, r, g in members
            ],
        )
        users = ["u00", "u01", "b00"]
        await conn.execute(
            sa.insert(IDENTITY),
            [{"id": i + 1, "member_id": i + 1, "channel": "sim", "platform_user_id": u} for i, u in enumerate(users)],
        )
        await conn.execute(
            sa.insert(CHAT),
            [
                {"id": 1, "branch_id": 1, "channel": "sim", "platform_chat_id": "demo-group", "name": ""},
                {"id": 2, "branch_id": 2, "channel": "sim", "platform_chat_id": "b-group", "name": ""},
            ],
        )
        await conn.execute(
            sa.insert(ROLL_CALL),
            [
                {
                    "id": 1,
                    "branch_id": 1,
                    "kind": "notice",
                    "seq": 1,
                    "title": "旧通知",
                    "body": "旧通知",
                    "audience_label": "全体党员",
                    "created_by": 1,
                    "status": "open",
                    "nudges_sent": 0,
                    "opens_at": now,
                    "closes_at": now + timedelta(days=7),
                    "created_at": now,
                }
            ],
        )
        await conn.execute(sa.insert(ROLL_CALL_CHAT), [{"id": 1, "roll_call_id": 1, "chat_id": 1}])
        await conn.execute(
            sa.insert(ENTRY),
            [
                {
                    "id": 1,
                    "roll_call_id": 1,
                    "member_id": 2,
                    "status": "done",
                    "note": "",
                    "nudges_received": 0,
                    "responded_at": now + timedelta(minutes=5),
                }
            ],
        )
        await conn.execute(
            sa.insert(POINTS),
            [
                {
                    "id": 1,
                    "branch_id": 1,
                    "member_id": 2,
                    "points": 1,
                    "rule": "timely_receipt",
                    "source": "notice:1",
                    "created_at": now,
                }
            ],
        )


async def advance_sequences(engine: AsyncEngine) -> None:
    """PostgreSQL: ids were given explicitly above, so move each table's identity past them (as use would have)."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.begin() as conn:
        for table in (*SNAPSHOT_TABLES, "branch"):
            await conn.execute(
                sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    async with engine.connect() as conn:
        for table in SNAPSHOT_TABLES:
            rows = await conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))  # noqa: S608 - fixed names
            out[table] = [tuple(row) for row in rows]
        out["branch"] = [tuple(r) for r in await conn.execute(sa.text("SELECT id, key, name FROM branch ORDER BY id"))]
    return out


async def downgrade_to_0011(engine: AsyncEngine) -> None:
    def _run(connection: sa.Connection) -> None:
        command.downgrade(db._alembic_config(connection), "0011")

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def check_upgrade_keeps_data(url: str, aiohttp_client: Any, clock: Any) -> None:
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        assert await db.current_revision(engine) == "0011"
        await fill_0011(engine)
        await advance_sequences(engine)
        before = await snapshot(engine)
        await db.upgrade(engine, "0014")  # later revisions (0015 task lists) are applied when the app starts
        assert await db.current_revision(engine) == "0014"
        assert await snapshot(engine) == before
        async with engine.connect() as conn:
            tree = (await conn.execute(sa.text("SELECT kind, parent_id, ancestor_path FROM branch ORDER BY id"))).all()
        assert [tuple(row) for row in tree] == [("branch", None, "/"), ("branch", None, "/")]
    finally:
        await engine.dispose()

    # The app runs on it, with both branches declared under a new 党委.
    data = tomllib.loads(
        (ROOT / "config.toml").read_text(encoding="utf-8").replace('parent = ""', 'parent = "dw"') + TREE
    )
    config = parse_config(data, env={}).replace(
        database={"url": url}, scheduler={"enabled": False}, demo={"study_day_open": False}
    )
    app = build_app(config, clock=clock, background=False)
    bot = BotDriver(await aiohttp_client(app), app)
    status = (await bot.say("通知情况", user="u00"))["replies"][-1]["text"]
    assert status.startswith("第1号通知（全体党员）于") and "已全部回执" in status
    await bot.say("大家好", user="dw00", chat="dw-group", name="党委书记")
    answer = await bot.say("通知 各支部报送年度总结", user="dw00", chat="dw-group")
    assert answer["replies"][-1]["text"] == notice_texts.NOTICE_SENT.format(seq=1, chats=3, expected=3)
    await bot.say("收到", user="u01")
    status = (await bot.say("通知情况", user="dw00", chat="dw-group"))["replies"][-1]["text"]
    assert status.splitlines()[1:] == [
        notice_texts.ORG_NOTICE_STATUS_LINE.format(unit="市城管局机关第一党支部", expected=2, done=1),
        notice_texts.ORG_NOTICE_STATUS_LINE.format(unit="市城管局执法大队党支部", expected=1, done=0),
        notice_texts.ORG_NOTICE_STATUS_TOTAL.format(expected=3, done=1),
    ]


async def test_upgrade_from_0011_keeps_the_data_and_the_app_runs(tmp_path: Path, aiohttp_client, clock):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        await db.upgrade(engine, "0011")
    finally:
        await engine.dispose()
    await check_upgrade_keeps_data(url, aiohttp_client, clock)


async def test_upgrade_from_0011_on_postgresql(pg_url, aiohttp_client, clock):
    engine = db.create_engine(DatabaseConfig(url=pg_url))
    try:
        await downgrade_to_0011(engine)  # the migrated database, taken back to 0011 (0014's downgrade)
    finally:
        await engine.dispose()
    await check_upgrade_keeps_data(pg_url, aiohttp_client, clock)
