"""There is one message path: nothing but the group commit writes inbound rows, and outbox rows are made only by
the group commit's statements and Context (the one way out for handlers and jobs)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    p for top in ("bot", "handlers", "schedules") for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts
]

# Where each kind of write may be made (paths relative to the repository root).
ALLOWED = {
    r"\bInboundMessage\(": set(),  # no ORM inbound rows at all: the group commit inserts them with Core
    r"\binsert(_for)?\(([\w.()]+, )?(_INBOUND|InboundMessage)\b": {"bot/core/batchwrite.py"},
    r"(?<![\w.])Outbox\(": {"bot/core/context.py"},
    r"\binsert(_for)?\(([\w.()]+, )?(_OUTBOX|Outbox)\b": {"bot/core/batchwrite.py"},
}


def test_only_the_group_commit_and_context_write_messages_and_replies():
    assert len(SOURCES) > 50
    for pattern, allowed in ALLOWED.items():
        found = {
            str(path.relative_to(ROOT))
            for path in SOURCES
            for line in path.read_text(encoding="utf-8").splitlines()
            if re.search(pattern, line) and not line.lstrip().startswith(("class ", "#"))
        }
        assert found == allowed, (pattern, found)
