"""Resolve who sent a message and where: member, chat and branch; register newcomers; sync config."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import and_, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from bot.core import org
from bot.core.config import Config
from bot.core.message import Message
from bot.core.models import Branch, Chat, Member, MemberIdentity, PartyGroup, Role
from bot.core.normalize import fold

if TYPE_CHECKING:
    from bot.core.plans import Seen

log = logging.getLogger(__name__)

# PostgreSQL advisory lock key held by the start-up transaction (config sync, seeds): "yizhan" + 1.
STARTUP_LOCK_KEY = 0x79697A68616F


@dataclass
class Resolved:
    branch: Branch | None
    chat: Chat | None
    member: Member | None


class MemberNames(Protocol):
    """A channel's source of members' names (WeCom: its contacts), refreshed by a daily job."""

    def refresh_soon(self) -> bool: ...


def configured_name(config: Config, channel: str, user_id: str) -> str | None:
    """The name config.toml gives this identity ([wecom] member_names), which no platform name overrides."""
    if channel != "wecom":
        return None
    return config.wecom.name_overrides().get(user_id)


def identity_key(channel: str, user_id: str) -> str:
    return f"{channel}:{user_id}"


def configured_role(config: Config, branch_key: str, channel: str, user_id: str) -> str:
    """The role config.toml declares for this identity in this branch (member if none).

    It applies in that branch only: to a member of that branch (bot/core/authority.py).
    """
    branch = config.branch(branch_key)
    if branch is None:
        return Role.MEMBER
    key = identity_key(channel, user_id)
    if key in branch.admins:
        return Role.ADMIN
    if key in branch.secretaries:
        return Role.SECRETARY
    return Role.MEMBER


def declared_branch(config: Config, channel: str, user_id: str) -> str | None:
    """The id of the branch whose admins or secretaries list this identity (config allows one), if any."""
    key = identity_key(channel, user_id)
    return next((b.id for b in config.branches if key in b.admins or key in b.secretaries), None)


async def branch_by_key(session: AsyncSession, key: str) -> Branch | None:
    return await session.scalar(select(Branch).where(Branch.key == key))


async def resolve(session: AsyncSession, config: Config, msg: Message, now_value: object) -> Resolved:
    """Find (or register) the member, chat and branch for an inbound message."""
    known = await _known(session, msg)
    if known is not None:
        _rename(config, msg, known[0])
        return Resolved(known[2], known[1], known[0])
    chat: Chat | None = None
    branch: Branch | None = None
    if msg.chat_id is not None:
        chat = await session.scalar(
            select(Chat).where(Chat.channel == msg.channel, Chat.platform_chat_id == msg.chat_id)
        )
        if chat is None and config.bot.default_branch:
            default = await branch_by_key(session, config.bot.default_branch)
            if default is not None:
                chat = Chat(branch_id=default.id, channel=msg.channel, platform_chat_id=msg.chat_id, name="")
                session.add(chat)
                await session.flush()
        if chat is None:
            return Resolved(None, None, None)
        branch = await session.get(Branch, chat.branch_id)

    identity = await session.scalar(
        select(MemberIdentity).where(
            MemberIdentity.channel == msg.channel, MemberIdentity.platform_user_id == msg.sender_id
        )
    )
    member: Member | None = None
    if identity is not None:
        member = await session.get(Member, identity.member_id)
        named = configured_name(config, msg.channel, msg.sender_id)
        if member is not None and msg.sender_name and member.display_name != msg.sender_name and named is None:
            member.display_name = msg.sender_name
    if member is None:
        # A newcomer joins the branch config.toml declares them in, else this chat's, else the default branch.
        home_key = declared_branch(config, msg.channel, msg.sender_id)
        home = await branch_by_key(session, home_key) if home_key else branch
        if home is None and config.bot.default_branch:
            home = await branch_by_key(session, config.bot.default_branch)
        if home is None:
            return Resolved(None, chat, None)
        member = Member(
            branch_id=home.id,
            display_name=configured_name(config, msg.channel, msg.sender_id) or msg.sender_name or msg.sender_id,
            role=configured_role(config, home.key, msg.channel, msg.sender_id),
            created_at=now_value,
        )
        session.add(member)
        await session.flush()
        session.add(MemberIdentity(member_id=member.id, channel=msg.channel, platform_user_id=msg.sender_id))
        await session.flush()
    if branch is None:
        branch = await session.get(Branch, member.branch_id)
    return Resolved(branch, chat, member)


def resolve_known(session: AsyncSession, config: Config, msg: Message, seen: Seen) -> Resolved | None:
    """resolve() for a registered member in a chat bound to a unit (or a direct message), from the rows the group
    commit read in this transaction before any handler ran (Seen.who_holds); None: resolve() decides.

    The objects are made persistent in session without a load, as _known() would have loaded them (every column
    set): a handler that changes one (a rename) has it flushed as an UPDATE.
    """
    member_row = seen.known_members.get((msg.channel, msg.sender_id))
    if member_row is None:
        return None
    chat: Chat | None = None
    if msg.chat_id is not None:
        chat_row = seen.known_chats.get((msg.channel, msg.chat_id))
        if chat_row is None:
            return None
        branch_row = seen.known_branches.get(chat_row.branch_id)
    else:
        branch_row = seen.known_branches.get(member_row.branch_id)
    if branch_row is None:
        return None
    if msg.chat_id is not None:
        chat = _persistent(session, Chat, chat_row)
    member = _persistent(session, Member, member_row)
    _rename(config, msg, member)
    return Resolved(_persistent(session, Branch, branch_row), chat, member)


def _persistent(session: AsyncSession, model: type[_Row], row: Any) -> _Row:
    """row (a Core row holding every column of model's table) as an object of session, as if loaded there."""
    return as_loaded(session, model, ((key, getattr(row, key)) for key in _COLUMNS[model]))


def as_loaded(session: AsyncSession, model: type[_Loaded], values: Iterable[tuple[str, Any]]) -> _Loaded:
    """An object of model made persistent in session without a load, from (attribute, value) pairs of every
    column, as the ORM's loading would have made it. Its identity must not be in the session already."""
    # As the ORM's loading makes one: the values straight into the new instance's dict (a constructor would run
    # the attribute events of each, six times as long), then made the row's, unchanged, and added.
    obj = model.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def _rename(config: Config, msg: Message, member: Member) -> None:
    """The platform's name for the sender is their display name, unless config.toml sets one."""
    if (
        msg.sender_name
        and member.display_name != msg.sender_name
        and configured_name(config, msg.channel, msg.sender_id) is None
    ):
        member.display_name = msg.sender_name


_Row = TypeVar("_Row", Member, Chat, Branch)
_Loaded = TypeVar("_Loaded")
_COLUMNS: dict[type, tuple[str, ...]] = {
    model: tuple(attr.key for attr in model.__mapper__.column_attrs) for model in (Member, Chat, Branch)
}


async def _known(session: AsyncSession, msg: Message) -> tuple[Member, Chat | None, Branch] | None:
    """The usual case in one statement: a registered member, in a chat bound to a unit (or a direct message)."""
    params = {"channel": msg.channel, "user_id": msg.sender_id, "chat_id": msg.chat_id}
    if msg.chat_id is None:
        alone = (await session.execute(_KNOWN_DIRECT, params)).first()
        return (alone[0], None, alone[1]) if alone is not None else None
    row = (await session.execute(_KNOWN_IN_CHAT, params)).first()
    return (row[0], row[1], row[2]) if row is not None else None


# Built once (SQLAlchemy caches the compiled form): every message runs one of them.
_BY_IDENTITY = (
    MemberIdentity.channel == bindparam("channel"),
    MemberIdentity.platform_user_id == bindparam("user_id"),
)
_KNOWN_DIRECT = (
    select(Member, Branch)
    .select_from(MemberIdentity)
    .join(Member, Member.id == MemberIdentity.member_id)
    .join(Branch, Branch.id == Member.branch_id)
    .where(*_BY_IDENTITY)
)
_KNOWN_IN_CHAT = (
    select(Member, Chat, Branch)
    .select_from(MemberIdentity)
    .join(Member, Member.id == MemberIdentity.member_id)
    .join(Chat, and_(Chat.channel == bindparam("channel"), Chat.platform_chat_id == bindparam("chat_id")))
    .join(Branch, Branch.id == Chat.branch_id)
    .where(*_BY_IDENTITY)
)


async def party_groups(session: AsyncSession, branch_id: int) -> list[PartyGroup]:
    return list(
        await session.scalars(select(PartyGroup).where(PartyGroup.branch_id == branch_id).order_by(PartyGroup.id))
    )


def group_named(groups: Sequence[PartyGroup], typed: str) -> PartyGroup | None:
    """The party group a command names (its text is folded: bot/core/normalize.py fold), compared folded alike: a
    group named with Latin capitals or full-width characters is found as typed."""
    wanted = fold(typed)
    return next((g for g in groups if fold(g.name) == wanted), None)


def group_at_start(groups: Sequence[PartyGroup], text: str) -> tuple[PartyGroup, str] | None:
    """The party group text starts with (compared folded, as group_named), the longest name first, and the text
    after it."""
    for group in sorted(groups, key=lambda g: -len(g.name)):
        if fold(text[: len(group.name)]) == fold(group.name):
            return group, text[len(group.name) :].strip()
    return None


async def party_group_names(session: AsyncSession, branch_id: int) -> list[str]:
    rows = await session.scalars(
        select(PartyGroup.name).where(PartyGroup.branch_id == branch_id).order_by(PartyGroup.id)
    )
    return list(rows)


async def sync_config(session: AsyncSession, config: Config) -> None:
    """Make branches, party groups, bound chats and declared roles in the database match config.toml.

    Instances started together take turns (as with migrations, bot/core/db.py): on PostgreSQL this transaction first
    takes an advisory lock, so the second finds the first's branches instead of failing on their unique key
    (seen: two `yizhan run` on a fresh database, one exited with "duplicate key … branch_key_key").
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({STARTUP_LOCK_KEY})"))
    for line in config.declaration_conflicts():
        log.warning("config: %s", line)
    for spec in config.branches:
        branch = await branch_by_key(session, spec.id)
        if branch is None:
            branch = Branch(key=spec.id, name=spec.name)
            session.add(branch)
            await session.flush()
        branch.name = spec.name
        branch.kind = spec.kind
        existing = set(await party_group_names(session, branch.id))
        for name in spec.party_groups:
            if name not in existing:
                session.add(PartyGroup(branch_id=branch.id, name=name))
        for ref in spec.chats:
            channel, chat_id = ref.split(":", 1)
            chat = await session.scalar(select(Chat).where(Chat.channel == channel, Chat.platform_chat_id == chat_id))
            if chat is None:
                session.add(Chat(branch_id=branch.id, channel=channel, platform_chat_id=chat_id, name=""))
            else:
                chat.branch_id = branch.id
        # Declared roles are a floor: a restart never leaves a declared admin without rights.
        # (Configured names are applied below, for every branch at once.)
        for ref in (*spec.secretaries, *spec.admins):
            channel, user_id = ref.split(":", 1)
            identity = await session.scalar(
                select(MemberIdentity).where(
                    MemberIdentity.channel == channel, MemberIdentity.platform_user_id == user_id
                )
            )
            if identity is None:
                continue
            member = await session.get(Member, identity.member_id)
            if member is None:
                continue
            wanted = configured_role(config, spec.id, channel, user_id)
            if declared_branch(config, channel, user_id) != spec.id:
                continue  # declared in an earlier branch too: that one is theirs (config.declaration_conflicts)
            if member.branch_id != branch.id:
                # The declaring branch is this person's own (they first wrote somewhere else, or moved): a role
                # declared for a branch counts in that branch only, so their home follows the declaration.
                log.warning("config: %s is declared %s of branch %r; moving them there", ref, wanted, spec.id)
                member.branch_id, member.role, member.party_group_id = branch.id, Role.MEMBER, None
            if not Role.at_least(member.role, wanted):
                member.role = wanted
    await _apply_configured_names(session, config)
    await session.flush()
    # The tree: a declared parent is applied each start; a unit without one keeps what was set in chat.
    for spec in config.branches:
        if spec.parent:
            unit, parent = await branch_by_key(session, spec.id), await branch_by_key(session, spec.parent)
            if unit is not None and parent is not None:
                unit.parent_id = parent.id
    await org.rebuild_paths(session)


async def _apply_configured_names(session: AsyncSession, config: Config) -> None:
    """Give members the names config.toml sets for them ([wecom] member_names)."""
    overrides = config.wecom.name_overrides()
    if not overrides:
        return
    rows = await session.execute(
        select(MemberIdentity.platform_user_id, Member)
        .join(Member, Member.id == MemberIdentity.member_id)
        .where(MemberIdentity.channel == "wecom", MemberIdentity.platform_user_id.in_(list(overrides)))
    )
    for user_id, member in rows:
        member.display_name = overrides[user_id]


async def pinned_role(session: AsyncSession, config: Config, branch: Branch, member: Member) -> str:
    """The highest role config.toml declares in branch for any of this member's identities (if they belong there)."""
    if member.branch_id != branch.id:
        return Role.MEMBER
    identities = await session.scalars(select(MemberIdentity).where(MemberIdentity.member_id == member.id))
    best = Role.MEMBER
    for identity in identities:
        role = configured_role(config, branch.key, identity.channel, identity.platform_user_id)
        if Role.at_least(role, best):
            best = role
    return best
