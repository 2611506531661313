"""Config: typed, validated at start-up; a bad key exits 2 with one line naming it."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import EXIT_CONFIG, main
from bot.core.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_config_loads_with_every_section():
    config = load_config(ROOT / "config.toml", env={})
    assert config.database.url == "sqlite+aiosqlite:///yizhan.db"
    assert config.bot.timezone == "Asia/Shanghai"
    assert [b.id for b in config.branches] == ["demo"]


def test_every_key_in_shipped_config_is_commented():
    """Each key line, or the run of key lines it belongs to, sits right under a comment."""
    lines = [line.strip() for line in (ROOT / "config.toml").read_text(encoding="utf-8").splitlines()]

    def is_key(line: str) -> bool:
        return "=" in line and not line.startswith("#")

    for i, line in enumerate(lines):
        if is_key(line):
            j = i - 1
            while j >= 0 and is_key(lines[j]):
                j -= 1
            assert j >= 0 and lines[j].startswith("#"), f"config.toml line {i + 1} has no comment: {line}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[server]\nprot = 8080\n", "[server] prot: unknown key"),
        ('[server]\nport = "8080"\n', "[server] port: expected an integer, got a string"),
        ("[server]\nport = 70000\n", "[server] port: must be between 1 and 65535"),
        ('[bot]\ntimezone = "Mars/Olympus"\n', "[bot] timezone: unknown time zone"),
        ('[database]\nurl = "mysql://x"\n', "[database] url: must start with"),
        ("[outbox]\nmax_attempts = true\n", "[outbox] max_attempts: expected an integer, got a boolean"),
        ("[nonsense]\n", "[nonsense]: unknown section"),
        ('[[branches]]\nname = "x"\n', "[[branches]] #1 id: required key is missing"),
        (
            '[[branches]]\nid = "a"\nname = "x"\nadmins = ["u00"]\n',
            "[[branches]] #1 admins: 'u00' must look like",
        ),
        (f'[wecom]\nmember_names = ["zhangsan={"张" * 65}"]\n', "a name has at most 64 characters"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path, capsys, body, expected):
    path = write(tmp_path, body)
    assert main(["--config", str(path), "db", "upgrade"]) == EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert expected in err
    assert len(err.splitlines()) == 1


def test_console_script_exits_2_on_bad_config(tmp_path):
    path = write(tmp_path, '[server]\nport = "eighty"\n')
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "run"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "[server] port: expected an integer" in done.stderr


def test_missing_file_and_broken_toml(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "nope.toml"), "jobs", "list"]) == EXIT_CONFIG
    assert "config file not found" in capsys.readouterr().err
    path = write(tmp_path, "[server\n")
    assert main(["--config", str(path), "jobs", "list"]) == EXIT_CONFIG
    assert "not valid TOML" in capsys.readouterr().err


def test_environment_overrides_and_validates():
    config = parse_config({}, env={"YIZHAN_DATABASE_URL": "postgresql+asyncpg://u@h/db", "YIZHAN_SERVER_PORT": "9000"})
    assert config.database.url == "postgresql+asyncpg://u@h/db"
    assert config.server.port == 9000
    with pytest.raises(ConfigError, match=r"YIZHAN_SERVER_PORT \(\[server\] port\): expected an integer"):
        parse_config({}, env={"YIZHAN_SERVER_PORT": "eighty"})


def test_default_branch_must_exist():
    with pytest.raises(ConfigError, match=r"\[bot\] default_branch: no branch with id 'x'"):
        parse_config({"bot": {"default_branch": "x"}}, env={})
