"""Records (台账) exports, read back from the xlsx the CLI writes."""

import asyncio
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook

from bot.cli import main
from bot.core import texts
from bot.records import texts as record_texts
from tests.conftest import ROOT, TZ
from tests.support import fire


def config_for(db_url: str, tmp_path: Path) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite+aiosqlite:///yizhan.db"', f'url = "{db_url}"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def run_cli(args: list[str]) -> int:
    """The CLI runs its own event loop, so it runs in a thread here."""
    return await asyncio.to_thread(main, args)


def rows(path: Path, sheet: str) -> list[list[object]]:
    book = load_workbook(path)
    return [list(row) for row in book[sheet].iter_rows(values_only=True)]


async def test_study_and_notice_exports(bot, clock, db_url, tmp_path, capsys):
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=TZ))
    await bot.say("本周学习 党章总纲", user="u00")
    await fire(bot, "study_reminder.demo")
    clock.advance(minutes=30)
    await bot.say("学习打卡 看了微党课", user="u01")
    await bot.say("学习打卡", user="u02")
    await bot.say("通知 周五交材料。", user="u00")
    clock.advance(minutes=12)
    await bot.say("收到", user="u03")
    path = config_for(db_url, tmp_path)

    out = tmp_path / "study.xlsx"
    assert (
        await run_cli(
            ["--config", str(path), "export", "study", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)]
        )
        == 0
    )
    assert "1个学习周，成员 11 行" in capsys.readouterr().out
    assert rows(out, "学习日汇总")[1] == ["11月20日（周五）", "2026-11-20 09:00", "党章总纲", 11, 2, "18.2%"]
    people = {r[0]: r for r in rows(out, "个人统计")[1:]}
    assert people["张伟"] == ["张伟", "执法党小组", 1, 1, "100%", 1, 0, 0]
    assert people["刘洋"][3] == 0
    detail = rows(out, "打卡明细")
    assert ["11月20日（周五）", "张伟", "执法党小组", "已打卡", "2026-11-20 09:30", "微党课", "看了微党课"] in detail

    out = tmp_path / "notices.xlsx"
    assert (
        await run_cli(
            [
                "--config",
                str(path),
                "export",
                "notices",
                "--from",
                "2026-11-20",
                "--to",
                "2026-11-20",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    summary = rows(out, "通知汇总")
    assert summary[1][:8] == [1, "周五交材料。", "全体党员", "2026-11-20 09:30", 10, 1, "10%", 12]
    assert [1, "刘洋", "执法党小组", "已回执", "2026-11-20 09:42", 12] in rows(out, "回执明细")
    assert rows(out, "回执明细")[0] == ["通知编号", "姓名", "党小组", "状态", "回执时间", "用时（分钟）"]

    empty = tmp_path / "empty.xlsx"
    assert (
        await run_cli(
            [
                "--config",
                str(path),
                "export",
                "notices",
                "--from",
                "2025-01-01",
                "--to",
                "2025-01-31",
                "--out",
                str(empty),
            ]
        )
        == 0
    )
    assert rows(empty, "通知汇总") == [
        [
            "通知编号",
            "标题",
            "对象",
            "发出时间",
            "应回执",
            "已回执",
            "回执率",
            "回执用时中位数（分钟）",
            "关闭时间",
            "状态",
        ]
    ]


async def test_attendance_counts_only_meetings_that_have_taken_place(bot, clock, db_url, tmp_path, capsys):
    """A meeting still ahead is not "held": it is not counted, and nobody is marked absent from it."""
    await bot.say("发起主题党日 11月20日14:30 三楼会议室 主题：学习党章", user="u00")
    clock.set(datetime(2026, 11, 20, 14, 20, tzinfo=TZ))
    for user in ("u01", "u02", "u03"):
        await bot.say("签到", user=user)
    clock.set(datetime(2026, 11, 20, 15, 1, tzinfo=TZ))
    await fire(bot, "tick_roll_calls")
    path = config_for(db_url, tmp_path)
    assert await run_cli(["--config", str(path), "meetings", "add", "party_lecture", "--at", "2099-07-01 15:00"]) == 0
    capsys.readouterr()

    out = tmp_path / "attendance.xlsx"
    args = ["--config", str(path), "export", "attendance", "--from", "2026-01-01", "--to", "2099-12-31"]
    assert await run_cli([*args, "--out", str(out)]) == 0
    assert "1次会议，成员 11 行" in capsys.readouterr().out
    assert load_workbook(out).sheetnames == ["汇总", "主题党日#1 11-20"]
    summary = rows(out, "汇总")
    counts = {row[0]: row[1] for row in summary if row[0] in texts.MEETING_KIND_NAMES.values()}
    assert counts == {"主题党日": 1, "支部党员大会": 0, "支委会": 0, "党小组会": 0, "党课": 0}
    people = {row[0]: row for row in summary[1:] if row[0] and row[0] not in ("会议类别", *counts)}
    assert people["张伟"] == ["张伟", "执法党小组", 1, 1, 0, 0, "100%"]
    assert people["陈静"][2:] == [1, 0, 0, 1, "0%"]


async def test_notice_export_shows_scheduled_and_cancelled_notices_as_not_sent(bot, clock, db_url, tmp_path):
    await bot.say("通知 周五交材料。", user="u00")
    await bot.say("定时通知 明天9:00 周六值班安排。", user="u00")
    await bot.say("定时通知 后天9:00 周日不用值班。", user="u00")
    await bot.say("关闭通知 3", user="u00")
    clock.advance(minutes=12)
    await bot.say("收到", user="u03")
    path = config_for(db_url, tmp_path)
    out = tmp_path / "notices.xlsx"
    args = ["--config", str(path), "export", "notices", "--from", "2026-11-01", "--to", "2026-11-30"]
    assert await run_cli([*args, "--out", str(out)]) == 0
    summary = rows(out, "通知汇总")
    assert summary[0][-1] == "状态"
    sent, scheduled, cancelled = summary[1:]
    assert sent[4:7] == [10, 1, "10%"] and sent[-1] == record_texts.RECORDS_NOTICE_OPEN
    assert scheduled == [2, "周六值班安排。", "全体党员", "2026-11-21 09:00", 10, None, None, None, None, "待发送"]
    assert cancelled[0] == 3 and cancelled[5:8] == [None, None, None] and cancelled[-1] == "已取消（未发出）"
    detail = rows(out, "回执明细")
    assert {row[0] for row in detail[1:]} == {1}
