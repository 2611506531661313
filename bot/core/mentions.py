"""The member an @-command names (准假 @张三, 补签 @张三, 设为书记 @张三): one matching rule for every such command."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import texts
from bot.core.context import Context
from bot.core.models import Member, MemberIdentity
from bot.core.normalize import fold, remove_mentions, strip_edges

# An @-mention as typed (normalize() finds the same ones in the folded text).
_TYPED_MENTION = re.compile(r"[@＠]([^\s@＠]+)")


async def _ids_by_name(session: AsyncSession, branch_id: int) -> dict[str, set[int]]:
    """The branch's members' ids by display name as fold() reads it (case, full-/half-width: bot/core/normalize.py)."""
    # Folding (NFKC) is Python's: the branch's names are compared here, not in SQL (an @-command is rare).
    named = await session.execute(select(Member.id, Member.display_name).where(Member.branch_id == branch_id))
    by_name: dict[str, set[int]] = {}
    for member_id, display_name in named:
        by_name.setdefault(fold(display_name), set()).add(member_id)
    return by_name


async def find_member_by_name(
    session: AsyncSession, branch_id: int, name: str, by_name: dict[str, set[int]] | None = None
) -> list[Member]:
    """Members of a branch whose display name folds as name does (case, full-/half-width: fold() in
    bot/core/normalize.py, as the command's text is folded), else those whose platform user id does (a mention
    written as "@zhangsan", or a member whose name could not be read from the platform). Names are stored and
    shown as they are; several members found means the mention is ambiguous. by_name: the branch's names, if
    already read (_ids_by_name)."""
    wanted = fold(name)
    if by_name is None:
        by_name = await _ids_by_name(session, branch_id)
    ids = set(by_name.get(wanted, ()))
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
    for at in (i for i, ch in enumerate(original) if ch in "@＠"):  # a name with spaces ("@Tom Li")
        end = _mention_end(original, at, name)
        if end is not None:
            return original[at + 1 : end]
    return name


# How many characters per character of a name a typed mention of it may span (spaces, full width, brackets).
_MENTION_SPAN = 4


def _mention_end(text: str, at: int, name: str) -> int | None:
    """Where a mention of name (folded) starting with the @ at text[at] ends, if it is one: the name as fold() reads
    it, then the text's end, a space (WeCom puts U+2005 after a mention), punctuation or another mention's @. Looks
    no further than a few times the name's length (fold() drops spaces and brackets: a long run of them is not a
    name)."""
    for end in range(at + 2, min(len(text), at + 1 + _MENTION_SPAN * (len(name) + 2)) + 1):
        typed = fold(text[at + 1 : end])
        if typed == name and (end == len(text) or _ends_mention(text[end])):
            return end
        if len(typed) > len(name):
            return None
    return None


def _ends_mention(char: str) -> bool:
    """A character that may follow a mention: a space (WeCom's U+2005), punctuation (`@Tom Li，#2`), another @."""
    return char.isspace() or char in "@＠" or unicodedata.category(char)[0] in "PZ"


def without_mention(text: str, member: Member) -> str:
    """The text with the mentions of the member (by their name, spaces and all: "@Tom Li") and every other
    @-mention taken out: a command's words besides the member it names."""
    name = fold(member.display_name)
    at = 0
    while at < len(text):
        end = _mention_end(text, at, name) if text[at] in "@＠" else None
        if end is None:
            at += 1
        else:
            text = text[:at] + " " + text[end:]
    return remove_mentions(text)


async def mentioned_member(ctx: Context, example: str) -> Member | None:
    """The one member of the chat's branch the command's first @-mention names, or None after replying why not
    (no mention, nobody, or several members by that name). A name may hold spaces ("@Tom Li"): the longest name of
    a branch member typed after the @ wins; else the word after it is the name (or a platform user id)."""
    assert ctx.command is not None and ctx.branch is not None
    if not ctx.command.mentioned_names:
        await ctx.reply(texts.NEED_MENTION.format(example=example))
        return None
    text = ctx.command.text
    at = text.find("@")  # folded: a full-width ＠ is @ here, as mentioned_names were found
    by_name = await _ids_by_name(ctx.session, ctx.branch.id)
    longest = sorted(by_name, key=len, reverse=True) if at >= 0 else []
    name = next((n for n in longest if _mention_end(text, at, n) is not None), ctx.command.mentioned_names[0])
    found = await find_member_by_name(ctx.session, ctx.branch.id, name, by_name)
    if len(found) != 1:
        template = texts.MEMBER_AMBIGUOUS if found else texts.MEMBER_NOT_FOUND
        await ctx.reply(template.format(name=typed_mention(ctx.command.original, name)))
        return None
    return found[0]
