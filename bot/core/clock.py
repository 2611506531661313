"""Injected time: handlers and jobs read ctx.clock(), never datetime.now()."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock(tz: ZoneInfo) -> Clock:
    """The real clock, timezone-aware in tz."""

    def now() -> datetime:
        return datetime.now(tz)

    return now


class FakeClock:
    """A settable clock for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when
