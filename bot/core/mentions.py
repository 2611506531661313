"""The member an @-command names (准假 @张三, 补签 @张三, 设为书记 @张三): one matching rule for every such command."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import texts
from bot.core.context import Context
from bot.core.models import Member, MemberIdentity
from bot.core.normalize import fold, strip_edges

# An @-mention as typed (normalize() finds the same ones in the folded text).
_TYPED_MENTION = re.compile(r"[@＠]([^\s@＠]+)")


async def find_member_by_name(session: AsyncSession, branch_id: int, name: str) -> list[Member]:
    """Members of a branch whose display name folds as name does (case, full-/half-width: fold() in
    bot/core/normalize.py, as the command's text is folded), else those whose platform user id does (a mention
    written as "@zhangsan", or a member whose name could not be read from the platform). Names are stored and
    shown as they are; several members found means the mention is ambiguous."""
    wanted = fold(name)
    # Folding (NFKC) is Python's: the branch's names are compared here, not in SQL (an @-command is rare).
    named = await session.execute(select(Member.id, Member.display_name).where(Member.branch_id == branch_id))
    ids = {member_id for member_id, display_name in named if fold(display_name) == wanted}
    if not ids:
        identities = await session.execute(
            select(MemberIdentity.member_id, MemberIdentity.platform_user_id)
            .join(Member, Member.id == MemberIdentity.member_id)
            .where(Member.branch_id == branch_id)
        )
        ids = {member_id for member_id, user_id in identities if fold(user_id) == wanted}
    if not ids:
        return []
    return list(await session.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.id)))


def typed_mention(original: str, name: str) -> str:
    """The mention of name (folded) as the member typed it, for a reply to quote; name itself if not found."""
    for match in _TYPED_MENTION.finditer(original):
        if strip_edges(fold(match.group(1))) == name:  # as normalize() trims the text's end
            return strip_edges(match.group(1))
    return name


async def mentioned_member(ctx: Context, example: str) -> Member | None:
    """The one member of the chat's branch the command's first @-mention names, or None after replying why not
    (no mention, nobody, or several members by that name)."""
    assert ctx.command is not None and ctx.branch is not None
    if not ctx.command.mentioned_names:
        await ctx.reply(texts.NEED_MENTION.format(example=example))
        return None
    name = ctx.command.mentioned_names[0]
    found = await find_member_by_name(ctx.session, ctx.branch.id, name)
    if len(found) != 1:
        template = texts.MEMBER_AMBIGUOUS if found else texts.MEMBER_NOT_FOUND
        await ctx.reply(template.format(name=typed_mention(ctx.command.original, name)))
        return None
    return found[0]
