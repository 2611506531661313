"""Authority: what a member may do in a unit — the one place every command check, job and web page asks.

A member belongs to one branch (Member.branch_id) and holds a role there (Member.role: member, secretary or
admin). That role counts in that branch only. In any other branch (a group chat bound to another branch) the
member is a guest (Role.GUEST, never stored): a guest may use the commands declared for guests — help, 我是谁,
搜题, lists and rankings, their own 错题本 — and nothing that records anything for the branch or acts on it
(签到, 收到, 学习打卡, answers, and every secretary's or admin's command). A guest is never in the branch's
audiences: those are its own members (bot/core/rollcall.py).

Units above branches (党总支, 党委; issue #16) form a tree (bot/core/org.py): a role held in a higher unit reaches the
units below it — never sideways or up. That rule has one home, reaches(), which decides from the unit's row
(its ancestor path) without a query.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Select, select

from bot.core import org
from bot.core.models import Member, Role


class Holder(Protocol):
    """A member as authority sees them: home branch and role there (an ORM Member or the directory's card)."""

    @property
    def branch_id(self) -> int: ...

    @property
    def role(self) -> str: ...


class Unit(Protocol):
    """Where something is asked: a unit of the tree (an ORM Branch or the directory's card)."""

    @property
    def id(self) -> int: ...

    @property
    def ancestor_path(self) -> str: ...


def reaches(home_id: int, unit: Unit) -> bool:
    """Whether a role held in the unit home_id counts in unit: the same unit, or one below it (bot/core/org.py)."""
    return org.reaches(home_id, unit)


def role_in(member: Holder, branch: Unit) -> str:
    """The member's role in branch: their own role where it reaches, else Role.GUEST."""
    return member.role if reaches(member.branch_id, branch) else Role.GUEST


def may(member: Holder, required: str, branch: Unit) -> bool:
    """Whether member may do what needs the role `required` in branch."""
    return Role.at_least(role_in(member, branch), required)


def is_guest(member: Holder, branch: Unit) -> bool:
    """Whether member is only a guest in branch (a member of another branch)."""
    return not reaches(member.branch_id, branch)


def holders(branch_id: int, role: str) -> Select[Member]:
    """The members whose role in the branch is at least role (e.g. the secretaries to tell), by id."""
    roles = [r for r in Role.STORED if Role.at_least(r, role)]
    return select(Member).where(Member.branch_id == branch_id, Member.role.in_(roles)).order_by(Member.id)
