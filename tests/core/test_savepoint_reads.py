"""Who sent what where, read once per batch for the handlers in its savepoints (bot/core/groupcommit.py,
bot/core/members.py resolve_known): the same objects resolve() would load, read again after a handler wrote them."""

import asyncio

from sqlalchemy import bindparam, select, update

from bot.app import ROUTERS, build_app
from bot.core import pipeline as pipeline_module
from bot.core import prepared
from bot.core.db import Prepared
from bot.core.message import Message
from bot.core.models import Member, MemberIdentity
from bot.core.router import Router
from tests.conftest import START
from tests.support import BotDriver, statements_run


def group(msg_id: str, user: str, body: str, name: str | None = None) -> Message:
    """A message in the demo group; with a name other than the member's, resolve() renames them (in a savepoint)."""
    return Message(
        channel="sim",
        platform_msg_id=msg_id,
        sender_id=user,
        text=body,
        sent_at=START,
        chat_id="demo-group",
        sender_name=name,
    )


async def member_of(services, user: str) -> Member:
    async with services.sessions() as session:
        return await session.scalar(
            select(Member)
            .join(MemberIdentity, MemberIdentity.member_id == Member.id)
            .where(MemberIdentity.platform_user_id == user)
        )


def columns(*objects) -> list[dict[str, object]]:
    return [{attr.key: getattr(obj, attr.key) for attr in obj.__mapper__.column_attrs} for obj in objects]


def probe_app(config, clock, seen: list[tuple[str, str]], loaded: list[list[dict[str, object]]] | None = None):
    probe = Router("probe")

    @probe.command("看看")
    async def handle_look(msg, ctx):
        seen.append((ctx.member.display_name, ctx.branch.key))

    @probe.command("全部")  # every column of what resolve() made, and nothing changed by making it
    async def handle_all(msg, ctx):
        assert not ctx.session.dirty and not ctx.session.new
        assert loaded is not None
        loaded.append(columns(ctx.member, ctx.chat, ctx.branch))
        for obj in (ctx.member, ctx.chat, ctx.branch):
            await ctx.session.refresh(obj)
        loaded.append(columns(ctx.member, ctx.chat, ctx.branch))

    @probe.command("改名")  # another member's name, by a Core UPDATE through the session
    async def handle_rename(msg, ctx):
        target = await member_of_in(ctx, ctx.command.args)
        await ctx.session.execute(update(Member).where(Member.id == target.id).values(display_name="王二"))

    @probe.command("改名预备")  # … or by a prepared statement (bot/core/prepared.py), which passes no session event
    async def handle_rename_prepared(msg, ctx):
        target = await member_of_in(ctx, ctx.command.args)
        await prepared.run(ctx.session, _RENAME, {"member_id": target.id, "name": "王四"})

    @probe.command("改名对象")  # … or as an ORM object, flushed
    async def handle_rename_object(msg, ctx):
        target = await member_of_in(ctx, ctx.command.args)
        target.display_name = "王三"
        await ctx.session.flush()

    return build_app(config, clock=clock, background=False, routers=(*ROUTERS, probe))


_RENAME = Prepared(
    lambda _n: update(Member).where(Member.id == bindparam("member_id")).values(display_name=bindparam("name"))
)


async def member_of_in(ctx, user: str) -> Member:
    return await ctx.session.scalar(
        select(Member)
        .join(MemberIdentity, MemberIdentity.member_id == Member.id)
        .where(MemberIdentity.platform_user_id == user)
    )


async def test_a_member_written_earlier_in_a_batch_is_read_again_for_a_later_message(aiohttp_client, config, clock):
    seen: list[tuple[str, str]] = []
    app = probe_app(config, clock, seen)
    driver = BotDriver(await aiohttp_client(app), app)
    pipeline = driver.services.pipeline
    await pipeline.process(group("warm", "u01", "帮助"))
    for word, name in (("改名", "王二"), ("改名对象", "王三"), ("改名预备", "王四")):
        before = pipeline.commits.batches
        await asyncio.gather(
            pipeline.process(group(f"{word}-1", "u01", f"{word} u02")),
            pipeline.process(group(f"{word}-2", "u02", "看看")),
        )
        assert pipeline.commits.batches - before == 1
        assert seen[-1] == (name, "demo")


async def test_what_resolve_makes_from_the_batch_rows_is_what_it_would_load(aiohttp_client, config, clock, monkeypatch):
    async def no_load(*_args):
        raise AssertionError("resolve() loaded what the batch's rows should have made")

    loaded: list[list[dict[str, object]]] = []
    app = probe_app(config, clock, [], loaded)
    driver = BotDriver(await aiohttp_client(app), app)
    await driver.services.pipeline.process(group("warm", "u01", "帮助"))
    monkeypatch.setattr(pipeline_module, "resolve", no_load)
    assert (await driver.services.pipeline.process(group("all", "u01", "全部"))).handled_by == "handle_all"
    made, refreshed = loaded
    assert made == refreshed
    assert made[0]["party_group_id"] is not None and made[0]["created_at"] is not None


async def test_a_known_member_in_a_savepoint_is_not_selected_again_and_a_rename_is_written(bot: BotDriver):
    pipeline = bot.services.pipeline
    await pipeline.process(group("warm", "u02", "帮助"))
    with statements_run(pipeline.engine) as statements:
        outcome = await pipeline.process(group("renamed", "u01", "会议列表", name="张伟（执法）"))
    assert outcome.handled_by == "handle_meetings"
    assert [s for s in statements if s.startswith("UPDATE member SET display_name")]
    # resolve()'s own select of member, chat and unit (_known) did not run: the batch's rows stood for it.
    assert not [s for s in statements if "JOIN chat ON chat.channel" in s]
    assert (await member_of(bot.services, "u01")).display_name == "张伟（执法）"
    member = await member_of(bot.services, "u01")
    assert bot.services.pipeline.directory.members[member.id].display_name == "张伟（执法）"
