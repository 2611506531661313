"""Every example exchange in README.md behaves as shown: each ```chat block is run through the simulator.

A block is fenced as ```chat, optionally followed by `at=YYYY-MM-DDTHH:MM` (the demo's clock, Beijing time; by
default Monday 2026-11-23 10:00) and `direct` (a direct chat with the bot; by default the demo group). Inside it,
`张伟> 签到` is a demo member saying something and `学习驿站> …` the bot's answer to them (the replies that appear
where they wrote, in order); a line without a speaker continues the message above it. A reply that ends with
`[…]` is shown only in part: the bot's answer must start with what is shown. Each block runs on a fresh demo
(demo data, the demo's study day open, as `yizhan run` starts it).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.core.clock import FakeClock
from bot.demo import DEMO_MEMBERS
from tests.conftest import TZ, make_config
from tests.support import BotDriver

README = Path(__file__).resolve().parent.parent / "README.md"
BOT = "学习驿站"
MORE = "[…]"
DEFAULT_AT = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
USERS = {name: user_id for user_id, name, _ in DEMO_MEMBERS}
BLOCK = re.compile(r"^```chat(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)
SPEAKER = re.compile(r"^(?P<who>[^\s>]{1,12})> ?(?P<text>.*)$")


@dataclass
class Turn:
    speaker: str
    text: str
    replies: list[str] = field(default_factory=list)


@dataclass
class Example:
    line: int
    at: datetime
    direct: bool
    turns: list[Turn]

    def __str__(self) -> str:
        return f"README.md:{self.line}"


def parse(readme: str) -> list[Example]:
    """The ```chat blocks of the README, in order."""
    found = []
    for block in BLOCK.finditer(readme):
        line = readme.count("\n", 0, block.start()) + 1
        at, direct = DEFAULT_AT, False
        for word in block.group("info").split():
            if word.startswith("at="):
                at = datetime.fromisoformat(word[3:]).replace(tzinfo=TZ)
            elif word == "direct":
                direct = True
            else:
                raise AssertionError(f"README.md:{line}: unknown word {word!r} after ```chat")
        turns: list[Turn] = []
        last: list[str] | None = None  # the message a continuation line belongs to
        for offset, text in enumerate(block.group("body").splitlines(), start=1):
            spoken = SPEAKER.match(text)
            if spoken is None:
                if last is None:
                    raise AssertionError(f"README.md:{line + offset}: a line with no speaker before it: {text!r}")
                last[-1] += "\n" + text
                continue
            who, said = spoken.group("who"), spoken.group("text")
            if who == BOT:
                if not turns:
                    raise AssertionError(f"README.md:{line + offset}: the bot speaks before anyone")
                turns[-1].replies.append(said)
                last = turns[-1].replies
            elif who in USERS:
                turns.append(Turn(who, said))
                last = None
            else:
                raise AssertionError(f"README.md:{line + offset}: {who!r} is not a demo member nor {BOT}")
        found.append(Example(line, at, direct, turns))
    return found


EXAMPLES = parse(README.read_text(encoding="utf-8"))


def test_the_readme_has_examples_to_run():
    assert len(EXAMPLES) >= 5 and all(example.turns for example in EXAMPLES)


def matches(expected: str, got: str) -> bool:
    if expected.endswith(MORE):
        return got.startswith(expected[: -len(MORE)].rstrip("\n"))
    return got == expected


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
async def test_readme_example(aiohttp_client, db_url, example: Example):
    config = make_config(db_url, demo={"study_day_open": True})
    clock = FakeClock(example.at)
    app = build_app(config, clock=clock, background=False)
    bot = BotDriver(await aiohttp_client(app), app)
    await bot.open_session()
    await bot.drain_outbox()
    shown: list[str] = []  # the block as it should read
    actual: list[str] = []  # the block as the bot answered
    ok = True
    for turn in example.turns:
        user = USERS[turn.speaker]
        chat = None if example.direct else config.demo.chat
        data = await bot.say(turn.text, user=user, chat=chat)
        await bot.drain_outbox()
        target = user if example.direct else chat
        got = [reply["text"] for reply in data["replies"] if reply["to"] == target]
        shown.append(f"{turn.speaker}> {turn.text}")
        actual.append(f"{turn.speaker}> {turn.text}")
        ok = ok and len(got) == len(turn.replies) and all(map(matches, turn.replies, got))
        shown.extend(f"{BOT}> {text}" for text in turn.replies)
        actual.extend(f"{BOT}> {text}" for text in got)
    if not ok:
        diff = difflib.unified_diff(
            "\n".join(shown).splitlines(),
            "\n".join(actual).splitlines(),
            fromfile=f"{example} (README)",
            tofile="the bot's answers",
            lineterm="",
        )
        pytest.fail(f"{example}: the example does not match what the bot says\n" + "\n".join(diff), pytrace=False)
