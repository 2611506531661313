"""The weekly study day: once per week, holiday rules, 学习打卡, nudge, 参学率, goals."""

import asyncio
import dataclasses
from datetime import datetime

from sqlalchemy import func, select, update

from bot.app import build_app
from bot.core import db
from bot.core.clock import FakeClock
from bot.core.config import DatabaseConfig
from bot.core.models import Branch, Member, MemberIdentity, PointsEntry, RollCall, RollCallEntry
from bot.core.scheduler import JobRunner
from bot.study import texts as study_texts
from schedules import declared_jobs
from tests.conftest import TZ, make_config
from tests.support import BotDriver, fire, register

JOB = "study_reminder.demo"
FRIDAY_9 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)


def bot_lines(lines):
    return [line["text"] for line in lines if line["sender"] == "bot"]


async def driver_at(aiohttp_client, config, when: datetime) -> tuple[BotDriver, FakeClock]:
    clock = FakeClock(when)
    app = build_app(config, clock=clock, background=False)
    return BotDriver(await aiohttp_client(app), app), clock


def with_study(config, **changes):
    branch = config.branches[0]
    study = dataclasses.replace(branch.study, **changes)
    return config.replace(branches=(dataclasses.replace(branch, study=study),))


async def test_hundred_members_sixty_check_in(aiohttp_client, config):
    bot, clock = await driver_at(aiohttp_client, config, FRIDAY_9)
    newcomers = await register(bot, 89)
    assert await fire(bot, JOB)
    [reminder] = bot_lines(await bot.transcript())
    assert reminder == study_texts.STUDY_REMINDER.format(
        date="11月20日（周五）", material=study_texts.STUDY_NO_MATERIAL
    )

    members = [f"u{i:02d}" for i in range(11)] + newcomers
    checked, missing = members[:60], members[60:]
    clock.advance(hours=2)
    for user in checked:
        await bot.say("学习打卡 学习了党章总纲", user=user)
    assert bot.replies_to(checked[-1])[-1] == study_texts.STUDY_CHECKED_IN.format(
        name="M同志048", done=60, expected=100
    )

    clock.set(datetime(2026, 11, 20, 16, 0, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")
    nudge_line = [line for line in await bot.transcript() if line["text"].startswith("【学习提醒】")]
    [nudge] = nudge_line
    state = await (await bot.get("/api/sim/state")).json()
    names = {m["id"]: m["name"] for m in state["chats"][0]["members"]}
    # The group hears how many, never who; each of the 40 is reminded directly, once.
    assert nudge["text"] == study_texts.STUDY_NUDGE_COUNT.format(count=40) and not nudge.get("mentions")
    assert not any(names[u] in nudge["text"] for u in missing)
    for user in (missing[0], missing[-1]):
        direct = [t for t in bot_lines(await bot.transcript(f"dm:{user}")) if t == study_texts.STUDY_NUDGE_DIRECT_ALL]
        assert len(direct) == 1
    assert not [t for t in bot_lines(await bot.transcript(f"dm:{checked[0]}")) if "今天是学习日，您还没有" in t]

    clock.set(datetime(2026, 11, 22, 21, 0, tzinfo=TZ))  # Friday 09:00 + 60 hours
    await fire(bot, "tick_roll_calls")
    summary = [t for t in bot_lines(await bot.transcript()) if t.startswith("【学习日小结】")]
    assert len(summary) == 1 and summary[0].startswith(
        "【学习日小结】11月20日（周五）学习日：应参学100人，已打卡60人，参学率60%。"
    )
    private = [t for t in bot_lines(await bot.transcript("dm:u00")) if t.startswith("【学习日小结·仅支委可见】")]
    assert len(private) == 1 and private[0].startswith(
        "【学习日小结·仅支委可见】11月20日（周五）学习日未打卡（40人）："
    )
    async with bot.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PointsEntry)) == 60


async def test_reminder_once_per_week_across_restart_and_manual_runs(aiohttp_client, config):
    bot, clock = await driver_at(aiohttp_client, config, FRIDAY_9)
    assert await fire(bot, JOB)
    await bot.client.close()
    # Restarted mid-morning: the catch-up sees the 09:00 slot was already claimed.
    clock.set(datetime(2026, 11, 20, 9, 40, tzinfo=TZ))
    again, _ = await driver_at(aiohttp_client, config, clock())
    assert JOB not in await again.services.jobs.catch_up()
    await again.services.jobs.run_now(JOB)  # a manual run the same week sends nothing new
    await again.drain_outbox()
    reminders = [t for t in bot_lines(await again.transcript()) if t.startswith("【学习日】")]
    assert len(reminders) == 1
    # Next Friday is a new week.
    await again.client.close()
    third, _ = await driver_at(aiohttp_client, config, datetime(2026, 11, 27, 9, 0, tzinfo=TZ))
    assert await fire(third, JOB)
    reminders = [t for t in bot_lines(await third.transcript()) if t.startswith("【学习日】")]
    assert len(reminders) == 2


async def reminders_from_two_schedulers(url: str) -> int:
    config = make_config(url)
    clock = FakeClock(FRIDAY_9)
    runners = []
    for _ in range(2):
        sessions = db.session_factory(db.create_engine(DatabaseConfig(url=url)))
        runners.append(JobRunner(declared_jobs(config), config, sessions, clock))
    from bot.app import open_services

    services = await open_services(config, clock=clock)  # syncs config and seeds the demo members
    await services.engine.dispose()
    results = await asyncio.gather(*(r.fire(JOB, FRIDAY_9) for r in runners * 2))
    async with runners[0].sessions() as session:
        count = await session.scalar(select(func.count()).select_from(RollCall))
    for r in runners:
        await r.sessions.kw["bind"].dispose()
    assert sorted(results) == [False, False, False, True]
    return count


async def test_two_schedulers_on_postgresql_send_one_reminder(pg_url):
    assert await reminders_from_two_schedulers(pg_url) == 1


async def test_two_schedulers_on_sqlite_send_one_reminder(db_url):
    assert await reminders_from_two_schedulers(db_url) == 1


async def test_holiday_friday_moves_to_previous_workday(aiohttp_client, config):
    # Friday 2026-10-02 is in the National Day holiday; the previous workday is Wednesday 09-30.
    bot, clock = await driver_at(aiohttp_client, config, datetime(2026, 9, 30, 9, 0, tzinfo=TZ))
    assert await fire(bot, JOB)
    [reminder] = bot_lines(await bot.transcript())
    assert reminder.startswith(
        study_texts.STUDY_REMINDER.format(date="9月30日（周三）", material=study_texts.STUDY_NO_MATERIAL)
    )
    assert reminder.endswith(study_texts.STUDY_REMINDER_MOVED.format(nominal="10月2日（周五）"))
    clock.set(datetime(2026, 10, 2, 9, 0, tzinfo=TZ))
    await fire(bot, JOB)
    assert len(bot_lines(await bot.transcript())) == 1


async def test_holiday_friday_skipped_by_rule(aiohttp_client, config):
    config = with_study(config, holiday_rule="skip")
    bot, clock = await driver_at(aiohttp_client, config, datetime(2026, 9, 30, 9, 0, tzinfo=TZ))
    await fire(bot, JOB)
    clock.set(datetime(2026, 10, 2, 9, 0, tzinfo=TZ))
    await fire(bot, JOB)
    assert bot_lines(await bot.transcript()) == []


async def test_make_up_workday_counts(aiohttp_client, config):
    # Spring Festival 2026: Friday 02-20 is a holiday, and so is the whole week; Saturday 02-14 is a 调休 workday.
    bot, _ = await driver_at(aiohttp_client, config, datetime(2026, 2, 14, 9, 0, tzinfo=TZ))
    await fire(bot, JOB)
    [reminder] = bot_lines(await bot.transcript())
    assert reminder.endswith(study_texts.STUDY_REMINDER_MOVED.format(nominal="2月20日（周五）"))


async def test_check_in_rules_and_goals(aiohttp_client, config):
    bot, clock = await driver_at(aiohttp_client, config, datetime(2026, 11, 19, 9, 0, tzinfo=TZ))
    await bot.say("学习打卡", user="u01")
    assert bot.replies_to("u01") == [study_texts.STUDY_NOT_OPEN]
    await bot.say("本周学习 《中国共产党章程》总纲", user="u00")
    assert bot.replies_to("u00")[-1] == "本周（11月16日至22日）的学习内容已设为：《中国共产党章程》总纲"
    clock.set(FRIDAY_9)
    await fire(bot, JOB)
    assert bot_lines(await bot.transcript())[-1] == study_texts.STUDY_REMINDER.format(
        date="11月20日（周五）", material="《中国共产党章程》总纲"
    )
    await bot.say("学习打卡 看了纪录片《榜样》", user="u01")
    await bot.say("学习打卡", user="u01")
    await bot.say("我的学习", user="u01")
    assert bot.replies_to("u01")[1:] == [
        study_texts.STUDY_CHECKED_IN.format(name="张伟", done=1, expected=11)
        + study_texts.STUDY_CHECKED_IN_TAG.format(tag="纪录片"),
        study_texts.STUDY_ALREADY.format(name="张伟"),
        "张伟同志的学习进度：\n· 本月学习日打卡：1/1次\n· 微党课（本月）：0/1次\n· 原著（本半年）：0/1次\n· 纪录片（本年）：1/3次",
    ]
    await bot.say("学习情况", user="u00")
    # Asked in the group: the group sees counts, the names go to the secretary directly.
    assert bot.replies_to("u00")[-1] == (
        "本周学习日11月20日（周五）：应参学11人，已打卡1人，参学率9.1%，未打卡10人。"
        "\n本月参学率9.1%（应参学11人次，已打卡1人次）。\n名单已私信发给您。"
    )
    assert bot_lines(await bot.transcript("dm:u00"))[-1] == (
        "本周学习日11月20日（周五）：应参学11人，已打卡1人，参学率9.1%。"
        "\n未打卡：李建国、王芳、刘洋、陈静、杨帆、赵磊、黄丽、周强、吴敏、孙涛"
        "\n本月参学率9.1%（应参学11人次，已打卡1人次）。"
    )


async def test_material_set_after_the_reminder_is_posted_once(bot_in_process, clock):
    """QA #12: 本周学习 after the reminder went out posts the material to the group once; the secretary's confirmation
    there says it was sent without repeating it. Typed directly, the confirmation keeps the material."""
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    await bot.say("本周学习 《中国共产党章程》总纲", user="u00")
    assert bot.replies_to("u00") == [
        study_texts.STUDY_MATERIAL_PUSH.format(text="《中国共产党章程》总纲"),
        study_texts.STUDY_MATERIAL_UPDATED.format(week="本周（11月16日至22日）", chats=1),
    ]
    assert len([t for t in bot_lines(await bot.transcript()) if "总纲" in t]) == 1
    await bot.say("本周学习 党章第二章", user="u00", chat=None)
    assert bot.replies_to("u00")[2:] == ["本周（11月16日至22日）的学习内容已设为：党章第二章"]
    assert bot_lines(await bot.transcript())[-1] == study_texts.STUDY_MATERIAL_PUSH.format(text="党章第二章")


async def test_nothing_due_is_said_so(aiohttp_client, config):
    """Before any study day this month, and with no goals set, nothing reads as 0/0 or 0%."""
    branch = config.branches[0]
    study = dataclasses.replace(
        branch.study, micro_lectures_per_month=0, classics_per_half_year=0, documentaries_per_year=0
    )
    config = config.replace(branches=(dataclasses.replace(branch, study=study),))
    bot, clock = await driver_at(aiohttp_client, config, datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
    await bot.say("学习情况", user="u00")
    await bot.say("我的学习", user="u01")
    await bot.say("本周学习 党章第二章", user="u00")
    assert bot.replies_to("u00") == [
        "本周学习日尚未开始。\n本月尚无学习日。",
        "本周（11月30日至12月6日）的学习内容已设为：党章第二章",
    ]
    assert bot.replies_to("u01") == ["张伟同志的学习进度：\n· 本月尚无学习日"]


async def test_material_queue_is_used_in_order(aiohttp_client, config):
    bot, clock = await driver_at(aiohttp_client, config, datetime(2026, 11, 18, 9, 0, tzinfo=TZ))
    await bot.say("添加学习材料 第一课", user="u00")
    await bot.say("添加学习材料 第二课", user="u00")
    assert bot.replies_to("u00") == [
        study_texts.STUDY_MATERIAL_QUEUED.format(position=1),
        study_texts.STUDY_MATERIAL_QUEUED.format(position=2),
    ]
    for friday in (FRIDAY_9, datetime(2026, 11, 27, 9, 0, tzinfo=TZ)):
        clock.set(friday)
        await fire(bot, JOB)
    reminders = [t for t in bot_lines(await bot.transcript()) if t.startswith("【学习日】")]
    assert ["第一课" in reminders[0], "第二课" in reminders[1]] == [True, True]


async def test_my_study_counts_each_goal_in_its_own_span(aiohttp_client, config):
    """我的学习: this month's study days that expected the member, and each goal's check-ins in its month, half-year or
    year — the member's own, with the goal's tag."""
    days = [
        (datetime(2025, 12, 5, 9, 0, tzinfo=TZ), "学习打卡 看了纪录片《榜样》"),  # last year: counts for nothing
        (datetime(2026, 6, 5, 9, 0, tzinfo=TZ), "学习打卡 读了原著"),  # the first half-year: not 本半年
        (datetime(2026, 10, 16, 9, 0, tzinfo=TZ), "学习打卡 读完《共产党宣言》"),  # 原著 this half-year
        (datetime(2026, 11, 6, 9, 0, tzinfo=TZ), None),  # a study day this month without a check-in
        (FRIDAY_9, "学习打卡 微党课《党章》"),
    ]
    bot, clock = await driver_at(aiohttp_client, config, days[0][0])
    for day, text in days:
        clock.set(day)
        assert await fire(bot, JOB)
        if text is not None:
            await bot.say(text, user="u01")
    await bot.say("学习打卡 看了纪录片", user="u02")  # another member's check-in is not u01's
    await bot.say("我的学习", user="u01")
    assert bot.replies_to("u01")[-1] == (
        "张伟同志的学习进度：\n· 本月学习日打卡：1/2次\n· 微党课（本月）：1/1次\n· 原著（本半年）：1/1次\n· 纪录片（本年）：0/3次"
    )


async def test_my_study_is_the_members_own_units_record_wherever_asked(aiohttp_client, db_url):
    """我的学习 asked in the chat of a unit below (a 党总支's secretary in a 党支部's group) is the member's own
    record: the study days this month that expected them and their check-ins to those, not the study days of the
    unit whose chat it is."""
    from tests.core.test_org import populated, tree_config

    clock = FakeClock(datetime(2026, 11, 13, 9, 0, tzinfo=TZ))
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    assert await fire(bot, "study_reminder.zz1")  # a study day that expected them, missed
    clock.set(FRIDAY_9)
    assert await fire(bot, "study_reminder.zz1")
    assert await fire(bot, "study_reminder.b1")  # the 党支部 below holds one study day this month
    await bot.say("学习打卡", user="zz100", chat="zz1-group")
    await bot.say("我的学习", user="zz100", chat="b1-group")
    await bot.say("我的学习", user="zz100", chat="zz1-group")
    mine = study_texts.STUDY_MINE_WEEKS.format(done=1, weeks=2).strip()
    assert [reply.splitlines()[1] for reply in bot.replies_to("zz100")[-2:]] == [mine, mine]


async def test_my_study_of_a_member_who_moved_unit_this_month(aiohttp_client, db_url):
    """A member who moves to another 党支部 mid-month keeps the study day of their old unit and its check-in, and owes
    none of the new unit's study days held before they came: 2 of 3 (not the new unit's 1 of 3)."""
    from tests.core.test_org import populated, tree_config

    clock = FakeClock(datetime(2026, 11, 6, 9, 0, tzinfo=TZ))
    bot = await populated(aiohttp_client, tree_config(db_url), clock)
    assert await fire(bot, "study_reminder.b1") and await fire(bot, "study_reminder.b2")
    await bot.say("学习打卡", user="b1m000", chat="b1-group")
    async with db.transaction(bot.services.sessions) as session:
        b2 = await session.scalar(select(Branch.id).where(Branch.key == "b2"))
        member = await session.scalar(
            select(MemberIdentity.member_id).where(MemberIdentity.platform_user_id == "b1m000")
        )
        await session.execute(update(Member).where(Member.id == member).values(branch_id=b2, party_group_id=None))
    for friday, check_in in ((datetime(2026, 11, 13, 9, 0, tzinfo=TZ), True), (FRIDAY_9, False)):
        clock.set(friday)
        assert await fire(bot, "study_reminder.b2")
        if check_in:
            await bot.say("学习打卡", user="b1m000", chat="b2-group")
    await bot.say("我的学习", user="b1m000", chat="b2-group")
    mine = study_texts.STUDY_MINE_WEEKS.format(done=2, weeks=3).strip()
    assert bot.replies_to("b1m000")[-1].splitlines()[1] == mine


async def notes_by_user(bot: BotDriver) -> dict[str, str]:
    """The study check-in notes recorded so far, by simulated user id."""
    async with bot.services.sessions() as session:
        rows = await session.execute(
            select(MemberIdentity.platform_user_id, RollCallEntry.note)
            .join(RollCallEntry, RollCallEntry.member_id == MemberIdentity.member_id)
            .where(RollCallEntry.status == "done")
        )
        return {user: note for user, note in rows.all()}


async def test_a_note_set_apart_is_a_note_whatever_it_starts_with(bot_in_process, clock):
    """QA: '学习打卡 上党课' got silence (with @ or directly the help menu): a note starting with 上/人/时/情况/没/谁 was
    read as talk about 学习打卡. Set apart from the command word it is the note; run on ('学习打卡怎么弄') it is talk."""
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    said = {
        "u01": "学习打卡 上党课",
        "u02": "@学习驿站 学习打卡 人民日报评论员文章",
        "u03": "学习打卡 时代楷模事迹",
        "u04": "学习打卡：情况通报学习",
        "u05": "@学习驿站 学习打卡 没看完",
        "u06": "学习打卡 没学完的补上了",
    }
    for user, text in said.items():
        await bot.say(text, user=user)
    await bot.say("学习打卡 上党课", user="u07", chat=None)  # directly
    await bot.say("学习打卡怎么弄", user="u08")  # talk about the command: not a check-in
    notes = await notes_by_user(bot)
    assert notes == {
        "u01": "上党课",
        "u02": "人民日报评论员文章",
        "u03": "时代楷模事迹",
        "u04": "情况通报学习",
        "u05": "没看完",
        "u06": "没学完的补上了",
        "u07": "上党课",
    }
    recorded = study_texts.STUDY_CHECKED_IN.split("，")[1].split("{")[0]  # 学习打卡已记录。本周参学
    for user in [*said, "u07"]:
        [reply] = bot.replies_to(user)
        assert recorded in reply, (user, reply)
    assert bot.replies_to("u08") == []


async def test_a_study_check_in_said_as_people_say_it_keeps_its_note(bot_in_process, clock):
    """QA: '打卡 纪录片《榜样》' stored '纪录片《榜样' (normalisation trims a closing 》); '今日学习已完成，读了原著' was
    silence (the statement had to be the whole message)."""
    bot = bot_in_process
    clock.set(FRIDAY_9)
    assert await fire(bot, JOB)
    await bot.say("打卡 纪录片《榜样》", user="u01")
    await bot.say("今日学习已完成，读了原著", user="u02")
    await bot.say("dk “两学一做”", user="u03")
    await bot.say("今日学习已完成，谢谢书记", user="u04")  # courtesy is no note
    await bot.say("学习已完成，请书记查收", user="u05")
    await bot.say("今天学习完成了，大家加油", user="u06")
    notes = {"u01": "纪录片《榜样》", "u02": "读了原著", "u03": "“两学一做”", "u04": "", "u05": "", "u06": ""}
    assert await notes_by_user(bot) == notes
    assert bot.replies_to("u01") == [
        study_texts.STUDY_CHECKED_IN.format(name="张伟", done=1, expected=11)
        + study_texts.STUDY_CHECKED_IN_TAG.format(tag="纪录片")
    ]
    assert bot.replies_to("u02")[0].endswith(study_texts.STUDY_CHECKED_IN_TAG.format(tag="原著"))
