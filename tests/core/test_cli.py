"""The `yizhan` command, run as a user runs it."""

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot import __version__, texts
from bot.channels.sim.access import CSRF_HEADER
from bot.cli import main
from tests.support import csrf_from_page

ROOT = Path(__file__).resolve().parents[2]


def config_file(tmp_path: Path, port: int = 8080) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite+aiosqlite:///yizhan.db"', f'url = "sqlite+aiosqlite:///{tmp_path}/cli.db"')
    text = text.replace("port = 8080", f"port = {port}")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


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
    assert "usage: yizhan" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as done:
        main(["frobnicate"])
    assert done.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_db_upgrade_and_jobs(tmp_path, capsys):
    path = config_file(tmp_path)
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    assert "database is at revision" in capsys.readouterr().out
    assert main(["--config", str(path), "jobs", "list"]) == 0
    out = capsys.readouterr().out
    assert "purge_old_records" in out and "30 3 * * *" in out
    assert main(["--config", str(path), "jobs", "run", "purge_old_records"]) == 0
    assert "job purge_old_records fired" in capsys.readouterr().out
    assert main(["--config", str(path), "jobs", "run", "nope"]) == 1
    assert "no job named 'nope'" in capsys.readouterr().err


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
    assert "created 党课#1 at 2099-07-01 15:00" in out and "check-in code: " in out
    assert main(["--config", str(path), "meetings", "list"]) == 0
    assert "#1\tparty_lecture\t7月1日（周三）15:00\t礼堂\t学习党章" in capsys.readouterr().out
    assert main(["--config", str(path), "meetings", "add", "group_meeting", "--at", "2099-07-02 15:00"]) == 1
    assert "needs --group" in capsys.readouterr().err
    assert main(["--config", str(path), "meetings", "add", "theme_day", "--at", "2001-07-02 15:00"]) == 1
    assert "is in the past" in capsys.readouterr().err


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


def test_export_into_a_missing_directory_is_one_line(tmp_path):
    path = config_file(tmp_path)
    code, _, err = yizhan(export_args(path, "missing_dir/x.xlsx"), tmp_path)
    assert code == 2
    assert one_line(err) == "yizhan: --out: directory missing_dir does not exist"


def test_export_refuses_an_out_file_that_is_not_xlsx(tmp_path):
    path = config_file(tmp_path)
    code, _, err = yizhan(export_args(path, "x.csv"), tmp_path)
    assert code == 2
    assert "--out" in one_line(err) and ".xlsx" in one_line(err)
    assert not (tmp_path / "x.csv").exists()


def test_export_with_to_before_from_is_a_usage_error(tmp_path):
    path = config_file(tmp_path)
    args = export_args(path, "x.xlsx")
    args[args.index("2026-12-31")] = "2025-12-31"
    code, _, err = yizhan(args, tmp_path)
    assert (code, one_line(err)) == (2, "yizhan: --to is before --from")


def test_export_for_a_branch_not_in_the_config_is_a_usage_error(tmp_path):
    path = config_file(tmp_path)
    code, _, err = yizhan(export_args(path, "x.xlsx", "--branch", "nope"), tmp_path)
    assert (code, one_line(err)) == (2, "yizhan: --branch: no branch 'nope' in config.toml (known: demo)")


def test_a_bad_list_value_in_an_environment_override_is_a_config_error(tmp_path):
    path = config_file(tmp_path)
    code, _, err = yizhan(
        ["--config", str(path), "jobs", "list"], tmp_path, YIZHAN_NOTICES_NUDGE_AFTER_MINUTES="60,abc"
    )
    assert code == 2
    assert one_line(err) == (
        "yizhan: config error: YIZHAN_NOTICES_NUDGE_AFTER_MINUTES ([notices] nudge_after_minutes[1]): "
        "expected an integer, got 'abc'"
    )
    # The same value in the file: the same key and position, the same exit.
    text = path.read_text(encoding="utf-8").replace(
        "nudge_after_minutes = [60, 240]", 'nudge_after_minutes = [60, "abc"]'
    )
    path.write_text(text, encoding="utf-8")
    code, _, err = yizhan(["--config", str(path), "jobs", "list"], tmp_path)
    assert (code, one_line(err)) == (
        2,
        "yizhan: config error: [notices] nudge_after_minutes[1]: expected an integer, got a string",
    )


def test_a_list_override_is_validated_like_the_file(tmp_path):
    path = config_file(tmp_path)
    code, _, err = yizhan(
        ["--config", str(path), "jobs", "list"], tmp_path, YIZHAN_NOTICES_NUDGE_AFTER_MINUTES="240,60"
    )
    assert (code, one_line(err)) == (
        2,
        "yizhan: config error: [notices] nudge_after_minutes: must be positive and increasing",
    )
    code, out, _ = yizhan(
        ["--config", str(path), "jobs", "list"], tmp_path, YIZHAN_NOTICES_NUDGE_AFTER_MINUTES="30, 90"
    )
    assert code == 0 and "tick_roll_calls" in out


def test_a_config_path_that_cannot_be_read_is_a_config_error(tmp_path):
    code, _, err = yizhan(["--config", str(tmp_path), "jobs", "list"], tmp_path)
    assert code == 2
    assert one_line(err).startswith(f"yizhan: config error: {tmp_path}: cannot read")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("[bot]\nname = '学习驿站'\n".encode("gb18030"))
    code, _, err = yizhan(["--config", str(latin1), "jobs", "list"], tmp_path)
    assert code == 2
    assert one_line(err).startswith(f"yizhan: config error: {latin1}: not valid TOML")


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path):
    path = config_file(tmp_path)
    text = path.read_text(encoding="utf-8").replace(f"{tmp_path}/cli.db", f"{tmp_path}/no/such/dir/cli.db")
    path.write_text(text, encoding="utf-8")
    code, _, err = yizhan(["--config", str(path), "db", "upgrade"], tmp_path)
    assert code == 1
    assert one_line(err).startswith("yizhan: database error: ")


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


def test_an_unknown_log_level_is_a_config_error(tmp_path):
    code, _, err = yizhan(["--config", str(config_file(tmp_path)), "jobs", "list"], tmp_path, YIZHAN_LOG_LEVEL="bogus")
    assert (code, one_line(err)) == (
        2,
        "yizhan: config error: YIZHAN_LOG_LEVEL: unknown log level 'bogus' (DEBUG, INFO, WARNING or ERROR)",
    )
