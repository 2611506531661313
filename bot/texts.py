"""Every word a chat user sees, and the command words, kept in one place for review."""

from __future__ import annotations

# --- Command words (the first of each is the one shown in help) -----------------
CMD_HELP = ("帮助", "菜单", "help", "功能", "命令")
CMD_WHOAMI = ("我是谁", "我的信息", "whoami")
CMD_SET_SECRETARY = ("设为书记", "设为组织委员", "设置书记")
CMD_SET_ADMIN = ("设为管理员",)
CMD_SET_MEMBER = ("取消书记", "取消管理员", "设为党员")
CMD_SET_GROUP = ("分组", "设置党小组")

# --- Roles and help ---------------------------------------------------------------------
ROLE_NAMES = {"member": "党员", "secretary": "书记/组织委员", "admin": "管理员"}

HELP_HEADER = "【学习驿站】您好，{name}！可以对我说："
HELP_LINE = "· {word} — {summary}"
HELP_FOOTER = "在群里发命令时可以先 @我；说“帮助”随时查看本菜单。"
HELP_SHORT = "没听懂这句话呢。发送“帮助”可以查看我能做的事。"

SUMMARY_HELP = "查看可用命令"
SUMMARY_WHOAMI = "查看我的身份、角色和党小组"
SUMMARY_SET_SECRETARY = "把某人设为书记/组织委员，如：设为书记 @张三"
SUMMARY_SET_ADMIN = "把某人设为管理员，如：设为管理员 @张三"
SUMMARY_SET_MEMBER = "把某人恢复为普通党员，如：设为党员 @张三"
SUMMARY_SET_GROUP = "调整党小组，如：分组 @张三 执法党小组"

EXAMPLE_SET_SECRETARY = "设为书记 @张三"
EXAMPLE_SET_ADMIN = "设为管理员 @张三"
EXAMPLE_SET_MEMBER = "设为党员 @张三"
EXAMPLE_SET_GROUP = "分组 @张三 {group}"
EXAMPLE_GROUP_NAME = "第一党小组"
LIST_SEPARATOR = "、"
NONE_LISTED = "（无）"

WHOAMI = "{name}，您的角色是{role}，所在支部：{branch}，党小组：{group}。"
NO_GROUP = "未分组"

# --- Refusals and errors ----------------------------------------------------------------
NOT_ALLOWED = "抱歉，“{word}”需要{role}权限。如需办理，请联系支部书记。"
GENERIC_ERROR = "抱歉，刚才处理出了点问题，请稍后再试一次。"
CHAT_NOT_BOUND = "本群还没有绑定党支部，暂时无法使用。请管理员在配置中绑定本群。"
NEED_MENTION = "请在命令后 @ 要设置的同志，例如：{example}"
MEMBER_NOT_FOUND = "没有找到“{name}”，请确认姓名与群内显示一致。"
MEMBER_AMBIGUOUS = "支部里有多位“{name}”，请联系管理员处理。"
ROLE_SET = "已将{name}设为{role}。"
ROLE_UNCHANGED = "{name}已经是{role}了。"
ROLE_PINNED = "{name}的{role}身份写在配置文件里，需在配置中修改。"
ROLE_SELF_DEMOTE = "不能取消自己的管理员身份，请另一位管理员操作。"
GROUP_SET = "已将{name}调整到{group}。"
GROUP_UNKNOWN = "没有找到党小组“{group}”。本支部的党小组有：{groups}。"
GROUP_NEED_NAME = "请写明党小组名称，例如：分组 @张三 {example}"

# --- Notices (通知) and receipts (回执) --------------------------------------------------
CMD_NOTICE = ("通知", "发通知", "发布通知")
CMD_SCHEDULED_NOTICE = ("定时通知",)
CMD_NOTICE_STATUS = ("通知情况", "回执情况", "回执")
CMD_NOTICE_LIST = ("通知列表",)
CMD_NOTICE_CLOSE = ("关闭通知",)
# Everyday ways of saying "got it"; compared after normalisation (width, punctuation and emoji removed).
RECEIPT_WORDS = (
    "收到",
    "已收到",
    "收到了",
    "好的收到",
    "收到收到",
    "收到谢谢",
    "好的",
    "好",
    "已阅",
    "已读",
    "阅",
    "1",
    "明白",
    "明白了",
    "知道了",
    "ok",
    "好的明白",
    "已知悉",
    "知悉",
    "收悉",
)

SUMMARY_NOTICE = "发通知并收集回执，如：通知 明天上午9点交学习笔记；对一个党小组：通知 执法党小组 ……"
SUMMARY_SCHEDULED_NOTICE = "定时发通知，如：定时通知 明天9:00 请按时参加主题党日"
SUMMARY_NOTICE_STATUS = "查看谁还没回执（最近一条，或：回执 3）"
SUMMARY_NOTICE_LIST = "查看进行中的通知"
SUMMARY_NOTICE_CLOSE = "结束收集回执，如：关闭通知 3"

NOTICE_PUSH = "【{audience}通知#{seq}】{body}\n——{sender}\n请回复“收到”确认。"
NOTICE_SENT = "通知#{seq}已发到{chats}个群，需回执{expected}人。发送“通知情况”可查看回执。"
NOTICE_SCHEDULED = "好的，通知#{seq}将于{when}发出，对象：{audience}（{expected}人）。"
NOTICE_NEED_BODY = "请写上通知内容，例如：通知 明天上午9点前交学习笔记"
NOTICE_NO_CHATS = "本支部还没有绑定群，通知无法发出。请管理员先绑定群。"
NOTICE_NO_AUDIENCE = "{audience}还没有成员，通知没有发出。"
NOTICE_TIME_MISSING = "请写明发送时间，例如：定时通知 明天9:00 请按时参加主题党日"
NOTICE_TIME_AMBIGUOUS = "“{text}”是上午还是下午？请写成“下午3点”或“15:00”再发一次。"
NOTICE_TIME_PAST = "{when}已经过去了，请换一个以后的时间。"
NOTICE_TIME_INVALID = "没看懂这个时间，请写成“明天9:00”或“11月28日14:30”这样的格式。"
NOTICE_ACK_DIRECT = "已确认收到：{notices}。"
NOTICE_ACK_NONE = "目前没有需要您回执的通知。"
NOTICE_REF = "通知#{seq}"
NOTICE_NOT_FOUND = "没有找到通知#{seq}。发送“通知列表”可查看进行中的通知。"
NOTICE_NONE_YET = "本支部还没有发过通知。"
NOTICE_STATUS = "通知#{seq}（{audience}，{sent}发出{state}）：应回执{expected}人，已回执{done}人。\n未回执（{pending_count}人）：{pending}"
NOTICE_STATUS_ALL_DONE = "通知#{seq}（{audience}，{sent}发出{state}）：应回执{expected}人，已全部回执。"
NOTICE_STATUS_AVG = "\n回执用时中位数：{minutes}分钟。"
NOTICE_STATE_CLOSED = "，已关闭"
NOTICE_STATE_SCHEDULED = "，尚未发出"
NOTICE_LIST_HEADER = "进行中的通知："
NOTICE_LIST_LINE = "· 通知#{seq} {title}（{done}/{expected}已回执）"
NOTICE_LIST_EMPTY = "目前没有进行中的通知。"
NOTICE_NUDGE = "【温馨提醒】{name}同志，通知#{seq}还等您回执：{title}\n看到后回复“收到”即可，谢谢！"
NOTICE_CLOSED = "通知#{seq}已关闭：应回执{expected}人，已回执{done}人。{pending_part}"
NOTICE_CLOSED_PENDING = "未回执：{names}。"
NOTICE_ALREADY_CLOSED = "通知#{seq}已经关闭了。"
AUDIENCE_BRANCH = "全体党员"
AUDIENCE_GROUP = "{group}"

# --- Study day (学习日) and 学习打卡 -----------------------------------------------------
CMD_STUDY_CHECK_IN = ("学习打卡", "打卡学习", "已学习", "学习完成")
CMD_STUDY_SET = ("本周学习",)
CMD_STUDY_QUEUE = ("添加学习材料",)
CMD_MY_STUDY = ("我的学习",)
CMD_STUDY_STATUS = ("学习情况", "学习统计")

SUMMARY_STUDY_CHECK_IN = "学习日打卡，可附学习内容，如：学习打卡 纪录片《……》"
SUMMARY_STUDY_SET = "设定本周学习内容，如：本周学习 党章第一章"
SUMMARY_STUDY_QUEUE = "预先排好以后几周的学习内容"
SUMMARY_MY_STUDY = "查看我的学习目标进度"
SUMMARY_STUDY_STATUS = "查看本周打卡情况和本月参学率"

# Tags a check-in note may carry, by keyword; they count towards the study goals.
STUDY_TAGS = {"微党课": ("微党课", "党课"), "原著": ("原著", "读书", "读完"), "纪录片": ("纪录片",)}

STUDY_REMINDER = "【学习日】今天是本周学习日（{date}）。\n本周学习：{material}\n学完后请回复“学习打卡”，可附学习内容。"
STUDY_REMINDER_MOVED = "（原定{nominal}为节假日，学习日提前到今天）"
STUDY_NO_MATERIAL = "自主学习党章党规和理论文章"
STUDY_MATERIAL_SET = "好的，{week}的学习内容已设为：{text}"
STUDY_MATERIAL_PUSH = "【本周学习内容更新】{text}"
STUDY_MATERIAL_QUEUED = "已加入学习材料库（排在第{position}位），之后的学习日会依次使用。"
STUDY_NEED_TEXT = "请写上学习内容，例如：本周学习 党章第一章 总纲"
STUDY_THIS_WEEK = "本周"
STUDY_NEXT_WEEK = "下周"
STUDY_CHECKED_IN = "{name}，打卡成功！本周参学{done}/{expected}人。"
STUDY_CHECKED_IN_TAG = "（已记入“{tag}”）"
STUDY_ALREADY = "{name}，您本周已经打过卡了，发送“我的学习”可以查看进度。"
STUDY_NOT_OPEN = "现在不在学习打卡时间。每周学习日收到提醒后再打卡就行。"
STUDY_NUDGE = "【学习提醒】今天是学习日，还有{count}位同志没有打卡：{names}\n学完后回复“学习打卡”即可。"
STUDY_SUMMARY = "【学习日小结】{week}：应参学{expected}人，已打卡{done}人，参学率{rate}。{names_part}"
STUDY_SUMMARY_NAMES = "感谢{names}按时学习！"
STUDY_SUMMARY_MISSING = "【学习日小结·仅书记可见】{week}未打卡（{count}人）：{names}"
STUDY_MINE = (
    "{name}的学习进度：\n· 本月学习日打卡：{month_done}/{month_weeks}次\n· 微党课（本月）：{lectures}/{lecture_goal}"
    "\n· 原著（本半年）：{classics}/{classic_goal}\n· 纪录片（本年）：{docs}/{doc_goal}"
)
STUDY_STATUS = (
    "本周学习日（{week}）：应参学{expected}人，已打卡{done}人（{rate}）。\n未打卡：{pending}\n本月参学率：{month_rate}"
)
STUDY_STATUS_NONE = "本周学习日还没开始。本月参学率：{month_rate}"

PERCENT = "{value:.0%}"
PERCENT_PRECISE = "{value:.1%}"
NAME_SEPARATOR = "、"
DATETIME_FORMAT = "{month}月{day}日（周{weekday}）{hour:02d}:{minute:02d}"
DATE_FORMAT = "{month}月{day}日（周{weekday}）"
WEEKDAY_NAMES = "一二三四五六日"

# --- Simulator UI -----------------------------------------------------------------------
SIM_TITLE = "学习驿站 · 模拟群聊"
SIM_BOT_NAME_FALLBACK = "学习驿站"
SIM_UNKNOWN_CHAT = "没有这个群。"
SIM_BAD_REQUEST = "请求格式不正确：{reason}"
