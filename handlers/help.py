"""帮助 / 菜单: a short menu of topics the sender's role may use; "帮助 会议" etc. lists one topic's commands."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import authority, texts
from bot.core.context import Context
from bot.core.message import Message
from bot.core.models import Branch, PartyGroup, Role
from bot.core.normalize import fold
from bot.core.router import Dispatcher, Route, Router
from bot.notices import texts as notice_texts

router = Router("help")

# The help topic of each handler module's commands (keys of texts.HELP_TOPICS). A router not listed here has its
# commands in the menu itself, one line each (as 我是谁 of this module): a new module must pick a topic, or the
# menu grows (tests/handlers/test_help.py holds the menu to its size).
TOPIC_OF_ROUTER = {
    "meetings": "meetings",
    "notices": "notices",
    "study": "study",
    "quiz": "quiz",
    "lookup": "quiz",
    "points": "points",
    "roles": "roles",
    "org": "org",
    "tasks": "org",
    "crosscheck": "org",
}

# What members do without a command word (a filter takes it): its line in a topic, shown from the role given on.
FILTER_LINES = (("notices", Role.MEMBER, texts.RECEIPT_WORDS[0], notice_texts.SUMMARY_RECEIPT),)


@dataclass(frozen=True)
class Help:
    """One role's help: the menu, and the text of each topic it may use (by topic key)."""

    menu: str
    topics: dict[str, str]  # and the line of each menu command (by _LINE + its first word)
    # Folded words that ask for a topic: its name ("会议") and the command words it lists ("签到", "搜题"); a command of
    # the menu itself (我是谁) asks for its own line.
    words: dict[str, str]


def build(dispatcher: Dispatcher, role: str) -> Help:
    """The menu and topic texts for a role, from the commands it may use (made once per role and dispatcher)."""
    allowed = {id(route) for route in dispatcher.commands_for(role)}
    by_topic: dict[str, list[Route]] = {key: [] for key in texts.HELP_TOPICS}
    direct: list[Route] = []
    for module in dispatcher.routers:
        for route in module.routes:
            if id(route) not in allowed or route.handler is handle_help:
                continue
            topic = TOPIC_OF_ROUTER.get(module.name)
            (by_topic[topic] if topic is not None else direct).append(route)
    lines = {
        key: [texts.HELP_LINE.format(word=r.words[0], summary=r.summary) for r in routes]
        for key, routes in by_topic.items()
    }
    for key, least, word, summary in FILTER_LINES:
        if Role.at_least(role, least):
            lines[key].append(texts.HELP_LINE.format(word=word, summary=summary))
    menu = [
        texts.HELP_MENU_LINE.format(topic=texts.HELP_TOPICS[key], blurb=blurb(key, role, by_topic[key]))
        for key in by_topic
        if lines[key]
    ]
    menu += [texts.HELP_LINE.format(word=route.words[0], summary=route.summary) for route in direct]
    if role == Role.GUEST:
        menu.append(texts.HELP_GUEST_NOTE)
    menu.append(texts.HELP_FOOTER)
    topics = {key: _topic_text(key, found) for key, found in lines.items() if found}
    words = {fold(texts.HELP_TOPICS[key]): key for key in topics}
    for key, routes in by_topic.items():
        if key in topics:
            for route in routes:
                words.update((fold(word), key) for word in route.words)
    # Words that name a topic without being one of its command words ('帮助 打卡', '帮助 收到').
    words.update((fold(word), key) for word, key in texts.HELP_TOPIC_ALIASES.items() if key in topics)
    # A command of the menu itself (我是谁) is answered by its own line ("@学习驿站 怎么用我是谁" asks for it).
    for route in direct:
        key = f"{_LINE}{route.words[0]}"
        topics[key] = texts.HELP_LINE.format(word=route.words[0], summary=route.summary)
        words.update((fold(word), key) for word in route.words)
    return Help("\n".join(menu), topics, words)


_LINE = "line:"  # topics' key of a menu command's own line, before its first word
_ASKED_EDGES = " :,.。、;!~·…"


def blurb(topic: str, role: str, routes: list[Route]) -> str:
    """What the menu says of a topic for this role: the entry for the highest role not above it, or its words."""
    entries = texts.HELP_TOPIC_BLURBS.get(topic, {})
    for level in reversed(Role.ORDER[: Role.ORDER.index(role) + 1]):
        if level in entries:
            return entries[level]
    return texts.LIST_SEPARATOR.join(route.words[0] for route in routes)


def _topic_text(topic: str, lines: list[str]) -> str:
    return "\n".join([texts.HELP_TOPIC_HEADER.format(topic=texts.HELP_TOPICS[topic]), *lines, texts.HELP_TOPIC_FOOTER])


def help_text(dispatcher: Dispatcher, role: str, name: str, asked: str = "") -> str:
    """The answer to "帮助 <asked>": that topic if the role may use it (asked by name or by one of its command
    words) or that command's line, else the menu under a header that names the member."""
    made = dispatcher.memo(("help", role), lambda: build(dispatcher, role))
    asked = fold(asked).strip(_ASKED_EDGES)  # '帮助：会议' reaches here as ':会议'
    key = made.words.get(asked) if asked else None
    if key is not None:
        return made.topics[key]
    return texts.HELP_HEADER.format(name=name) + "\n" + made.menu


@router.command(*texts.CMD_HELP, role=Role.GUEST, summary=texts.SUMMARY_HELP, reads_nothing=True)
async def handle_help(msg: Message, ctx: Context) -> None:
    """The menu of topics this member's role may use, or one topic's commands; answered where asked."""
    member, dispatcher = ctx.member, ctx.dispatcher
    assert member is not None and ctx.branch is not None and dispatcher is not None
    asked = ctx.command.args if ctx.command is not None else ""
    role = authority.role_in(member, ctx.branch)
    await ctx.reply(help_text(dispatcher, role, member.display_name, asked))


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
