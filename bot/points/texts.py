"""What the points feature says in chat, and its command words, kept in one place for review."""

from __future__ import annotations

# --- Dates and times in meeting commands; the points command (积分) ---------------------
CMD_POINTS_BARE = ("积分",)
CMD_POINTS_RULES = ("积分规则", "积分 规则", "计分规则", "积分说明", "积分办法")
SUMMARY_MY_POINTS = "查看本人积分（群内查询时私信发送）"
SUMMARY_POINTS_RULES = "查看积分规则和各项分值"
POINTS_MINE = "{name}同志的积分（截至{date}）：\n本月{month}分，本年{year}分，累计{total}分。{lines}"
POINTS_MINE_LINE = "\n· {source}：本月{month}分，本年{year}分，累计{total}分"
POINTS_MINE_EMPTY = "{name}同志，您目前暂无积分记录。发送“积分规则”可查看计分办法。"
POINTS_DATE = "{month}月{day}日"
POINTS_SENT_DIRECT = "{name}同志，您的积分已私信发送。"
POINTS_ASK_DIRECT = "积分属个人信息，不在群内显示。请私聊我发送“我的积分”查询。"
POINTS_OFF = "积分功能未开启。"
POINTS_SOURCE_NAMES = {
    "quiz": "答题",
    "study_check_in": "学习打卡",
    "meeting_attendance": "会议出勤",
    "timely_receipt": "及时回执",
}
POINTS_SOURCE_OTHER = "其他"
POINTS_RULES_HEADER = "积分规则（计入积分台账）："
POINTS_RULE_LINE = "\n· {text}"
# One line per [points] key; a rule set to 0 is off and not shown.
POINTS_RULES = {
    "study_check_in": "学习打卡：每个学习日打卡{points}分",
    "meeting_attendance": "会议出勤：签到或经书记补签，每次{points}分",
    "timely_receipt": "及时回执：通知发出后{minutes}分钟内回复“收到”，{points}分",
    "quiz_daily_correct": "每日一题：答对{points}分",
    "quiz_rush_win": "抢答：每抢答正确一题{points}分",
    "quiz_match_per_100": "竞赛：得分每满100分计{points}分",
}
