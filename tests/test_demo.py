"""The demo a new user starts with `yizhan run`: 学习打卡 can be tried any day, and only in the demo."""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.app import build_app, open_services
from bot.core import texts
from bot.core.clock import FakeClock
from bot.core.config import DemoConfig, parse_config
from bot.core.models import RollCall, RollCallKind
from bot.study import texts as study_texts
from tests.conftest import TZ, make_config
from tests.support import BotDriver, fire

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)


def bot_lines(lines):
    return [line["text"] for line in lines if line["sender"] == "bot"]


async def demo_driver(aiohttp_client, config, when):
    clock = FakeClock(when)
    app = build_app(config, clock=clock, background=False)
    driver = BotDriver(await aiohttp_client(app), app)
    await driver.open_session()
    await driver.drain_outbox()  # what the start sent, as the running sender would
    return driver, clock


async def study_weeks(services) -> int:
    async with services.sessions() as session:
        query = select(func.count()).select_from(RollCall).where(RollCall.kind == RollCallKind.STUDY)
        return await session.scalar(query) or 0


async def test_study_check_in_can_be_tried_in_the_demo_on_a_tuesday(aiohttp_client, db_url):
    config = make_config(db_url, demo={"study_day_open": True})
    bot, clock = await demo_driver(aiohttp_client, config, TUESDAY)
    reminder = texts.DEMO_STUDY_REMINDER.format(week="11月23日至29日", material=study_texts.STUDY_NO_MATERIAL)
    assert bot_lines(await bot.transcript()) == [reminder]
    await bot.say("学习打卡 纪录片《信仰》", user="u01")
    assert bot.replies_to("u01") == [
        study_texts.STUDY_CHECKED_IN.format(name="张伟", done=1, expected=11)
        + study_texts.STUDY_CHECKED_IN_TAG.format(tag="纪录片")
    ]
    # Friday, the branch's real study day: the week is already open, so no second reminder.
    clock.set(TUESDAY + timedelta(days=3, hours=-1))
    await fire(bot, "study_reminder.demo")
    assert bot_lines(await bot.transcript()).count(reminder) == 1 and await study_weeks(bot.services) == 1
    # Open to the end of the week: 学习打卡 still works on Sunday evening.
    clock.set(TUESDAY + timedelta(days=5, hours=12))
    await fire(bot, "tick_roll_calls")
    await bot.say("学习打卡", user="u02")
    assert bot.replies_to("u02") == [study_texts.STUDY_CHECKED_IN.format(name="王芳", done=2, expected=11)]


async def test_the_open_study_day_is_for_the_demo_only(db_url):
    # A configuration file without the key (a real deployment's) keeps the study day to its day.
    assert parse_config({}, env={}).demo == DemoConfig()
    assert DemoConfig().study_day_open is False
    clock = FakeClock(TUESDAY)
    # The simulator off (a real deployment): nothing is opened, even with the key on.
    for sections in ({"sim": {"enabled": False}}, {"demo": {"study_day_open": False}}):
        config = make_config(db_url, **sections)
        if "demo" not in sections:
            config = config.replace(demo={"study_day_open": True})
        services = await open_services(config, clock=clock)
        try:
            assert await study_weeks(services) == 0
        finally:
            await services.close()
