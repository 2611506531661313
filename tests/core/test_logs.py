"""Logging masks secrets in every record, whichever handler writes it (issue #11, finding 6)."""

from __future__ import annotations

import io
import logging

import pytest

from bot.core.logs import MASK, redact, setup_logging


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("POST /cgi-bin/message/send?access_token=tok-123&debug=1", "debug=1"),
        ("GET /cgi-bin/gettoken?corpid=ww1&corpsecret=s3cr3t HTTP/1.1", "corpid=ww1"),
        ("POST /cgi-bin/webhook/send?key=robot-key", "webhook/send"),
        ('{"access_token": "tok-123", "expires_in": 7200}', '"expires_in": 7200'),
        ("{'app_secret': 's3cr3t', 'agent_id': 1}", "'agent_id': 1"),
        ("Authorization: Bearer tok-123", "Authorization"),
        ("msg_signature=abcdef0123&timestamp=1", "timestamp=1"),
        ("encoding_aes_key=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "encoding_aes_key="),
        ("postgresql+asyncpg://yizhan:pa55@db/yizhan", "yizhan:"),
    ],
)
def test_secret_values_are_masked_by_name(text, kept):
    masked = redact(text)
    assert MASK in masked and kept in masked
    assert not any(value in masked for value in ("tok-123", "s3cr3t", "robot-key", "abcdef0123", "pa55", "ABCDEFG"))


def test_every_handler_sees_the_masked_record_and_library_debug_stays_quiet():
    ours, theirs = io.StringIO(), io.StringIO()
    other = logging.StreamHandler(theirs)  # a handler someone else added (a test runner's capture, say)
    logging.getLogger().addHandler(other)
    installed = setup_logging("DEBUG", secrets=("verbatim-secret",), stream=ours)
    try:
        log = logging.getLogger("bot.test")
        log.warning("sending with %s", "access_token=tok-123 and verbatim-secret")
        try:
            raise RuntimeError("https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpsecret=s3cr3t")
        except RuntimeError:
            log.exception("failed")
        logging.getLogger("aiosqlite").debug("executing (%r,)", "tok-123")
        logging.getLogger("sqlalchemy.engine.Engine").debug("Row (%r,)", "tok-123")
    finally:
        installed.close()
        logging.getLogger().removeHandler(other)
    for text in (ours.getvalue(), theirs.getvalue()):
        assert "sending with access_token=***" in text and "corpsecret=***" in text
        assert "tok-123" not in text and "s3cr3t" not in text and "verbatim-secret" not in text
