"""积分: a member's own points by source (never shown in a group), and 积分规则."""

from __future__ import annotations

from bot.core import texts
from bot.core.context import Context
from bot.core.message import Message
from bot.core.models import Role
from bot.core.router import Router
from bot.points import texts as points_texts
from bot.points.ledger import member_points_text, rules_text

router = Router("points")


@router.command(*texts.CMD_MY_POINTS, role=Role.GUEST, summary=points_texts.SUMMARY_MY_POINTS)
async def handle_my_points(msg: Message, ctx: Context) -> None:
    """The sender's points: answered directly; asked in a group, sent privately with a short note in the group."""
    assert ctx.member is not None
    if not ctx.config.points.enabled:
        await ctx.reply(points_texts.POINTS_OFF)
        return
    text = await member_points_text(ctx, ctx.member)
    if msg.is_direct:
        await ctx.reply(text)
        return
    sent = await ctx.send_to_member(ctx.member, text)
    await ctx.reply(
        points_texts.POINTS_SENT_DIRECT.format(name=ctx.member.display_name) if sent else points_texts.POINTS_ASK_DIRECT
    )


router.command(*points_texts.CMD_POINTS_BARE, role=Role.GUEST, exact=True, hidden=True)(handle_my_points)


@router.command(*points_texts.CMD_POINTS_RULES, role=Role.GUEST, summary=points_texts.SUMMARY_POINTS_RULES)
async def handle_points_rules(msg: Message, ctx: Context) -> None:
    """The ledger's rules and what each earns (public: answered where asked)."""
    await ctx.reply(rules_text(ctx.config))
