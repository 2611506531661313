"""Prepared statements (bot/core/db.py) run from a handler's AsyncSession: a few busy handlers' reads and writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.core.db import Prepared


async def run(session: AsyncSession, statement: Prepared, params: Mapping[str, Any]) -> list[Any]:
    """Run statement in the session's transaction; its rows (named tuples).

    Through Session.execute() a statement costs several times what SQLite takes to run it (an execution context, a
    result, ORM loading); a Prepared one is compiled once per database and runs on the DBAPI cursor. As execute()
    would, the session flushes its pending changes first, so the statement sees what the handler changed through the
    ORM; what the statement writes is not refreshed in objects the session holds (read them again, or do not hold
    them).
    """
    return await session.run_sync(_run, statement, params)


def _run(session: Session, statement: Prepared, params: Mapping[str, Any]) -> list[Any]:
    session.flush()
    conn = session.connection()
    wrote = session.info.get("wrote")
    if wrote is not None:  # a group commit's savepoint: what the batch read may be stale after this write
        wrote(statement.writes(conn.dialect))
    return statement.rows(conn, params)
