"""Calls to the WeCom server API over aiohttp, and what each error code means for a delivery."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.core.outbox import PermanentError, TransientError

# Error codes (全局错误码, developer.work.weixin.qq.com/document/path/90313).
BUSY = -1  # 系统繁忙: "建议重试次数不超过3次"
BAD_SECRET = 40001
BAD_CORP_ID = 40013
BAD_TOKEN = 40014
TOKEN_EXPIRED = 42001
RATE_LIMITED = 45009
TOO_MANY_CONCURRENT = 45033
IP_NOT_TRUSTED = 60020
ALL_RECIPIENTS_INVALID = 81013
BAD_WEBHOOK_KEY = 93000
# Why a member named in message/send's answer did not receive it (发送应用消息, path/90236).
INVALID_USER = "unknown userid or outside the app's 可见范围"
UNLICENSED_USER = "in the app's 可见范围 but without 基础接口权限 (an account licence)"
TOKEN_ERRORS = frozenset({BAD_TOKEN, TOKEN_EXPIRED})

BUSY_RETRIES = 3
# WeCom blocks for 60 seconds after a per-minute limit is hit (访问频率限制, path/90312).
RATE_LIMIT_BACKOFF_SECONDS = 60.0

_HINTS = {
    BAD_SECRET: "check [wecom] app_secret (YIZHAN_WECOM_APP_SECRET): it must be this app's Secret",
    BAD_CORP_ID: "check [wecom] corp_id: 我的企业 → 企业信息 → 企业ID",
    IP_NOT_TRUSTED: (
        "this server's public IP is not in the app's trusted IP list: add it in the WeCom admin console, "
        "应用管理 → (the app) → 企业可信IP"
    ),
    ALL_RECIPIENTS_INVALID: "no valid recipient: the user or chat is unknown or outside the app's 可见范围",
    BAD_WEBHOOK_KEY: "the robot webhook key is invalid: check [wecom] robot_webhooks (YIZHAN_WECOM_ROBOT_WEBHOOKS)",
}


@dataclass(frozen=True)
class Upload:
    """A file for a multipart upload (a fresh form is built for every call: a form can be sent only once)."""

    filename: str
    data: bytes
    content_type: str


class ApiError(Exception):
    """WeCom answered with a non-zero errcode."""

    def __init__(self, endpoint: str, code: int, message: str) -> None:
        super().__init__(f"{endpoint}: errcode {code}")
        self.endpoint = endpoint
        self.code = code
        self.message = message[:300]


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    endpoint: str,
    *,
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    upload: Upload | None = None,
) -> dict[str, Any]:
    """One API call; returns the JSON answer, raises ApiError for an errcode and TransientError otherwise.

    body is sent as JSON; upload as multipart/form-data (素材上传: the file in the field "media").
    `endpoint` names the call in errors: URLs carry the access token or a webhook key and are never logged.
    """
    data: bytes | aiohttp.FormData | None = None
    headers = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
    elif upload is not None:
        data = aiohttp.FormData()
        data.add_field("media", upload.data, filename=upload.filename, content_type=upload.content_type)
    try:
        async with http.request(method, url, params=params, data=data, headers=headers) as resp:
            status = resp.status
            raw = await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"{endpoint}: network error ({type(exc).__name__})") from None
    if status != 200:
        raise TransientError(f"{endpoint}: HTTP {status}")
    try:
        answer = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TransientError(f"{endpoint}: answer is not JSON") from None
    if not isinstance(answer, dict):
        raise TransientError(f"{endpoint}: answer is not a JSON object")
    code = answer.get("errcode", 0)
    if code != 0:
        raise ApiError(endpoint, int(code) if isinstance(code, int) else -1, str(answer.get("errmsg", "")))
    return answer


def delivery_error(err: ApiError, previous_attempts: int) -> TransientError | PermanentError:
    """What an errcode means for an outbox row that has been tried previous_attempts times before."""
    where = f"{err.endpoint}: errcode {err.code}"
    if err.code == BUSY:
        if previous_attempts >= BUSY_RETRIES:
            return PermanentError(f"{where} (WeCom busy) after {BUSY_RETRIES} retries")
        return TransientError(f"{where} (WeCom busy)")
    if err.code in (RATE_LIMITED, TOO_MANY_CONCURRENT):
        return TransientError(f"{where} (rate limited)", retry_after=RATE_LIMIT_BACKOFF_SECONDS)
    if err.code in TOKEN_ERRORS:
        return TransientError(f"{where} (access token refused twice)")
    hint = _HINTS.get(err.code)
    if hint is not None:
        return PermanentError(f"{where}: {hint}")
    return PermanentError(f"{where}: {err.message}")
