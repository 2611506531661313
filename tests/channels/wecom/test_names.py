"""Members' names from the WeCom contacts (读取成员, user/get): read after a newcomer's first message, refreshed
daily, never over a name config.toml sets; what happens when WeCom will not tell."""

import logging
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.core import texts
from bot.core.channels.wecom.channel import WECOM
from bot.core.models import Member, MemberIdentity
from bot.meetings import texts as meeting_texts
from tests.channels.wecom.conftest import ADMIN, AIBOT_CHAT, ROBOT_KEY
from tests.conftest import TZ


async def names(wecom) -> dict[str, str]:
    async with wecom.services.sessions() as session:
        rows = await session.execute(
            select(MemberIdentity.platform_user_id, Member.display_name).join(
                Member, Member.id == MemberIdentity.member_id
            )
        )
        return {user: name for user, name in rows}


async def say(wecom, text: str, user: str, chat: str | None = AIBOT_CHAT) -> str:
    """An AI-bot message; the passive answer's text ("" if none). Name look-ups it started are awaited."""
    _, answer = await wecom.aibot_say(text, user=user, chat=chat)
    await wecom.app[WECOM].contacts.settle()
    return answer["stream"]["content"] if answer else ""


async def test_a_newcomers_name_shows_in_notice_status_and_works_in_make_up(start_wecom, fake, clock):
    fake.contacts.update({ADMIN: "王书记", "zhangsan": "张三"})
    wecom = await start_wecom(robot_webhooks=(f"{AIBOT_CHAT}={ROBOT_KEY}",))
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    await say(wecom, "@学习驿站 我是谁", ADMIN)
    await say(wecom, "@学习驿站 我是谁", "zhangsan")
    assert (await names(wecom))["zhangsan"] == "张三"
    assert fake.user_get_calls == [ADMIN, "zhangsan"]
    await say(wecom, "@学习驿站 我是谁", "zhangsan")
    assert fake.user_get_calls == [ADMIN, "zhangsan"]  # read once, not per message

    await say(wecom, "@学习驿站 通知 周五下午学习党章，请回复收到", ADMIN)
    await wecom.drain_outbox()
    status = await say(wecom, "通知情况", ADMIN, chat=None)
    assert "未回执（1人）：张三" in status

    await say(wecom, "@学习驿站 发起主题党日 11月23日10:30 三楼会议室 主题：学习党章", ADMIN)
    clock.set(datetime(2026, 11, 23, 11, 30, tzinfo=TZ))
    await wecom.services.jobs.fire("tick_roll_calls", clock())
    await wecom.drain_outbox()
    answer = await say(wecom, "补签 @张三 现场签到时手机没电", ADMIN, chat=None)
    assert answer.startswith("已将张三同志在主题党日#1的记录更正为")


@pytest.mark.parametrize(
    ("contacts", "user", "name"),
    [
        # Latin capitals: the command's text is folded (lower case) for matching.
        ({"xiaob": "小B"}, "xiaob", "小B"),
        # A space in the name: Tom Li, not Tom, whose name it begins with.
        ({"tom": "Tom", "tomli": "Tom Li"}, "tomli", "Tom Li"),
    ],
)
async def test_a_member_is_found_by_the_mention_wecom_writes(start_wecom, fake, clock, contacts, user, name):
    """In a WeCom group a member is @-mentioned by their name as shown, then a four-per-em space (“@小B\u2005”,
    “@Tom Li\u2005”): 准假 and 补签 find that member."""
    fake.contacts.update({ADMIN: "王书记", **contacts})
    wecom = await start_wecom(robot_webhooks=(f"{AIBOT_CHAT}={ROBOT_KEY}",))
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    for someone in (ADMIN, *contacts):
        await say(wecom, "@学习驿站 我是谁", someone)
    assert (await names(wecom))[user] == name
    await say(wecom, "@学习驿站 发起主题党日 11月23日10:30 三楼会议室 主题：学习党章", ADMIN)
    answer = await say(wecom, f"@学习驿站\u2005准假 @{name}\u2005", ADMIN)
    assert answer == meeting_texts.MEETING_APPROVE_NOT_NEEDED_NONE.format(name=name)  # found: no leave of theirs
    clock.set(datetime(2026, 11, 23, 11, 30, tzinfo=TZ))
    await wecom.services.jobs.fire("tick_roll_calls", clock())
    await wecom.drain_outbox()
    answer = await say(wecom, f"@学习驿站\u2005补签 @{name}\u2005现场签到时手机没电", ADMIN)
    assert answer == meeting_texts.MEETING_CORRECTED.format(
        name=name, kind="主题党日", seq=1, status=meeting_texts.STATUS_PRESENT, reason="现场签到时手机没电"
    )


async def test_duplicate_names_get_the_ambiguity_question(start_wecom, fake, clock):
    fake.contacts.update({ADMIN: "王书记", "zhangsan1": "张三", "zhangsan2": "张三"})
    wecom = await start_wecom()
    for user in (ADMIN, "zhangsan1", "zhangsan2"):
        await say(wecom, "@学习驿站 我是谁", user)
    answer = await say(wecom, "准假 @张三", ADMIN, chat=None)
    assert answer == texts.MEMBER_AMBIGUOUS.format(name="张三")
    # The userid still finds exactly one of them.
    answer = await say(wecom, "准假 @zhangsan2", ADMIN, chat=None)
    assert answer != texts.MEMBER_NOT_FOUND.format(name="zhangsan2")


async def test_a_configured_name_is_kept_and_never_overwritten(start_wecom, fake):
    fake.contacts.update({"lisi": "李四（通讯录）"})
    wecom = await start_wecom(member_names=("lisi=李四",))
    await say(wecom, "@学习驿站 我是谁", "lisi")
    assert (await names(wecom))["lisi"] == "李四"
    assert fake.user_get_calls == []
    assert await wecom.services.jobs.run_now("refresh_member_names")
    await wecom.app[WECOM].contacts.settle()
    assert (await names(wecom))["lisi"] == "李四"
    assert fake.user_get_calls == []


async def test_outside_the_apps_visibility_or_unknown_keeps_the_userid(start_wecom, fake, caplog):
    fake.contacts.update({"wangwu": "王五"})
    fake.invisible.add("wangwu")
    wecom = await start_wecom()
    with caplog.at_level(logging.INFO, logger="bot.core.channels.wecom.contacts"):
        await say(wecom, "@学习驿站 我是谁", "wangwu")
        await say(wecom, "@学习驿站 我是谁", "ghost")
    assert (await names(wecom))["wangwu"] == "wangwu"
    assert (await names(wecom))["ghost"] == "ghost"
    assert any("60111" in r.getMessage() for r in caplog.records)
    assert sum("may not read members' names" in r.getMessage() for r in caplog.records) == 1


async def test_without_contacts_permission_it_logs_once_and_keeps_userids(start_wecom, fake, caplog):
    fake.contacts.update({"a1": "甲", "a2": "乙"})
    fake.contacts_forbidden = True
    wecom = await start_wecom()
    with caplog.at_level(logging.WARNING, logger="bot.core.channels.wecom.contacts"):
        for user in ("a1", "a2"):
            await say(wecom, "@学习驿站 我是谁", user)
    assert (await names(wecom)) == {"a1": "a1", "a2": "a2"}
    warnings = [r for r in caplog.records if "may not read members' names" in r.getMessage()]
    assert len(warnings) == 1 and "48002" in warnings[0].getMessage()


async def test_a_transient_failure_is_tried_again_on_the_next_message(start_wecom, fake):
    fake.contacts.update({"zhaoliu": "赵六"})
    fake.fail("user/get", -1)
    wecom = await start_wecom()
    await say(wecom, "@学习驿站 我是谁", "zhaoliu")
    assert (await names(wecom))["zhaoliu"] == "zhaoliu"
    await say(wecom, "@学习驿站 我是谁", "zhaoliu")
    assert (await names(wecom))["zhaoliu"] == "赵六"


async def test_the_daily_refresh_follows_a_rename(start_wecom, fake):
    fake.contacts.update({"sunqi": "孙七"})
    wecom = await start_wecom()
    await say(wecom, "@学习驿站 我是谁", "sunqi")
    fake.contacts["sunqi"] = "孙七七"
    assert "refresh_member_names" in wecom.services.jobs.jobs
    assert await wecom.services.jobs.run_now("refresh_member_names")
    await wecom.app[WECOM].contacts.settle()
    assert (await names(wecom))["sunqi"] == "孙七七"


async def test_no_app_secret_means_no_lookups_and_no_job(start_wecom, fake):
    fake.contacts.update({"zhouba": "周八"})
    wecom = await start_wecom(app_secret="", appchats=())
    await say(wecom, "@学习驿站 我是谁", "zhouba")
    assert fake.user_get_calls == []
    assert "refresh_member_names" not in wecom.services.jobs.jobs


async def test_the_next_answer_already_uses_the_name_read_from_the_contacts(start_wecom, fake):
    fake.contacts.update({"qianjiu": "钱九"})
    wecom = await start_wecom()
    first = await say(wecom, "@学习驿站 帮助", "qianjiu")
    assert first.startswith(texts.HELP_HEADER.format(name="qianjiu"))
    # The pipeline's member directory (a hint kept in this process) has the new name at once.
    async with wecom.services.sessions() as session:
        member_id = await session.scalar(
            select(MemberIdentity.member_id).where(MemberIdentity.platform_user_id == "qianjiu")
        )
    assert wecom.services.pipeline.directory.members[member_id].display_name == "钱九"
    second = await say(wecom, "@学习驿站 帮助", "qianjiu")
    assert second.startswith(texts.HELP_HEADER.format(name="钱九"))


async def test_a_name_the_member_directory_knows_is_settled_without_reading(start_wecom, fake, monkeypatch):
    fake.contacts.update({"zhengshi": "郑十"})
    fake.invisible.add("wujiu")  # outside the app's 可见范围: keeps the userid as the name
    wecom = await start_wecom()
    await say(wecom, "@学习驿站 我是谁", "zhengshi")
    await say(wecom, "@学习驿站 我是谁", "wujiu")
    assert fake.user_get_calls == ["zhengshi", "wujiu"]
    contacts = wecom.app[WECOM].contacts
    opened: list[None] = []
    sessions = contacts.sessions

    def counting_sessions():
        opened.append(None)
        return sessions()

    monkeypatch.setattr(contacts, "sessions", counting_sessions)
    # As on a member's first message to a new process (learn itself keeps no memory of who was read):
    # the directory knows 郑十, so neither the database nor the contacts are asked.
    assert await contacts.learn("zhengshi") == "郑十"
    assert opened == []
    assert fake.user_get_calls == ["zhengshi", "wujiu"]
    # A member the directory still knows by their userid is looked up as before: their row, then the contacts.
    assert await contacts.learn("wujiu") == "wujiu"
    assert len(opened) == 1
    assert fake.user_get_calls == ["zhengshi", "wujiu", "wujiu"]
