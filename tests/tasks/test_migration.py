"""Migration 0015 (task_item) on a database at 0014 with data in it: the data stays, the new table works."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text

from bot.core import db
from bot.core.config import DatabaseConfig
from bot.core.models import Branch, Member
from bot.tasks.models import TaskItem, TaskStatus
from tests.conftest import START


async def test_upgrading_from_0014_keeps_the_units_and_members(tmp_path):
    engine = db.create_engine(DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"))
    try:
        await db.upgrade(engine, "0014")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO branch (id, key, name, kind, parent_id, ancestor_path) VALUES "
                    "(1, 'dw', '党委', 'committee_unit', NULL, '/'), (2, 'b1', '第一党支部', 'branch', 1, '/1/')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO member (id, branch_id, display_name, role, created_at) "
                    "VALUES (7, 2, '张三', 'secretary', '2026-11-20 02:00:00')"
                )
            )
        await db.upgrade(engine, "0015")  # later revisions (0016 互查) have their own test (test_crosscheck.py)
        assert await db.current_revision(engine) == "0015"
        async with db.transaction(db.session_factory(engine)) as session:
            units = [
                (b.key, b.kind, b.ancestor_path) for b in await session.scalars(select(Branch).order_by(Branch.id))
            ]
            assert units == [("dw", "committee_unit", "/"), ("b1", "branch", "/1/")]
            member = await session.get(Member, 7)
            assert member is not None and (member.display_name, member.role) == ("张三", "secretary")
            session.add(
                TaskItem(
                    issuer_id=1,
                    branch_id=2,
                    seq=1,
                    month="2026-12",
                    kind="任务",
                    title="召开专题组织生活会",
                    criteria="",
                    due=date(2026, 12, 20),
                    original_due=date(2026, 12, 20),
                    status=TaskStatus.OPEN,
                    done_note="",
                    extension_reason="",
                    reminders_sent=[],
                    created_by=7,
                    created_at=START,
                )
            )
        async with db.session_factory(engine)() as session:
            stored = await session.scalar(select(TaskItem))
            assert stored is not None and (stored.due, stored.created_by) == (date(2026, 12, 20), 7)
    finally:
        await engine.dispose()
