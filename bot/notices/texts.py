"""What the notices feature says in chat, and its command words, kept in one place for review."""

from __future__ import annotations

# --- Notices (通知) and receipts (回执) --------------------------------------------------
CMD_NOTICE = ("通知", "发通知", "发布通知")
CMD_SCHEDULED_NOTICE = ("定时通知",)
CMD_NOTICE_STATUS = ("通知情况", "回执情况", "回执")
CMD_NOTICE_LIST = ("通知列表",)
CMD_NOTICE_CLOSE = ("关闭通知",)
SUMMARY_NOTICE = "发通知并收集回执，如：通知 明天上午9点交学习笔记；对一个党小组：通知 执法党小组 ……"
SUMMARY_SCHEDULED_NOTICE = "定时发通知，如：定时通知 明天9:00 请按时参加主题党日"
SUMMARY_NOTICE_STATUS = "查看回执情况（最近一条，或：通知情况 第3号通知）"
SUMMARY_NOTICE_LIST = "查看进行中的通知"
SUMMARY_NOTICE_CLOSE = "结束收集回执，如：关闭第3号通知"
SUMMARY_RECEIPT = "确认已阅通知（回执），在群内或私聊回复均可，本人未回执的通知一并确认"
NOTICE_PUSH = "【第{seq}号通知{audience}】{body}\n——{sender}\n请回复“收到”确认。"
# After the number in NOTICE_PUSH when the notice is for one 党小组.
NOTICE_PUSH_AUDIENCE = "·{audience}"
NOTICE_SENT = "第{seq}号通知已发到{chats}个群，需回执{expected}人。发送“通知情况”可查看回执。"
NOTICE_SCHEDULED = "第{seq}号通知将于{when}发出，对象：{audience}（{expected}人）。"
NOTICE_NEED_BODY = "请写上通知内容，例如：通知 明天上午9点前交学习笔记"
NOTICE_NO_CHATS = "本单位尚未绑定群，通知无法发出。请管理员先绑定群。"
NOTICE_NO_AUDIENCE = "{audience}尚无成员，通知未发出。"
NOTICE_ACK_DIRECT = "已确认收到：{notices}。"
NOTICE_ACK_NONE = "目前没有需要您回执的通知。"
NOTICE_REF = "第{seq}号通知"
NOTICE_NOT_FOUND = "未找到第{seq}号通知。发送“通知列表”可查看进行中的通知。"
NOTICE_NEED_SEQ = "请写明通知编号，如“第3号”。发送“通知列表”可查看进行中的通知。"
NOTICE_NONE_YET = "本单位尚未发过通知。"
NOTICE_STATUS = (
    "第{seq}号通知（{audience}）于{sent}发出{state}。应回执{expected}人，已回执{done}人。"
    "\n未回执（{pending_count}人）：{pending}"
)
NOTICE_STATUS_ALL_DONE = "第{seq}号通知（{audience}）于{sent}发出{state}。应回执{expected}人，已全部回执。"
NOTICE_STATUS_AVG = "\n回执用时中位数：{duration}。"
NOTICE_STATE_CLOSED = "，已关闭"
NOTICE_LIST_HEADER = "进行中的通知："
NOTICE_LIST_LINE = "· 第{seq}号通知 {title}（已回执{done}人，应回执{expected}人）"
NOTICE_LIST_EMPTY = "目前没有进行中的通知。"
NOTICE_CLOSED = "第{seq}号通知已关闭：应回执{expected}人，已回执{done}人。{pending_part}"
NOTICE_CLOSED_PENDING = "未回执：{names}。"
NOTICE_ALREADY_CLOSED = "第{seq}号通知此前已关闭。"
AUDIENCE_GROUP = "{group}"

# --- Scheduled notices and records (input/records review) ----------------------------------------------------
# A scheduled notice has not gone out: it is listed and reported as 待发送, never as 未回执.
NOTICE_LIST_SCHEDULED_LINE = "· 第{seq}号通知 {title}（待发送，将于{when}发出，需回执{expected}人）"
NOTICE_STATUS_SCHEDULED = (
    "第{seq}号通知（{audience}）尚未发出，将于{when}发出，需回执{expected}人。发出后可查看回执情况。"
)
NOTICE_STATUS_CANCELLED = "第{seq}号通知（{audience}）在发出前已取消，没有发出。"
NOTICE_CANCELLED = "第{seq}号通知尚未发出，已取消。"

# --- reports (issue #15: meeting, notice, study and statistics texts as a branch writes them) ---------------
# "关闭第3号通知" as one phrase (the number follows the word); "关闭通知 3" and "#3" still work.
CMD_NOTICE_CLOSE_NUMBERED = ("关闭第",)
# 通知情况 / 学习情况 asked in a group: the group sees counts; the names go to the asking 支委 directly.
NOTICE_STATUS_COUNTS = (
    "第{seq}号通知（{audience}）于{sent}发出{state}。应回执{expected}人，已回执{done}人，未回执{pending_count}人。"
)
STATUS_NAMES_SENT = "\n名单已私信发给您。"
STATUS_NAMES_ASK_DIRECT = "\n名单请私聊我查看。"

# --- orgtree: units 党委 / 党总支 / 党支部 (bot/core/org.py, handlers/org.py) ---------------------------------
# A higher unit's notice: the audience (every member of the units below) as 通知情况 and 定时通知 name it.
ORG_AUDIENCE_ALL_BELOW = "下属各单位全体党员"
ORG_NOTICE_NO_CHATS = "本单位及下级单位均未绑定群，通知无法发出。请管理员先绑定群。"
# 通知情况 for a notice that spans units: a line per unit, then the total (names only within one 党支部).
ORG_NOTICE_STATUS_HEAD = "{unit}第{seq}号通知（{audience}）于{sent}发出{state}，回执情况："
ORG_NOTICE_STATUS_LINE = "· {unit}：应收{expected}人，已收{done}人"
ORG_NOTICE_STATUS_TOTAL = "合计：应收{expected}人，已收{done}人。"
ORG_NOTICE_STATUS_PENDING = "本支部未回执（{count}人）：{names}"

# --- cards ---
CARD_TITLE_NOTICE = "第{seq}号通知"

# --- wecomgaps ---
# Private pushes of one content to many members (a notice's nudge, a meeting reminder) carry no name: the same
# text goes to every member in one WeCom app call (touser "a|b|c", up to 1,000) with its card's buttons.
NOTICE_NUDGE_ALL = "【回执提醒】第{seq}号通知尚未回执：{title}\n请回复“收到”确认。"

# --- coordinator: a tap on a card whose notice, meeting or study week is over --------------------------------------
CARD_STALE_NOTICE = "第{seq}号通知已关闭，或您已回执。"
