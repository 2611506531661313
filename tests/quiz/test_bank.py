"""The question bank: `yizhan questions import/export` as a user runs them, and seeding the sample bank."""

from __future__ import annotations

import asyncio
import csv
import json
import random
import re
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.app import open_services
from bot.cli import main
from bot.core import db, texts
from bot.core.config import DatabaseConfig
from bot.quiz import bankfile
from bot.quiz import texts as quiz_texts
from bot.quiz.bank import RowError, question_from_row, sample_bank, stable_key
from bot.quiz.models import Question
from tests.conftest import ROOT, make_config

HEADER = ["编号", "题型", "题干", "选项", "A", "B", "C", "D", "答案", "解析", "出处", "标签", "难度"]
SAMPLE = ROOT / "bot/quiz/data/sample_questions.json"
GOOD_ROWS = 980


def config_for(db_url: str, tmp_path: Path) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text.replace('url = "sqlite+aiosqlite:///yizhan.db"', f'url = "{db_url}"'), encoding="utf-8")
    return path


async def cli(db_url: str, tmp_path: Path, *args: str) -> int:
    """The CLI runs its own event loop, so it runs in a thread here."""
    return await asyncio.to_thread(main, ["--config", str(config_for(db_url, tmp_path)), "questions", *args])


async def count_questions(db_url: str) -> int:
    engine = db.create_engine(DatabaseConfig(url=db_url))
    try:
        async with db.session_factory(engine)() as session:
            return int(await session.scalar(select(func.count(Question.id))) or 0)
    finally:
        await engine.dispose()


def good_row(i: int) -> list[object]:
    """A valid row; types, spellings of types and answers, option layouts and keys vary with i."""
    key = f"imp-{i:04d}" if i % 3 == 0 else ""
    stem = f"第{i}题：党支部第{i}次集中学习的主题是什么？"
    explanation, source, tags = f"解析{i}", "《中国共产党支部工作条例（试行）》第五章", "组织生活、主题党日"
    difficulty = ("", 1, "2", "难")[i % 4]
    kind = i % 8
    if kind in (0, 1):  # single, options in columns A-D
        return [
            key,
            ("单选", "single")[kind],
            stem,
            "",
            "甲",
            "乙",
            "丙",
            f"丁{i}",
            "b",
            explanation,
            source,
            tags,
            difficulty,
        ]
    if kind == 2:  # single, options in one cell with labels
        return [key, "单选题", stem, "A. 甲|B. 乙|C. 丙", "", "", "", "", "Ｃ", explanation, source, tags, difficulty]
    if kind in (3, 4):  # multi
        return [key, "多选", stem, "", "甲", "乙", "丙", "丁", ("C,A", "B、D")[kind - 3], explanation, source, tags, 1]
    if kind == 5:  # judge
        return [
            key,
            "判断",
            stem.replace("是什么？", "是党章。"),
            "",
            "",
            "",
            "",
            "",
            ("√", "×", "正确", "F")[i // 8 % 4],
            "",
            "",
            "",
            "",
        ]
    if kind == 6:  # blank
        return [
            key,
            "填空",
            stem.replace("是什么？", "是____。"),
            "",
            "",
            "",
            "",
            "",
            "党章|党的章程；章程",
            "",
            source,
            tags,
            3,
        ]
    return [key, "blank", stem.replace("是什么？", "是____。"), "", "", "", "", "", 18, "", "", "", 2]


def bad_rows(first: Callable[[int], list[object]]) -> list[tuple[list[object], str]]:
    """Twenty invalid rows of different kinds, each with a fragment of the reason the importer gives."""
    base = ["", "单选", "一道有问题的题目？", "", "甲", "乙", "丙", "丁", "A", "", "", "", ""]

    def row(**changes: object) -> list[object]:
        out = list(base)
        for name, value in changes.items():
            out[
                HEADER.index(
                    {
                        "key": "编号",
                        "kind": "题型",
                        "stem": "题干",
                        "options": "选项",
                        "answer": "答案",
                        "level": "难度",
                    }.get(name, name)
                )
            ] = value
        return out

    def stem(n: int) -> str:
        return f"有问题的题目{n}？"

    q = quiz_texts
    return [
        (row(stem=""), q.BANK_ROW_MISSING.format(fields="题干")),
        (row(kind="", stem=stem(2)), q.BANK_ROW_MISSING.format(fields="题型")),
        (row(kind="问答", stem=stem(3)), q.BANK_ROW_UNKNOWN_TYPE.format(type="问答")),
        (row(answer="", stem=stem(4)), q.BANK_ROW_MISSING.format(fields="答案")),
        (row(stem=stem(5), B="", C="", D=""), q.BANK_ROW_OPTION_COUNT.format(type="单选", low=2, high=6, count=1)),
        (
            row(stem=stem(6), options="1|2|3|4|5|6|7", A="", B="", C="", D=""),
            q.BANK_ROW_OPTION_COUNT.format(type="单选", low=2, high=6, count=7),
        ),
        (row(stem=stem(7), answer="E"), q.BANK_ROW_ANSWER_OUTSIDE.format(letters="E", first="A", last="D")),
        (row(stem=stem(8), answer="AB"), q.BANK_ROW_SINGLE_ONE_LETTER.format(letters="AB")),
        (row(stem=stem(9), answer="甲"), q.BANK_ROW_NOT_LETTERS.format(answer="甲")),
        (row(kind="多选", stem=stem(10), answer="A"), q.BANK_ROW_MULTI_TWO_LETTERS),
        (row(kind="多选", stem=stem(11), answer="AAB"), q.BANK_ROW_MULTI_REPEATS.format(letters="AAB")),
        (
            row(kind="多选", stem=stem(12), answer="AF"),
            q.BANK_ROW_ANSWER_OUTSIDE.format(letters="F", first="A", last="D"),
        ),
        (row(kind="判断", stem=stem(13), answer="也许"), q.BANK_ROW_JUDGE_ANSWER.format(answer="也许")),
        (row(kind="填空", stem=stem(14), answer="|；"), q.BANK_ROW_BLANK_ANSWER),
        (row(stem=stem(15), level=5), q.BANK_ROW_DIFFICULTY.format(value="5")),
        (row(stem=stem(16), level="高"), q.BANK_ROW_DIFFICULTY.format(value="高")),
        (row(stem=stem(17), B="甲"), q.BANK_ROW_OPTIONS_SAME),
        (row(stem=stem(18), C=""), q.BANK_ROW_OPTION_GAP.format(letter="C")),
        (row(key="imp-0000", stem=stem(19)), q.BANK_ROW_DUPLICATE.format(row=2, unit="行")),
        (first(1), q.BANK_ROW_DUPLICATE.format(row=3, unit="行")),
    ]


def bank_rows() -> tuple[list[list[object]], dict[int, str]]:
    """1,000 data rows (980 good, 20 bad spread through the sheet) and the bad rows' sheet numbers → reason."""
    rows = [good_row(i) for i in range(GOOD_ROWS)]
    expected: dict[int, str] = {}
    for n, (row, reason) in enumerate(bad_rows(good_row)):
        position = 25 + n * 48  # data index; the sheet row is position + 2 (header is row 1)
        rows.insert(position, row)
        expected[position + 2] = reason
    assert len(rows) == 1000
    return rows, expected


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)


def check_report(out: str, counts: str, expected: dict[int, str], unit: str = "row") -> None:
    lines = out.splitlines()
    assert lines[0].endswith(counts), out
    word = quiz_texts.BANK_ROW_UNITS[unit]
    reported = {
        int(line.split("：")[0].split()[1]): line
        for line in lines[1:]
        if line.startswith("  第 ") and line.split("：")[0].endswith(f" {word}")
    }
    assert sorted(reported) == sorted(expected), out
    for number, reason in expected.items():
        assert reason in reported[number], (reported[number], reason)


async def test_xlsx_import_reports_bad_rows_and_reimport_adds_nothing(db_url, tmp_path, capsys):
    rows, expected = bank_rows()
    path = tmp_path / "bank.xlsx"
    write_xlsx(path, rows)

    assert await cli(db_url, tmp_path, "import", str(path)) == 0
    check_report(capsys.readouterr().out, "新增 980，更新 0，未变 0，拒绝 20", expected)
    assert await count_questions(db_url) == GOOD_ROWS

    assert await cli(db_url, tmp_path, "import", str(path)) == 0
    check_report(capsys.readouterr().out, "新增 0，更新 0，未变 980，拒绝 20", expected)

    rows[0][HEADER.index("解析")] = "改过的解析"  # a keyed row (imp-0000)
    rows[2][HEADER.index("答案")] = "A"  # an unkeyed row: its key comes from type and stem
    write_xlsx(path, rows)
    assert await cli(db_url, tmp_path, "import", str(path)) == 0
    check_report(capsys.readouterr().out, "新增 0，更新 2，未变 978，拒绝 20", expected)
    assert await count_questions(db_url) == GOOD_ROWS


async def test_csv_import_counts_records_like_a_spreadsheet(db_url, tmp_path, capsys):
    rows, expected = bank_rows()
    rows[0][HEADER.index("选项")] = "甲\n乙\n丙\n丁0"  # options on several lines of one quoted cell
    rows[0][4:8] = ["", "", "", ""]
    path = tmp_path / "bank.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows([HEADER, *rows])
    assert await cli(db_url, tmp_path, "import", str(path)) == 0
    check_report(capsys.readouterr().out, "新增 980，更新 0，未变 0，拒绝 20", expected)
    assert await cli(db_url, tmp_path, "import", str(path)) == 0
    assert "新增 0，更新 0，未变 980，拒绝 20" in capsys.readouterr().out


async def test_csv_saved_by_chinese_excel_and_english_headers(db_url, tmp_path, capsys):
    path = tmp_path / "gbk.csv"
    with path.open("w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["type", "stem", "options", "answer", "tags", "difficulty"])
        writer.writerow(["judge", "党的最高理想和最终目标是实现共产主义。", "", "T", "党章 总纲", "1"])
        writer.writerow(
            ["multi", "三会一课中的三会包括哪些？", "支部党员大会|支部委员会|党小组会", "ABC", "三会一课", "2"]
        )
    assert await cli(db_url, tmp_path, "import", str(path)) == 0
    assert "新增 2，更新 0，未变 0，拒绝 0" in capsys.readouterr().out


async def test_json_import_reports_items(db_url, tmp_path, capsys):
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    data["questions"].insert(2, {"type": "single", "stem": "缺选项的题？", "answer": "A"})
    data["questions"].append({"题型": "判断", "题干": "用中文字段名的判断题。", "答案": "错误"})
    data["questions"].append("not an object")
    path = tmp_path / "bank.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert await cli(db_url, tmp_path, "import", str(path)) == 0
    total = len(data["questions"])
    expected = {
        3: quiz_texts.BANK_ROW_OPTION_COUNT.format(type="单选", low=2, high=6, count=0),
        total: quiz_texts.BANK_ROW_MISSING.format(fields="题型、题干、答案"),
    }
    added = len(sample_bank().questions) + 1
    check_report(capsys.readouterr().out, f"新增 {added}，更新 0，未变 0，拒绝 2", expected, unit="item")


async def test_export_then_import_round_trip(db_url, tmp_path, capsys):
    shipped_count = len(sample_bank().questions)
    assert await cli(db_url, tmp_path, "import", str(SAMPLE)) == 0
    out = tmp_path / "out" / "bank.xlsx"
    assert await cli(db_url, tmp_path, "export", "--out", str(out)) == 0
    assert capsys.readouterr().out.splitlines()[-1] == texts.CLI_BANK_WROTE.format(path=out, count=shipped_count)
    sheet = load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["编号", "题型", "题干", "A"] and header[-5:] == ["答案", "解析", "出处", "标签", "难度"]
    assert sheet.max_row == shipped_count + 1

    assert await cli(db_url, tmp_path, "import", str(out)) == 0
    assert f"新增 0，更新 0，未变 {shipped_count}，拒绝 0" in capsys.readouterr().out

    # Exported as JSON, the bank is the shipped sample bank, question for question.
    as_json = tmp_path / "bank.json"
    assert await cli(db_url, tmp_path, "export", "--out", str(as_json)) == 0
    exported = {q["key"]: q for q in json.loads(as_json.read_text(encoding="utf-8"))["questions"]}
    shipped = {q["key"]: q for q in json.loads(SAMPLE.read_text(encoding="utf-8"))["questions"]}
    assert exported == shipped


async def test_nothing_importable_exits_1_an_unusable_file_2(db_url, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    write_xlsx(path, [row for row, _ in bad_rows(good_row)[:5]])
    assert await cli(db_url, tmp_path, "import", str(path)) == 1
    out = capsys.readouterr()
    assert "新增 0，更新 0，未变 0，拒绝 5" in out.out and texts.CLI_NOTHING_IMPORTED in out.err

    path = tmp_path / "no-header.csv"
    path.write_text("题目,正确答案选项\n随便,A\n", encoding="utf-8")
    assert await cli(db_url, tmp_path, "import", str(path)) == 2
    columns = "题型（type）、答案（answer）"
    assert (
        capsys.readouterr().err
        == "yizhan: " + quiz_texts.BANK_FILE_NO_COLUMNS.format(name="no-header.csv", columns=columns) + "\n"
    )
    assert await cli(db_url, tmp_path, "import", str(tmp_path / "bank.xls")) == 2
    suffixes = ".xlsx、.xlsm、.csv、.json"
    assert (
        capsys.readouterr().err
        == "yizhan: " + quiz_texts.BANK_FILE_SUFFIX.format(name="bank.xls", suffixes=suffixes) + "\n"
    )
    assert await count_questions(db_url) == 0


async def test_sample_bank_is_seeded_once_into_an_empty_table(db_url, tmp_path):
    config = make_config(db_url)
    for _ in range(2):
        services = await open_services(config, jobs=())
        await services.engine.dispose()
        assert await count_questions(db_url) == len(sample_bank().questions) >= 350


async def test_no_seeding_over_an_imported_bank(db_url, tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps([{"type": "判断", "stem": "本支部自己的题。", "answer": "对"}]), encoding="utf-8")
    assert await cli(db_url, tmp_path, "import", str(path)) == 0
    services = await open_services(make_config(db_url), jobs=())
    await services.engine.dispose()
    assert await count_questions(db_url) == 1


async def test_files_that_cannot_be_read_are_refused_in_chinese(db_url, tmp_path, capsys):
    """A missing file, JSON with a syntax error or of the wrong shape: one Chinese line naming the file and where
    (it was the system's or the JSON parser's English: "No such file or directory", "Expecting ',' delimiter")."""
    missing = tmp_path / "missing.csv"
    broken = tmp_path / "broken.json"
    broken.write_text('[\n {"题型": "判断"}\n {"题型": "判断"}]', encoding="utf-8")
    shape = tmp_path / "shape.json"
    shape.write_text('{"题目": []}', encoding="utf-8")
    for path, line in (
        (missing, quiz_texts.BANK_FILE_NOT_FOUND.format(name=missing)),
        (broken, quiz_texts.BANK_FILE_JSON_AT.format(name="broken.json", line=3, column=2)),
        (shape, quiz_texts.BANK_FILE_JSON_SHAPE.format(name="shape.json")),
    ):
        assert await cli(db_url, tmp_path, "import", str(path)) == 2
        assert capsys.readouterr().err == f"yizhan: {line}\n"
    assert await count_questions(db_url) == 0


@pytest.mark.parametrize(
    ("row", "field", "value"),
    [
        (
            {"type": "单选题", "stem": "题", "options": "A．甲|Ｂ、乙|c) 丙", "answer": "ｂ"},
            "options",
            ("甲", "乙", "丙"),
        ),
        ({"type": "单选", "stem": "题", "A": "甲", "B": "乙", "answer": "B."}, "answer", "B"),
        ({"type": "多选题", "stem": "题", "options": ["甲", "乙", "丙"], "answer": "C、A"}, "answer", "AC"),
        ({"type": "判断题", "stem": "题", "answer": "×"}, "answer", "错"),
        ({"type": "JUDGE", "stem": "题", "answer": "t"}, "answer", "对"),
        ({"type": "填空", "stem": "题", "answer": "十八|18；十八岁;18"}, "answer", ("十八", "18", "十八岁")),
        ({"type": "blank", "stem": "题", "answer": ["两", "2"]}, "answer", ("两", "2")),
        (
            {"type": "判断", "stem": "题", "answer": "对", "tags": "党章，总纲 党史;党章"},
            "tags",
            ("党章", "总纲", "党史"),
        ),
        ({"type": "判断", "stem": "题", "answer": "对", "difficulty": 2.0}, "difficulty", 2),
        ({"type": "判断", "stem": "题", "answer": "对", "difficulty": "中等"}, "difficulty", 2),
        ({"type": "判断", "stem": " 题 ", "answer": "对", "key": 101.0}, "key", "101"),
    ],
)
def test_rows_are_normalised(row, field, value):
    assert getattr(question_from_row(row), field) == value


def test_unkeyed_rows_get_a_key_from_type_and_stem():
    first = question_from_row({"type": "判断", "stem": "党章 是 根本大法。", "answer": "对"})
    assert first.key == stable_key("judge", "党章是根本大法。") == stable_key("judge", "党章　是根本大法。")
    assert first.key != stable_key("blank", "党章是根本大法。")
    with pytest.raises(RowError, match=quiz_texts.BANK_ROW_KEY_TOO_LONG.format(limit=80)):
        question_from_row({"type": "判断", "stem": "题", "answer": "对", "key": "k" * 81})


@pytest.mark.parametrize("args", [["questions"], ["questions", "import"], ["questions", "export"]])
def test_help_on_questions_commands(capsys, args):
    with pytest.raises(SystemExit) as done:
        main([*args, "--help"])
    assert done.value.code == 0
    assert f"{texts.CLI_USAGE_PREFIX}yizhan questions" in capsys.readouterr().out


# --- Files that are not what they claim, or are built to exhaust the importer (finding 11) ---------
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def bomb_xlsx(path: Path, rows: int) -> None:
    """A valid xlsx whose one sheet is `rows` identical rows of 13 cells (a few KB packed) and which claims
    the sheet's full width (A1:XFD1048576), as a decompression bomb is built."""
    write_xlsx(path, [good_row(1)])
    cells = "".join(f'<c t="inlineStr"><is><t>{"党" * 40}</t></is></c>' for _ in HEADER)
    body = f"<row>{cells}</row>" * rows
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace("</sheetData>", body + "</sheetData>")
    sheet = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', sheet)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def lying_xlsx(path: Path) -> None:
    """A valid xlsx whose zip directory understates the sheet's unpacked size (so a size check passes)."""
    write_xlsx(path, [good_row(i) for i in range(50)])
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    entry = data.find(b"PK\x01\x02" + bytes(0))
    while entry != -1:
        name_length = int.from_bytes(data[entry + 28 : entry + 30], "little")
        if data[entry + 46 : entry + 46 + name_length] == name:
            data[entry + 24 : entry + 28] = (100).to_bytes(4, "little")  # uncompressed size
            break
        entry = data.find(b"PK\x01\x02", entry + 4)
    assert entry != -1
    path.write_bytes(bytes(data))


def run_cli_limited(db_url: str, tmp_path: Path, *args: str, memory_mb: int = 1024) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own with at most memory_mb of address space, stopped after 60 s."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))

    command = [sys.executable, "-m", "bot", "--config", str(config_for(db_url, tmp_path)), "questions", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, preexec_fn=limit, check=False)


def refused(done: subprocess.CompletedProcess[str] | None, err: str, *words: str) -> None:
    """Exit 2 with one line on stderr that names what is wrong, and no traceback."""
    if done is not None:
        assert done.returncode == 2, done.stderr[-2000:]
        err = done.stderr
    lines = [line for line in err.strip().splitlines() if " INFO " not in line]  # a subprocess logs at INFO
    assert len(lines) == 1 and lines[0].startswith("yizhan: "), err[-2000:]
    assert "Traceback" not in err and all(word in lines[0] for word in words), err


async def test_xlsx_that_is_not_an_xlsx_is_refused_in_one_line(db_url, tmp_path, capsys):
    """An empty .xlsx, random bytes, a zip without a workbook and a zip with a lying directory: each one
    clear line and exit 2 (the first three were a BadZipFile/KeyError traceback)."""
    files = {
        "empty.xlsx": b"",
        "random.xlsx": random.Random(1).randbytes(5000),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with zipfile.ZipFile(tmp_path / "notes.xlsx", "w") as archive:
        archive.writestr("notes.txt", "不是表格")
    lying_xlsx(tmp_path / "lying.xlsx")
    for name, words in (
        ("empty.xlsx", (quiz_texts.BANK_FILE_NOT_ZIP.format(name="empty.xlsx"),)),
        ("random.xlsx", (quiz_texts.BANK_FILE_NOT_ZIP.format(name="random.xlsx"),)),
        ("notes.xlsx", (quiz_texts.BANK_FILE_BAD_XLSX.format(name="notes.xlsx"),)),
        ("lying.xlsx", (quiz_texts.BANK_FILE_BAD_XLSX.format(name="lying.xlsx"),)),
    ):
        code = await cli(db_url, tmp_path, "import", str(tmp_path / name))
        assert code == 2, name
        refused(None, capsys.readouterr().err, *words)
    assert await count_questions(db_url) == 0


async def test_decompression_bomb_xlsx_is_refused_before_unpacking(db_url, tmp_path):
    """A sheet packed a thousandfold and claiming 16,384 columns: refused from the zip's directory, quickly
    and in little memory (it took gigabytes and minutes, then a MemoryError)."""
    path = tmp_path / "bomb.xlsx"
    bomb_xlsx(path, 20_000)
    assert path.stat().st_size < 200_000
    start = time.perf_counter()
    done = await asyncio.to_thread(run_cli_limited, db_url, tmp_path, "import", str(path))
    refused(done, "", "bomb.xlsx：已拒绝")
    assert time.perf_counter() - start < 30
    assert await count_questions(db_url) == 0


async def test_xlsx_bounds_rows_and_columns_while_streaming(db_url, tmp_path, capsys, monkeypatch):
    """Under the size limits, a sheet is still read row by row, at most MAX_ROWS rows and MAX_COLUMNS cells."""
    monkeypatch.setattr(bankfile, "MAX_XLSX_RATIO", 10**6)  # let the packed sheet through to the reader
    monkeypatch.setattr(bankfile, "MAX_ROWS", 1_000)
    path = tmp_path / "wide.xlsx"
    bomb_xlsx(path, 2_000)
    assert await cli(db_url, tmp_path, "import", str(path)) == 2
    refused(None, capsys.readouterr().err, quiz_texts.BANK_FILE_TOO_MANY_ROWS.format(name="wide.xlsx", limit=1000))


async def test_csv_bounds(db_url, tmp_path, capsys):
    """A field past the csv module's limit was a csv.Error traceback; an over-long cell rejects its row."""
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([HEADER, good_row(1), ["", "判断", "党" * 200_000, "", "", "", "", "", "对"]])
    assert await cli(db_url, tmp_path, "import", str(path)) == 2
    refused(None, capsys.readouterr().err, quiz_texts.BANK_FILE_BAD_CSV.format(name="huge.csv", record=3))
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([HEADER, good_row(1), ["", "判断", "党" * 20_000, "", "", "", "", "", "对"]])
    assert await cli(db_url, tmp_path, "import", str(path)) == 0
    assert "  第 3 行：" + quiz_texts.BANK_ROW_TOO_LONG.format(limit=10000) in capsys.readouterr().out


# --- A large import beside a running bot (finding 12) -------------------------------------------
@pytest.mark.timed
async def test_large_import_does_not_hold_the_bot_up(bot, db_url, tmp_path):
    """The import wrote the whole file in one transaction: on SQLite members' messages waited for all of it.
    Now it commits in chunks with pauses between them, so each message waits at most about one chunk.
    (SQLite only: on PostgreSQL an import never held the bot's writes.)"""
    if not db_url.startswith("sqlite"):
        pytest.skip("the write lock this is about is SQLite's")
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(IMPORT_SIZE):
            writer.writerow(["", "判断", f"第{i}题：党支部第{i}次集中学习的主题是党章。", "", "", "", "", "", "对"])
    await bot.say("帮助", user="u01")
    # In a process of its own, as an operator runs it beside the bot (in a thread it would share our GIL).
    command = [sys.executable, "-m", "bot", "--config", str(config_for(db_url, tmp_path)), "questions", "import"]
    importing = await asyncio.create_subprocess_exec(
        *command, str(path), cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    finished = asyncio.create_task(importing.communicate())
    waits = []
    while not finished.done():
        start = time.perf_counter()
        await bot.say("帮助", user="u01")
        waits.append(time.perf_counter() - start)
        await asyncio.sleep(0.02)
    out, err = await finished
    assert importing.returncode == 0, err.decode()[-2000:]
    assert f"新增 {IMPORT_SIZE}" in out.decode()
    assert len(waits) >= 5 and max(waits) < IMPORT_WAIT_LIMIT, (len(waits), sorted(waits)[-5:])


IMPORT_SIZE = 20_000  # in one transaction (before) the bot waited ≈ 1.5 s here; a chunk holds it ≈ 0.1 s
IMPORT_WAIT_LIMIT = 0.8
