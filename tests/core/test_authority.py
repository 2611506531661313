"""Authority stops at the branch's edge: roles count in the member's own branch only (issue #11, finding 5)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.core import texts
from bot.core.clock import FakeClock
from bot.core.config import BranchConfig, Config, parse_config
from bot.core.db import transaction
from bot.core.members import configured_role, declared_branch, sync_config
from bot.core.models import Branch, Member, MemberIdentity, Outbox, PointsEntry, Role, RollCall, RollCallEntry
from bot.core.router import Route
from bot.meetings.models import Meeting
from bot.notices import texts as notice_texts
from bot.quiz.models import QuizSession
from bot.study.models import StudyMaterial
from tests.conftest import make_config
from tests.support import BotDriver, register

# Branch A is the shipped demo branch (sim:u00 is its secretary and admin, sim:demo-group its chat).
B_CHAT = "b-group"
B_SECRETARY = "b00"
# One argument string that gives every privileged command something to act on.
ARGS = " @B同志000 明天15:00 三楼会议室 主题：学习党章 5题 原因：补记"


def two_branches(db_url: str, *, b_admins: tuple[str, ...] = (), **sections: Any) -> Config:
    config = make_config(db_url, **sections)
    b = BranchConfig(
        id="b",
        name="市城管局执法大队党支部",
        party_groups=("一组",),
        chats=(f"sim:{B_CHAT}",),
        admins=b_admins,
        secretaries=(f"sim:{B_SECRETARY}",),
    )
    return config.replace(branches=(*config.branches, b))


async def start(aiohttp_client: Any, config: Config, clock: FakeClock) -> BotDriver:
    app = build_app(config, clock=clock, background=False)
    return BotDriver(await aiohttp_client(app), app)


def privileged_routes(bot: BotDriver) -> list[Route]:
    dispatcher = bot.services.pipeline.dispatcher
    return [
        route
        for router in dispatcher.routers
        for route in router.routes
        if route.words and Role.at_least(route.role, Role.SECRETARY)
    ]


async def state(bot: BotDriver) -> dict[str, Any]:
    """What a privileged command could change, counted."""
    async with bot.services.sessions() as session:
        counts = {
            model.__name__: await session.scalar(select(func.count()).select_from(model))
            for model in (RollCall, RollCallEntry, Meeting, QuizSession, StudyMaterial, PointsEntry)
        }
        members = (await session.execute(select(Member.id, Member.role, Member.party_group_id))).all()
        return {**counts, "members": sorted(tuple(m) for m in members)}


async def outbox_to(bot: BotDriver, targets: set[str]) -> list[str]:
    async with bot.services.sessions() as session:
        rows = await session.scalars(select(Outbox.text).where(Outbox.target_id.in_(targets)).order_by(Outbox.id))
        return list(rows)


async def test_a_secretary_of_a_is_refused_every_privileged_command_in_b(aiohttp_client, db_url, clock):
    bot = await start(aiohttp_client, two_branches(db_url), clock)
    b_members = await register(bot, 3, B_CHAT, "b")  # b000 (the declared secretary is b00), b001, b002
    await bot.say("大家好", user=B_SECRETARY, chat=B_CHAT, name="B书记")
    routes = privileged_routes(bot)
    assert len(routes) > 20  # enumerated from the dispatcher, not a hand-written list
    before = await state(bot)
    b_targets = {B_CHAT, B_SECRETARY, *b_members}
    sent_before = await outbox_to(bot, b_targets)

    commits = bot.services.pipeline.commits
    handled = commits.in_savepoints
    for route in routes:
        answer = await bot.say(route.words[0] + ARGS, user="u00", chat=B_CHAT)
        assert answer["handled_by"] == "refused", route.name
        assert [r["text"] for r in answer["replies"]] == [texts.NOT_ALLOWED_OUTSIDER.format(word=route.words[0])]

    # The refusals were decided before the write (authorize), by the same rule respond() applies in it.
    assert commits.in_savepoints == handled
    assert await state(bot) == before
    refusals = [texts.NOT_ALLOWED_OUTSIDER.format(word=route.words[0]) for route in routes]
    assert await outbox_to(bot, b_targets) == sent_before + refusals

    # The same setup works for B's own secretary, and for A's secretary at home.
    answer = await bot.say("通知 明早八点集合", user=B_SECRETARY, chat=B_CHAT)
    assert answer["replies"][-1]["text"] == notice_texts.NOTICE_SENT.format(seq=1, chats=1, expected=3)
    answer = await bot.say("通知 明早九点集合", user="u00")
    assert answer["replies"][-1]["text"] == notice_texts.NOTICE_SENT.format(seq=1, chats=1, expected=10)


async def test_an_outsider_is_never_in_b_audiences_nor_counted(aiohttp_client, db_url, clock):
    bot = await start(aiohttp_client, two_branches(db_url), clock)
    await register(bot, 2, B_CHAT, "b")
    await bot.say("大家好", user=B_SECRETARY, chat=B_CHAT, name="B书记")
    await bot.say("大家好", user="u01", chat=B_CHAT)  # 张伟 of branch A sits in B's group
    await bot.say("通知 A支部的通知", user="u00")
    await bot.say("通知 B支部的通知", user=B_SECRETARY, chat=B_CHAT)
    assert bot.replies_to(B_SECRETARY)[-1] == notice_texts.NOTICE_SENT.format(seq=1, chats=1, expected=2)

    # 收到 in B's group neither counts for B's notice nor acknowledges A's from the wrong branch's chat.
    answer = await bot.say("收到", user="u01", chat=B_CHAT)
    assert answer["replies"] == []
    answer = await bot.say("签到", user="u01", chat=B_CHAT)
    assert [r["text"] for r in answer["replies"]] == [texts.NOT_ALLOWED_OUTSIDER.format(word="签到")]
    async with bot.services.sessions() as session:
        u01 = await session.scalar(select(MemberIdentity.member_id).where(MemberIdentity.platform_user_id == "u01"))
        entries = (
            await session.execute(
                select(RollCall.branch_id, RollCallEntry.status)
                .join(RollCall, RollCall.id == RollCallEntry.roll_call_id)
                .where(RollCallEntry.member_id == u01)
            )
        ).all()
    assert [status for _, status in entries] == ["pending"]  # only A's notice expects an answer, still open
    status = (await bot.say("通知情况", user=B_SECRETARY, chat=B_CHAT))["replies"][-1]["text"]
    assert "张伟" not in status

    # 帮助 and 我是谁 answer as a guest sees them: their own branch and role, and what they may do here.
    whoami = (await bot.say("我是谁", user="u01", chat=B_CHAT))["replies"][-1]["text"]
    assert whoami == texts.WHOAMI.format(
        name="张伟", role=texts.ROLE_NAMES["member"], branch="市城管局机关第一党支部", group="执法党小组"
    ) + texts.WHOAMI_GUEST_NOTE.format(branch="市城管局执法大队党支部")
    menu = (await bot.say("帮助", user="u01", chat=B_CHAT))["replies"][-1]["text"]
    assert texts.HELP_GUEST_NOTE in menu and "学习打卡" not in menu and "搜题" in menu
    assert texts.HELP_GUEST_NOTE not in (await bot.say("帮助", user="u01"))["replies"][-1]["text"]


async def test_a_committee_declared_elsewhere_is_not_in_this_branch_committee(aiohttp_client, db_url, clock):
    config = two_branches(db_url)
    a, b = config.branches
    config = config.replace(branches=(a, dataclasses.replace(b, committee=(f"sim:{B_SECRETARY}", "sim:u01"))))
    bot = await start(aiohttp_client, config, clock)
    await bot.say("大家好", user="u01", chat=B_CHAT)
    await bot.say("大家好", user=B_SECRETARY, chat=B_CHAT, name="B书记")
    await bot.say("发起支委会 明天15:00 三楼会议室", user=B_SECRETARY, chat=B_CHAT)
    async with bot.services.sessions() as session:
        expected = await session.scalar(select(func.count()).select_from(RollCallEntry))
    assert expected == 1  # B's secretary only: 张伟 of branch A is declared there but is not B's


async def test_config_roles_apply_to_their_own_branch_only(aiohttp_client, db_url, clock):
    # u05 is an ordinary member of A (the demo seed); B's config declares the same identity its admin.
    config = two_branches(db_url, b_admins=("sim:u05",))
    bot = await start(aiohttp_client, config, clock)
    async with transaction(bot.services.sessions) as session:
        await sync_config(session, config)  # a restart: declared roles are applied again
    async with bot.services.sessions() as session:
        member = await session.scalar(
            select(Member)
            .join(MemberIdentity, MemberIdentity.member_id == Member.id)
            .where(MemberIdentity.platform_user_id == "u05")
        )
        b = await session.scalar(select(Branch).where(Branch.key == "b"))
    assert member is not None and b is not None
    # The declaration makes B their branch and the role counts there only: a guest in A's group now.
    assert (member.branch_id, member.role) == (b.id, Role.ADMIN)
    answer = await bot.say("通知 不该发出", user="u05")
    assert answer["handled_by"] == "refused"
    answer = await bot.say("通知 明早八点集合", user="u05", chat=B_CHAT)
    assert answer["handled_by"] == "handle_notice"


async def test_a_declared_secretary_joins_the_declaring_branch_wherever_first_heard(aiohttp_client, db_url, clock):
    bot = await start(aiohttp_client, two_branches(db_url), clock)
    await register(bot, 2, B_CHAT, "b")
    # B's declared secretary speaks first in A's group: a guest there, B's secretary at home.
    answer = await bot.say("通知 发错了群", user=B_SECRETARY, chat="demo-group", name="B书记")
    assert [r["text"] for r in answer["replies"]] == [texts.NOT_ALLOWED_OUTSIDER.format(word="通知")]
    answer = await bot.say("通知 明早八点集合", user=B_SECRETARY, chat=B_CHAT)
    assert answer["replies"][-1]["text"] == notice_texts.NOTICE_SENT.format(seq=1, chats=1, expected=2)


def test_an_identity_declared_in_two_branches_keeps_the_first_and_says_so():
    data = {
        "branches": [
            {"id": "a", "name": "A", "admins": ["sim:u00"], "secretaries": ["sim:u00"]},
            {"id": "b", "name": "B", "secretaries": ["sim:u00"]},
        ]
    }
    config = parse_config(data, env={})  # a configuration that ran before still starts
    assert config.declaration_conflicts() == [
        "[[branches]] 'b': 'sim:u00' is already declared in branch 'a'; "
        "a member belongs to one branch, so this declaration is ignored"
    ]
    assert declared_branch(config, "sim", "u00") == "a"
    assert configured_role(config, "a", "sim", "u00") == Role.ADMIN


@pytest.mark.parametrize(
    "word", ["帮助", "我是谁", "搜题 党的最高领导机关", "会议列表", "排行榜", "错题本", "我的积分", "积分规则"]
)
async def test_a_guest_may_use_what_the_readme_says_everyone_may(aiohttp_client, db_url, clock, word):
    bot = await start(aiohttp_client, two_branches(db_url), clock)
    await bot.say("大家好", user=B_SECRETARY, chat=B_CHAT, name="B书记")
    answer = await bot.say(word, user=B_SECRETARY)  # in demo-group (branch A)
    assert answer["handled_by"] not in ("refused", None), (word, answer["replies"])
