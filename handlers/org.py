"""The organisation tree in chat: 下级单位 (the units below this one) and 设置上级 (an admin moves a unit)."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from bot.core import authority, org, texts
from bot.core.context import Context
from bot.core.message import Message
from bot.core.models import Branch, Member, Role
from bot.core.router import Router

router = Router("org")


class _Ambiguous(Exception):
    pass


async def _unit_named(ctx: Context, name: str) -> Branch | None:
    """The unit whose config id or name is name; among units of one name, the one the sender reaches (two such:
    _Ambiguous — the config id tells them apart)."""
    assert ctx.member is not None
    rows = list(await ctx.session.scalars(select(Branch).where(or_(Branch.name == name, Branch.key == name))))
    by_key = [u for u in rows if u.key == name]
    if by_key:
        return by_key[0]
    reached = [u for u in rows if authority.reaches(ctx.member.branch_id, u)]
    if len(reached) > 1:
        raise _Ambiguous(name)
    found = reached or rows
    return found[0] if found else None


@router.command(*texts.CMD_UNITS_BELOW, summary=texts.SUMMARY_UNITS_BELOW)
async def handle_units_below(msg: Message, ctx: Context) -> None:
    """This unit's place in the tree: the unit above it, and every unit below it with its members."""
    assert ctx.branch is not None
    unit = ctx.branch
    lines = []
    if unit.parent_id is not None:
        parent = await ctx.session.get(Branch, unit.parent_id)
        if parent is not None:
            lines.append(texts.ORG_PARENT_LINE.format(parent=parent.name))
    below = (await org.subtree(ctx.session, unit.id))[1:]
    if not below:
        lines.append(texts.ORG_NO_UNITS_BELOW.format(unit=unit.name))
        await ctx.reply("\n".join(lines))
        return
    counts = dict(
        (
            await ctx.session.execute(
                select(Member.branch_id, func.count())
                .where(Member.branch_id.in_([u.id for u in below]))
                .group_by(Member.branch_id)
            )
        ).all()
    )
    depth = len(org.path_ids(org.child_path(unit)))
    lines.append(texts.ORG_UNITS_BELOW_HEAD.format(unit=unit.name, count=len(below)))
    for u in below:
        lines.append(
            texts.ORG_UNIT_LINE.format(
                indent=texts.ORG_INDENT * (len(org.path_ids(u.ancestor_path)) - depth),
                unit=u.name,
                kind=texts.UNIT_KIND_NAMES.get(u.kind, u.kind),
                members=counts.get(u.id, 0),
            )
        )
    await ctx.reply("\n".join(lines))


@router.command(*texts.CMD_SET_PARENT, role=Role.ADMIN, summary=texts.SUMMARY_SET_PARENT)
async def handle_set_parent(msg: Message, ctx: Context) -> None:
    """设置上级 <unit> <unit above it | 无>: an admin of a unit above both moves a unit (with all below it)."""
    assert ctx.command is not None and ctx.member is not None
    parts = ctx.command.args.split()
    if len(parts) != 2:
        await ctx.reply(texts.ORG_SET_PARENT_USAGE)
        return
    to_top = parts[1] in texts.ORG_NO_PARENT_WORDS
    try:
        unit = await _unit_named(ctx, parts[0])
        parent = None if to_top else await _unit_named(ctx, parts[1])
    except _Ambiguous as exc:
        await ctx.reply(texts.ORG_UNIT_AMBIGUOUS.format(name=exc.args[0]))
        return
    if unit is None or (parent is None and not to_top):
        await ctx.reply(texts.ORG_UNIT_NOT_FOUND.format(name=parts[0] if unit is None else parts[1]))
        return
    # Moving a unit changes who oversees it: the admin must reach where it is now (its parent, or the unit itself
    # when it has none) and where it goes — so nobody moves a unit sideways, up, or out from under their superior.
    home = ctx.member.branch_id
    current = await ctx.session.get(Branch, unit.parent_id) if unit.parent_id is not None else unit
    allowed = current is not None and authority.reaches(home, current)
    if to_top:
        # Taking a unit out of the tree takes it from every unit above it: only an admin of the tree's top may.
        top = org.path_ids(unit.ancestor_path)[:1] or [unit.id]
        allowed = allowed and (home == top[0])
    if not allowed or (parent is not None and not authority.reaches(home, parent)):
        await ctx.reply(texts.ORG_SET_PARENT_NOT_ALLOWED)
        return
    declared = ctx.config.branch(unit.key)
    if declared is not None and declared.parent:
        await ctx.reply(texts.ORG_PARENT_IN_CONFIG.format(unit=unit.name))
        return
    try:
        await org.set_parent(ctx.session, unit, parent)
    except org.TreeError:
        await ctx.reply(texts.ORG_SET_PARENT_INVALID.format(unit=unit.name, parent=parts[1]))
        return
    if parent is None:
        await ctx.reply(texts.ORG_PARENT_CLEARED.format(unit=unit.name))
    else:
        await ctx.reply(texts.ORG_PARENT_SET.format(unit=unit.name, parent=parent.name))
