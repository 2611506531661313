"""An AI bot on HTTP callbacks alone (no self-built app, no long connection) can only answer a message in its own
conversation: what would go to a member privately is not written (it could never be delivered), and the group is
told to ask directly instead of reading "已私信发送"."""

import dataclasses
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.core.config import BranchConfig
from bot.core.models import OutboxStatus
from bot.meetings import texts as meeting_texts
from bot.meetings.domain import CODE_TRIES
from bot.meetings.models import Meeting
from bot.notices import texts as notice_texts
from bot.points import texts as points_texts
from bot.tasks import texts as task_texts
from bot.tasks.models import ExtensionStatus, TaskItem
from tests.channels.wecom.conftest import ADMIN, AIBOT_CHAT, WecomDriver, wecom_config
from tests.conftest import TZ

# The AI bot alone: no app Secret (the app cannot send), callbacks (no long connection), no app group chats.
AIBOT_ONLY = {"app_secret": "", "appchats": ()}


async def group(wecom, text: str, user: str = ADMIN) -> str:
    _, answer = await wecom.aibot_say(f"@学习驿站 {text}", user=user, chat=AIBOT_CHAT)
    return answer["stream"]["content"] if answer else ""


async def direct(wecom, text: str, user: str = ADMIN) -> str:
    _, answer = await wecom.aibot_say(text, user=user, chat=None)
    return answer["stream"]["content"] if answer else ""


@pytest.mark.parametrize("reaches", [False, True], ids=["ai-bot-only", "with-app"])
async def test_private_answers_asked_in_a_group(start_wecom, fake, clock, reaches):
    wecom = await start_wecom() if reaches else await start_wecom(**AIBOT_ONLY)
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    await group(wecom, "我是谁", user="zhangsan")

    created = await group(wecom, "发起主题党日 11月23日10:20 三楼会议室 签到码")
    code_line = meeting_texts.MEETING_CODE_SENT if reaches else meeting_texts.MEETING_CODE_ASK_DIRECT
    assert created.endswith(code_line)
    assert await group(wecom, "签到码") == code_line
    # 签到情况: the counts in the group; the names of those not checked in directly, or the group is told to ask.
    status = await group(wecom, "签到情况")
    assert status.startswith("【主题党日#1 签到情况】") and "未签到：" not in status
    assert status.endswith(notice_texts.STATUS_NAMES_SENT if reaches else notice_texts.STATUS_NAMES_ASK_DIRECT)
    points = await group(wecom, "我的积分", user="zhangsan")
    assert points == (
        points_texts.POINTS_SENT_DIRECT.format(name="zhangsan") if reaches else points_texts.POINTS_ASK_DIRECT
    )

    await wecom.drain_outbox()
    rows = await wecom.outbox()
    private = [r for r in rows if r.target_kind == "user"]  # (the test branch's other chats are not the point)
    if reaches:  # the code twice (on creating, on asking), the 签到情况 names and the points, by the app
        assert sorted(r.target_id for r in private) == [ADMIN, ADMIN, ADMIN, "zhangsan"]
        assert all(r.status == OutboxStatus.SENT for r in private)
    else:
        assert private == []
        # Asked directly, the AI bot answers in that conversation: the code is there.
        answer = await direct(wecom, "签到码")
        assert answer.startswith(meeting_texts.MEETING_CODE_SHOWN.format(kind="主题党日", seq=1, code="")[:-1])
        assert "\n未签到：" in await direct(wecom, "签到情况")


DW_CHAT = "wrAibotGroupDw"  # the 党委's group, where its secretary @s the AI bot


@pytest.mark.parametrize("reaches", [False, True], ids=["ai-bot-only", "with-app"])
async def test_what_is_passed_on_to_secretaries_says_whether_it_was(aiohttp_client, db_url, fake, clock, reaches):
    """A 请假 needing approval, a 延期 and a 签到码 locked after wrong tries tell secretaries privately: where none
    can be written to, the member is told to take it to them, and what is recorded stays recorded."""
    config = wecom_config(db_url, fake.base_url, **({} if reaches else AIBOT_ONLY))
    [demo] = config.branches
    dw = BranchConfig(
        id="dw", name="市城管局党委", kind="committee_unit", chats=(f"wecom:{DW_CHAT}",), secretaries=("wecom:dwsec",)
    )
    config = config.replace(
        branches=(dw, dataclasses.replace(demo, parent="dw")), meetings={"leave_needs_approval": True}
    )
    app = build_app(config, clock=clock, background=False)
    wecom = WecomDriver(await aiohttp_client(app), app, fake, clock)
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    for user in ("zhangsan", "lisi"):
        await group(wecom, "我是谁", user=user)
    await group(wecom, "发起主题党日 11月23日10:20 三楼会议室 签到码")

    # 请假: recorded as asked, and the secretary sees it and approves it either way.
    asked = await group(wecom, "请假 在外执法", user="zhangsan")
    template = meeting_texts.MEETING_LEAVE_ASKED if reaches else meeting_texts.MEETING_LEAVE_ASKED_NOT_PASSED_ON
    assert asked == template.format(name="zhangsan", when="11月23日（周一）10:20", kind="主题党日", reason="在外执法")
    assert "（其中请假待批准1人）" in await group(wecom, "签到情况")
    approved = meeting_texts.MEETING_LEAVE_APPROVED.format(
        name="zhangsan", when="11月23日（周一）10:20", kind="主题党日"
    )
    assert await group(wecom, "准假 @zhangsan") == approved

    # 签到码 wrong CODE_TRIES times: locked; the secretary is told, or the member is told to tell them.
    async with wecom.services.sessions() as session:
        code = await session.scalar(select(Meeting.check_in_code))
    wrong = [c for c in ("1111", "2222", "3333", "4444", "5555", "6666") if c != code][:CODE_TRIES]
    for attempt in wrong:
        locked = await group(wecom, f"签到 {attempt}", user="lisi")
    template = meeting_texts.MEETING_CODE_LOCKED if reaches else meeting_texts.MEETING_CODE_LOCKED_NOT_PASSED_ON
    assert locked == template.format(name="lisi", tries=CODE_TRIES)

    # 延期: asked of the 党委, whose secretary is written to, or the branch is told to ask them itself.
    await wecom.aibot_say("@学习驿站 我是谁", user="dwsec", chat=DW_CHAT)
    await wecom.aibot_say(
        "@学习驿站 下发清单 任务 市城管局机关第一党支部 11月30日前 报送总结", user="dwsec", chat=DW_CHAT
    )
    extend = await group(wecom, "延期 1 12月10日 人员出差")
    if reaches:
        assert extend == task_texts.TASK_EXTENSION_REQUESTED.format(seq=1, due="12月10日")
    else:
        assert extend == task_texts.TASK_EXTENSION_NOT_PASSED_ON.format(
            seq=1, due="12月10日", issuer="市城管局党委", unit="市城管局机关第一党支部"
        )
    async with wecom.services.sessions() as session:
        assert await session.scalar(select(TaskItem.extension_status)) == ExtensionStatus.REQUESTED

    await wecom.drain_outbox()
    notices = ("【请假申请】", "【签到码】", "市城管局机关第一党支部申请")
    private = sorted(
        r.target_id for r in await wecom.outbox() if r.target_kind == "user" and r.text.startswith(notices)
    )
    assert private == ([ADMIN, ADMIN, "dwsec"] if reaches else [])
