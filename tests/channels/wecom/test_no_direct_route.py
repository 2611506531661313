"""An AI bot on HTTP callbacks alone (no self-built app, no long connection) can only answer a message in its own
conversation: what would go to a member privately is not written (it could never be delivered), and the group is
told to ask directly instead of reading "已私信发送"."""

from datetime import datetime

import pytest

from bot.core.models import OutboxStatus
from bot.meetings import texts as meeting_texts
from bot.notices import texts as notice_texts
from bot.points import texts as points_texts
from tests.channels.wecom.conftest import ADMIN, AIBOT_CHAT
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
