"""What the records feature says in chat, and its command words, kept in one place for review."""

from __future__ import annotations

# --- Scheduled notices and records (input/records review) ----------------------------------------------------
# The 状态 column of the notices export (通知汇总).
RECORDS_NOTICE_OPEN = "进行中"
RECORDS_NOTICE_CLOSED = "已关闭"
RECORDS_NOTICE_SCHEDULED = "待发送"
RECORDS_NOTICE_CANCELLED = "已取消（未发出）"
