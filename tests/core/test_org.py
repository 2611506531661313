"""The organisation tree (issue #16): 党委 → 2 党总支 → 6 党支部 declared in config.toml; a higher unit's
secretaries act on and see every unit below, never sideways or up."""

from __future__ import annotations

import tomllib
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.core import db, org, texts
from bot.core.clock import FakeClock
from bot.core.config import Config, ConfigError, DatabaseConfig, parse_config
from bot.core.context import Context
from bot.core.members import branch_by_key, sync_config
from bot.core.models import Branch, Member, MemberIdentity, Outbox, RollCall, RollCallEntry, UnitKind
from bot.meetings import texts as meeting_texts
from bot.meetings.domain import add_stats, stats, stats_below
from bot.notices import texts as notice_texts
from tests.conftest import ROOT, START
from tests.core.test_authority import ARGS, outbox_to, privileged_routes, state
from tests.support import BotDriver, register

NUMERALS = "一二三四五六"
BRANCHES = [f"b{i}" for i in range(1, 7)]
NAMES = {"dw": "市城管局党委", "zz1": "机关党总支", "zz2": "执法党总支"} | {
    f"b{i}": f"第{NUMERALS[i - 1]}党支部" for i in range(1, 7)
}
PARENTS = {"zz1": "dw", "zz2": "dw"} | {f"b{i}": "zz1" if i <= 3 else "zz2" for i in range(1, 7)}
KINDS = {"dw": "committee_unit", "zz1": "general_branch", "zz2": "general_branch"}
MEMBERS_PER_BRANCH = 3  # besides the branch's secretary


def tree_toml(parents: dict[str, str] = PARENTS) -> str:
    """The tree as an operator writes it in config.toml: one [[branches]] table per unit."""
    tables = []
    for key, name in NAMES.items():
        lines = [
            "[[branches]]",
            f'id = "{key}"',
            f'name = "{name}"',
            f'kind = "{KINDS.get(key, "branch")}"',
            f'chats = ["sim:{key}-group"]',
            f'secretaries = ["sim:{key}00"]',
        ]
        if key in ("dw", "zz1"):
            lines.append(f'admins = ["sim:{key}00"]')
        if parents.get(key):
            lines.append(f'parent = "{parents[key]}"')
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def tree_config(db_url: str, parents: dict[str, str] = PARENTS) -> Config:
    """The shipped config.toml (its demo branch stays a root, beside the tree) with the tree appended."""
    data = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8") + "\n" + tree_toml(parents))
    config = parse_config(data, env={})
    return config.replace(database={"url": db_url}, scheduler={"enabled": False}, demo={"study_day_open": False})


async def populated(aiohttp_client: Any, config: Config, clock: FakeClock) -> BotDriver:
    """The app with every unit's secretary and three members per branch registered (by speaking in their chat)."""
    app = build_app(config, clock=clock, background=False)
    bot = BotDriver(await aiohttp_client(app), app)
    for key in NAMES:
        await bot.say("大家好", user=f"{key}00", chat=f"{key}-group", name=f"{NAMES[key]}书记")
    for key in BRANCHES:
        await register(bot, MEMBERS_PER_BRANCH, f"{key}-group", f"{key}m")
    return bot


async def unit_ids(bot: BotDriver) -> dict[str, int]:
    async with bot.services.sessions() as session:
        return dict((await session.execute(select(Branch.key, Branch.id))).all())


def test_config_declares_the_tree_and_refuses_a_broken_one():
    config = tree_config("sqlite+aiosqlite:///unused.db")
    assert {b.id: (b.kind, b.parent) for b in config.branches if b.id != "demo"} == {
        key: (KINDS.get(key, "branch"), PARENTS.get(key, "")) for key in NAMES
    }
    shipped = (ROOT / "config.toml").read_text(encoding="utf-8")
    broken = [
        ('parent = "zz1"', 'parent = "zz9"', "no unit with id 'zz9'"),
        ('parent = "zz1"', 'parent = "b2"', "'b2' is a 党支部"),
        ('kind = "general_branch"', 'kind = "party_committee"', "kind: must be one of"),
    ]
    for old, new, reason in broken:
        with pytest.raises(ConfigError, match=reason):
            parse_config(tomllib.loads(shipped + "\n" + tree_toml().replace(old, new, 1)), env={})
    cycle = tree_toml({**PARENTS, "dw": "zz1"})
    with pytest.raises(ConfigError, match="a cycle"):
        parse_config(tomllib.loads(shipped + "\n" + cycle), env={})


async def test_the_tree_is_stored_and_the_query_api_answers(aiohttp_client, db_url, clock):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    ids = await unit_ids(bot)
    async with bot.services.sessions() as session:
        dw = await session.get(Branch, ids["dw"])
        b5 = await session.get(Branch, ids["b5"])
        assert dw is not None and b5 is not None
        assert (dw.kind, dw.parent_id, dw.ancestor_path) == (UnitKind.COMMITTEE, None, "/")
        assert b5.ancestor_path == f"/{ids['dw']}/{ids['zz2']}/"
        assert await org.units_below(session, ids["dw"]) == [
            ids[k] for k in ("dw", "zz1", "b1", "b2", "b3", "zz2", "b4", "b5", "b6")
        ]
        assert await org.branches_below(session, ids["zz2"]) == [ids["b4"], ids["b5"], ids["b6"]]
        assert await org.branches_below(session, ids["b2"]) == [ids["b2"]]
        assert await org.ancestors(session, ids["b5"]) == [ids["dw"], ids["zz2"]]
        assert (await org.unit_of_branch(session, ids["b5"])) is b5
        assert await org.unit_reaches(session, ids["dw"], ids["b5"])
        assert await org.unit_reaches(session, ids["zz2"], ids["b5"])
        assert not await org.unit_reaches(session, ids["zz1"], ids["b5"])  # sideways
        assert not await org.unit_reaches(session, ids["b5"], ids["zz2"])  # up
        assert not await org.unit_reaches(session, ids["b4"], ids["b5"])  # a sibling
        assert not await org.unit_reaches(session, ids["dw"], ids["demo"])  # another tree
        assert [u.key for u in await org.children(session, ids["dw"])] == ["zz1", "zz2"]


async def test_a_notice_from_the_committee_reaches_every_member_below_once_tallied_per_branch(
    aiohttp_client, db_url, clock
):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    # A member of 第一党支部 also sits in 第二党支部's group and in the 党委's group: still one of the audience.
    await bot.say("大家好", user="b1m000", chat="b2-group")
    await bot.say("大家好", user="b1m000", chat="dw-group")
    expected = len(BRANCHES) * (MEMBERS_PER_BRANCH + 1) + 2  # each branch's members and secretary, 2 总支 secretaries
    answer = await bot.say("通知 明天上午9点召开全系统党建工作推进会", user="dw00", chat="dw-group")
    assert answer["replies"][-1]["text"] == notice_texts.NOTICE_SENT.format(seq=1, chats=len(NAMES), expected=expected)

    async with bot.services.sessions() as session:
        entries = list(await session.scalars(select(RollCallEntry.member_id)))
        homes = Counter(
            (
                await session.execute(
                    select(Branch.key).join(Member, Member.branch_id == Branch.id).where(Member.id.in_(entries))
                )
            ).scalars()
        )
        pushes = (
            await session.execute(select(Outbox.target_id).where(Outbox.text.contains("全系统党建工作推进会")))
        ).scalars()
        pushed = Counter(pushes)
    assert len(entries) == len(set(entries)) == expected  # once per member
    assert homes == {"zz1": 1, "zz2": 1} | {key: MEMBERS_PER_BRANCH + 1 for key in BRANCHES}
    assert pushed == {f"{key}-group": 1 for key in NAMES}  # every unit's chat once; not the demo branch's
    push = next(t for t in await outbox_to(bot, {"b4-group"}) if "推进会" in t)
    assert push.startswith(f"【第1号通知·{NAMES['dw']}】")

    # Receipts: in one's own branch's group; a second 收到 elsewhere changes nothing.
    await bot.say("收到", user="b1m000", chat="b1-group")
    await bot.say("收到", user="b1m000", chat="b2-group")
    await bot.say("收到", user="b4m001", chat="b4-group")
    await bot.say("收到", user="b400", chat="b4-group")
    await bot.say("收到", user="zz200", chat="zz2-group")

    status = (await bot.say("通知情况", user="dw00", chat="dw-group"))["replies"][-1]["text"]
    done = {"b1": 1, "b4": 2, "zz2": 1}
    head = status.splitlines()[0]
    assert head.startswith(f"{NAMES['dw']}第1号通知（{notice_texts.ORG_AUDIENCE_ALL_BELOW}）于")
    lines = [
        notice_texts.ORG_NOTICE_STATUS_LINE.format(
            unit=NAMES[key], expected=1 if key.startswith("zz") else MEMBERS_PER_BRANCH + 1, done=done.get(key, 0)
        )
        for key in ("zz1", "b1", "b2", "b3", "zz2", "b4", "b5", "b6")
    ]
    total = notice_texts.ORG_NOTICE_STATUS_TOTAL.format(expected=expected, done=4)
    assert status.splitlines()[1:] == [*lines, total]

    # A 党总支 sees its own part; a 党支部 its own line, with who of its members has not acknowledged.
    status = (await bot.say("通知情况", user="zz200", chat="zz2-group"))["replies"][-1]["text"]
    assert status.splitlines()[1:] == [*lines[4:], notice_texts.ORG_NOTICE_STATUS_TOTAL.format(expected=13, done=3)]
    replies = (await bot.say("通知情况", user="b100", chat="b1-group"))["replies"]
    status = replies[-1]["text"]  # in the group: counts only; the names go to the secretary directly
    pending = notice_texts.ORG_NOTICE_STATUS_PENDING.format(count=3, names="第一党支部书记、B1M同志001、B1M同志002")
    branch_total = notice_texts.ORG_NOTICE_STATUS_TOTAL.format(expected=4, done=1)
    assert status.splitlines()[1:] == [lines[1], branch_total, notice_texts.STATUS_NAMES_SENT.strip()]
    [direct] = [r["text"] for r in replies if r["to"] != "b1-group"]
    assert direct.splitlines()[1:] == [lines[1], branch_total, pending]
    # …and nothing of a sibling branch.
    assert NAMES["b2"] not in status and "B2M" not in status

    # The branch's own notices keep their own numbering and status.
    answer = await bot.say("通知 本支部下午学习", user="b100", chat="b1-group")
    assert answer["replies"][-1]["text"] == notice_texts.NOTICE_SENT.format(seq=1, chats=1, expected=MEMBERS_PER_BRANCH)


async def test_a_notice_from_a_committee_narrowed_to_one_general_branch(aiohttp_client, db_url, clock):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    answer = await bot.say(f"通知 {NAMES['zz2']} 下周一报送材料", user="dw00", chat="dw-group")
    # zz2's secretary and its three branches' members; pushed to the 党委's, zz2's and its branches' groups.
    assert answer["replies"][-1]["text"] == notice_texts.NOTICE_SENT.format(seq=1, chats=5, expected=13)
    async with bot.services.sessions() as session:
        label = await session.scalar(select(RollCall.audience_label))
        targets = set(
            (await session.execute(select(Outbox.target_id).where(Outbox.text.contains("报送材料")))).scalars()
        )
    assert label == NAMES["zz2"]
    assert targets == {"dw-group", "zz2-group", "b4-group", "b5-group", "b6-group"}


# (who, where): a secretary of a 党支部 in a sibling's, its 党总支's and the 党委's group; a 党总支's secretary in a
# branch of the other 党总支, in that 党总支's and in the 党委's group.
SIDEWAYS_AND_UP = [
    ("b100", "b2-group"),
    ("b100", "zz1-group"),
    ("b100", "dw-group"),
    ("zz100", "b4-group"),
    ("zz100", "zz2-group"),
    ("zz100", "dw-group"),
]


@pytest.mark.parametrize(("user", "chat"), SIDEWAYS_AND_UP)
async def test_every_privileged_command_is_refused_sideways_and_up(aiohttp_client, db_url, clock, user, chat):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    routes = privileged_routes(bot)
    assert len(routes) > 20 and any(route.name == "handle_set_parent" for route in routes)
    before = await state(bot)
    units_before = await tree_rows(bot)
    refusal = texts.NOT_ALLOWED_OUTSIDER if chat.startswith("b") else texts.ORG_NOT_ALLOWED_OUTSIDER
    for route in routes:
        answer = await bot.say(route.words[0] + ARGS, user=user, chat=chat)
        assert answer["handled_by"] == "refused", route.name
        assert [r["text"] for r in answer["replies"]] == [refusal.format(word=route.words[0])]
    assert await state(bot) == before
    assert await tree_rows(bot) == units_before
    # 通知情况 there shows nothing either (refused above); at home it works.
    answer = await bot.say("通知 明早八点集合", user=user, chat=f"{user[:-2]}-group")
    assert answer["handled_by"] == "handle_notice"


async def tree_rows(bot: BotDriver) -> list[tuple[Any, ...]]:
    async with bot.services.sessions() as session:
        return [tuple(r) for r in (await session.execute(select(Branch.id, Branch.parent_id, Branch.ancestor_path)))]


@pytest.mark.parametrize(("user", "chat"), [("dw00", "b5-group"), ("zz100", "b2-group")])
async def test_a_higher_secretary_may_use_every_privileged_command_below(aiohttp_client, db_url, clock, user, chat):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    routes = privileged_routes(bot)
    assert len(routes) > 20
    for route in routes:  # both are declared admins of their unit
        answer = await bot.say(route.words[0] + ARGS, user=user, chat=chat)
        assert answer["handled_by"] not in ("refused", "error", None), (route.name, answer["replies"])
    # A 通知 in a branch's group from above is that branch's notice.
    answer = await bot.say("通知 请各位党员按时参会", user=user, chat=chat)
    async with bot.services.sessions() as session:
        branch = await session.scalar(select(Branch.id).where(Branch.key == chat.removesuffix("-group")))
        latest = await session.scalar(select(RollCall).order_by(RollCall.id.desc()).limit(1))
    assert latest is not None and latest.branch_id == branch
    assert answer["replies"][-1]["text"].startswith(f"第{latest.seq}号通知已发到1个群")


async def test_statistics_of_a_higher_unit_sum_over_the_branches_below(aiohttp_client, db_url, clock):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    for key, present in (("b1", 3), ("b4", 1)):
        await bot.say("发起党员大会 今天14:30 三楼会议室 主题：学习党章", user=f"{key}00", chat=f"{key}-group")
        clock.set(START.replace(hour=14, minute=25))
        for i in range(present):
            await bot.say("签到", user=f"{key}m{i:03d}", chat=f"{key}-group")
        clock.set(START)
    clock.set(START.replace(hour=17))
    reply = (await bot.say("本月统计", user="dw00", chat="dw-group"))["replies"][-1]["text"]
    assembly = meeting_texts.MEETING_STATS_COUNT.format(kind=texts.MEETING_KIND_NAMES["member_assembly"], count=1)
    held = {"b1": ("75%", 3), "b4": ("25%", 1)}
    line = {  # a branch that held nothing has no 出席率 (0 of 0 is no rate)
        key: meeting_texts.ORG_STATS_UNIT_LINE.format(
            unit=NAMES[key],
            counts=assembly if key in held else meeting_texts.ORG_STATS_NONE_HELD,
            rate=meeting_texts.ORG_STATS_RATE.format(
                rate=held[key][0], expected=MEMBERS_PER_BRANCH + 1, present=held[key][1]
            )
            if key in held
            else "",
        )
        for key in BRANCHES
    }
    assert reply.endswith("".join(line[key] for key in BRANCHES)), reply
    assert reply.startswith(f"{START.year}年{START.month}月，所属党组织共召开支部党员大会2次；党员出席率50%"), reply
    zz2 = (await bot.say("本月统计", user="zz200", chat="zz2-group"))["replies"][-1]["text"]
    assert zz2.endswith("".join(line[key] for key in ("b4", "b5", "b6"))) and NAMES["b1"] not in zz2
    b1 = (await bot.say("本月统计", user="b100", chat="b1-group"))["replies"][-1]["text"]
    assert NAMES["b4"] not in b1 and "·" not in b1  # a 党支部's statistics are its own, as before

    # The sum is the sum of the branches' own statistics.
    ids = await unit_ids(bot)
    async with bot.services.sessions() as session:
        ctx = Context(config=bot.services.config, session=session, clock=clock)
        month = (START.replace(day=1, hour=0), START.replace(month=12, day=1, hour=0))
        below = await stats_below(ctx, ids["dw"], *month)
        own = [await stats(ctx, ids[key], *month) for key in BRANCHES]
    total = add_stats([part for _, part in below])
    assert (total.expected, total.present, total.counts["member_assembly"]) == (8, 4, 2)
    assert total == add_stats(own)


async def test_statistics_of_a_higher_unit_that_held_nothing(aiohttp_client, db_url, clock):
    """QA: a 党委 with nothing held read "支部尚未召开会议" and a line per branch "未召开会议；出席率0%（应到0人次，实到0人次）"
    — the sum is the units' below, and 0 of 0 is no rate."""
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    reply = (await bot.say("年度统计", user="dw00", chat="dw-group"))["replies"][-1]["text"]
    none = meeting_texts.ORG_STATS_UNIT_LINE.format(unit="{unit}", counts=meeting_texts.ORG_STATS_NONE_HELD, rate="")
    assert reply == meeting_texts.MEETING_STATS_NONE_HIGHER.format(period=f"{START.year}年") + "".join(
        none.format(unit=NAMES[key]) for key in BRANCHES
    )
    assert "出席率" not in reply and "支部尚未" not in reply


async def test_units_below_and_moving_a_unit_in_chat(aiohttp_client, db_url, clock):
    # An earlier start declared 第六党支部 under 执法党总支; the operator then left its parent to chat.
    earlier = tree_config(db_url)
    engine = db.create_engine(DatabaseConfig(url=db_url))
    try:
        async with db.transaction(db.session_factory(engine)) as session:
            await sync_config(session, earlier)
    finally:
        await engine.dispose()
    bot = await populated(aiohttp_client, tree_config(db_url, {**PARENTS, "b6": ""}), clock)

    listing = (await bot.say("下级单位", user="zz200", chat="zz2-group"))["replies"][-1]["text"]
    assert listing.splitlines() == [
        texts.ORG_PARENT_LINE.format(parent=NAMES["dw"]),
        texts.ORG_UNITS_BELOW_HEAD.format(unit=NAMES["zz2"], count=3),
        *(
            texts.ORG_UNIT_LINE.format(indent="", unit=NAMES[k], kind="党支部", members=MEMBERS_PER_BRANCH + 1)
            for k in ("b4", "b5", "b6")
        ),
    ]

    # zz1's admin does not reach 执法党总支, where 第六党支部 is now: refused, nothing changes.
    answer = await bot.say(f"设置上级 {NAMES['b6']} {NAMES['zz1']}", user="zz100", chat="zz1-group")
    assert answer["replies"][-1]["text"] == texts.ORG_SET_PARENT_NOT_ALLOWED
    # The demo branch's admin cannot put their branch (a root) under the 党委, nor take a unit of the tree.
    answer = await bot.say(f"设置上级 市城管局机关第一党支部 {NAMES['dw']}", user="u00")
    assert answer["replies"][-1]["text"] == texts.ORG_SET_PARENT_NOT_ALLOWED
    answer = await bot.say(f"设置上级 {NAMES['b6']} 无", user="u00")
    assert answer["replies"][-1]["text"] == texts.ORG_SET_PARENT_NOT_ALLOWED
    # zz1's admin reaches 第一党支部 but may not take it out from under the 党委 (only the tree's top may).
    answer = await bot.say(f"设置上级 {NAMES['b1']} 无", user="zz100", chat="zz1-group")
    assert answer["replies"][-1]["text"] == texts.ORG_SET_PARENT_NOT_ALLOWED
    # A declared parent is config's to change.
    answer = await bot.say(f"设置上级 {NAMES['b5']} {NAMES['zz1']}", user="dw00", chat="dw-group")
    assert answer["replies"][-1]["text"] == texts.ORG_PARENT_IN_CONFIG.format(unit=NAMES["b5"])
    answer = await bot.say(f"设置上级 {NAMES['b6']} {NAMES['b1']}", user="dw00", chat="dw-group")
    assert answer["replies"][-1]["text"] == texts.ORG_SET_PARENT_INVALID.format(unit=NAMES["b6"], parent=NAMES["b1"])
    answer = await bot.say(f"设置上级 {NAMES['b6']} 第九党总支", user="dw00", chat="dw-group")
    assert answer["replies"][-1]["text"] == texts.ORG_UNIT_NOT_FOUND.format(name="第九党总支")

    # The 党委's admin reaches both: 第六党支部 moves, and with it who may act there.
    answer = await bot.say(f"设置上级 {NAMES['b6']} {NAMES['zz1']}", user="dw00", chat="dw-group")
    assert answer["replies"][-1]["text"] == texts.ORG_PARENT_SET.format(unit=NAMES["b6"], parent=NAMES["zz1"])
    ids = await unit_ids(bot)
    async with bot.services.sessions() as session:
        assert await org.branches_below(session, ids["zz1"]) == [ids["b1"], ids["b2"], ids["b3"], ids["b6"]]
        b6 = await session.get(Branch, ids["b6"])
        assert b6 is not None and b6.ancestor_path == f"/{ids['dw']}/{ids['zz1']}/"
    assert (await bot.say("通知 明天集中学习", user="zz100", chat="b6-group"))["handled_by"] == "handle_notice"
    refused = await bot.say("通知 明天集中学习", user="zz200", chat="b6-group")
    assert refused["handled_by"] == "refused"

    # A restart keeps what was set in chat (b6 has no declared parent).
    async with db.transaction(bot.services.sessions) as session:
        await sync_config(session, bot.services.config)
    async with bot.services.sessions() as session:
        b6 = await branch_by_key(session, "b6")
        assert b6 is not None and b6.parent_id == ids["zz1"]
        assert await session.scalar(select(func.count()).select_from(MemberIdentity)) > 0


async def test_a_branch_member_in_the_committee_group_is_a_guest_there(aiohttp_client, db_url, clock):
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    answer = await bot.say("签到", user="b1m001", chat="dw-group")
    assert [r["text"] for r in answer["replies"]] == [texts.ORG_NOT_ALLOWED_OUTSIDER.format(word="签到")]
    answer = await bot.say("下级单位", user="b1m001", chat="b1-group")
    assert answer["replies"][-1]["text"].splitlines() == [
        texts.ORG_PARENT_LINE.format(parent=NAMES["zz1"]),
        texts.ORG_NO_UNITS_BELOW.format(unit=NAMES["b1"]),
    ]
