"""Typed, frozen configuration read once from config.toml, with YIZHAN_* environment overrides."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import math
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "YIZHAN_"

# The longest member name kept (the contacts give at most 64 characters; member.display_name holds 100).
MEMBER_NAME_MAX = 64


class ConfigError(Exception):
    """A configuration problem, phrased as one line that names the key."""


@dataclass(frozen=True)
class BotConfig:
    name: str = "学习驿站"
    aliases: tuple[str, ...] = ("驿站",)
    timezone: str = "Asia/Shanghai"
    default_branch: str = ""

    def validate(self) -> None:
        if not self.name.strip():
            raise ConfigError("[bot] name: must not be empty")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"[bot] timezone: unknown time zone {self.timezone!r}") from None


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """Whether a listen address or host name stays on this machine (localhost, 127.0.0.0/8, ::1)."""
    host = host.strip().strip("[]").rstrip(".").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _check_host_names(names: tuple[str, ...], where: str) -> None:
    for name in names:
        bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name  # [::1]
        if not bare or any(c in bare for c in "/@ []") or (":" in bare and bare == name):
            raise ConfigError(f"{where}: {name!r} must be a host name or address, without scheme or port")


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 65536
    shutdown_timeout_seconds: float = 10.0
    # Host names browser-facing pages (the simulator) answer to, besides localhost, 127.0.0.1, [::1] and the
    # configured [server]/[sim] host: any other Host header is refused (DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()
    # Inbound messages (simulator API, WeCom callbacks) handled at once; more wait for a place (bot/core/overload.py) …
    max_inflight_messages: int = 256
    # … in a burst at most this long (under a sustained overload 0.5 s), then they are refused with 503.
    max_queue_wait_seconds: float = 10.0
    # Seconds a refused sender is told to wait before sending again (Retry-After).
    retry_after_seconds: int = 5

    def validate(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"[server] port: must be between 1 and 65535, got {self.port}")
        if self.max_body_bytes < 1024:
            raise ConfigError("[server] max_body_bytes: must be at least 1024")
        _check_host_names(self.allowed_hosts, "[server] allowed_hosts")
        if self.max_inflight_messages < 1:
            raise ConfigError("[server] max_inflight_messages: must be at least 1")
        if not 0 < self.max_queue_wait_seconds <= 60:
            raise ConfigError("[server] max_queue_wait_seconds: must be positive and at most 60")
        if not 1 <= self.retry_after_seconds <= 3600:
            raise ConfigError("[server] retry_after_seconds: must be between 1 and 3600")


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite+aiosqlite:///yizhan.db"
    echo: bool = False
    sqlite_busy_timeout_ms: int = 30000
    pool_size: int = 5

    def validate(self) -> None:
        if not self.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ConfigError("[database] url: must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        if self.sqlite_busy_timeout_ms < 0:
            raise ConfigError("[database] sqlite_busy_timeout_ms: must not be negative")
        if self.pool_size < 1:
            raise ConfigError("[database] pool_size: must be at least 1")


@dataclass(frozen=True)
class OutboxConfig:
    poll_interval_seconds: float = 1.0
    max_attempts: int = 5
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    lease_seconds: float = 15.0
    batch_size: int = 20
    concurrency: int = 4
    reply_hold_seconds: float = 10.0
    inbound_first_seconds: float = 1.0

    def validate(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("[outbox] max_attempts: must be at least 1")
        if self.poll_interval_seconds <= 0:
            raise ConfigError("[outbox] poll_interval_seconds: must be positive")
        if self.lease_seconds <= 0:
            raise ConfigError("[outbox] lease_seconds: must be positive")
        if self.batch_size < 1 or self.concurrency < 1:
            raise ConfigError("[outbox] batch_size and concurrency: must be at least 1")
        if not 0 <= self.reply_hold_seconds <= 60:
            raise ConfigError("[outbox] reply_hold_seconds: must be between 0 and 60")
        if not 0 <= self.inbound_first_seconds <= 10:
            raise ConfigError("[outbox] inbound_first_seconds: must be between 0 and 10")
        if self.backoff_base_seconds <= 0 or self.backoff_max_seconds < self.backoff_base_seconds:
            raise ConfigError("[outbox] backoff_max_seconds: must be at least backoff_base_seconds (> 0)")


@dataclass(frozen=True)
class SchedulerConfig:
    enabled: bool = True
    catch_up_grace_minutes: int = 60
    # A fire that failed because the database was unavailable is tried again after this many seconds (doubling,
    # up to 5 minutes), until it succeeds or its slot is older than catch_up_grace_minutes.
    retry_seconds: float = 10.0

    def validate(self) -> None:
        if self.catch_up_grace_minutes < 0:
            raise ConfigError("[scheduler] catch_up_grace_minutes: must not be negative")
        if self.retry_seconds <= 0:
            raise ConfigError("[scheduler] retry_seconds: must be positive")


@dataclass(frozen=True)
class RetentionConfig:
    inbound_days: int = 30
    outbox_days: int = 90

    def validate(self) -> None:
        if self.inbound_days < 1 or self.outbox_days < 1:
            raise ConfigError("[retention] inbound_days/outbox_days: must be at least 1")


SIM_TOKEN_ENV = "YIZHAN_SIM_ACCESS_TOKEN"
SIM_TOKEN_MIN_LENGTH = 16


@dataclass(frozen=True)
class HousekeepingConfig:
    """What the nightly purge deletes beyond [retention] (schedules/housekeeping.py)."""

    # Images (leaderboard charts) older than this, unless an undelivered outgoing message still carries them.
    media_days: int = 7
    # AI-bot response URLs (WeCom accepts each for one hour after the message) older than this.
    response_url_hours: int = 24

    def validate(self) -> None:
        if self.media_days < 1:
            raise ConfigError("[housekeeping] media_days: must be at least 1")
        if self.response_url_hours < 2:
            raise ConfigError("[housekeeping] response_url_hours: must be at least 2 (a URL is usable for 1 hour)")


@dataclass(frozen=True)
class SimConfig:
    """The local chat simulator (bot/core/channels/sim/); see SECURITY.md for when it is on and who may use it."""

    enabled: bool = False
    bot_avatar: str = "驿"
    # With a real channel configured the simulator stays off unless this is set: it lets whoever holds the
    # access token act as simulated members in the branches their chats belong to.
    dangerously_enable_with_real_channels: bool = False
    # Alongside a real channel the simulator has a listener of its own, never the server's.
    host: str = "127.0.0.1"
    port: int = 8081
    # The operator's access token; from the environment only (YIZHAN_SIM_ACCESS_TOKEN). repr=False: never logged.
    access_token: str = field(default="", repr=False)

    def validate(self) -> None:
        if not 0 <= self.port < 65536:
            raise ConfigError(f"[sim] port: must be between 0 and 65535, got {self.port}")
        if self.access_token and len(self.access_token) < SIM_TOKEN_MIN_LENGTH:
            raise ConfigError(f"{SIM_TOKEN_ENV}: must be at least {SIM_TOKEN_MIN_LENGTH} characters")


@dataclass(frozen=True)
class DemoConfig:
    seed: bool = True
    branch: str = "demo"
    chat: str = "demo-group"
    # Demo only: open the week's study day at start whatever the weekday, so that 学习打卡 can be tried.
    study_day_open: bool = False

    def validate(self) -> None:
        return None


HOLIDAY_RULES = ("previous_workday", "skip")


def _check_hhmm(value: str, where: str) -> None:
    hour, sep, minute = value.partition(":")
    if not (sep and hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60 and len(minute) == 2):
        raise ConfigError(f'{where}: expected a time like "09:00", got {value!r}')


@dataclass(frozen=True)
class StudyConfig:
    """The branch's weekly study day (学习日)."""

    enabled: bool = True
    weekday: int = 5  # 1 = Monday … 5 = Friday … 7 = Sunday
    time: str = "09:00"
    nudge_time: str = "16:00"
    close_after_hours: int = 60
    holiday_rule: str = "previous_workday"
    nudge: bool = True
    chats: tuple[str, ...] = ()  # "channel:chat id"; empty = every chat of the branch
    micro_lectures_per_month: int = 1
    classics_per_half_year: int = 1
    documentaries_per_year: int = 3

    def validate(self, where: str) -> None:
        if not 1 <= self.weekday <= 7:
            raise ConfigError(f"{where} weekday: must be 1 (Monday) to 7 (Sunday), got {self.weekday}")
        _check_hhmm(self.time, f"{where} time")
        _check_hhmm(self.nudge_time, f"{where} nudge_time")
        if self.nudge_time <= self.time:
            raise ConfigError(f"{where} nudge_time: must be later than time ({self.time})")
        if self.holiday_rule not in HOLIDAY_RULES:
            raise ConfigError(f"{where} holiday_rule: must be one of {', '.join(HOLIDAY_RULES)}")
        if not 1 <= self.close_after_hours <= 24 * 6:
            raise ConfigError(f"{where} close_after_hours: must be between 1 and 144")


@dataclass(frozen=True)
class NoticesConfig:
    """Notices (通知) and receipts (回执)."""

    nudge: bool = True
    nudge_after_minutes: tuple[int, ...] = (60, 240)
    auto_close_days: int = 7
    timely_minutes: int = 120

    def validate(self) -> None:
        if any(m <= 0 for m in self.nudge_after_minutes) or list(self.nudge_after_minutes) != sorted(
            self.nudge_after_minutes
        ):
            raise ConfigError("[notices] nudge_after_minutes: must be positive and increasing")
        if len(self.nudge_after_minutes) > 5:
            raise ConfigError("[notices] nudge_after_minutes: at most 5 nudges")
        if self.auto_close_days < 1:
            raise ConfigError("[notices] auto_close_days: must be at least 1")


@dataclass(frozen=True)
class PointsConfig:
    """Points written to the ledger by each rule (0 turns a rule off)."""

    enabled: bool = True
    study_check_in: int = 1
    timely_receipt: int = 1
    meeting_attendance: int = 2
    quiz_daily_correct: int = 1
    quiz_rush_win: int = 3
    quiz_match_per_100: int = 1  # ledger points per 100 match score

    def validate(self) -> None:
        for key in ("study_check_in", "timely_receipt", "meeting_attendance", "quiz_daily_correct", "quiz_rush_win"):
            if getattr(self, key) < 0:
                raise ConfigError(f"[points] {key}: must not be negative")
        if self.quiz_match_per_100 < 0:
            raise ConfigError("[points] quiz_match_per_100: must not be negative")


MEETING_KINDS = ("theme_day", "member_assembly", "committee", "group_meeting", "party_lecture")
MEETING_HOLIDAY_RULES = ("nearest_workday", "previous_workday", "next_workday", "skip")
CADENCES = ("", "month", "quarter", "year")
_ORDINALS = ("first", "second", "third", "fourth", "last")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def valid_rule(rule: str) -> bool:
    """'last_friday', 'first_monday', … or 'day_15' (the 15th of each month)."""
    ordinal, _, day = rule.partition("_")
    if ordinal == "day":
        return day.isdigit() and 1 <= int(day) <= 28
    return ordinal in _ORDINALS and day in _DAY_NAMES


@dataclass(frozen=True)
class RecurringMeetingConfig:
    """A meeting created every month by rule, e.g. the 主题党日 on the last Friday at 15:00."""

    kind: str
    rule: str
    time: str = "15:00"
    topic: str = ""
    location: str = ""
    party_group: str = ""
    holiday_rule: str = "nearest_workday"
    create_days_before: int = 7
    check_in_code: bool = False

    def validate(self, where: str) -> None:
        if self.kind not in MEETING_KINDS:
            raise ConfigError(f"{where} kind: must be one of {', '.join(MEETING_KINDS)}")
        if not valid_rule(self.rule):
            raise ConfigError(
                f"{where} rule: expected e.g. 'last_friday', 'first_monday' or 'day_15', got {self.rule!r}"
            )
        _check_hhmm(self.time, f"{where} time")
        if self.holiday_rule not in MEETING_HOLIDAY_RULES:
            raise ConfigError(f"{where} holiday_rule: must be one of {', '.join(MEETING_HOLIDAY_RULES)}")
        if not 1 <= self.create_days_before <= 28:
            raise ConfigError(f"{where} create_days_before: must be between 1 and 28")
        if self.kind == "group_meeting" and not self.party_group:
            raise ConfigError(f"{where} party_group: a group_meeting rule must name its 党小组")


@dataclass(frozen=True)
class MeetingsConfig:
    """Meetings (主题党日, 三会一课): reminders, the check-in window, leave, cadence warnings."""

    reminder_offsets_minutes: tuple[int, ...] = (1440, 60)
    remind_members_directly: bool = True
    check_in_before_minutes: int = 30
    check_in_after_minutes: int = 30
    late_after_minutes: int = 0
    leave_needs_approval: bool = False
    cadence_member_assembly: str = "quarter"
    cadence_party_lecture: str = "year"  # the 条例 sets no per-quarter 党课 (see config.toml)
    cadence_committee: str = "month"
    cadence_group_meeting: str = "month"
    cadence_theme_day: str = ""
    cadence_warn_day: int = 20

    def validate(self) -> None:
        if any(m <= 0 for m in self.reminder_offsets_minutes):
            raise ConfigError("[meetings] reminder_offsets_minutes: must be positive")
        if self.check_in_before_minutes < 0 or self.check_in_after_minutes < 0 or self.late_after_minutes < 0:
            raise ConfigError("[meetings] check_in_before/after_minutes, late_after_minutes: must not be negative")
        for kind in MEETING_KINDS:
            if getattr(self, f"cadence_{kind}") not in CADENCES:
                raise ConfigError(f'[meetings] cadence_{kind}: must be one of month, quarter, year or ""')
        if not 1 <= self.cadence_warn_day <= 28:
            raise ConfigError("[meetings] cadence_warn_day: must be between 1 and 28")

    def cadence(self, kind: str) -> str:
        return str(getattr(self, f"cadence_{kind}", ""))


@dataclass(frozen=True)
class WecomConfig:
    """WeCom (企业微信): the app callback, the AI bot (智能机器人), group robots and app pushes.

    Secrets are repr=False so they never reach a log line; set them through YIZHAN_WECOM_<KEY>.
    """

    enabled: bool = False
    corp_id: str = ""
    agent_id: int = 0
    app_secret: str = field(default="", repr=False)
    callback_token: str = field(default="", repr=False)
    encoding_aes_key: str = field(default="", repr=False)
    aibot_token: str = field(default="", repr=False)
    aibot_encoding_aes_key: str = field(default="", repr=False)
    aibot_name: str = ""
    robot_webhooks: tuple[str, ...] = field(default=(), repr=False)
    appchats: tuple[str, ...] = ()
    api_base_url: str = "https://qyapi.weixin.qq.com"
    timestamp_tolerance_seconds: int = 300
    max_body_bytes: int = 32768
    reply_budget_seconds: float = 4.0
    token_refresh_margin_seconds: int = 300
    http_timeout_seconds: float = 10.0
    # The AI bot's way in: "callback" (HTTPS to /wecom/aibot) or "long_connection" (a WebSocket we open).
    aibot_mode: str = "callback"
    aibot_bot_id: str = ""
    aibot_secret: str = field(default="", repr=False)
    long_connection_url: str = "wss://openws.work.weixin.qq.com"
    heartbeat_seconds: float = 30.0
    reconnect_min_seconds: float = 1.0
    reconnect_max_seconds: float = 30.0
    takeover_pause_seconds: float = 60.0
    lease_seconds: float = 15.0
    lease_renew_seconds: float = 5.0

    @property
    def long_connection(self) -> bool:
        """Whether the AI bot is reached over the long connection (智能机器人长连接)."""
        return self.aibot_mode == "long_connection"

    # WeCom's own duplicate check on app messages (message/send): the same message to the same member within
    # this many seconds is dropped by WeCom, so one re-sent after a crash arrives once. 0 turns it off.
    duplicate_check_seconds: int = 1800
    # Names (bot/core/channels/wecom/contacts.py): members' names are read from the contacts (读取成员, user/get) with
    # the app's Secret; "<userid>=<name>" entries here are kept as they are and never overwritten.
    member_names: tuple[str, ...] = ()
    contacts_names: bool = True
    # How long a welcome (enter_chat) waits for a newcomer's name from the contacts, in seconds.
    contacts_timeout_seconds: float = 1.5

    @property
    def app_callback_ready(self) -> bool:
        return bool(self.corp_id and self.callback_token and self.encoding_aes_key)

    @property
    def aibot_ready(self) -> bool:
        return bool(self.aibot_token and self.aibot_encoding_aes_key)

    @property
    def app_push_ready(self) -> bool:
        return bool(self.corp_id and self.app_secret and self.agent_id)

    def name_overrides(self) -> dict[str, str]:
        """userid -> the name config.toml gives them (member_names entries "<userid>=<name>")."""
        return {user.strip(): name.strip() for user, _, name in (e.partition("=") for e in self.member_names)}

    @property
    def contacts_ready(self) -> bool:
        """Whether names are read from the contacts (needs the app's credentials for an access token)."""
        return self.contacts_names and self.app_push_ready

    def robot_keys(self) -> dict[str, str]:
        """Group chat id -> robot webhook key, from robot_webhooks entries "<chat id>=<key>"."""
        return dict(entry.split("=", 1) for entry in self.robot_webhooks)

    def validate(self) -> None:
        seen: set[str] = set()
        for entry in self.robot_webhooks:
            chat, sep, key = entry.partition("=")
            if not sep or not chat.strip() or not key.strip():
                # Never echo the entry: it holds a webhook key.
                raise ConfigError("[wecom] robot_webhooks: each entry must look like '<chat id>=<webhook key>'")
            if chat in seen:
                raise ConfigError(f"[wecom] robot_webhooks: chat id {chat!r} is listed twice")
            seen.add(chat)
        for name in ("encoding_aes_key", "aibot_encoding_aes_key"):
            if getattr(self, name) and not _is_aes_key(getattr(self, name)):
                raise ConfigError(f"[wecom] {name}: must be the 43-character EncodingAESKey from the WeCom console")
        if not self.api_base_url.startswith(("https://", "http://")):
            raise ConfigError("[wecom] api_base_url: must start with https:// (or http:// for a local fake)")
        if self.agent_id < 0:
            raise ConfigError("[wecom] agent_id: must not be negative")
        if self.timestamp_tolerance_seconds < 1:
            raise ConfigError("[wecom] timestamp_tolerance_seconds: must be at least 1")
        if self.max_body_bytes < 1024:
            raise ConfigError("[wecom] max_body_bytes: must be at least 1024")
        if not 0 < self.reply_budget_seconds <= 4.5:
            raise ConfigError("[wecom] reply_budget_seconds: must be more than 0 and at most 4.5 (WeCom waits 5 s)")
        if self.token_refresh_margin_seconds < 0:
            raise ConfigError("[wecom] token_refresh_margin_seconds: must not be negative")
        if self.http_timeout_seconds <= 0:
            raise ConfigError("[wecom] http_timeout_seconds: must be positive")
        self._validate_long_connection()
        for entry in self.member_names:
            user, sep, name = entry.partition("=")
            if not sep or not user.strip() or not name.strip():
                raise ConfigError(f"[wecom] member_names: {entry!r} must look like '<userid>=<name>'")
            if len(name.strip()) > MEMBER_NAME_MAX:
                raise ConfigError(f"[wecom] member_names: {entry!r}: a name has at most {MEMBER_NAME_MAX} characters")
        if not 0 < self.contacts_timeout_seconds <= 3:
            raise ConfigError("[wecom] contacts_timeout_seconds: must be more than 0 and at most 3")

        if not 0 <= self.duplicate_check_seconds <= 4 * 3600:
            raise ConfigError("[wecom] duplicate_check_seconds: must be between 0 and 14400 (WeCom's maximum, 4 h)")
        if self.enabled:
            self._validate_enabled()

    def _validate_long_connection(self) -> None:
        if self.aibot_mode not in ("callback", "long_connection"):
            raise ConfigError('[wecom] aibot_mode: must be "callback" or "long_connection"')
        if not self.long_connection_url.startswith(("wss://", "ws://")):
            raise ConfigError("[wecom] long_connection_url: must start with wss:// (or ws:// for a local fake)")
        if not 1 <= self.heartbeat_seconds <= 60:
            raise ConfigError("[wecom] heartbeat_seconds: must be between 1 and 60")
        if not 0 < self.reconnect_min_seconds <= self.reconnect_max_seconds:
            raise ConfigError("[wecom] reconnect_max_seconds: must be at least reconnect_min_seconds (> 0)")
        if self.takeover_pause_seconds < 0:
            raise ConfigError("[wecom] takeover_pause_seconds: must not be negative")
        if not 0 < self.lease_renew_seconds * 2 <= self.lease_seconds <= 20:
            raise ConfigError(
                "[wecom] lease_seconds: must be at most 20 (another process takes over within 30 s) and at least "
                "twice lease_renew_seconds (> 0)"
            )
        if self.enabled and self.long_connection and not (self.aibot_bot_id and self.aibot_secret):
            raise ConfigError(
                "[wecom] aibot_bot_id: the long connection needs the AI bot's Bot ID and Secret "
                "(aibot_bot_id, YIZHAN_WECOM_AIBOT_SECRET)"
            )

    def _validate_enabled(self) -> None:
        if self.app_secret and not (self.corp_id and self.agent_id):
            raise ConfigError("[wecom] agent_id: app_secret is set, so corp_id and agent_id must be set too")
        if (self.callback_token or self.encoding_aes_key) and not self.app_callback_ready:
            raise ConfigError(
                "[wecom] callback_token: the app callback needs corp_id, callback_token and encoding_aes_key together"
            )
        if (self.aibot_token or self.aibot_encoding_aes_key) and not self.aibot_ready:
            raise ConfigError("[wecom] aibot_token: the AI bot needs both aibot_token and aibot_encoding_aes_key")
        if self.appchats and not self.app_push_ready:
            raise ConfigError("[wecom] appchats: pushing to app group chats needs corp_id, agent_id and app_secret")
        if (
            not (self.app_callback_ready or self.aibot_ready or self.app_push_ready or self.robot_webhooks)
            and not self.long_connection
        ):
            raise ConfigError(
                "[wecom] enabled: nothing to connect; set the app (corp_id, agent_id, app_secret, callback_token, "
                "encoding_aes_key), the AI bot (aibot_token, aibot_encoding_aes_key) or robot_webhooks"
            )


def _is_aes_key(value: str) -> bool:
    """An EncodingAESKey is 43 base64 characters that decode (with one '=') to a 32-byte AES key."""
    if len(value) != 43:
        return False
    try:
        return len(base64.b64decode(value + "=", validate=True)) == 32
    except binascii.Error:
        return False


@dataclass(frozen=True)
class QuizConfig:
    """Quizzes: 每日一题, 抢答, 竞赛, and the question lookup (搜题)."""

    rush_seconds_per_question: int = 60
    match_seconds_per_question: int = 30
    max_questions: int = 20
    daily_time: str = "08:30"
    daily_close_time: str = "20:00"
    match_base_score: int = 100
    match_floor_score: int = 50
    match_streak_bonus: int = 10
    match_streak_bonus_cap: int = 30
    lookup_min_score: float = 60.0

    def validate(self) -> None:
        for key in ("rush_seconds_per_question", "match_seconds_per_question"):
            if not 5 <= getattr(self, key) <= 3600:
                raise ConfigError(f"[quiz] {key}: must be between 5 and 3600")
        if not 1 <= self.max_questions <= 100:
            raise ConfigError("[quiz] max_questions: must be between 1 and 100")
        _check_hhmm(self.daily_time, "[quiz] daily_time")
        _check_hhmm(self.daily_close_time, "[quiz] daily_close_time")
        if self.daily_close_time <= self.daily_time:
            raise ConfigError("[quiz] daily_close_time: must be later than daily_time")
        if not 0 <= self.match_floor_score <= self.match_base_score:
            raise ConfigError("[quiz] match_floor_score: must be between 0 and match_base_score")
        if not 0 <= self.lookup_min_score <= 100:
            raise ConfigError("[quiz] lookup_min_score: must be between 0 and 100")


TASK_KINDS = ("责任", "任务", "问题")


@dataclass(frozen=True)
class RecurringTaskConfig:
    """An item a higher unit issues every month ([[tasks.recurring]]), e.g. 每月25日前报送组织生活情况."""

    unit: str  # the issuing unit's id in [[branches]]
    title: str
    kind: str = "任务"
    owners: tuple[str, ...] = ()  # unit ids below the issuing unit; empty = every 党支部 below it
    due_day: int = 25
    criteria: str = ""

    def validate(self, where: str) -> None:
        if self.kind not in TASK_KINDS:
            raise ConfigError(f"{where} kind: must be one of {', '.join(TASK_KINDS)}")
        if not 1 <= self.due_day <= 28:
            raise ConfigError(f"{where} due_day: must be between 1 and 28")
        if not self.title.strip():
            raise ConfigError(f"{where} title: must not be empty")


@dataclass(frozen=True)
class TasksConfig:
    """月清单: reminders before the due day (in workdays), the time jobs run, items issued every month."""

    remind_workdays_before: int = 3
    reminder_time: str = "09:00"
    quarterly_push: bool = True
    recurring: tuple[RecurringTaskConfig, ...] = ()
    crosscheck_due_days: int = 30  # 互查 findings become 问题 items due this many days after the round closes

    def validate(self) -> None:
        if not 0 <= self.remind_workdays_before <= 10:
            raise ConfigError("[tasks] remind_workdays_before: must be between 0 and 10")
        _check_hhmm(self.reminder_time, "[tasks] reminder_time")
        if not 1 <= self.crosscheck_due_days <= 366:
            raise ConfigError("[tasks] crosscheck_due_days: must be between 1 and 366")
        for i, rule in enumerate(self.recurring):
            rule.validate(f"[[tasks.recurring]] #{i + 1}")


@dataclass(frozen=True)
class ScoringConfig:
    """量化计分 of branches (bot/tasks/scoring.py): full marks per rule; 0 turns a rule off."""

    public_ranking: bool = False  # 年度评比 in the unit's chat; false: only its secretaries, privately
    meetings_per_period: float = 2.0  # each 三会一课 kind held in each period its cadence requires
    theme_day_per_month: float = 1.0  # each month with a 主题党日 held
    study_full: float = 10.0  # × 参学率
    notices_full: float = 10.0  # × 回执率
    tasks_full: float = 20.0  # × share of 月清单 items due in the year done on time

    def validate(self) -> None:
        for key in ("meetings_per_period", "theme_day_per_month", "study_full", "notices_full", "tasks_full"):
            if getattr(self, key) < 0:
                raise ConfigError(f"[scoring] {key}: must not be negative")


# Kinds of unit in the organisation tree, as config.toml writes them (bot/core/models.py UnitKind).
UNIT_KINDS = ("branch", "general_branch", "committee_unit")


@dataclass(frozen=True)
class BranchConfig:
    id: str
    name: str
    party_groups: tuple[str, ...] = ()
    chats: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    secretaries: tuple[str, ...] = ()
    committee: tuple[str, ...] = ()  # 支委 as "channel:user id"; empty = the secretaries and admins
    study: StudyConfig = field(default_factory=StudyConfig)
    meetings: tuple[RecurringMeetingConfig, ...] = ()
    rankings: bool = True  # public leaderboards; members can still opt out one by one
    daily_quiz: bool = False  # 每日一题 in the branch's chats
    daily_quiz_chats: tuple[str, ...] = ()  # "channel:chat id"; empty = every chat of the branch
    # The organisation tree (bot/core/org.py): what this unit is, and the id of the unit directly above it ("" = none
    # declared: a root, or placed in chat with 设置上级).
    kind: str = "branch"  # "branch" 党支部, "general_branch" 党总支, "committee_unit" 党委
    parent: str = ""

    def validate(self, where: str) -> None:
        if not self.id.strip():
            raise ConfigError(f"{where} id: must not be empty")
        if self.kind not in UNIT_KINDS:
            raise ConfigError(f"{where} kind: must be one of {', '.join(UNIT_KINDS)}, got {self.kind!r}")
        if self.parent == self.id:
            raise ConfigError(f"{where} parent: a unit cannot be its own parent")
        self.study.validate(f"{where} study")
        for i, rule in enumerate(self.meetings):
            rule.validate(f"{where} meetings #{i + 1}")
            if rule.party_group and rule.party_group not in self.party_groups:
                raise ConfigError(
                    f"{where} meetings #{i + 1} party_group: no 党小组 {rule.party_group!r} in this branch"
                )
        for key in ("chats", "admins", "secretaries", "committee"):
            for value in getattr(self, key) + ((*self.study.chats, *self.daily_quiz_chats) if key == "chats" else ()):
                if ":" not in value:
                    raise ConfigError(f"{where} {key}: {value!r} must look like 'channel:id', e.g. 'sim:u00'")


@dataclass(frozen=True)
class Config:
    bot: BotConfig = field(default_factory=BotConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    housekeeping: HousekeepingConfig = field(default_factory=HousekeepingConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)
    wecom: WecomConfig = field(default_factory=WecomConfig)
    notices: NoticesConfig = field(default_factory=NoticesConfig)
    meetings: MeetingsConfig = field(default_factory=MeetingsConfig)
    quiz: QuizConfig = field(default_factory=QuizConfig)
    points: PointsConfig = field(default_factory=PointsConfig)
    tasks: TasksConfig = field(default_factory=TasksConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    branches: tuple[BranchConfig, ...] = ()
    path: str = ""

    @functools.cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot.timezone)

    def branch(self, branch_id: str) -> BranchConfig | None:
        return next((b for b in self.branches if b.id == branch_id), None)

    def declaration_conflicts(self) -> list[str]:
        """One line per person declared (admins/secretaries) in more than one branch: the first branch is theirs.

        A member belongs to one branch and a declared role counts there only (bot/core/authority.py); the later
        declarations are ignored and logged at start (an error would stop a configuration that ran before).
        """
        first: dict[str, str] = {}
        lines = []
        for branch in self.branches:
            for ref in dict.fromkeys((*branch.admins, *branch.secretaries)):
                if first.setdefault(ref, branch.id) != branch.id:
                    lines.append(
                        f"[[branches]] {branch.id!r}: {ref!r} is already declared in branch {first[ref]!r}; "
                        f"a member belongs to one branch, so this declaration is ignored"
                    )
        return lines

    @property
    def real_channels(self) -> tuple[str, ...]:
        """The channels that reach real people (every channel but the simulator)."""
        return ("wecom",) if self.wecom.enabled else ()

    def messages_members_directly(self, channel: str) -> bool:
        """Whether the bot can write to a member of this channel unprompted, in their single chat: the simulator
        always; WeCom through the self-built app or the AI bot's long connection. An AI bot on HTTP callbacks alone
        can only answer a message, in the conversation it came from (its response_url)."""
        if channel == "wecom":
            return self.wecom.app_push_ready or self.wecom.long_connection
        return True

    @property
    def sim_on(self) -> bool:
        """The simulator exists: enabled, and either no real channel or explicitly enabled beside one."""
        return self.sim.enabled and (not self.real_channels or self.sim.dangerously_enable_with_real_channels)

    @property
    def sim_beside_real_channels(self) -> bool:
        """The simulator is on next to a real channel: its own loopback listener and the access token."""
        return self.sim_on and bool(self.real_channels)

    @property
    def sim_needs_token(self) -> bool:
        """Sessions need the operator's access token: beside a real channel, when reachable off this machine,
        or whenever a token is set (e.g. on a machine shared with other users)."""
        return self.sim_beside_real_channels or not is_loopback(self.server.host) or bool(self.sim.access_token)

    def replace(self, **sections: typing.Any) -> Config:
        """A copy with whole sections replaced or fields changed, e.g. replace(database={"url": ...})."""
        changes: dict[str, typing.Any] = {}
        for name, value in sections.items():
            current = getattr(self, name)
            if isinstance(value, dict) and dataclasses.is_dataclass(current):
                changes[name] = dataclasses.replace(typing.cast(typing.Any, current), **value)
            else:
                changes[name] = value
        return dataclasses.replace(self, **changes)


SECTIONS: dict[str, type] = {
    "bot": BotConfig,
    "server": ServerConfig,
    "database": DatabaseConfig,
    "outbox": OutboxConfig,
    "scheduler": SchedulerConfig,
    "retention": RetentionConfig,
    "housekeeping": HousekeepingConfig,
    "sim": SimConfig,
    "demo": DemoConfig,
    "wecom": WecomConfig,
    "notices": NoticesConfig,
    "meetings": MeetingsConfig,
    "quiz": QuizConfig,
    "points": PointsConfig,
    "tasks": TasksConfig,
    "scoring": ScoringConfig,
}

_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _coerce(value: typing.Any, hint: typing.Any, where: str) -> typing.Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {_kind(value)}")
        if dataclasses.is_dataclass(item_hint):
            item_class = typing.cast(type, item_hint)
            return tuple(_build(item_class, v, f"{where} #{i + 1}", {}, "") for i, v in enumerate(value))
        return tuple(_coerce(v, item_hint, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        raise TypeError("unions are not used in config")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, float):
        return _finite(value, where)
    if hint is int and isinstance(value, bool):
        raise ConfigError(f"{where}: expected an integer, got a boolean")
    if not isinstance(value, hint):
        raise ConfigError(f"{where}: expected {_TYPE_NAMES.get(hint, hint.__name__)}, got {_kind(value)}")
    return value


def _kind(value: typing.Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}
    return names.get(type(value), "a table" if isinstance(value, dict) else type(value).__name__)


def _from_env(raw: str, hint: typing.Any, env_name: str, key_where: str) -> typing.Any:
    """An environment value as the type the file would give; errors name the variable and the key, and a list
    item its position as in the file ("YIZHAN_X ([section] key[1]): …")."""
    if typing.get_origin(hint) is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        return tuple(_env_scalar(part, item_hint, f"{env_name} ({key_where}[{i}])") for i, part in enumerate(parts))
    return _env_scalar(raw, hint, f"{env_name} ({key_where})")


def _env_scalar(raw: str, hint: typing.Any, where: str) -> typing.Any:
    if hint is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected true or false, got {raw!r}")
    if hint in (int, float):
        try:
            value = hint(raw)
        except ValueError:
            raise ConfigError(f"{where}: expected {_TYPE_NAMES[hint]}, got {raw!r}") from None
        return _finite(value, where)
    if hint is not str:
        raise ConfigError(f"{where}: cannot be set from the environment")
    return raw


def _finite(value: typing.Any, where: str) -> typing.Any:
    """nan and inf pass every comparison a validate() makes; refuse them (TOML and float() both accept them)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    return value


def _build(cls: type, data: typing.Any, where: str, env: typing.Mapping[str, str], env_key: str) -> typing.Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            raise ConfigError(f"{where} {key}: unknown key (known: {', '.join(sorted(known))})")
    values: dict[str, typing.Any] = {}
    for f in dataclasses.fields(cls):
        key_where = f"{where} {f.name}"
        env_name = f"{ENV_PREFIX}{env_key}_{f.name}".upper() if env_key else ""
        if env_name and env_name in env:
            values[f.name] = _from_env(env[env_name], hints[f.name], env_name, key_where)
        elif f.name in data and dataclasses.is_dataclass(hints[f.name]):
            values[f.name] = _build(hints[f.name], data[f.name], f"{where} {f.name}", env, "")
        elif f.name in data:
            values[f.name] = _coerce(data[f.name], hints[f.name], key_where)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{key_where}: required key is missing")
    return cls(**values)


def parse_config(data: dict[str, typing.Any], env: typing.Mapping[str, str] | None = None, path: str = "") -> Config:
    """Build and validate a Config from parsed TOML data; raises ConfigError with one line."""
    env = os.environ if env is None else env
    known = set(SECTIONS) | {"branches"}
    for key in data:
        if key not in known:
            raise ConfigError(f"[{key}]: unknown section (known: {', '.join(sorted(known))})")
    sections = {name: _build(cls, data.get(name, {}), f"[{name}]", env, name) for name, cls in SECTIONS.items()}
    raw_branches = data.get("branches", [])
    if not isinstance(raw_branches, list):
        raise ConfigError("[[branches]]: expected an array of tables")
    branches = tuple(_build(BranchConfig, raw, f"[[branches]] #{i + 1}", env, "") for i, raw in enumerate(raw_branches))
    config = Config(**sections, branches=branches, path=path)
    sim_data = data.get("sim", {})
    if isinstance(sim_data, dict) and "access_token" in sim_data:
        raise ConfigError(f"[sim] access_token: set it in the environment ({SIM_TOKEN_ENV}), never in the file")
    for name in SECTIONS:
        getattr(config, name).validate()
    if config.sim_beside_real_channels and not config.sim.access_token:
        raise ConfigError(
            f"[sim] dangerously_enable_with_real_channels: the simulator beside [wecom] needs {SIM_TOKEN_ENV}"
        )
    if config.sim_beside_real_channels and config.sim.port == config.server.port:
        raise ConfigError(
            f"[sim] port: the simulator's own listener needs a port other than [server] port {config.server.port}"
        )
    seen: set[str] = set()
    for i, branch in enumerate(branches):
        branch.validate(f"[[branches]] #{i + 1}")
        if branch.id in seen:
            raise ConfigError(f"[[branches]] #{i + 1} id: duplicate branch id {branch.id!r}")
        seen.add(branch.id)
    if config.bot.default_branch and config.bot.default_branch not in seen:
        raise ConfigError(f"[bot] default_branch: no branch with id {config.bot.default_branch!r}")
    _check_tree(branches)
    for i, rule in enumerate(config.tasks.recurring):
        for key in (rule.unit, *rule.owners):
            if key not in seen:
                raise ConfigError(f"[[tasks.recurring]] #{i + 1}: no unit with id {key!r}")
    return config


def _check_tree(branches: tuple[BranchConfig, ...]) -> None:
    """Declared parents exist, are 党委 or 党总支 (a 党支部 has no units below it), and form no cycle."""
    by_id = {branch.id: branch for branch in branches}
    for i, branch in enumerate(branches):
        if not branch.parent:
            continue
        where = f"[[branches]] #{i + 1} parent"
        parent = by_id.get(branch.parent)
        if parent is None:
            raise ConfigError(f"{where}: no unit with id {branch.parent!r}")
        if parent.kind == "branch":
            raise ConfigError(
                f'{where}: {branch.parent!r} is a 党支部 (kind = "branch"); only a 党委 or 党总支 has units below it'
            )
        seen = {branch.id}
        while parent is not None:
            if parent.id in seen:
                raise ConfigError(f"{where}: {branch.parent!r} is below {branch.id!r} (a cycle)")
            seen.add(parent.id)
            parent = by_id.get(parent.parent) if parent.parent else None


def load_config(path: str | Path, env: typing.Mapping[str, str] | None = None) -> Config:
    """Read and validate the TOML file at path."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:  # a directory, no permission, …
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, env, str(path))
