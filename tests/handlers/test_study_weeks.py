"""The study day around its edges: a nudge or reminder that comes due only after downtime."""

import dataclasses
from datetime import datetime

from bot.app import build_app
from bot.core.clock import FakeClock
from bot.core.config import Config
from bot.study import texts as study_texts
from tests.conftest import TZ, StartInProcess
from tests.support import InProcessDriver, fire

JOB = "study_reminder.demo"
FRIDAY_9 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
SUNDAY_CLOSE = datetime(2026, 11, 22, 21, 1, tzinfo=TZ)  # Friday 09:00 + 60 hours, and a minute


def bot_lines(lines: list[dict]) -> list[str]:
    return [line["text"] for line in lines if line["sender"] == "bot"]


def with_study(config: Config, **changes: object) -> Config:
    branch = config.branches[0]
    return config.replace(branches=(dataclasses.replace(branch, study=dataclasses.replace(branch.study, **changes)),))


async def start(in_process: StartInProcess, config: Config, when: datetime) -> tuple[InProcessDriver, FakeClock]:
    clock = FakeClock(when)
    return await in_process(build_app(config, clock=clock, background=False)), clock


async def test_a_nudge_due_during_downtime_is_dropped(bot_in_process, clock):
    """QA 3: the tick first runs again at close time (or the day after the study day): no 【学习提醒】 in the group,
    no direct nudges — only the 小结."""
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    clock.set(SUNDAY_CLOSE)
    await fire(bot, "tick_roll_calls")
    group = bot_lines(await bot.transcript())
    assert not [t for t in group if t.startswith("【学习提醒】")]
    assert len([t for t in group if t.startswith("【学习日小结】")]) == 1
    assert study_texts.STUDY_NUDGE_DIRECT_ALL not in bot_lines(await bot.transcript("dm:u01"))


async def test_a_nudge_due_yesterday_is_dropped_before_close(bot_in_process, clock):
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    clock.set(datetime(2026, 11, 21, 10, 0, tzinfo=TZ))  # Saturday: "今天是学习日" would be untrue
    await fire(bot, "tick_roll_calls")
    assert not [t for t in bot_lines(await bot.transcript()) if t.startswith("【学习提醒】")]
    clock.set(datetime(2026, 11, 21, 10, 1, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")  # dropped once, not retried
    assert not [t for t in bot_lines(await bot.transcript()) if t.startswith("【学习提醒】")]


async def test_a_late_reminder_is_not_followed_by_a_nudge_or_sent_after_close(in_process, config):
    """A reminder sent after the nudge time (catch-up, manual run) is the day's reminder: no nudge right after it; one
    that would open after its own close time is not sent."""
    bot, clock = await start(in_process, config, datetime(2026, 11, 20, 17, 0, tzinfo=TZ))
    assert await fire(bot, JOB)
    clock.set(datetime(2026, 11, 20, 17, 1, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")
    group = bot_lines(await bot.transcript())
    assert [t[:5] for t in group] == ["【学习日】"]

    short, later = await start(
        in_process, with_study(config, close_after_hours=1), datetime(2026, 11, 27, 10, 30, tzinfo=TZ)
    )
    await fire(short, JOB)
    assert not [t for t in bot_lines(await short.transcript()) if t.startswith("【学习日】11月27日")]
