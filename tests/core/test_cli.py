"""The `yizhan` command, run as a user runs it.

Most commands run in this process (main(argv), its output captured, logging as in a process of its own): a
subprocess costs ~2 s of imports. Real processes remain where the process is the point: `yizhan run` (its
signals, its port), `jobs run` beside a running bot, and one command's console output.
"""

import contextlib
import http.cookiejar
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import __version__
from bot.cli import main
from bot.core import texts
from bot.core.channels.sim.access import CSRF_HEADER
from tests.support import csrf_from_page

ROOT = Path(__file__).resolve().parents[2]


def config_file(tmp_path: Path, port: int = 8080) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite+aiosqlite:///yizhan.db"', f'url = "sqlite+aiosqlite:///{tmp_path}/cli.db"')
    text = text.replace("port = 8080", f"port = {port}")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def logging_of_a_new_process() -> Iterator[None]:
    """Logging during an in-process command as in a process of its own, and as it was before afterwards.

    The root logger starts without handlers (pytest's capture ones are put aside), so setup_logging() adds its own
    on stderr, where capsys reads what an operator would see; the levels, handlers and filters main() sets on any
    logger, and the record factory, are undone after.
    """
    manager = logging.Logger.manager
    root = logging.getLogger()
    before = {name for name, logger in manager.loggerDict.items() if isinstance(logger, logging.Logger)}
    saved = [
        (logger, logger.level, logger.handlers[:], logger.filters[:])
        for logger in [root, *(manager.loggerDict[name] for name in before)]
        if isinstance(logger, logging.Logger)
    ]
    factory = logging.getLogRecordFactory()
    root.handlers.clear()
    try:
        yield
    finally:
        for name, logger in list(manager.loggerDict.items()):
            if name not in before and isinstance(logger, logging.Logger):
                logger.setLevel(logging.NOTSET)
                logger.handlers.clear()
                logger.filters.clear()
        for logger, level, handlers, filters in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.filters[:] = filters
        logging.setLogRecordFactory(factory)


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """main() called in this process must leave logging as it found it (for the tests after these)."""
    with logging_of_a_new_process():
        yield


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The `yizhan` command in this process, as yizhan() runs it in one of its own: (exit code, stdout, stderr)."""

    def run(args: list[str], cwd: Path, log_level: str | None = "WARNING", **env: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with monkeypatch.context() as patch, logging_of_a_new_process():
            patch.chdir(cwd)
            if log_level is None:
                patch.delenv("YIZHAN_LOG_LEVEL", raising=False)
            else:
                env = {"YIZHAN_LOG_LEVEL": log_level, **env}
            for name, value in env.items():
                patch.setenv(name, value)
            try:
                code = main(args)
            except SystemExit as exit:  # argparse's usage errors
                code = exit.code if isinstance(exit.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"yizhan {__version__}"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["run"],
        ["db"],
        ["db", "upgrade"],
        ["jobs"],
        ["jobs", "list"],
        ["jobs", "run"],
        ["meetings", "add"],
        ["meetings", "list"],
        ["export", "attendance"],
        ["export", "study"],
        ["export", "notices"],
    ],
)
def test_help_on_each_command(capsys, args):
    with pytest.raises(SystemExit) as done:
        main([*args, "--help"])
    assert done.value.code == 0
    assert f"{texts.CLI_USAGE_PREFIX}yizhan" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    """A word that is not a command is said to be one, with the commands listed (it read
    "COMMAND：无效的选项 'check'", argparse's wording for a bad option value)."""
    for args, err in (
        (
            ["check"],
            "yizhan: 'check' 不是 yizhan 的命令；可用的命令：run、db、jobs、meetings、questions、export、tasks"
            "（用法见 yizhan --help）\n",
        ),
        (
            ["jobs", "start"],
            "yizhan jobs: 'start' 不是 yizhan jobs 的操作；可用的操作：list、run（用法见 yizhan jobs --help）\n",
        ),
        (
            ["export", "quiz"],
            "yizhan export: 'quiz' 不是 yizhan export 的台账种类；可用的台账种类：attendance、study、notices"
            "（用法见 yizhan export --help）\n",
        ),
    ):
        with pytest.raises(SystemExit) as done:
            main(args)
        assert done.value.code == 2
        assert capsys.readouterr().err == err
    # An option's bad value is still one (meetings add KIND).
    with pytest.raises(SystemExit):
        main(["meetings", "add", "picnic", "--at", "2026-11-28 14:30"])
    assert "kind：无效的选项 'picnic'（可选：" in capsys.readouterr().err


def test_db_upgrade_and_jobs(tmp_path, capsys):
    path = config_file(tmp_path)
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    from alembic.script import ScriptDirectory

    from bot.core.db import _alembic_config

    head = ",".join(sorted(ScriptDirectory.from_config(_alembic_config()).get_heads()))
    # A new file: every migration applied, which it says; again: nothing to do.
    assert capsys.readouterr().out == texts.CLI_DB_UPGRADED.format(revision=head) + "\n"
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    assert capsys.readouterr().out == texts.CLI_DB_AT.format(revision=head) + "\n"
    assert main(["--config", str(path), "jobs", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["任务", "时间表（crontab）", "下次执行", "说明"]
    assert "purge_old_records" in out and "30 3 * * *" in out and texts.CLI_JOB_DESCRIPTIONS["purge_old_records"] in out
    assert main(["--config", str(path), "jobs", "run", "purge_old_records"]) == 0
    assert capsys.readouterr().out == texts.CLI_JOB_NOTHING.format(name="purge_old_records") + "\n"
    assert main(["--config", str(path), "jobs", "run", "nope"]) == 1
    assert "yizhan: 没有名为 'nope' 的任务（已有：purge_old_records," in capsys.readouterr().err


# What may stay ASCII in a job's description: config names ([[tasks.recurring]], daily_quiz, config.toml).
_CONFIG_NAMES = re.compile(r"\[\[?[a-z_.]+\]\]?|\b[a-z]+(?:_[a-z]+)+\b|\bconfig\.toml\b|\benabled = (?:true|false)\b")


def test_every_job_is_described_in_chinese(tmp_path, capsys, monkeypatch):
    """`yizhan jobs list` with every job declared (WeCom contacts, recurring items, 季调度, 每日一题, 学习日): each
    description is Chinese, with no ASCII letters but config names."""
    from bot.core.config import RecurringTaskConfig, load_config
    from schedules import declared_jobs

    config = load_config(config_file(tmp_path), env={}).replace(
        wecom={"enabled": True, "corp_id": "ww1", "agent_id": 1000002, "app_secret": "s"},
        tasks={"recurring": (RecurringTaskConfig(unit="demo", title="报送支部工作月报"),), "quarterly_push": True},
    )
    monkeypatch.setattr("bot.cli.load_config", lambda _path: config)
    names = [job.name for job in declared_jobs(config)]
    for conditional in (
        "refresh_member_names",
        "issue_recurring_tasks",
        "push_quarter_summary",
        "post_daily_questions",
    ):
        assert conditional in names
    assert any(name.startswith("study_reminder.") for name in names)
    assert main(["jobs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) == len(names)
    for name, line in zip(names, lines, strict=True):
        found = re.match(rf"{re.escape(name)} +\S.*? (?:\d{{4}}-\d\d-\d\d \d\d:\d\d|-) +(\S.*)$", line)
        assert found is not None, line
        description = found.group(1)
        assert re.search(r"[\u4e00-\u9fff]", description), line
        assert not re.search(r"[A-Za-z]", _CONFIG_NAMES.sub("", description)), line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_serves_the_simulator_and_stops_on_sigterm(tmp_path):
    port = free_port()
    path = config_file(tmp_path, port)
    env = {**os.environ, "YIZHAN_LOG_LEVEL": "INFO"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(path), "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # As a browser: the page sets the session cookie and carries the CSRF token.
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                with browser.open(f"{base}/", timeout=1) as resp:
                    assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
                    csrf = csrf_from_page(resp.read().decode())
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("server did not come up")
        with browser.open(
            urllib.request.Request(f"{base}/api/sim/state", headers={CSRF_HEADER: csrf}), timeout=5
        ) as resp:
            state = json.load(resp)
        assert [m["name"] for m in state["chats"][0]["members"]][:2] == ["李建国", "张伟"]
        body = json.dumps({"chat": "demo-group", "user": "u01", "text": "帮助"}).encode()
        request = urllib.request.Request(
            f"{base}/api/sim/messages", data=body, headers={"Content-Type": "application/json", CSRF_HEADER: csrf}
        )
        with browser.open(request, timeout=5) as resp:
            reply = json.load(resp)["replies"][0]["text"]
        assert reply.startswith(texts.HELP_HEADER.format(name="张伟"))
        # A page left open (a live event stream) must not hold up the shutdown.
        stream = browser.open(f"{base}/api/sim/events?chat=demo-group&csrf={csrf}", timeout=5)
        assert stream.readline().startswith(b": connected")
    finally:
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output
    assert time.monotonic() - stopping < 8, "shutdown waited on the open event stream"
    stream.close()
    assert "yizhan stopped; database closed" in output


def test_meetings_add_and_list(tmp_path, capsys):
    path = config_file(tmp_path)
    args = ["--config", str(path), "meetings", "add", "party_lecture", "--at", "2099-07-01 15:00"]
    assert main([*args, "--topic", "学习党章", "--location", "礼堂", "--code"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == texts.CLI_MEETING_CREATED.format(kind="党课", seq=1, when="7月1日（周三）15:00")
    assert out.splitlines()[1].startswith("签到码：")
    assert main(["--config", str(path), "meetings", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "编号  类型  时间                 状态    应到  地点  主题",
        "#1    党课  7月1日（周三）15:00  未开始  11    礼堂  学习党章",
    ]
    assert main(["--config", str(path), "meetings", "add", "group_meeting", "--at", "2099-07-02 15:00"]) == 1
    assert capsys.readouterr().err == f"yizhan: {texts.CLI_GROUP_MEETING_NEEDS_GROUP}\n"
    assert main(["--config", str(path), "meetings", "add", "theme_day", "--at", "2001-07-02 15:00"]) == 1
    assert capsys.readouterr().err == "yizhan: 2001-07-02 15:00 已经过去\n"


def test_meetings_list_when_there_are_none(tmp_path, capsys):
    assert main(["--config", str(config_file(tmp_path)), "meetings", "list"]) == 0
    assert capsys.readouterr().out == texts.CLI_MEETINGS_EMPTY + "\n"


def assert_no_log_lines(output: str) -> None:
    assert "alembic" not in output.lower() and " INFO " not in output, output
    assert "Running upgrade" not in output and "Context impl" not in output, output


@pytest.mark.parametrize("args", [["db", "upgrade"], ["jobs", "list"], ["meetings", "list"], ["jobs", "run", "nope"]])
def test_commands_print_no_log_lines(tmp_path, cli, args):
    """An operator's command prints its own output: no Alembic INFO lines (nor any other log line) around it."""
    _, out, err = cli(["--config", str(config_file(tmp_path)), *args], tmp_path, log_level=None)
    assert_no_log_lines(out + err)


def test_a_command_in_a_process_of_its_own_prints_no_log_lines(tmp_path):
    """The same as the console shows it: `yizhan db upgrade` (the command Alembic speaks in) as a process."""
    path = config_file(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "YIZHAN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert_no_log_lines(done.stdout + done.stderr)


# --- errors: one line, the right exit code, never a traceback ----------------------------------------------
def yizhan(args: list[str], cwd: Path, **env: str) -> tuple[int, str, str]:
    """Run the console script as an operator does: (exit code, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**os.environ, "YIZHAN_LOG_LEVEL": "WARNING", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def export_args(path: Path, out: str, *more: str) -> list[str]:
    period = ["--from", "2026-01-01", "--to", "2026-12-31"]
    return ["--config", str(path), "export", "attendance", *period, "--out", out, *more]


def test_export_into_a_missing_directory_is_one_line(tmp_path, cli):
    path = config_file(tmp_path)
    code, _, err = cli(export_args(path, "missing_dir/x.xlsx"), tmp_path)
    assert code == 2
    assert one_line(err) == "yizhan: --out：目录 missing_dir 不存在"


def test_export_refuses_an_out_file_that_is_not_xlsx(tmp_path, cli):
    path = config_file(tmp_path)
    code, _, err = cli(export_args(path, "x.csv"), tmp_path)
    assert code == 2
    assert "--out" in one_line(err) and ".xlsx" in one_line(err)
    assert not (tmp_path / "x.csv").exists()


def test_questions_export_to_a_csv_is_a_usage_error_like_export_study(tmp_path, cli):
    """A bad --out is a usage error (exit 2) for the question bank as for the records (it exited 1)."""
    path = config_file(tmp_path)
    code, _, err = cli(["--config", str(path), "questions", "export", "--out", "q.csv"], tmp_path)
    assert (code, one_line(err)) == (
        2,
        "yizhan questions export: --out："
        + texts.CLI_BANK_OUT_SUFFIX.format(text="q.csv")
        + "（用法见 yizhan questions export --help）",
    )
    study = ["--config", str(path), "export", "study", "--from", "2026-01-01", "--to", "2026-12-31", "--out", "s.csv"]
    code, _, err = cli(study, tmp_path)
    assert code == 2 and one_line(err).startswith("yizhan export study: --out：")
    assert not (tmp_path / "q.csv").exists() and not (tmp_path / "s.csv").exists()


def test_export_with_to_before_from_is_a_usage_error(tmp_path, cli):
    path = config_file(tmp_path)
    args = export_args(path, "x.xlsx")
    args[args.index("2026-12-31")] = "2025-12-31"
    code, _, err = cli(args, tmp_path)
    assert (code, one_line(err)) == (2, "yizhan: --to 早于 --from")


def test_export_for_a_branch_not_in_the_config_is_a_usage_error(tmp_path, cli):
    path = config_file(tmp_path)
    code, _, err = cli(export_args(path, "x.xlsx", "--branch", "nope"), tmp_path)
    assert (code, one_line(err)) == (2, "yizhan: --branch：config.toml 中没有支部 'nope'（已有：demo）")


def test_a_bad_list_value_in_an_environment_override_is_a_config_error(tmp_path, cli):
    path = config_file(tmp_path)
    code, _, err = cli(["--config", str(path), "jobs", "list"], tmp_path, YIZHAN_NOTICES_NUDGE_AFTER_MINUTES="60,abc")
    assert code == 2
    assert one_line(err) == (
        "yizhan: 配置错误：YIZHAN_NOTICES_NUDGE_AFTER_MINUTES ([notices] nudge_after_minutes[1]): "
        "expected an integer, got 'abc'"
    )
    # The same value in the file: the same key and position, the same exit.
    text = path.read_text(encoding="utf-8").replace(
        "nudge_after_minutes = [60, 240]", 'nudge_after_minutes = [60, "abc"]'
    )
    path.write_text(text, encoding="utf-8")
    code, _, err = cli(["--config", str(path), "jobs", "list"], tmp_path)
    assert (code, one_line(err)) == (
        2,
        "yizhan: 配置错误：[notices] nudge_after_minutes[1]: expected an integer, got a string",
    )


def test_a_list_override_is_validated_like_the_file(tmp_path, cli):
    path = config_file(tmp_path)
    code, _, err = cli(["--config", str(path), "jobs", "list"], tmp_path, YIZHAN_NOTICES_NUDGE_AFTER_MINUTES="240,60")
    assert (code, one_line(err)) == (
        2,
        "yizhan: 配置错误：[notices] nudge_after_minutes: must be positive and increasing",
    )
    code, out, _ = cli(["--config", str(path), "jobs", "list"], tmp_path, YIZHAN_NOTICES_NUDGE_AFTER_MINUTES="30, 90")
    assert code == 0 and "tick_roll_calls" in out


def test_a_config_path_that_cannot_be_read_is_a_config_error(tmp_path, cli):
    code, _, err = cli(["--config", str(tmp_path), "jobs", "list"], tmp_path)
    assert code == 2
    assert one_line(err).startswith(f"yizhan: 配置错误：{tmp_path}: cannot read")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("[bot]\nname = '学习驿站'\n".encode("gb18030"))
    code, _, err = cli(["--config", str(latin1), "jobs", "list"], tmp_path)
    assert code == 2
    assert one_line(err).startswith(f"yizhan: 配置错误：{latin1}: not valid TOML")


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path):
    # In a process of its own: aiosqlite's thread reports the failed connect after the command's event loop closed
    # (an "Event loop is closed" warning in this process, nothing at the console).
    path = config_file(tmp_path)
    text = path.read_text(encoding="utf-8").replace(f"{tmp_path}/cli.db", f"{tmp_path}/no/such/dir/cli.db")
    path.write_text(text, encoding="utf-8")
    # One Chinese sentence naming the file, the same from every command (it was the driver's
    # "(sqlite3.OperationalError) unable to open database file").
    line = "yizhan: " + texts.CLI_DATABASE_FILE_UNREACHABLE.format(path=f"{tmp_path}/no/such/dir/cli.db")
    for args in (
        ["db", "upgrade"],
        ["export", "study", "--from", "2026-01-01", "--to", "2026-12-31", "--out", "s.xlsx"],
        ["run"],  # before the server starts (inside it, aiosqlite's thread could print a traceback now and then)
    ):
        code, _, err = yizhan(["--config", str(path), *args], tmp_path)
        assert (code, one_line(err)) == (1, line)


def test_a_database_server_that_cannot_be_reached_is_named_without_its_password(tmp_path, cli):
    """PostgreSQL refusing the connection: the URL with its password hidden, not asyncpg's "Connect call failed"."""
    path = config_file(tmp_path)
    url = "postgresql+asyncpg://yizhan:s3cret@127.0.0.1:1/yizhan"
    line = "yizhan: " + texts.CLI_DATABASE_UNREACHABLE.format(url="postgresql+asyncpg://yizhan:***@127.0.0.1:1/yizhan")
    for args in (["db", "upgrade"], ["meetings", "list"], ["questions", "export", "--out", "q.xlsx"]):
        code, _, err = cli(["--config", str(path), *args], tmp_path, YIZHAN_DATABASE_URL=url)
        assert (code, one_line(err)) == (1, line)
        assert "s3cret" not in err


def test_run_on_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        path = config_file(tmp_path, taken.getsockname()[1])
        code, _, err = yizhan(["--config", str(path), "run"], tmp_path)
    assert code == 1
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("yizhan: ") and "address already in use" in last


def test_an_unknown_log_level_is_a_config_error(tmp_path, cli):
    code, _, err = cli(["--config", str(config_file(tmp_path)), "jobs", "list"], tmp_path, YIZHAN_LOG_LEVEL="bogus")
    assert (code, one_line(err)) == (
        2,
        "yizhan: 配置错误：YIZHAN_LOG_LEVEL：未知的日志级别 'bogus'（DEBUG、INFO、WARNING 或 ERROR）",
    )


# --- jobs run: delivered by the running bot, shown in the simulator ------------------------------------------
def start_bot(path: Path, cwd: Path, port: int, env: dict[str, str]) -> tuple[subprocess.Popen[str], Any, str]:
    """`yizhan run` as a subprocess; (process, a browser with the page's session, its CSRF token)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(path), "run"],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    for _ in range(400):
        try:
            with browser.open(f"http://127.0.0.1:{port}/", timeout=1) as resp:
                return proc, browser, csrf_from_page(resp.read().decode())
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("server did not come up")


def sim_lines(browser: Any, port: int, csrf: str) -> list[str]:
    url = f"http://127.0.0.1:{port}/api/sim/messages?chat=demo-group"
    with browser.open(urllib.request.Request(url, headers={CSRF_HEADER: csrf}), timeout=5) as resp:
        return [line["text"] for line in json.load(resp)["messages"] if line["sender"] == "bot"]


def test_jobs_run_is_delivered_by_the_running_bot_into_the_simulator(tmp_path):
    port = free_port()
    path = config_file(tmp_path, port)
    # No scheduler in the running bot (nothing fires by itself); a 每日一题 that may be posted all day.
    env = {
        "YIZHAN_SCHEDULER_ENABLED": "false",
        "YIZHAN_QUIZ_DAILY_TIME": "00:00",
        "YIZHAN_QUIZ_DAILY_CLOSE_TIME": "23:59",
    }
    proc, browser, csrf = start_bot(path, tmp_path, port, env)
    try:
        code, out, _ = yizhan(["--config", str(path), "jobs", "run", "post_daily_questions"], tmp_path, **env)
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == texts.CLI_JOB_SENT.format(name="post_daily_questions", count=1)
        assert lines[1].startswith("  → 群 sim:demo-group：【每日一题】")
        assert lines[2] == texts.CLI_JOB_DELIVERED
        posted = lines[1].split("：", 1)[1]
        shown = sim_lines(browser, port, csrf)
        assert posted in [line.splitlines()[0] for line in shown], shown
        # The demo's study day is open (its reminder is in the chat), so the study reminder has nothing to add.
        assert any(line.startswith("【学习日·演示】") for line in shown), shown
        code, out, _ = yizhan(["--config", str(path), "jobs", "run", "study_reminder.demo"], tmp_path, **env)
        assert code == 0
        assert out.splitlines()[0] == texts.CLI_JOB_NOTHING.format(name="study_reminder.demo")
        # The week is named by its dates ("11月30日至12月6日"), never an ISO week number.
        assert out.splitlines()[1].startswith("原因：市城管局机关第一党支部本周的学习日（"), out
        assert "日至" in out.splitlines()[1] and "第" not in out.splitlines()[1].split("（")[1], out
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output


def test_jobs_run_without_a_running_bot_says_where_the_messages_wait(tmp_path, cli):
    path = config_file(tmp_path, free_port())  # nothing listens there
    env = {"YIZHAN_QUIZ_DAILY_TIME": "00:00", "YIZHAN_QUIZ_DAILY_CLOSE_TIME": "23:59"}
    code, out, _ = cli(["--config", str(path), "jobs", "run", "post_daily_questions"], tmp_path, **env)
    assert code == 0
    port = int(path.read_text(encoding="utf-8").split("port = ", 1)[1].split()[0])
    assert out.splitlines()[2] == texts.CLI_JOB_NOT_RUNNING.format(host="127.0.0.1", port=port)


def test_jobs_run_study_reminder_on_a_weekday_says_what_is_true(tmp_path, cli, monkeypatch):
    """The shipped demo ([demo] study_day_open = true) on a Tuesday: `jobs run study_reminder.demo` opened the
    demo week itself, queued 【学习日·演示】… without printing it, and then reported that week's reminder as
    already sent. The demo week opens when the bot starts; the command says it is not the study day."""
    import sqlite3
    from datetime import datetime

    monkeypatch.setattr("bot.app.system_clock", lambda tz: lambda: datetime(2026, 12, 1, 10, 0, tzinfo=tz))
    path = config_file(tmp_path, free_port())  # no running bot
    code, out, _ = cli(["--config", str(path), "jobs", "run", "study_reminder.demo"], tmp_path)
    assert code == 0
    assert out.splitlines() == [
        texts.CLI_JOB_NOTHING.format(name="study_reminder.demo"),
        texts.CLI_JOB_STUDY_NOT_TODAY.format(
            today="12月1日（周二）", branch="市城管局机关第一党支部", time="09:00", next_day="12月4日（周五）"
        ),
    ]
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        queued = [text for (text,) in connection.execute("SELECT text FROM outbox")]
    assert queued == [], queued  # nothing waits that the command did not print


def test_jobs_run_study_reminder_after_the_study_day_closed_says_so(tmp_path, cli, monkeypatch):
    """Review: on the study day itself, after its check-in closed, the reason given was '今天…不是…的学习日'."""
    from datetime import datetime

    monkeypatch.setattr("bot.app.system_clock", lambda tz: lambda: datetime(2026, 12, 4, 12, 0, tzinfo=tz))  # Friday
    path = config_file(tmp_path, free_port())
    text = path.read_text(encoding="utf-8")
    assert "close_after_hours = 60" in text
    path.write_text(text.replace("close_after_hours = 60", "close_after_hours = 2"), encoding="utf-8")  # 11:00
    code, out, _ = cli(["--config", str(path), "jobs", "run", "study_reminder.demo"], tmp_path)
    assert code == 0
    assert out.splitlines() == [
        texts.CLI_JOB_NOTHING.format(name="study_reminder.demo"),
        texts.CLI_JOB_STUDY_CLOSED.format(branch="市城管局机关第一党支部", close="12月4日（周五）11:00"),
    ]
