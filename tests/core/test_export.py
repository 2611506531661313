"""Records (台账) exports, read back from the xlsx the CLI writes."""

import asyncio
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook

from bot.cli import main
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
    assert "1 study weeks, 11 member rows" in capsys.readouterr().out
    assert rows(out, "学习日汇总")[1] == ["第47周", "2026-11-20 09:00", "党章总纲", 11, 2, "18.2%"]
    people = {r[0]: r for r in rows(out, "个人统计")[1:]}
    assert people["张伟"] == ["张伟", "执法党小组", 1, 1, "100%", 1, 0, 0]
    assert people["刘洋"][3] == 0
    detail = rows(out, "打卡明细")
    assert ["第47周", "张伟", "执法党小组", "已完成", "2026-11-20 09:30", "微党课", "看了微党课"] in detail

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
        ["通知编号", "标题", "对象", "发出时间", "应回执", "已回执", "回执率", "回执用时中位数(分钟)", "关闭时间"]
    ]
