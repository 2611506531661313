"""帮助 / 菜单: the commands the sender's role may use."""

from __future__ import annotations

from bot import authority, texts
from bot.context import Context
from bot.message import Message
from bot.models import Branch, PartyGroup, Role
from bot.router import Dispatcher, Router

router = Router("help")


@router.command(*texts.CMD_HELP, role=Role.GUEST, summary=texts.SUMMARY_HELP, quick=True)
async def handle_help(msg: Message, ctx: Context) -> None:
    """List the commands this member's role may use."""
    member, dispatcher = ctx.member, ctx.dispatcher
    assert member is not None and ctx.branch is not None and dispatcher is not None
    role = authority.role_in(member, ctx.branch)
    menu = dispatcher.memo(("help", role), lambda: _menu(dispatcher, role))
    await ctx.reply(texts.HELP_HEADER.format(name=member.display_name) + "\n" + menu)


def _menu(dispatcher: Dispatcher, role: str) -> str:
    lines = [texts.HELP_LINE.format(word=r.words[0], summary=r.summary) for r in dispatcher.commands_for(role)]
    note = [texts.HELP_GUEST_NOTE] if role == Role.GUEST else []
    return "\n".join([*lines, *note, texts.HELP_FOOTER])


@router.command(*texts.CMD_WHOAMI, role=Role.GUEST, summary=texts.SUMMARY_WHOAMI)
async def handle_whoami(msg: Message, ctx: Context) -> None:
    """Tell a member how the bot sees them: role, branch and party group (their own, also in another's chat)."""
    assert ctx.member is not None and ctx.branch is not None
    guest = authority.is_guest(ctx.member, ctx.branch)
    home = await ctx.session.get(Branch, ctx.member.branch_id) if guest else ctx.branch
    assert home is not None
    group = None
    if ctx.member.party_group_id is not None:
        group = await ctx.session.get(PartyGroup, ctx.member.party_group_id)
    text = texts.WHOAMI.format(
        name=ctx.member.display_name,
        role=texts.ROLE_NAMES[ctx.member.role],
        branch=home.name,
        group=group.name if group else texts.NO_GROUP,
    )
    await ctx.reply(text + texts.WHOAMI_GUEST_NOTE.format(branch=ctx.branch.name) if guest else text)
