"""Admin commands that change members' roles and party groups in chat."""

from __future__ import annotations

from bot.core import texts
from bot.core.context import Context
from bot.core.members import group_named, party_group_names, party_groups, pinned_role
from bot.core.mentions import mentioned_member, without_mention
from bot.core.message import Message
from bot.core.models import Role
from bot.core.router import Router

router = Router("roles")


async def _set_role(ctx: Context, role: str, example: str) -> None:
    assert ctx.member is not None and ctx.branch is not None
    target = await mentioned_member(ctx, example)
    if target is None:
        return
    role_name = texts.ROLE_NAMES[role]
    if target.role == role:
        await ctx.reply(texts.ROLE_UNCHANGED.format(name=target.display_name, role=role_name))
        return
    if target.id == ctx.member.id and not Role.at_least(role, Role.ADMIN):
        await ctx.reply(texts.ROLE_SELF_DEMOTE)
        return
    pinned = await pinned_role(ctx.session, ctx.config, ctx.branch, target)
    if not Role.at_least(role, pinned):
        await ctx.reply(texts.ROLE_PINNED.format(name=target.display_name, role=texts.ROLE_NAMES[pinned]))
        return
    # A permission in this app is granted or withdrawn; nobody is appointed to a post (a 支部书记 is elected).
    if role == Role.MEMBER:
        template = texts.ROLE_REVOKED
    else:
        template = texts.ROLE_SET if Role.at_least(role, target.role) else texts.ROLE_CHANGED
    target.role = role
    await ctx.reply(template.format(name=target.display_name, role=role_name))


@router.command(*texts.CMD_SET_SECRETARY, role=Role.ADMIN, summary=texts.SUMMARY_SET_SECRETARY)
async def handle_set_secretary(msg: Message, ctx: Context) -> None:
    """Grant the @-mentioned member the branch management permission (书记/组织委员's)."""
    await _set_role(ctx, Role.SECRETARY, texts.EXAMPLE_SET_SECRETARY)


@router.command(*texts.CMD_SET_ADMIN, role=Role.ADMIN, summary=texts.SUMMARY_SET_ADMIN)
async def handle_set_admin(msg: Message, ctx: Context) -> None:
    """Grant the @-mentioned member the admin permission."""
    await _set_role(ctx, Role.ADMIN, texts.EXAMPLE_SET_ADMIN)


@router.command(*texts.CMD_SET_MEMBER, role=Role.ADMIN, summary=texts.SUMMARY_SET_MEMBER)
async def handle_set_member(msg: Message, ctx: Context) -> None:
    """Withdraw the @-mentioned member's management permissions."""
    await _set_role(ctx, Role.MEMBER, texts.EXAMPLE_SET_MEMBER)


@router.command(*texts.CMD_SET_GROUP, role=Role.ADMIN, summary=texts.SUMMARY_SET_GROUP)
async def handle_set_group(msg: Message, ctx: Context) -> None:
    """Move the @-mentioned member to a party group."""
    assert ctx.command is not None and ctx.branch is not None
    groups = await party_group_names(ctx.session, ctx.branch.id)
    example = groups[0] if groups else texts.EXAMPLE_GROUP_NAME
    target = await mentioned_member(ctx, texts.EXAMPLE_SET_GROUP.format(group=example))
    if target is None:
        return
    wanted = without_mention(ctx.command.args, target)
    if not wanted:
        await ctx.reply(texts.GROUP_NEED_NAME.format(example=example))
        return
    group = group_named(await party_groups(ctx.session, ctx.branch.id), wanted)
    if group is None:
        await ctx.reply(
            texts.GROUP_UNKNOWN.format(group=wanted, groups=texts.LIST_SEPARATOR.join(groups) or texts.NONE_LISTED)
        )
        return
    target.party_group_id = group.id
    await ctx.reply(texts.GROUP_SET.format(name=target.display_name, group=group.name))
