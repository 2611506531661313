"""The inbound pipeline through real HTTP: dedupe, registration, roles, silence, the error boundary."""

import asyncio
import json

from sqlalchemy import func, select

from bot.app import ROUTERS, build_app
from bot.core import texts
from bot.core.message import Message
from bot.core.models import InboundMessage, Member, MemberIdentity, Outbox, Role
from bot.core.router import Router
from tests.support import BotDriver


async def count(bot: BotDriver, model) -> int:
    async with bot.services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_same_platform_message_twice_has_one_effect(bot):
    first = await bot.say("设为书记 @张伟", user="u00", msg_id="wx-1")
    second = await bot.say("设为书记 @张伟", user="u00", msg_id="wx-1")
    assert [r["text"] for r in first["replies"]] == [
        texts.ROLE_SET.format(name="张伟", role=texts.ROLE_NAMES["secretary"])
    ]
    assert second == {"duplicate": True, "handled_by": None, "replies": []}
    assert await count(bot, InboundMessage) == 1
    assert await count(bot, Outbox) == 1
    lines = await bot.transcript()
    assert [line["text"] for line in lines].count("设为书记 @张伟") == 1


async def test_concurrent_duplicates_have_one_effect(bot):
    results = await asyncio.gather(*(bot.say("帮助", user="u03", msg_id="same") for _ in range(10)))
    assert sum(not r["duplicate"] for r in results) == 1
    assert await count(bot, Outbox) == 1


async def test_member_is_refused_a_secretary_command(bot):
    data = await bot.say("设为书记 @王芳", user="u01")
    assert [r["text"] for r in data["replies"]] == [
        texts.NOT_ALLOWED_ADMIN.format(word="设为书记", role=texts.ROLE_NAMES["admin"])
    ]
    async with bot.services.sessions() as session:
        wang = await session.scalar(select(Member).where(Member.display_name == "王芳"))
    assert wang.role == Role.MEMBER


async def test_admin_changes_roles_in_chat(bot):
    await bot.say("设为书记 @王芳", user="u00")
    await bot.say("我是谁", user="u02")
    assert bot.replies_to("u02") == [
        texts.WHOAMI.format(
            name="王芳", role=texts.ROLE_NAMES["secretary"], branch="市城管局机关第一党支部", group="执法党小组"
        )
    ]
    await bot.say("设为党员 @王芳", user="u00")
    await bot.say("设为党员 @李建国", user="u00")
    await bot.say("设为书记 @不存在", user="u00")
    await bot.say("设为书记", user="u00")
    assert bot.replies_to("u00") == [
        texts.ROLE_SET.format(name="王芳", role=texts.ROLE_NAMES["secretary"]),
        texts.ROLE_REVOKED.format(name="王芳", role=texts.ROLE_NAMES["member"]),
        texts.ROLE_SELF_DEMOTE,
        texts.MEMBER_NOT_FOUND.format(name="不存在"),
        texts.NEED_MENTION.format(example=texts.EXAMPLE_SET_SECRETARY),
    ]


async def test_config_declared_admin_cannot_be_demoted_in_chat(bot):
    await bot.say("设为管理员 @张伟", user="u00")
    await bot.say("设为党员 @李建国", user="u01")
    assert bot.replies_to("u01") == [texts.ROLE_PINNED.format(name="李建国", role=texts.ROLE_NAMES["admin"])]


async def test_party_group_change(bot):
    await bot.say("分组 @张伟 环卫党小组", user="u00")
    await bot.say("分组 @张伟 宣传党小组", user="u00")
    assert bot.replies_to("u00") == [
        texts.GROUP_SET.format(name="张伟", group="环卫党小组"),
        texts.GROUP_UNKNOWN.format(group="宣传党小组", groups="执法党小组、环卫党小组"),
    ]


async def test_newcomer_is_registered_on_first_message(bot):
    await bot.say("大家好", user="new-1", name="钱进")
    await bot.say("我是谁", user="new-1", name="钱进")
    assert bot.replies_to("new-1") == [
        texts.WHOAMI.format(
            name="钱进", role=texts.ROLE_NAMES["member"], branch="市城管局机关第一党支部", group=texts.NO_GROUP
        )
    ]
    async with bot.services.sessions() as session:
        identity = await session.scalar(select(MemberIdentity).where(MemberIdentity.platform_user_id == "new-1"))
        member = await session.get(Member, identity.member_id)
    assert member.display_name == "钱进"


async def test_direct_message_gets_help_for_unmatched_text(bot):
    data = await bot.say("你好", user="u04", chat=None)
    assert [r["text"] for r in data["replies"]] == [texts.HELP_SHORT]
    lines = await bot.transcript("dm:u04")
    assert [line["sender"] for line in lines] == ["u04", "bot"]


async def test_unbound_chat(aiohttp_client, config, clock):
    # The simulator's API refuses chats it does not know, so the message comes in as a platform channel
    # would hand it to the pipeline.
    config = config.replace(bot={"default_branch": ""})
    app = build_app(config, clock=clock, background=False)
    driver = BotDriver(await aiohttp_client(app), app)

    async def say(text: str, msg_id: str) -> list[str]:
        msg = Message("sim", msg_id, "u01", text, clock(), chat_id="other-group", sender_name="张伟")
        outcome = await driver.services.pipeline.process(msg)
        return [d.text for d in await driver.services.sender.deliver_now(outcome.reply_ids)]

    assert await say("帮助", "m1") == []
    assert await say("@学习驿站 帮助", "m2") == [texts.CHAT_NOT_BOUND]


async def test_a_failing_handler_gets_one_polite_apology(aiohttp_client, config, clock):
    broken = Router("broken")

    @broken.command("坏了")
    async def handle_broken(msg, ctx):
        await ctx.reply("this reply must be rolled back")
        raise RuntimeError("boom")

    app = build_app(config, clock=clock, background=False, routers=(*ROUTERS, broken))
    driver = BotDriver(await aiohttp_client(app), app)
    first = await driver.say("坏了", user="u01", msg_id="m-err")
    again = await driver.say("坏了", user="u01", msg_id="m-err")
    assert [r["text"] for r in first["replies"]] == [texts.GENERIC_ERROR]
    assert again["duplicate"] is True
    async with driver.services.sessions() as session:
        rows = (await session.scalars(select(Outbox.text))).all()
        inbound = (await session.scalars(select(InboundMessage.handled_by))).all()
    assert rows == [texts.GENERIC_ERROR]
    assert inbound == ["error"]


async def test_bad_requests_are_refused_and_store_nothing(bot):
    for body in ("not json", "[]", '{"user": "u01"}', '{"user": "u01", "text": ""}', '{"text": "帮助"}'):
        resp = await bot.post_raw(body)
        assert resp.status == 400
        assert "error" in await resp.json()
    resp = await bot.post_raw(json.dumps({"user": "u01", "text": "帮" * 3000, "chat": "demo-group"}))
    assert resp.status == 400
    resp = await bot.post_raw("x" * 70000)
    assert resp.status == 413
    assert await count(bot, InboundMessage) == 0
