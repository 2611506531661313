"""The organisation tree: 党委 → 党总支 → 党支部, any depth; who is above whom.

A unit is a row of the branch table (bot/core/models.py Branch; its kind says 党委, 党总支 or 党支部), so a unit's id is
what every other table's branch_id holds: a 党委 has chats, members (its secretaries, its committee) and roll calls
(its notices) exactly as a 党支部 does. Only a 党支部 is a leaf; members of the 党支部 below are the people a
higher unit's notices and statistics reach.

Each unit keeps the ids of the units above it, root first, in ancestor_path ("/1/4/"; "/" for a root), so the
questions asked on every message — "is U above V", "which units are below U" — need no walk of the tree:
reaches() answers from the row in hand, units_below() with one query. set_parent() and rebuild_paths() are the
only writers of parent_id and ancestor_path.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.models import Branch, UnitKind

ROOT_PATH = "/"


class TreeError(Exception):
    """A change that would break the tree (a cycle, a unit under a 党支部); the message is for the log."""


class Placed(Protocol):
    """A unit as the tree sees it: an ORM Branch, or the directory's card."""

    @property
    def id(self) -> int: ...

    @property
    def ancestor_path(self) -> str: ...


def path_ids(path: str) -> list[int]:
    """The ids in an ancestor path, root first."""
    return [int(part) for part in path.split("/") if part]


def child_path(unit: Placed) -> str:
    """The ancestor path of the units directly below unit."""
    return f"{unit.ancestor_path}{unit.id}/"


def is_above(upper_id: int, unit: Placed) -> bool:
    """Whether the unit upper_id is somewhere above unit (not unit itself)."""
    return f"/{upper_id}/" in unit.ancestor_path


def reaches(home_id: int, unit: Placed) -> bool:
    """Whether the unit home_id is unit or above it: what a role held in home_id reaches (bot/core/authority.py)."""
    return home_id == unit.id or is_above(home_id, unit)


def tree_order(unit: Placed) -> list[int]:
    """A sort key that lists a tree depth first (each unit before the units below it; siblings by id)."""
    return [*path_ids(unit.ancestor_path), unit.id]


def _below_or_self(unit_id: int) -> ColumnElement[bool]:
    return or_(Branch.id == unit_id, Branch.ancestor_path.like(f"%/{unit_id}/%"))


async def subtree(session: AsyncSession, unit_id: int) -> list[Branch]:
    """The unit and every unit below it, depth first."""
    rows = list(await session.scalars(select(Branch).where(_below_or_self(unit_id))))
    return sorted(rows, key=tree_order)


async def units_below(session: AsyncSession, unit_id: int) -> list[int]:
    """Ids of the unit and every unit below it, depth first."""
    return [unit.id for unit in await subtree(session, unit_id)]


async def branches_below(session: AsyncSession, unit_id: int) -> list[int]:
    """Ids of the 党支部 at or below the unit (the unit itself if it is one), depth first."""
    return [unit.id for unit in await subtree(session, unit_id) if unit.kind == UnitKind.BRANCH]


async def unit_of_branch(session: AsyncSession, branch_id: int) -> Branch | None:
    """The unit a branch_id names (a unit is a branch row: the id is the same)."""
    return await session.get(Branch, branch_id)


async def ancestors(session: AsyncSession, unit_id: int) -> list[int]:
    """Ids of the units above the unit, root first (empty for a root or an unknown id)."""
    path = await session.scalar(select(Branch.ancestor_path).where(Branch.id == unit_id))
    return path_ids(path) if path else []


async def unit_reaches(session: AsyncSession, home_id: int, unit_id: int) -> bool:
    """Whether a role held in home_id counts in unit_id (the same unit, or one below it); by ids."""
    unit = await session.get(Branch, unit_id)
    return unit is not None and reaches(home_id, unit)


async def children(session: AsyncSession, unit_id: int) -> list[Branch]:
    """The units directly below the unit, by id."""
    return list(await session.scalars(select(Branch).where(Branch.parent_id == unit_id).order_by(Branch.id)))


async def set_parent(session: AsyncSession, unit: Branch, parent: Branch | None) -> None:
    """Put unit (with everything below it) under parent, or at the root; refuses a cycle or a 党支部 parent."""
    # Two moves at once could each pass the cycle check against the other's old tree: the tree is a few rows,
    # so a move locks them all (PostgreSQL; SQLite writers are serialised already) and rereads its two units.
    await session.execute(select(Branch.id).with_for_update())
    await session.refresh(unit)
    if parent is not None:
        await session.refresh(parent)
    if parent is not None:
        if parent.kind == UnitKind.BRANCH:
            raise TreeError(f"unit {parent.key!r} is a 党支部: nothing goes below it")
        if parent.id == unit.id or is_above(unit.id, parent):
            raise TreeError(f"unit {parent.key!r} is {unit.key!r} or below it")
    old_prefix = child_path(unit)
    unit.parent_id = parent.id if parent is not None else None
    unit.ancestor_path = child_path(parent) if parent is not None else ROOT_PATH
    new_prefix = child_path(unit)
    below = await session.scalars(select(Branch).where(Branch.ancestor_path.like(f"%/{unit.id}/%")))
    for row in below:
        row.ancestor_path = new_prefix + row.ancestor_path[len(old_prefix) :]
    await session.flush()


async def rebuild_paths(session: AsyncSession) -> None:
    """Recompute every unit's ancestor_path from parent_id (after config sync).

    A unit under a 党支部 (its parent's kind changed in config.toml) becomes a root; a cycle is cut.
    """
    units = {unit.id: unit for unit in await session.scalars(select(Branch))}
    for unit in units.values():
        parent = units.get(unit.parent_id) if unit.parent_id is not None else None
        if parent is not None and parent.kind == UnitKind.BRANCH:  # it became a 党支部 in config.toml
            unit.parent_id = None
    for unit in units.values():
        chain: list[int] = []
        parent_id = unit.parent_id
        while parent_id is not None and parent_id in units and parent_id not in chain and parent_id != unit.id:
            chain.append(parent_id)
            parent_id = units[parent_id].parent_id
        path = "/" + "".join(f"{i}/" for i in reversed(chain))
        if unit.ancestor_path != path:
            unit.ancestor_path = path
    await session.flush()
