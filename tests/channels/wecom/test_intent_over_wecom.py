"""What members write, as a WeCom group delivers it: every message the bot hears starts with @学习驿站."""

from datetime import datetime

from sqlalchemy import select

from bot.core import texts
from bot.core.models import MemberIdentity, RollCallEntry
from bot.study import texts as study_texts
from tests.channels.wecom.conftest import AIBOT_CHAT
from tests.conftest import TZ

FRIDAY_9 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)


async def test_study_notes_typos_and_a_bare_mention_over_the_ai_bot(wecom, clock):
    """QA: '@学习驿站 学习打卡 上党课' got the help menu and recorded nothing; a typo got '未能识别该命令'."""
    users = ("m01", "m02", "m03")
    for user in users:
        await wecom.aibot_say("@学习驿站 我是谁", user=user, chat=AIBOT_CHAT)
    clock.set(FRIDAY_9)
    assert await wecom.services.jobs.fire("study_reminder.demo", clock())
    await wecom.drain_outbox()

    answers = {}
    for user, text in zip(users, ("学习打卡 上党课", "学习打卡 没看完", "打卡 纪录片《榜样》"), strict=True):
        _, answer = await wecom.aibot_say(f"@学习驿站\u2005{text}", user=user, chat=AIBOT_CHAT)
        answers[user] = answer["stream"]["content"]
    for user in users:
        assert answers[user].startswith(f"{user}同志，学习打卡已记录。"), answers[user]
    assert answers["m03"].endswith(study_texts.STUDY_CHECKED_IN_TAG.format(tag="纪录片"))
    async with wecom.services.sessions() as session:
        notes = dict(
            (
                await session.execute(
                    select(MemberIdentity.platform_user_id, RollCallEntry.note)
                    .join(RollCallEntry, RollCallEntry.member_id == MemberIdentity.member_id)
                    .where(RollCallEntry.status == "done")
                )
            ).all()
        )
    assert notes == {"m01": "上党课", "m02": "没看完", "m03": "纪录片《榜样》"}

    _, typo = await wecom.aibot_say("@学习驿站 签倒", user="m01", chat=AIBOT_CHAT)
    _, bare = await wecom.aibot_say("@学习驿站", user="m01", chat=AIBOT_CHAT)
    _, hello = await wecom.aibot_say("@学习驿站 你好", user="m01", chat=AIBOT_CHAT)
    assert typo["stream"]["content"] == texts.HELP_DID_YOU_MEAN.format(word="签到")
    assert bare["stream"]["content"] == hello["stream"]["content"] == texts.HELP_SHORT
