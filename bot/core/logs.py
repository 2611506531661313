"""Logging as `yizhan run` sets it up: one handler on the root logger, secrets masked in every record.

Masking happens when a record is made (a record factory), not in one handler: every handler then sees the
masked text — ours, SQLAlchemy's echo handler, a test runner's capture. It masks the values of
`access_token=…`, `corpsecret=…`, a webhook's `key=…`, tokens, secrets, AES keys, signatures and
Authorization headers wherever they appear (query strings, JSON, reprs), and any secret value the
configuration holds, verbatim.

SQL statements are logged (with `[database] echo`) without their parameters (bot/core/db.py's engine hides them),
and the database libraries never log below INFO here: their DEBUG lines carry parameters and result rows —
access tokens and message texts. Message texts appear only in DEBUG records of our own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import IO, Any

from bot.core.config import Config

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"

# Database drivers: their DEBUG output holds every statement's parameters (tokens, message texts).
_QUIET_BELOW_INFO = ("aiosqlite", "asyncpg")
# APScheduler logs every fire at INFO (the per-minute roll-call tick would flood the log); SQLAlchemy logs
# statements at INFO and result rows at DEBUG — it speaks only through [database] echo (bot/core/db.py); Alembic
# writes 7–9 INFO lines per command (plugins, context) that would push the start-up warning off the first line.
_QUIET_BELOW_WARNING = ("apscheduler", "sqlalchemy", "alembic")
# The logger [database] echo writes to; with a handler of its own SQLAlchemy adds no second one on stdout.
_ENGINE_LOGGER = "sqlalchemy.engine.Engine"
# Marks the handler setup_logging() added.
_OURS = "yizhan_handler"

_NAMES = (
    r"access_token|corpsecret|secret|app_secret|token|callback_token|aibot_token|encoding_aes_key"
    r"|aibot_encoding_aes_key|aes_?key|encodingaeskey|key|webhook_key|msg_signature|signature|response_code"
    r"|password|authorization|csrf"
)
# name, then = or : (with optional quotes around), then the value up to a delimiter.
_PAIR = re.compile(
    rf"(?i)(?<![A-Za-z0-9_])({_NAMES})(?![A-Za-z0-9_])(\"|')?(\s*[:=]\s*)(\"|')?((?:bearer|basic)\s+)?[^\s&\"',;)}}\]>]+"
)
# user:password@ in a URL (a database URL in an error message).
_URL_PASSWORD = re.compile(r"(?<=://)([^/\s:@]+):[^/\s@]+@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """text with secret values masked (by their names, and the given values wherever they appear)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _PAIR.sub(lambda m: f"{m[1]}{m[2] or ''}{m[3]}{m[4] or ''}{m[5] or ''}{MASK}", text)
    return _URL_PASSWORD.sub(rf"\1:{MASK}@", text)


def config_secrets(config: Config) -> tuple[str, ...]:
    """The secret values in a configuration (longest first, so none is masked only in part)."""
    wecom = config.wecom
    values = [
        wecom.app_secret,
        wecom.callback_token,
        wecom.encoding_aes_key,
        wecom.aibot_token,
        wecom.aibot_encoding_aes_key,
        wecom.aibot_secret,
        *(entry.partition("=")[2] for entry in wecom.robot_webhooks),
    ]
    return tuple(sorted({v for v in values if len(v) >= 4}, key=len, reverse=True))


class _Redacting:
    """A log record factory that masks secrets in the message and in a logged exception's text."""

    def __init__(self, make: Callable[..., logging.LogRecord], secrets: tuple[str, ...]) -> None:
        self.make = make
        self.secrets = secrets
        self._formatter = logging.Formatter()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it as usual
            return record
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self._formatter.formatException(record.exc_info), self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return record


class _MalformedRequests(logging.Filter):
    """aiohttp logs a request it cannot even parse (raw bytes no client sends) at ERROR with a traceback, after
    answering it 400 itself: that is bad input, not our failure — one INFO line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = f"{record.getMessage()}: malformed request ({type(exc).__name__})", None
            record.exc_info, record.exc_text = None, None
        return True


_AIOHTTP_SERVER = "aiohttp.server"


class LogSetup:
    """What setup_logging() installed, so that close() can take it away again (for tests)."""

    def __init__(self, handler: logging.Handler | None, factory: Callable[..., logging.LogRecord], level: int) -> None:
        self.handler = handler
        self._previous_factory = factory
        self._previous_level = level

    def close(self) -> None:
        root = logging.getLogger()
        if self.handler is not None:
            root.removeHandler(self.handler)
        root.setLevel(self._previous_level)
        logging.setLogRecordFactory(self._previous_factory)


def setup_logging(level: str | int = "INFO", *, secrets: Iterable[str] = (), stream: IO[str] | None = None) -> LogSetup:
    """Log at level with secrets masked in every record (see the module docstring).

    Like logging.basicConfig, a handler (on stderr) is added only where the root logger has none yet,
    unless a stream is given; a second call replaces what the first installed.
    """
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    previous_factory, previous_level = logging.getLogRecordFactory(), root.level
    base = previous_factory.make if isinstance(previous_factory, _Redacting) else previous_factory
    logging.setLogRecordFactory(_Redacting(base, tuple(secrets)))
    handler: logging.Handler | None = None
    if stream is not None or not root.handlers:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(FORMAT))
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(numeric)
    for name in _QUIET_BELOW_INFO:
        logging.getLogger(name).setLevel(max(numeric, logging.INFO))
    for name in _QUIET_BELOW_WARNING:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    server_logger = logging.getLogger(_AIOHTTP_SERVER)
    if not any(isinstance(f, _MalformedRequests) for f in server_logger.filters):
        server_logger.addFilter(_MalformedRequests())
    engine_logger = logging.getLogger(_ENGINE_LOGGER)
    if not engine_logger.handlers:
        engine_logger.addHandler(logging.NullHandler())
    return LogSetup(handler, previous_factory, previous_level)
