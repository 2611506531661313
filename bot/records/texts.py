"""What the records feature says in chat, and its command words, kept in one place for review."""

from __future__ import annotations

# --- Scheduled notices and records (input/records review) ----------------------------------------------------
# The 状态 column of the notices export (通知汇总).
RECORDS_NOTICE_OPEN = "进行中"
RECORDS_NOTICE_CLOSED = "已关闭"
RECORDS_NOTICE_SCHEDULED = "待发送"
RECORDS_NOTICE_CANCELLED = "已取消（未发出）"

# --- The xlsx records (bot/records/export.py): sheet names, headers, cell words ----------------------------------
STUDY_DONE = "已打卡"
STUDY_LEAVE = "请假"
STUDY_PENDING = "未打卡"
STUDY_SHEET_SUMMARY = "学习日汇总"
STUDY_SUMMARY_HEADER = ["学习日", "提醒时间", "学习内容", "应参学", "已打卡", "参学率"]
STUDY_SHEET_MEMBERS = "个人统计"
STUDY_MEMBERS_HEADER = ["姓名", "党小组", "学习日数", "打卡次数", "参学率"]  # then one column per study category
STUDY_SHEET_DETAIL = "打卡明细"
STUDY_DETAIL_HEADER = ["学习日", "姓名", "党小组", "状态", "打卡时间", "类别", "学习内容"]

RECEIPT_DONE = "已回执"
RECEIPT_PENDING = "未回执"
NOTICE_SHEET_SUMMARY = "通知汇总"
NOTICE_SUMMARY_HEADER = [
    "通知编号",
    "标题",
    "对象",
    "发出时间",
    "应回执",
    "已回执",
    "回执率",
    "回执用时中位数（分钟）",
    "关闭时间",
    "状态",
]
NOTICE_SHEET_DETAIL = "回执明细"
NOTICE_DETAIL_HEADER = ["通知编号", "姓名", "党小组", "状态", "回执时间", "用时（分钟）"]

ATTENDANCE_PRESENT = "出席"
ATTENDANCE_LEAVE = "请假"
ATTENDANCE_LEAVE_REQUESTED = "请假待批"
# A request still waiting when the meeting's check-in closed: absent (the meeting's result says so too).
ATTENDANCE_LEAVE_LAPSED = "缺席（请假未批）"
ATTENDANCE_ABSENT = "缺席"
ATTENDANCE_LATE = "是"
ATTENDANCE_SHEET_SUMMARY = "汇总"
# 应到/实到 as the chat counts them (签到情况, 本月统计); 出席率 = 实到 ÷ 应到.
ATTENDANCE_SUMMARY_HEADER = ["姓名", "党小组", "应到", "实到", "请假", "缺席", "出席率"]
ATTENDANCE_COUNTS_HEADER = ["会议类别", "召开次数"]
ATTENDANCE_DETAIL_HEADER = ["姓名", "党小组", "状态", "签到/请假时间", "迟到", "请假原因", "更正原因"]
# 更正原因: each correction of the record (补签, 记请假) with its reason, oldest first.
ATTENDANCE_CORRECTION = "{action}：{reason}"
ATTENDANCE_CORRECTION_ACTIONS = {"done": "补签", "leave": "记请假"}
ATTENDANCE_CORRECTION_SEPARATOR = "；"
