"""Setting roles in chat: a permission in this app is granted or withdrawn; nobody is appointed to a post."""

from bot.core import texts
from tests.support import register


async def test_granting_the_branch_permission_is_said_as_a_permission(bot):
    data = await bot.say("设为书记 @王芳", user="u00")
    [reply] = data["replies"]
    assert reply["to"] == "demo-group"
    assert reply["text"] == "已授予王芳同志支部管理权限（书记/组织委员）。此为本系统操作权限，不涉及党内职务任免。"
    assert reply["text"] == texts.ROLE_SET.format(name="王芳", role=texts.ROLE_NAMES["secretary"])
    # Nothing in the group says that anyone "is now" secretary.
    assert not [line for line in await bot.transcript() if line["sender"] == "bot" and "设为书记" in line["text"]]
    await bot.say("设为书记 @王芳", user="u00")
    await bot.say("设为管理员 @王芳", user="u00")
    await bot.say("设为书记 @王芳", user="u00")
    await bot.say("设为党员 @王芳", user="u00")
    assert bot.replies_to("u00")[1:] == [
        "王芳同志目前已是支部管理权限（书记/组织委员），无需调整。",
        "已授予王芳同志系统管理权限。此为本系统操作权限，不涉及党内职务任免。",
        "已将王芳同志的权限调整为支部管理权限（书记/组织委员）。",
        "已撤销王芳同志的管理权限，现为基本权限。",
    ]


async def test_a_mention_finds_the_member_whatever_its_case_or_width(bot):
    """`设为书记 @B同志000` as the name shows (or @b同志000, @Ｂ同志000) finds the member; the name stays as stored."""
    await register(bot, 2, prefix="b")  # B同志000, B同志001
    await bot.say("设为书记 @B同志000", user="u00")
    await bot.say("设为管理员 @ｂ同志000", user="u00")
    await bot.say("分组 @b同志001 执法党小组", user="u00")
    assert bot.replies_to("u00") == [
        texts.ROLE_SET.format(name="B同志000", role=texts.ROLE_NAMES["secretary"]),
        texts.ROLE_SET.format(name="B同志000", role=texts.ROLE_NAMES["admin"]),
        texts.GROUP_SET.format(name="B同志001", group="执法党小组"),
    ]
    await bot.say("我是谁", user="b000")
    assert bot.replies_to("b000")[-1].startswith("B同志000同志，")


async def test_a_name_with_a_space_is_found_by_its_mention(bot):
    """`分组 @Tom Li` + U+2005 (a WeCom group's mention) moves Tom Li, not Tom; the group is the words after the name."""
    await bot.say("大家好", user="tom", name="Tom")
    await bot.say("大家好", user="tomli", name="Tom Li")
    await bot.say("分组 @Tom Li\u2005执法党小组", user="u00")
    await bot.say("设为书记 @Tom Li\u2005", user="u00")
    assert bot.replies_to("u00") == [
        texts.GROUP_SET.format(name="Tom Li", group="执法党小组"),
        texts.ROLE_SET.format(name="Tom Li", role=texts.ROLE_NAMES["secretary"]),
    ]
    await bot.say("我是谁", user="tomli")
    await bot.say("我是谁", user="tom")
    assert "执法党小组" in bot.replies_to("tomli")[-1]
    assert bot.replies_to("tom")[-1].startswith("Tom同志，")
    assert "执法党小组" not in bot.replies_to("tom")[-1]


async def test_whoami_names_the_permission(bot):
    await bot.say("设为书记 @王芳", user="u00")
    await bot.say("我是谁", user="u02")
    assert bot.replies_to("u02") == [
        "王芳同志，所在支部：市城管局机关第一党支部，党小组：执法党小组，使用权限：支部管理权限（书记/组织委员）。"
    ]


async def test_a_refusal_names_the_permission_needed(bot):
    await bot.say("通知 明天交学习笔记", user="u01")
    assert bot.replies_to("u01") == ["“通知”需支部管理权限（书记/组织委员）。如需办理，请联系支部书记。"]
    # A role only an admin gives: the one to ask is the system's admin, not the branch's secretary.
    await bot.say("设为管理员 @王芳", user="u01")
    assert bot.replies_to("u01")[-1] == "“设为管理员”需系统管理权限。如需办理，请联系系统管理员。"


async def test_a_party_group_named_with_latin_letters_is_found_as_typed(bot):
    """Commands are folded (lower case, half width) before matching: a group named “A组党小组” is found by 分组,
    发起党小组会 and 排行榜 as typed (A, a or Ａ), and named as stored."""
    from sqlalchemy import select

    from bot.core.models import Branch, Member, PartyGroup

    async with bot.services.sessions() as session:
        branch = await session.scalar(select(Branch).where(Branch.key == "demo"))
        session.add(PartyGroup(branch_id=branch.id, name="A组党小组"))
        await session.commit()
    await bot.say("分组 @王芳 A组党小组", user="u00")
    await bot.say("分组 @王芳 ａ组党小组", user="u00")
    assert bot.replies_to("u00") == [texts.GROUP_SET.format(name="王芳", group="A组党小组")] * 2
    async with bot.services.sessions() as session:
        group_id = await session.scalar(select(Member.party_group_id).where(Member.display_name == "王芳"))
        assert group_id == await session.scalar(select(PartyGroup.id).where(PartyGroup.name == "A组党小组"))
    announced = await bot.say("发起党小组会 A组党小组 明天15:00 三楼会议室", user="u00")
    assert announced["replies"][0]["text"].startswith("【党小组会")
    assert "A组党小组" in announced["replies"][0]["text"]
    board = await bot.say("排行榜 A组党小组", user="u01")
    assert board["replies"][0]["text"].startswith("【答题积分榜·A组党小组·")
