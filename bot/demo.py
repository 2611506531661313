"""Demo data for the local simulator: one branch, two 党小组, a secretary and ten members in one group."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import texts
from bot.core.config import Config
from bot.core.context import Context
from bot.core.holidays import week_key
from bot.core.members import branch_by_key, configured_role
from bot.core.models import Chat, Member, MemberIdentity, PartyGroup, Role, RollCall
from bot.core.rollcall import branch_audience, branch_chats, open_roll_call, roll_call_chats

log = logging.getLogger(__name__)

SIM = "sim"
DEMO_CHAT_NAME = "机关第一党支部党员群"

# (sim user id, name, index of party group or None). u00 is the branch secretary in config.toml.
DEMO_MEMBERS: tuple[tuple[str, str, int | None], ...] = (
    ("u00", "李建国", None),
    ("u01", "张伟", 0),
    ("u02", "王芳", 0),
    ("u03", "刘洋", 0),
    ("u04", "陈静", 0),
    ("u05", "杨帆", 0),
    ("u06", "赵磊", 1),
    ("u07", "黄丽", 1),
    ("u08", "周强", 1),
    ("u09", "吴敏", 1),
    ("u10", "孙涛", 1),
)


async def seed_demo(session: AsyncSession, config: Config, now: datetime) -> bool:
    """Seed the demo branch's members and group if the database has no members; True if seeded.

    Only for the simulator, never beside a real channel, and never into a branch with real chats: simulated members there
    would be counted in real notices and meetings, and the demo secretary could address real people.
    """
    if not config.sim_on:
        return False
    if config.real_channels:
        # A real channel's groups may yet be bound to this branch ([bot] default_branch): never mix the two.
        log.warning("demo: not seeding: a real channel (%s) is configured", ", ".join(config.real_channels))
        return False
    if await session.scalar(select(func.count()).select_from(Member)):
        return False
    branch = await branch_by_key(session, config.demo.branch)
    if branch is None:
        return False
    real_chats = await session.scalar(
        select(func.count()).select_from(Chat).where(Chat.branch_id == branch.id, Chat.channel != SIM)
    )
    if real_chats:
        log.warning(
            "demo: not seeding branch %r: it has chats on a real channel ([demo] branch should name a demo branch)",
            branch.key,
        )
        return False
    groups = list(
        await session.scalars(select(PartyGroup).where(PartyGroup.branch_id == branch.id).order_by(PartyGroup.id))
    )
    for user_id, name, group_index in DEMO_MEMBERS:
        group = groups[group_index] if group_index is not None and group_index < len(groups) else None
        role = configured_role(config, branch.key, SIM, user_id)
        if user_id == "u00" and role == Role.MEMBER:
            role = Role.SECRETARY
        member = Member(
            branch_id=branch.id,
            display_name=name,
            role=role,
            party_group_id=group.id if group else None,
            created_at=now,
        )
        session.add(member)
        await session.flush()
        session.add(MemberIdentity(member_id=member.id, channel=SIM, platform_user_id=user_id))
    chat = await session.scalar(select(Chat).where(Chat.channel == SIM, Chat.platform_chat_id == config.demo.chat))
    if chat is None:
        chat = Chat(branch_id=branch.id, channel=SIM, platform_chat_id=config.demo.chat, name=DEMO_CHAT_NAME)
        session.add(chat)
    elif not chat.name:
        chat.name = DEMO_CHAT_NAME
    await session.flush()
    return True


async def open_demo_study_day(ctx: Context) -> RollCall | None:
    """Demo only ([demo] study_day_open): open this week's study day now if the week has none; the roll call.

    A new user tries 学习打卡 on whatever day they start the demo. Never beside a real channel, and never in a
    branch with real chats: there the study day opens on its configured day only (bot/study/domain.py).
    """
    from bot.study import domain as study

    config = ctx.config
    spec = config.branch(config.demo.branch)
    if not (config.demo.study_day_open and config.sim_on and not config.real_channels) or spec is None:
        return None
    if not spec.study.enabled:
        return None
    branch = await branch_by_key(ctx.session, spec.id)
    if branch is None:
        return None
    real_chats = await ctx.session.scalar(
        select(func.count()).select_from(Chat).where(Chat.branch_id == branch.id, Chat.channel != SIM)
    )
    if real_chats:
        return None
    now = ctx.clock()
    today = now.astimezone(config.tz).date()
    key = week_key(today)
    exists = await ctx.session.scalar(
        select(RollCall.id).where(
            RollCall.branch_id == branch.id, RollCall.kind == study.KIND, RollCall.period_key == key
        )
    )
    if exists is not None:
        return None
    material = await study.take_material(ctx, branch, key)
    # Open for the rest of the week (at least close_after_hours), as a real study day is for its own.
    next_monday = datetime.combine(today + timedelta(days=7 - today.weekday()), time(0, 0), tzinfo=config.tz)
    roll_call = await open_roll_call(
        ctx.session,
        branch=branch,
        kind=study.KIND,
        title=study.week_label(key),
        body=material,
        audience=await branch_audience(ctx.session, branch, texts.AUDIENCE_BRANCH),
        chats=await branch_chats(ctx.session, branch, spec.study.chats),
        now=now,
        closes_at=max(now + timedelta(hours=spec.study.close_after_hours), next_monday),
        period_key=key,
    )
    text = texts.DEMO_STUDY_REMINDER.format(week=study.week_label(key), material=material)
    for chat in await roll_call_chats(ctx.session, roll_call):
        await ctx.send_to_chat(chat, text)
    log.info("demo: opened the study day of %s for %s ([demo] study_day_open)", key, branch.key)
    return roll_call
