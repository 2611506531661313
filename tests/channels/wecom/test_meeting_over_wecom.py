"""A meeting end to end through encrypted AI-bot callbacks: create, remind, check in, leave, summary, records."""

import asyncio
from datetime import datetime, timedelta

from openpyxl import load_workbook

from bot.cli import main
from bot.core import texts
from bot.meetings import texts as meeting_texts
from tests.channels.wecom.conftest import ADMIN, AIBOT_CHAT, ROBOT_KEY
from tests.conftest import TZ
from tests.core.test_export import config_for

START = datetime(2026, 11, 27, 14, 30, tzinfo=TZ)


async def test_theme_day_over_the_ai_bot(start_wecom, fake, clock, db_url, tmp_path):
    # Members @ the AI bot in the group; the bot's own pushes reach the group through its robot webhook.
    wecom = await start_wecom(robot_webhooks=(f"{AIBOT_CHAT}={ROBOT_KEY}",))
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    users = [f"m{i:02d}" for i in range(34)]
    for user in users:
        await wecom.aibot_say("@学习驿站 我是谁", user=user)
    status, answer = await wecom.aibot_say("@学习驿站 发起主题党日 11月27日14:30 三楼会议室 主题：学习党章", user=ADMIN)
    assert status == 200
    # The 34 above and the admin: 35 expected (no simulated demo members in a branch with WeCom chats).
    # The announcement to this group rides in the same passive answer, followed by the secretary's one-line
    # confirmation (which does not repeat it).
    content = answer["stream"]["content"]
    assert "【主题党日】11月27日（周五）14:30，地点：三楼会议室，主题：学习党章。" in content
    assert content.endswith(meeting_texts.MEETING_CREATED_SHORT.format(kind="主题党日", seq=1, expected=35))
    assert content.count("学习党章") == 1
    await wecom.drain_outbox()

    clock.set(START - timedelta(days=1))
    await wecom.services.jobs.fire("tick_roll_calls", clock())
    await wecom.drain_outbox()
    assert any(c.startswith("【会议提醒】主题党日将于") for c in fake.contents("webhook/send"))
    # Each member is reminded in the app's 1:1 chat too: one text and card (签到/请假) to all 35, in one call.
    [call] = [members for members in fake.app_calls if "m05" in members]
    assert len(call) == 35
    [card] = fake.cards.in_chat("m05")
    assert card["sub_title_text"].startswith("【会议提醒】主题党日将于11月27日")
    assert [b["text"] for b in card["button_list"]] == [texts.CARD_CHECK_IN_BUTTON, texts.CARD_LEAVE_BUTTON]

    clock.set(START - timedelta(hours=3))
    for user, reason in zip(users[:3], ("在外执法", "值班", "培训"), strict=True):
        _, answer = await wecom.aibot_say(f"@学习驿站 请假 {reason}", user=user)
        assert answer["stream"]["content"] == meeting_texts.MEETING_LEAVE_OK.format(
            name=user, when="11月27日（周五）14:30", kind="主题党日", reason=reason
        )
    clock.set(START - timedelta(minutes=15))
    variants = ["签到", "签到！", "【签到】", "到", "到了", "签个到"]
    for i, user in enumerate(users[3:33]):
        _, answer = await wecom.aibot_say(f"@学习驿站 {variants[i % len(variants)]}", user=user)
        assert answer["stream"]["content"] == meeting_texts.MEETING_CHECKED_IN.format(
            name=user, kind="主题党日", time="14:15"
        )
    # A retried delivery of a check-in has one effect.
    payload = wecom.aibot_payload("@学习驿站 签到", user=users[33], msg_id="CAIQ-retry")
    for _ in range(3):
        await wecom.aibot_post(payload)

    clock.set(START + timedelta(minutes=31))
    await wecom.services.jobs.fire("tick_roll_calls", clock())
    await wecom.drain_outbox()
    [summary] = [c for c in fake.contents("webhook/send") if c.startswith("【主题党日#1 签到结果】")]
    # The group gets the counts; the organiser (and the 支委) get the names directly.
    assert summary == "【主题党日#1 签到结果】应到35人，实到31人，请假3人，缺席1人。"
    [private] = [c for c in fake.contents("message/send", ADMIN) if c.startswith("【主题党日#1 签到结果")]
    assert private.split("\n")[1:] == ["请假：m00、m01、m02", "缺席：boss"]

    out = tmp_path / "attendance.xlsx"
    path = config_for(db_url, tmp_path)
    args = [
        "--config",
        str(path),
        "export",
        "attendance",
        "--from",
        "2026-11-27",
        "--to",
        "2026-11-27",
        "--out",
        str(out),
    ]
    assert await asyncio.to_thread(main, args) == 0
    sheet = [list(r) for r in load_workbook(out)["主题党日#1 11-27"].iter_rows(values_only=True)]
    statuses = [row[2] for row in sheet[1:]]
    assert (statuses.count("出席"), statuses.count("请假"), statuses.count("缺席")) == (31, 3, 1)
