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
# Roles are permissions in this app, not Party posts: a 支部书记 is elected, not set by the bot.
ROLE_NAMES = {
    "guest": "其他支部党员",
    "member": "基本权限",
    "secretary": "支部管理权限（书记/组织委员）",
    "admin": "系统管理权限",
}

# 帮助 in a group is a short menu of topics; "帮助 会议" etc. lists that topic's commands the sender may use.
HELP_HEADER = "【学习驿站】{name}同志，可使用以下功能："
HELP_LINE = "· {word} — {summary}"
HELP_FOOTER = "发送“帮助 会议”等查看详细说明；在群内发送命令时可先 @我。"
HELP_SHORT = "未能识别该命令。发送“帮助”可查看可用功能。"

SUMMARY_HELP = "查看功能目录；“帮助 会议”等查看详细说明"
SUMMARY_WHOAMI = "查看本人所在支部、党小组和使用权限"
SUMMARY_SET_SECRETARY = "授予支部管理权限（发通知、发起会议、组织答题等），如：设为书记 @张三"
SUMMARY_SET_ADMIN = "授予系统管理权限（含设置权限和党小组），如：设为管理员 @张三"
SUMMARY_SET_MEMBER = "撤销管理权限，恢复为基本权限，如：设为党员 @张三"
SUMMARY_SET_GROUP = "调整所在党小组，如：分组 @张三 执法党小组"

EXAMPLE_SET_SECRETARY = "设为书记 @张三"
EXAMPLE_SET_ADMIN = "设为管理员 @张三"
EXAMPLE_SET_MEMBER = "设为党员 @张三"
EXAMPLE_SET_GROUP = "分组 @张三 {group}"
EXAMPLE_GROUP_NAME = "第一党小组"
LIST_SEPARATOR = "、"
NONE_LISTED = "（无）"

WHOAMI = "{name}同志，所在支部：{branch}，党小组：{group}，使用权限：{role}。"
NO_GROUP = "未分组"

# --- Refusals and errors ----------------------------------------------------------------
NOT_ALLOWED = "“{word}”需{role}。如需办理，请联系支部书记。"
GENERIC_ERROR = "系统处理出错，本条消息未能办理，请稍后重试。"
CHAT_NOT_BOUND = "本群尚未绑定党支部，暂不能使用。请管理员在配置文件中绑定本群。"
NEED_MENTION = "请在命令后 @ 要设置的同志，例如：{example}"
MEMBER_NOT_FOUND = "未找到“{name}”，请核对姓名与群内显示是否一致。"
MEMBER_AMBIGUOUS = "本单位有多位“{name}”，请联系管理员处理。"
# Setting a role grants or withdraws a permission in this app; it appoints nobody to a post.
ROLE_SET = "已授予{name}同志{role}。此为本系统操作权限，不涉及党内职务任免。"
ROLE_UNCHANGED = "{name}同志目前已是{role}，无需调整。"
ROLE_PINNED = "{name}同志的{role}由配置文件设定，需在配置文件中修改。"
ROLE_SELF_DEMOTE = "不能撤销本人的系统管理权限，请由另一位管理员操作。"
GROUP_SET = "已将{name}同志调整到{group}。"
GROUP_UNKNOWN = "未找到党小组“{group}”。本支部的党小组：{groups}。"
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
SUMMARY_NOTICE_STATUS = "查看回执情况（最近一条，或：通知情况 第3号通知）"
SUMMARY_NOTICE_LIST = "查看进行中的通知"
SUMMARY_NOTICE_CLOSE = "结束收集回执，如：关闭第3号通知"

NOTICE_PUSH = "【第{seq}号通知{audience}】{body}\n——{sender}\n请回复“收到”确认。"
# After the number in NOTICE_PUSH when the notice is for one 党小组.
NOTICE_PUSH_AUDIENCE = "·{audience}"
NOTICE_SENT = "第{seq}号通知已发到{chats}个群，需回执{expected}人。发送“通知情况”可查看回执。"
NOTICE_SCHEDULED = "第{seq}号通知将于{when}发出，对象：{audience}（{expected}人）。"
NOTICE_NEED_BODY = "请写上通知内容，例如：通知 明天上午9点前交学习笔记"
NOTICE_NO_CHATS = "本单位尚未绑定群，通知无法发出。请管理员先绑定群。"
NOTICE_NO_AUDIENCE = "{audience}尚无成员，通知未发出。"
NOTICE_TIME_MISSING = "请写明发送时间，例如：定时通知 明天9:00 请按时参加主题党日"
NOTICE_TIME_AMBIGUOUS = "“{text}”未注明上午或下午，请写成“下午3点”或“15:00”后重新发送。"
NOTICE_TIME_PAST = "{when}已过，请改为此后的时间。"
NOTICE_TIME_INVALID = "未能识别发送时间，请写成“明天9:00”或“11月28日14:30”。"
NOTICE_ACK_DIRECT = "已确认收到：{notices}。"
NOTICE_ACK_NONE = "目前没有需要您回执的通知。"
NOTICE_REF = "第{seq}号通知"
NOTICE_NOT_FOUND = "未找到第{seq}号通知。发送“通知列表”可查看进行中的通知。"
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
NOTICE_ALREADY_CLOSED = "第{seq}号通知已关闭。"
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
SUMMARY_MY_STUDY = "查看本人学习进度"
SUMMARY_STUDY_STATUS = "查看本周打卡情况和本月参学率"

# Tags a check-in note may carry, by keyword; they count towards the study goals.
STUDY_TAGS = {"微党课": ("微党课", "党课"), "原著": ("原著", "读书", "读完"), "纪录片": ("纪录片",)}

STUDY_REMINDER = "【学习日】今天{date}是本周学习日。\n本周学习：{material}\n学完后请回复“学习打卡”，可附学习内容。"
STUDY_REMINDER_MOVED = "\n原定{nominal}为节假日，学习日提前到今天。"
STUDY_NO_MATERIAL = "自主学习党章党规和理论文章"
STUDY_MATERIAL_SET = "{week}的学习内容已设为：{text}"
STUDY_MATERIAL_PUSH = "【本周学习内容更新】{text}"
STUDY_MATERIAL_QUEUED = "已加入学习材料库（排在第{position}位），之后的学习日会依次使用。"
STUDY_NEED_TEXT = "请写上学习内容，例如：本周学习 党章第一章 总纲"
STUDY_THIS_WEEK = "本周（{span}）"
STUDY_NEXT_WEEK = "下周（{span}）"
STUDY_CHECKED_IN = "{name}同志，学习打卡已记录。本周参学{done}/{expected}人。"
STUDY_CHECKED_IN_TAG = "（已记入“{tag}”）"
STUDY_ALREADY = "{name}同志，您本周已打卡。发送“我的学习”可查看进度。"
STUDY_NOT_OPEN = "现在不在学习打卡时间。请在每周学习日收到提醒后打卡。"
STUDY_SUMMARY = "【学习日小结】{day}学习日：应参学{expected}人，已打卡{done}人，参学率{rate}。{names_part}"
STUDY_SUMMARY_NAMES = "按时学习的同志：{names}。"
STUDY_SUMMARY_MISSING = "【学习日小结·仅支委可见】{day}学习日未打卡（{count}人）：{names}"
STUDY_MINE = "{name}同志的学习进度：{lines}"
STUDY_MINE_WEEKS = "\n· 本月学习日打卡：{done}/{weeks}次"
STUDY_MINE_NO_WEEKS = "\n· 本月尚无学习日"
# A goal of 0 is no goal: the line shows what was done, or is left out when nothing was.
STUDY_MINE_GOAL = "\n· {tag}（{span}）：{done}/{goal}次"
STUDY_MINE_NO_GOAL = "\n· {tag}（{span}）：{done}次"
STUDY_GOAL_SPANS = {"微党课": "本月", "原著": "本半年", "纪录片": "本年"}
STUDY_STATUS = "本周学习日{day}：应参学{expected}人，已打卡{done}人，参学率{rate}。\n未打卡：{pending}\n{month}"
STUDY_STATUS_NONE = "本周学习日尚未开始。\n{month}"
# 本月参学率: check-ins ÷ expected over the study days held this month, in person-times.
STUDY_MONTH_RATE = "本月参学率{rate}（应参学{expected}人次，已打卡{done}人次）。"
STUDY_MONTH_NONE = "本月尚无学习日。"

PERCENT = "{value:.0%}"
PERCENT_PRECISE = "{value:.1%}"
NAME_SEPARATOR = "、"
DATETIME_FORMAT = "{month}月{day}日（周{weekday}）{hour:02d}:{minute:02d}"
DATE_FORMAT = "{month}月{day}日（周{weekday}）"
WEEKDAY_NAMES = "一二三四五六日"

# --- Meetings (主题党日 / 三会一课): check-in, leave, records ------------------------------
MEETING_KIND_NAMES = {
    "theme_day": "主题党日",
    "member_assembly": "支部党员大会",
    "committee": "支委会",
    "group_meeting": "党小组会",
    "party_lecture": "党课",
}
# Command words that create each kind ("发起主题党日 11月28日14:30 三楼会议室 主题：学习党章").
CMD_CREATE_MEETING = {
    "theme_day": ("发起主题党日", "召开主题党日"),
    "member_assembly": ("发起党员大会", "发起支部党员大会", "召开党员大会"),
    "committee": ("发起支委会", "发起支部委员会", "召开支委会"),
    "group_meeting": ("发起党小组会", "召开党小组会"),
    "party_lecture": ("发起党课", "上党课"),
}
CMD_CHECK_IN = ("签到", "我签到", "签个到", "到", "已到", "到了", "报到", "签到了")
CMD_LEAVE = ("请假",)
CMD_CANCEL_LEAVE = ("取消请假", "销假")
CMD_APPROVE_LEAVE = ("准假", "批准请假")
CMD_MAKE_UP = ("补签",)
CMD_MARK_LEAVE = ("记请假",)
CMD_MEETINGS = ("会议列表", "近期会议")
CMD_MEETING_CODE = ("签到码",)
CMD_CANCEL_MEETING = ("取消会议",)
CMD_STATS_MONTH = ("本月统计",)
CMD_STATS_YEAR = ("年度统计", "本年统计")

SUMMARY_CREATE_MEETING = "发起会议，如：发起主题党日 11月28日14:30 三楼会议室 主题：学习党章（支委会、党员大会、党小组会、党课同理；加“签到码”需现场签到码）"
SUMMARY_CHECK_IN = "会议签到（签到时间内），有签到码时：签到 1234"
SUMMARY_LEAVE = "会议请假，如：请假 在外执法"
SUMMARY_CANCEL_LEAVE = "取消请假"
SUMMARY_APPROVE_LEAVE = "批准请假，如：准假 @张三"
SUMMARY_MAKE_UP = "更正记录为已出席，如：补签 @张三 现场签到时手机没电"
SUMMARY_MARK_LEAVE = "更正记录为请假，如：记请假 @张三 临时执勤"
SUMMARY_MEETINGS = "查看近期会议"
SUMMARY_MEETING_CODE = "查看进行中会议的签到码（仅本人可见）"
SUMMARY_CANCEL_MEETING = "取消一场会议，如：取消会议 3"
SUMMARY_STATS = "本月/年度会议次数与出席率（本月统计、年度统计）"

EXAMPLE_APPROVE_LEAVE = "准假 @张三"
EXAMPLE_MAKE_UP = "补签 @张三 现场签到时手机没电"
EXAMPLE_MARK_LEAVE = "记请假 @张三 临时执勤"
MEETING_CODE_WORD = "签到码"
MEETING_TOPIC_WORDS = ("主题：", "主题:", "主题")
MEETING_CREATED = "已发起{kind}#{seq}：{when}{location_part}{topic_part}。\n应到{expected}人，签到时间{window}。"
MEETING_LOCATION_PART = "，地点：{location}"
MEETING_TOPIC_PART = "，主题：{topic}"
MEETING_CODE_SECRET = "{kind}#{seq}的签到码是 {code}，请在会场公布。"
MEETING_NEED_GROUP = "请写明是哪个党小组，例如：发起党小组会 执法党小组 周五15:00 ……。本支部的党小组有：{groups}"
MEETING_NO_AUDIENCE = "{audience}尚无成员，会议未创建。"
MEETING_ANNOUNCE = (
    "【{kind}】{when}{location_part}{topic_part}。\n应参加：{audience}。签到时间{window}，不能参加请回复“请假 原因”。"
)
MEETING_REMINDER = "【会议提醒】{kind}将于{when}开始{location_part}{topic_part}。签到时间{window}。"
MEETING_WINDOW = "{start}至{end}"
MEETING_CHECKED_IN = "{name}同志，{kind}签到成功（{time}）。"
MEETING_CHECKED_IN_LATE = "{name}同志，{kind}签到成功（{time}，迟到）。"
MEETING_ALREADY = "{name}同志，您已签到，无需重复签到。"
MEETING_NO_WINDOW = "目前没有正在签到的会议。"
MEETING_NOT_YET = "{kind}签到时间从{start}开始，请届时签到。"
MEETING_NOT_AUDIENCE = "本次{kind}的参加对象是{audience}，您无需签到。"
MEETING_CODE_NEEDED = "本次{kind}需要签到码，请发送“签到 四位签到码”（签到码在会场公布）。"
MEETING_CODE_WRONG = "签到码有误，请核对会场公布的四位数字后重新签到。"
MEETING_LEAVE_OK = "{name}同志，已登记{kind}请假：{reason}。"
MEETING_LEAVE_ASKED = "{name}同志，请假申请已提交，待书记批准：{reason}。"
MEETING_LEAVE_NEED_REASON = "请写明请假原因，例如：请假 在外执法"
MEETING_LEAVE_NONE = "近期没有需要您参加的会议。"
MEETING_LEAVE_ALREADY_IN = "{name}同志，您已签到，无需请假。"
MEETING_LEAVE_REQUEST_TO_SECRETARY = (
    "【请假申请】{name}同志申请{when}的{kind}请假：{reason}。同意请回复“准假 @{name}”。"
)
MEETING_LEAVE_APPROVED = "已批准{name}同志的{kind}请假。"
MEETING_LEAVE_APPROVED_DIRECT = "您的{kind}请假已获批准。"
MEETING_NO_REQUEST = "{name}同志没有待批准的请假。"
MEETING_LEAVE_CANCELLED = "{name}同志，已取消{kind}请假。"
MEETING_NO_LEAVE = "您没有可取消的请假。"
MEETING_CORRECTED = "已将{name}同志在{kind}#{seq}的记录更正为{status}（原因：{reason}），已记入更正记录。"
MEETING_CORRECT_NEED_REASON = "请写明原因，例如：补签 @张三 现场签到时手机没电"
MEETING_CORRECT_NO_MEETING = "未找到可更正的会议。"
MEETING_CORRECT_NOT_AUDIENCE = "{name}同志不在{kind}#{seq}的参加对象中。"
# The summary in the group: counts only. The names of those on leave and absent go to the 支委 directly.
MEETING_SUMMARY = (
    "【{kind}#{seq} 签到结果】应到{expected}人，实到{present}人{late_part}，请假{leave}人，缺席{absent}人。"
)
MEETING_SUMMARY_PRIVATE = (
    "【{kind}#{seq} 签到结果·仅支委可见】应到{expected}人，实到{present}人{late_part}，请假{leave}人，缺席{absent}人。"
    "{names}"
)
MEETING_SUMMARY_LEAVE_NAMES = "\n请假：{names}"
MEETING_SUMMARY_ABSENT_NAMES = "\n缺席：{names}"
MEETING_LATE_PART = "（其中迟到{late}人）"
MEETING_LIST_HEADER = "近期会议："
MEETING_LIST_LINE = "· {kind}#{seq} {when}{location_part}（应到{expected}人）"
MEETING_LIST_EMPTY = "近期没有安排会议。"
MEETING_CODE_SHOWN = "{kind}#{seq}的签到码：{code}"
MEETING_NO_CODE = "进行中的会议没有设置签到码。"
MEETING_CANCELLED = "【会议取消】原定{when}的{kind}取消，请相互转告。"
MEETING_NOT_FOUND = "未找到会议#{seq}。发送“会议列表”可查看近期会议。"
# 本月统计 / 年度统计, as a report writes it: 三会一课 first, then 主题党日; items held 0 times are left out
# unless asked for with “全部”. 参会率 = 实参会人次 ÷ 应参会人次 over the meetings held; a member on leave is
# expected and did not attend (请假 counts are shown beside it).
MEETING_STATS = "{period}，支部{items}{rate}"
MEETING_STATS_HELD = "召开{items}"
MEETING_STATS_COUNT = "{kind}{count}次"
MEETING_STATS_LECTURE = "上党课{count}次"
MEETING_STATS_THEME_DAY = "开展主题党日活动{count}次"
MEETING_STATS_SHORT_NAMES = {"member_assembly": "党员大会", "committee": "支委会", "group_meeting": "党小组会"}
MEETING_STATS_ITEM_SEPARATOR = "，"
MEETING_STATS_RATE = "；党员参会率{rate}（应参会{expected}人次，实参会{present}人次{leave_part}）。"
MEETING_STATS_LEAVE_PART = "，请假{leave}人次"
MEETING_STATS_NO_EXPECTED = "；无应参会人员。"
MEETING_STATS_NONE = "{period}，支部尚未召开会议。"
MEETING_STATS_ALL_WORDS = ("全部", "全部项目", "含零项")
MEETING_STATS_PERIOD_MONTH = "{year}年{month}月"
MEETING_STATS_PERIOD_YEAR = "{year}年"
# The cadence reminder names each missing kind with its rule: the 《中国共产党支部工作条例（试行）》 rule where the
# configured cadence is the 条例's, else the branch's own setting.
MEETING_CADENCE_WARNING = "【会议提醒·仅支委可见】{period}尚未{actions}。{rules}\n请及时安排。"
MEETING_CADENCE_ACTIONS = {
    "member_assembly": "召开支部党员大会",
    "committee": "召开支委会",
    "group_meeting": "召开党小组会",
    "party_lecture": "上党课",
    "theme_day": "开展主题党日",
}
MEETING_CADENCE_RULE_LINE = "\n· {rule}"
MEETING_CADENCE_RULES = {
    ("member_assembly", "quarter"): "《中国共产党支部工作条例（试行）》第十一条：党支部党员大会一般每季度召开1次。",
    ("committee", "month"): "《中国共产党支部工作条例（试行）》第十二条：党支部委员会会议一般每月召开1次。",
    ("group_meeting", "month"): "《中国共产党支部工作条例（试行）》第十三条：党小组会一般每月召开1次。",
    ("party_lecture", "year"): (
        "《中国共产党支部工作条例（试行）》第十六条：党支部应当组织党员按期上党课；"
        "党员领导干部要定期为基层党员讲党课，党委（党组）书记每年至少讲1次党课。"
    ),
    ("theme_day", "month"): "《中国共产党支部工作条例（试行）》规定，党支部每月相对固定1天开展主题党日。",
}
MEETING_CADENCE_RULE_LOCAL = "本支部设定：{kind}每{cadence}至少1次。"
CADENCE_NAMES = {"month": "月", "quarter": "季度", "year": "年"}
PERIOD_NAMES = {"month": "{year}年{month}月", "quarter": "{year}年第{quarter}季度", "year": "{year}年"}
STATUS_PRESENT = "已出席"
STATUS_LEAVE = "请假"

# --- Quizzes: 每日一题, 抢答, 竞赛, leaderboards, 错题本 -----------------------------------
CMD_RUSH = ("抢答", "开始抢答", "抢答赛")
CMD_MATCH = ("竞赛", "知识竞赛", "开始竞赛")
CMD_STOP_QUIZ = ("结束答题", "结束抢答", "结束竞赛")
CMD_LEADERBOARD = ("排行榜", "积分榜", "排名", "积分排行", "积分排名", "积分排行榜")
CMD_OPT_OUT = ("不参加排名", "退出排名")
CMD_OPT_IN = ("参加排名", "恢复排名")
CMD_WRONG_BOOK = ("错题本", "我的错题")
CMD_RETRY = ("重做", "重做错题")

SUMMARY_RUSH = "发起抢答，如：抢答 5题 党章（先答对者得分）"
SUMMARY_MATCH = "发起竞赛，如：竞赛 5题 20秒 党史（限时作答，用时越短得分越高）"
SUMMARY_STOP_QUIZ = "提前结束本群正在进行的抢答或竞赛"
SUMMARY_LEADERBOARD = "查看答题积分排行，如：排行榜 本月、排行榜 执法党小组、排行榜 本群"
SUMMARY_OPT_OUT = "不在公开排行榜上显示本人（“参加排名”可恢复）"
SUMMARY_WRONG_BOOK = "查看本人答错的题目（私信发送），“重做 1”重练第1题"

QUIZ_MODE_NAMES = {"rush": "抢答", "match": "竞赛", "daily": "每日一题", "practice": "错题重做"}
QUESTION_TYPE_NAMES = {"single": "单选", "multi": "多选", "judge": "判断", "blank": "填空"}
QUIZ_HOW_TO = {
    "single": "回复选项字母作答，如：B",
    "multi": "回复全部正确选项，如：BC",
    "judge": "回复“对”或“错”",
    "blank": "直接回复答案",
}
QUIZ_HOW_TO_DAILY_BLANK = "回复“答 ＋答案”作答"
QUIZ_QUESTION = "【{mode} 第{position}/{count}题】（{type}）{stem}{options}\n{how}（限时{seconds}秒）"
QUIZ_DAILY_QUESTION = "【每日一题】（{type}）{stem}{options}\n{how}，{close}公布答案。"
QUIZ_PRACTICE_QUESTION = "【错题重做】（{type}）{stem}{options}\n{how}"
QUIZ_OPTION_LINE = "\n{letter}. {text}"
QUIZ_STARTED = "【{mode}】现在开始，共{count}题{tag_part}，每题限时{seconds}秒。"
QUIZ_TAG_PART = "（{tag}）"
QUIZ_NOT_ENOUGH = "题库中{tag_part}题目不足，现有{available}道。"
QUIZ_ALREADY_RUNNING = "本群已有{mode}正在进行，请待其结束后再发起。"
QUIZ_COUNT_INVALID = "题数应在1至{max}之间。"
QUIZ_SECONDS_INVALID = "每题限时应在5至3600秒之间。"
QUIZ_NOT_IN_GROUP = "抢答和竞赛请在群内发起。"
# The group sees who won a 抢答 question, the answer and its explanation — never who answered wrong. What concerns
# one member alone (a wrong answer, a repeat, too late, too slow, a 竞赛 answer received) goes to them privately.
QUIZ_RUSH_WIN = "【抢答 第{position}题】{name}同志抢答正确。正确答案：{answer}{explanation}"
QUIZ_RUSH_TOO_SLOW = "{name}同志，{question}已由{winner}同志抢先答对。"
QUIZ_WRONG = "{name}同志，您对{question}的作答不正确，本题不能再次作答。"
QUIZ_ALREADY_ANSWERED = "{name}同志，{question}您已作答，每题只能作答一次。"
QUIZ_DAILY_RECEIVED = "{name}同志，{question}作答已收到，{close}在群内公布答案。"
QUIZ_TIMEOUT = "【抢答 第{position}题】作答时间到，无人答对。正确答案：{answer}{explanation}"
# An explanation with its source (alone: QUIZ_EXPLANATION_ONLY / QUIZ_SOURCE_ONLY below).
QUIZ_EXPLANATION = "\n解析：{explanation}（{source}）"
QUIZ_MATCH_REVEAL = (
    "【竞赛 第{position}题】作答结束。正确答案：{answer}{explanation}"
    "\n本题{answered}人作答，{correct}人答对，正确率{rate}{fastest}。"
)
QUIZ_MATCH_FASTEST = "；用时最短：{name}（{seconds:.1f}秒）"
QUIZ_DAILY_REVEAL = "【每日一题·揭晓】正确答案：{answer}{explanation}\n本题{answered}人作答，答对的同志：{names}。"
QUIZ_DAILY_NOBODY = "无"
QUIZ_RANK_LINE = "\n{place}. {name} {value}"
QUIZ_RUSH_VALUE = "{wins}题"
QUIZ_MATCH_VALUE = "{score}分"
QUIZ_PODIUM_HEADER = "\n前三名："
QUIZ_TEAM_HEADER = "\n党小组总分："
QUIZ_TEAM_LINE = "\n· {group} {score}分"
QUIZ_NO_RANKING = "\n本次共{count}人参加。"
QUIZ_NO_WINNERS = "\n本次无人答对。"
QUIZ_STOPPED = "本次{mode}已提前结束。"
QUIZ_NOTHING_RUNNING = "本群目前没有进行中的抢答或竞赛。"
QUIZ_UNGROUPED = "未分组"
LEADERBOARD_HEADER = "【答题积分榜·{scope}·{period}】"
LEADERBOARD_LINE = "\n{place}. {name} {points}分"
CHART_POINTS = "{value}分"
LEADERBOARD_EMPTY = "【答题积分榜·{scope}·{period}】暂无积分记录。"
LEADERBOARD_OFF = "本支部未开启公开排行榜。发送“错题本”可查看本人练习情况。"
LEADERBOARD_PERIODS = {"week": "本周", "month": "本月", "year": "本年", "all": "全部"}
LEADERBOARD_PERIOD_WORDS = {
    "本周": "week",
    "周": "week",
    "本月": "month",
    "月": "month",
    "本年": "year",
    "今年": "year",
    "年": "year",
    "全部": "all",
    "总": "all",
    "总榜": "all",
}
LEADERBOARD_SCOPE_BRANCH = "全支部"
LEADERBOARD_SCOPE_CHAT = "本群"
LEADERBOARD_CHAT_WORDS = ("本群", "群")
RANKING_OPTED_OUT = "{name}同志，您已退出公开排名，积分照常记录。发送“参加排名”可恢复。"
RANKING_OPTED_IN = "{name}同志，您已恢复参加公开排名。"
# A member's wrong answers are theirs alone: asked in a group, the 错题本 is sent privately with a note there.
WRONG_BOOK_HEADER = "{name}同志的错题本（最近{count}道）："
WRONG_BOOK_LINE = "\n{index}. {stem}"
WRONG_BOOK_FOOTER = "\n发送“重做 1”可重练第1题。"
WRONG_BOOK_EMPTY = "{name}同志，您的错题本中暂无题目。"
WRONG_BOOK_BAD_INDEX = "请写错题本中的序号，例如：重做 1"
PRACTICE_RIGHT = "回答正确，本题已移出错题本。正确答案：{answer}"
PRACTICE_WRONG = "回答不正确，本题仍保留在错题本中。正确答案：{answer}{explanation}"

# --- Question bank and 搜题 -------------------------------------------------------------
# Words an imported sheet may use (compared after width folding, lower-casing and removing spaces).
BANK_TYPE_WORDS = {
    "single": "single",
    "单选": "single",
    "单选题": "single",
    "单项选择": "single",
    "单项选择题": "single",
    "multi": "multi",
    "multiple": "multi",
    "多选": "multi",
    "多选题": "multi",
    "多项选择": "multi",
    "多项选择题": "multi",
    "judge": "judge",
    "判断": "judge",
    "判断题": "judge",
    "blank": "blank",
    "填空": "blank",
    "填空题": "blank",
}
# Judge answers: the first word of each is the one stored.
BANK_JUDGE_TRUE = ("对", "√", "✓", "✔", "正确", "是", "t", "true", "y", "yes")
BANK_JUDGE_FALSE = ("错", "×", "✗", "✘", "x", "错误", "否", "f", "false", "n", "no")
BANK_DIFFICULTY_WORDS = {"易": 1, "简单": 1, "容易": 1, "中": 2, "中等": 2, "一般": 2, "难": 3, "困难": 3, "较难": 3}
BANK_SHEET_TITLE = "题库"

CMD_LOOKUP = ("搜题", "查题", "搜答案", "查答案")
SUMMARY_LOOKUP = "在题库里查题目的答案和出处，如：搜题 预备党员的预备期是多长时间"
LOOKUP_NEED_QUERY = "请在“搜题”后写明题目，例如：搜题 预备党员的预备期是多长时间"
LOOKUP_TOO_SHORT = "题干过短，请写出更完整的题干后再查。"
LOOKUP_NOT_FOUND = "题库中未找到与该题足够接近的题目，为避免误导，不作推测。请写出更完整的题干后再查。"
LOOKUP_QUIZ_RUNNING = "本群正在进行抢答或竞赛，为保证公平，搜题暂停使用，答题结束后恢复。"
LOOKUP_RESULT = (
    "【搜题】最接近的题目（匹配度{score}%）：\n（{type}）{stem}{options}\n答案：{answer}{explanation}{source}"
)
LOOKUP_OPTION_LINE = "\n{letter}. {text}"
LOOKUP_ANSWER_CHOICE = "{letter}. {text}"
LOOKUP_ANSWER_SEPARATOR = "；"
LOOKUP_BLANK_SEPARATOR = " 或 "
LOOKUP_JUDGE_ANSWERS = {"对": "对（正确）", "错": "错（错误）"}
LOOKUP_EXPLANATION = "\n解析：{text}"
LOOKUP_SOURCE = "\n出处：{text}"
# An addressed message counts as a question from this many Chinese characters on.
LOOKUP_MIN_QUESTION_CHARS = 6
# While a 每日一题 runs in the chat (or a 错题 retry, directly), only text with one of these marks is a
# question for 搜题; anything else may be an answer and is left to the quiz.
LOOKUP_QUESTION_MARKS = (
    "?",
    "？",
    "什么",
    "哪",
    "多少",
    "多长",
    "多久",
    "几",
    "吗",
    "是否",
    "怎么",
    "怎样",
    "如何",
    "（",
    "(",
    "__",
)

# --- Simulator UI -----------------------------------------------------------------------
SIM_TITLE = "学习驿站 · 模拟群聊"
SIM_BOT_NAME_FALLBACK = "学习驿站"
SIM_UNKNOWN_CHAT = "没有这个群。"
SIM_BAD_REQUEST = "请求格式不正确：{reason}"
# The reasons SIM_BAD_REQUEST gives (the simulator page shows them).
SIM_REASON_NOT_UTF8 = "不是 UTF-8 编码"
SIM_REASON_NOT_JSON = "不是合法的 JSON"
SIM_REASON_OBJECT = "应为 JSON 对象"
SIM_REASON_USER = "缺少 user，或 user 不是字母、数字组成的 id"
SIM_REASON_TEXT = "缺少 text"
SIM_REASON_TEXT_LONG = "text 超过 {max} 字"
SIM_REASON_CHAT = "chat 应为群 id 或 null"
SIM_REASON_ID = "id 应为不超过 128 字的字符串"
SIM_REASON_NAME = "name 应为不超过 {max} 字的字符串"
SIM_REASON_MENTION = "mention_bot 应为 true 或 false"
SIM_REASON_CHARACTERS = "含有无法保存的字符"
SIM_REASON_PAGING = "after/limit 应为非负整数"
SIM_REASON_NO_CHAT = "缺少 chat"

# --- WeCom ------------------------------------------------------------------------------
# How a mention is written out where WeCom cannot @ by user id (app group chats, AI-bot answers).
WECOM_MENTION = "@{name}"
# Ends an AI-bot answer that had to be cut: a response_url can be used only once.
WECOM_TRUNCATED = "……（内容过长，后面的部分未能发出）"

# --- Authority across branches (bot/authority.py) ---------------------------------------
# A member of another branch in this branch's group: refused every command that acts for the branch.
NOT_ALLOWED_OUTSIDER = "您不是本支部党员，不能在本群使用“{word}”。请在所在支部的群内或私聊我办理。"
# Ends the help menu a member of another branch sees in this branch's group.
HELP_GUEST_NOTE = "您不属于本单位，在本群只能使用以上功能。"
# Follows 我是谁 when asked in another branch's group.
WHOAMI_GUEST_NOTE = "本群属于{branch}，您在本群不计入应到、应回执人数。"

# --- Dates and times in meeting commands; the points command (积分) ---------------------
# A meeting time that cannot be used: what was understood, then an example of the same kind of meeting.
MEETING_TIME_UNCLEAR = "{understood}请写明会议日期和时间，例如：{example}"
MEETING_TIME_UNDERSTOOD_NONE = "未能识别会议时间。"
MEETING_TIME_UNDERSTOOD_DAY = "已识别日期为{day}，但缺少具体时间。"
MEETING_TIME_NOT_VALID = "“{text}”不是有效的日期或时间。"
MEETING_TIME_WEEKDAY = "{month}月{day}日是星期{weekday}，与所写的星期不符。"
MEETING_TIME_EXAMPLE_DAY = "{month}月{day}日"
MEETING_TIME_EXAMPLE_NEXT = "下周四"
MEETING_TIME_EXAMPLES = {
    "theme_day": "发起主题党日 {day}14:30 三楼会议室 主题：学习党章",
    "member_assembly": "发起党员大会 {day}14:30 三楼会议室 主题：讨论接收预备党员",
    "committee": "发起支委会 {day}14:30 支部办公室 主题：研究发展党员工作",
    "group_meeting": "发起党小组会 {group} {day}14:30 三楼会议室 主题：交流学习体会",
    "party_lecture": "发起党课 {day}14:30 三楼会议室 主题：学习党章",
}

# A member's own points; bare "积分" only as the whole message, so "积分制……" in chat is not a command.
CMD_MY_POINTS = ("我的积分", "查积分", "查询积分", "积分查询", "查看积分", "我的得分")
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

# --- Quiz: deadlines and one quiz per chat ------------------------------------------------
# An answer that arrives after its question's time is up (not scored).
QUIZ_ANSWER_LATE = "{name}同志，{question}作答时间已过，此次作答不计分。"
# Leaderboard: two members of one name are told apart by their 党小组, else by their member number.
CHART_NAMESAKE = "{name}（{detail}）"
CHART_MEMBER_NUMBER = "编号{id}"

# --- Scheduled notices and records (input/records review) ----------------------------------------------------
# A scheduled notice has not gone out: it is listed and reported as 待发送, never as 未回执.
NOTICE_LIST_SCHEDULED_LINE = "· 第{seq}号通知 {title}：待发送，将于{when}发出，需回执{expected}人"
NOTICE_STATUS_SCHEDULED = (
    "第{seq}号通知（{audience}）尚未发出，将于{when}发出，需回执{expected}人。发出后可查看回执情况。"
)
NOTICE_STATUS_CANCELLED = "第{seq}号通知（{audience}）在发出前已取消，没有发出。"
NOTICE_CANCELLED = "第{seq}号通知尚未发出，已取消。"
# The 状态 column of the notices export (通知汇总).
RECORDS_NOTICE_OPEN = "进行中"
RECORDS_NOTICE_CLOSED = "已关闭"
RECORDS_NOTICE_SCHEDULED = "待发送"
RECORDS_NOTICE_CANCELLED = "已取消（未发出）"

# --- Simulator access (sessions, CSRF, Host allow-list; see SECURITY.md) ------------------
SIM_UNKNOWN_MEMBER = "没有这个成员：模拟成员须先在群里发言。"
SIM_HOST_REFUSED = "拒绝访问：主机名不在允许列表中（[server] allowed_hosts）。"
SIM_FOREIGN_ORIGIN = "拒绝访问：请求不是来自模拟群聊页面。"
SIM_NO_SESSION = "会话无效或已过期，请刷新页面。"
SIM_NOT_JSON = "请求须为 JSON（Content-Type: application/json）。"
SIM_BAD_CSRF = "拒绝访问：缺少或错误的页面令牌，请刷新页面。"
SIM_BAD_TOKEN = "访问令牌不正确。"
SIM_TOO_LARGE = "请求过大：不得超过 {limit} 字节。"
# --- Faults and overload (bot/overload.py): answers that ask the sender to send again ----------
# The message was not stored (the database is unavailable): nothing was done; the same message may be resent.
SERVICE_UNAVAILABLE = "系统暂时无法处理消息，本条消息未被记录，请稍后再试。"
# The server is past what it can take: the message was refused before anything was done.
SERVICE_BUSY = "系统繁忙，本条消息未被处理，请稍后再试。"

# --- Question bank size: 搜题 while the index is first built -----------------------------------
LOOKUP_NOT_READY = "题库正在加载，请稍后再查。"

# --- reports (issue #15: meeting, notice, study and statistics texts as a branch writes them) ---------------
# A shared place in a ranking (bot/display.ranking): "1. 张三 5题（并列）".
RANK_TIED = "（并列）"
# A study week as dates, Monday to Sunday: "11月16日至22日", "11月30日至12月6日".
WEEK_SPAN = "{month}月{day}日至{end}"
WEEK_END_SAME_MONTH = "{day}日"
WEEK_END_OTHER_MONTH = "{month}月{day}日"
# How long something took (回执用时).
DURATION_UNDER_A_MINUTE = "不到1分钟"
DURATION_MINUTES = "{minutes}分钟"
DURATION_HOURS = "{hours}小时{minutes}分钟"
DURATION_HOURS_ONLY = "{hours}小时"
DURATION_DAYS = "{days}天{hours}小时"
DURATION_DAYS_ONLY = "{days}天"
# "关闭第3号通知" as one phrase (the number follows the word); "关闭通知 3" and "#3" still work.
CMD_NOTICE_CLOSE_NUMBERED = ("关闭第",)
# 通知情况 / 学习情况 asked in a group: the group sees counts; the names go to the asking 支委 directly.
NOTICE_STATUS_COUNTS = (
    "第{seq}号通知（{audience}）于{sent}发出{state}。应回执{expected}人，已回执{done}人，未回执{pending_count}人。"
)
STUDY_STATUS_COUNTS = (
    "本周学习日{day}：应参学{expected}人，已打卡{done}人，参学率{rate}，未打卡{pending_count}人。\n{month}"
)
STATUS_NAMES_SENT = "\n名单已私信发给您。"
STATUS_NAMES_ASK_DIRECT = "\n名单请私聊我查看。"
# --- firstrun ---
# 取消请假 when the member has leave for several upcoming meetings: which one (by number or date).
LEAVE_CANCEL_CHOICE_LINE = "· {kind}#{seq} {when}"
LEAVE_CANCEL_WHICH = "您在以下会议已请假，请写明取消哪一项：\n{lines}\n例如：取消请假 #{seq}，或 取消请假 {day}"
LEAVE_CANCEL_NOT_FOUND = "未找到“{text}”对应的请假。您已请假的会议：\n{lines}\n例如：取消请假 #{seq}，或 取消请假 {day}"
# 取消请假 chose one of several leaves: say which meeting it was.
LEAVE_CANCELLED_ONE = "{name}同志，已取消{when}的{kind}#{seq}请假。"
LEAVE_CANCEL_DAY = "{month}月{day}日"

# --- firstrun: the `yizhan` command line, for Chinese operators (bot/cli.py) ---
CLI_DESCRIPTION = "学习驿站（yizhan）：党支部群聊机器人。"
CLI_USAGE_PREFIX = "用法："
CLI_POSITIONALS = "参数"
CLI_OPTIONALS = "选项"
CLI_HELP_HELP = "显示本帮助并退出"
CLI_HELP_VERSION = "显示版本并退出"
CLI_HELP_CONFIG = "config.toml 的路径（默认：$YIZHAN_CONFIG 或 ./config.toml）"
CLI_HELP_COMMAND = "命令"
CLI_HELP_ACTION = "操作"
CLI_HELP_RUN = "启动服务（模拟器、接口、回调）、发件箱发送器和定时任务（先执行数据库迁移）"
CLI_HELP_HOST = "覆盖 [server] host"
CLI_HELP_PORT = "覆盖 [server] port"
CLI_HELP_DB = "数据库"
CLI_HELP_DB_UPGRADE = "把数据库迁移到最新版本"
CLI_HELP_JOBS = "定时任务"
CLI_HELP_JOBS_LIST = "列出定时任务及下次执行时间"
CLI_HELP_JOBS_RUN = "立即执行一个定时任务（消息由运行中的 yizhan run 发出）"
CLI_HELP_JOB_NAME = "任务名，见 yizhan jobs list"
CLI_HELP_MEETINGS = "会议（主题党日、三会一课）"
CLI_HELP_MEETINGS_ADD = "新建会议（由运行中的机器人发布通知）"
CLI_HELP_KIND = "会议类型"
CLI_HELP_AT = "开始时间，如 '2026-11-28 14:30'（[bot] timezone 的当地时间，默认北京时间）"
CLI_HELP_TOPIC = "主题"
CLI_HELP_LOCATION = "地点"
CLI_HELP_GROUP = "党小组名称（党小组会必填）"
CLI_HELP_CODE = "需要4位签到码（在此显示）"
CLI_HELP_BRANCH = "config.toml 中的支部 id（默认：第一个支部）"
CLI_HELP_MEETINGS_LIST = "列出未结束的会议（即将召开或正在签到）"
CLI_HELP_QUESTIONS = "题库"
CLI_HELP_QUESTIONS_IMPORT = "从 .xlsx、.csv 或 .json 导入题目；有问题的行逐一报告，其余导入"
CLI_HELP_BANK_FILE = "题库文件（表头：题型、题干、选项或A至F列、答案……）"
CLI_HELP_QUESTIONS_EXPORT = "把在用的题目写入 .xlsx（或 .json）"
CLI_HELP_BANK_OUT = "要写入的 .xlsx（或 .json）文件"
CLI_HELP_EXPORT = "导出台账（xlsx）"
CLI_HELP_RECORDS = "台账"
CLI_HELP_EXPORT_KINDS = {
    "attendance": "会议出勤台账（主题党日、三会一课签到）",
    "study": "学习打卡台账",
    "notices": "通知回执台账",
}
CLI_HELP_FROM = "起始日期，YYYY-MM-DD"
CLI_HELP_TO = "结束日期，YYYY-MM-DD"
CLI_HELP_OUT = "要写入的 .xlsx 文件"
# Errors: one line on stderr, after "yizhan: ".
CLI_USAGE_ERROR = "{prog}: {message}（用法见 {prog} --help）"
CLI_CONFIG_ERROR = "配置错误：{error}"
CLI_BAD_LOG_LEVEL = "YIZHAN_LOG_LEVEL：未知的日志级别 {value!r}（DEBUG、INFO、WARNING 或 ERROR）"
CLI_DATABASE_ERROR = "数据库错误：{error}"
CLI_NOT_XLSX = "台账只能写成 .xlsx（含多个工作表，CSV 无法容纳），收到的是 {text!r}"
CLI_OUT_NO_DIR = "--out：目录 {folder} 不存在"
CLI_OUT_IS_DIR = "--out：{path} 是一个目录"
CLI_NO_BRANCH_CONFIG = "--branch：config.toml 中没有支部 {branch!r}（已有：{known}）"
CLI_NONE = "无"
CLI_BAD_DATETIME = "时间应形如 '2026-11-28 14:30'，收到的是 {text!r}"
CLI_BAD_DATE = "日期应形如 2026-11-01，收到的是 {text!r}"
CLI_TO_BEFORE_FROM = "--to 早于 --from"
CLI_NO_BRANCH_DB = "数据库中没有支部 {branch!r}"
CLI_MEETING_PAST = "{when} 已经过去"
CLI_NO_PARTY_GROUP = "{branch}没有党小组 {group!r}"
CLI_GROUP_MEETING_NEEDS_GROUP = "党小组会（group_meeting）需要 --group 党小组名称"
CLI_MEETING_EMPTY_AUDIENCE = "这次会议没有应到人员，未创建"
CLI_BANK_OUT_SUFFIX = "--out 须为 .xlsx 或 .json 文件"
CLI_NOTHING_IMPORTED = "没有导入任何题目"
CLI_UNKNOWN_JOB = "没有名为 {name!r} 的任务（已有：{known}）"
# argparse's own messages, put in Chinese (pattern → template); anything else is shown as argparse says it.
CLI_ARGPARSE_MESSAGES = (
    (
        r"^argument (?P<arg>\S+): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)$",
        "{arg}：无效的选项 {value}（可选：{choices}）",
    ),
    (r"^the following arguments are required: (?P<args>.+)$", "缺少参数：{args}"),
    (r"^unrecognized arguments: (?P<args>.+)$", "无法识别的参数：{args}"),
    (r"^argument (?P<arg>\S+): expected one argument$", "{arg} 需要一个值"),
    (r"^argument (?P<arg>\S+): invalid int value: (?P<value>.+)$", "{arg}：应为整数，收到的是 {value}"),
    (r"^argument (?P<arg>\S+): (?P<rest>.+)$", "{arg}：{rest}"),
)
# Confirmations.
CLI_RUN_OPEN = "yizhan {version}：请打开 {url}（Ctrl+C 停止）"
CLI_RUN_LISTENING = "yizhan {version}：正在 http://{host}:{port}/ 监听（Ctrl+C 停止）"
CLI_DB_AT = "数据库已是最新版本：{revision}"
CLI_JOBS_HEADER = ("任务", "时间表（crontab）", "下次执行", "说明")
CLI_EXPORT_WROTE = "已写入 {path}：{count}{kind}，成员 {rows} 行（{branch}）"
CLI_EXPORT_KINDS = {"attendance": "次会议", "study": "个学习周", "notices": "条通知"}
CLI_MEETING_CREATED = "已创建{kind}#{seq}，{when}；运行中的机器人会在群里发布通知"
CLI_MEETING_CODE = "签到码：{code}"
CLI_BANK_WROTE = "已写入 {path}：{count} 道题"
CLI_BANK_IMPORTED = "{file}：新增 {added}，更新 {updated}，未变 {unchanged}，拒绝 {rejected}"
CLI_BANK_REJECTED = "  第 {row} {unit}：{reason}"
CLI_BANK_UNITS = {"row": "行", "item": "项"}
# yizhan meetings list: a table in Chinese.
CLI_MEETINGS_EMPTY = "暂无会议"
CLI_MEETINGS_HEADER = ("编号", "类型", "时间", "状态", "应到", "地点", "主题")
CLI_MEETING_STATUS_UPCOMING = "未开始"
CLI_MEETING_STATUS_CHECK_IN = "签到中"
CLI_MEETING_STATUS_CLOSING = "签到已结束"
# The demo (simulator with demo data, `[demo] study_day_open`): the week's study day opened at start, any day.
DEMO_STUDY_REMINDER = (
    "【学习日·演示】演示环境已开放本周学习日（{week}），今天即可试“学习打卡”。\n本周学习：{material}\n"
    "学完后请回复“学习打卡”，可附学习内容。正式使用时，学习日按支部设定（默认每周五）开放。"
)
# yizhan jobs run: what the fire wrote, where it goes, and whether it arrived.
CLI_JOB_SENT = "已执行任务 {name}：写入发件箱 {count} 条消息"
CLI_JOB_TARGET_CHAT = "  → 群 {channel}:{target}：{preview}"
CLI_JOB_TARGET_USER = "  → 成员 {channel}:{target}（私聊）：{preview}"
CLI_JOB_DELIVERED = "运行中的 yizhan run 已全部送达（模拟器页面上即可看到；群聊也可用 GET /api/sim/messages 查看）。"
CLI_JOB_NOT_YET = (
    "运行中的 yizhan run 在 {seconds} 秒内送达 {sent}/{count} 条；其余仍在发件箱，可查看："
    "SELECT id, status, last_error FROM outbox WHERE id >= {first};"
)
CLI_JOB_NOT_RUNNING = (
    "没有连上 http://{host}:{port}/ 上运行的 yizhan run：消息留在发件箱（outbox 表），"
    "下次 yizhan run 启动后发出，届时在模拟器或群里可见。"
)
CLI_JOB_NOTHING = "已执行任务 {name}，但这次没有要发送的消息。"
CLI_JOB_STUDY_OPEN = "原因：{branch}本周的学习日（{week}）已经开放，提醒已发出过（每周一次）；现在即可“学习打卡”。"
CLI_JOB_STUDY_SENT = "原因：{branch}本周（{week}）的学习日提醒已发出过（每周一次）。"
CLI_JOB_STUDY_NOT_TODAY = (
    "原因：今天是{today}，不是{branch}的学习日；提醒只在学习日{time}发出，下一个学习日是{next_day}"
    "（见 [branches.study] weekday）。"
)
CLI_JOB_STUDY_OFF = "原因：{branch}的学习日已关闭（[branches.study] enabled = false）。"
# yizhan jobs list: what each job does (by name; study_reminder.<branch> by its prefix).
CLI_JOB_DESCRIPTIONS = {
    "purge_old_records": "删除超过保留期的消息原文、已发消息和执行记录",
    "tick_roll_calls": "发出定时通知、会议提醒和催办，按时结束通知、学习周和会议签到",
    "plan_meetings": "按 [[branches.meetings]] 提前创建例行会议（遇节假日按规则调整）",
    "warn_meeting_cadence": "提醒书记本期尚未召开的规定会议",
    "post_daily_questions": "在开启 daily_quiz 的支部群里发每日一题",
    "study_reminder.": "{branch}的学习日提醒（只在学习日发出）",
}
CLI_JOB_DELIVERED_OTHER = "运行中的 yizhan run 已全部送达。"
CLI_JOB_FAILED = (
    "送达失败 {count} 条（已送达 {sent} 条），原因：{error}。详见："
    "SELECT id, status, last_error FROM outbox WHERE id >= {first};"
)

# --- register --- (issue #15: help menu topics, roles as permissions, a member's quiz results in private)
HELP_MENU_LINE = "· 帮助 {topic} — {blurb}"
HELP_TOPIC_HEADER = "【帮助·{topic}】"
HELP_TOPIC_FOOTER = "发送“帮助”查看功能目录。"
# The topics, in menu order: the word said after 帮助, and what the menu says of it for each role (the entry for
# the highest role not above the sender's). A topic is shown only to those who may use one of its commands.
HELP_TOPICS = {
    "meetings": "会议",
    "notices": "通知",
    "study": "学习",
    "quiz": "答题",
    "points": "积分",
    "roles": "管理",
    "org": "组织",
}
HELP_TOPIC_BLURBS = {
    "meetings": {
        "guest": "会议列表",
        "member": "会议签到、请假、会议列表",
        "secretary": "发起会议、签到请假、考勤更正、会议统计",
    },
    "notices": {"secretary": "发通知、查看回执、关闭通知"},
    "study": {"member": "学习日打卡、学习进度", "secretary": "学习日打卡、学习内容、参学情况"},
    "quiz": {"guest": "排行榜、错题本、搜题", "secretary": "抢答、竞赛、排行榜、错题本、搜题"},
    "points": {"guest": "本人积分、积分规则"},
    "roles": {"admin": "授予或撤销管理权限、调整党小组"},
    "org": {
        "guest": "上下级单位、本月清单、考核得分",
        "secretary": "上下级单位、月清单、季度调度、互查、年度评比",
        "admin": "上下级单位、设置上级、月清单、互查、考核评比",
    },
}
ROLE_REVOKED = "已撤销{name}同志的管理权限，现为{role}。"
ROLE_CHANGED = "已将{name}同志的权限调整为{role}。"
QUIZ_MATCH_RECEIVED = "{name}同志，{question}作答已收到（用时{seconds:.1f}秒），本题结束后在群内公布答案。"
# How a private message names the question it is about.
QUIZ_QUESTION_REF = {
    "rush": "抢答第{position}题",
    "match": "竞赛第{position}题",
    "daily": "今天的每日一题",
    "practice": "本题",
}
QUIZ_EXPLANATION_ONLY = "\n解析：{explanation}"
QUIZ_SOURCE_ONLY = "\n出处：{source}"
# The end of a 抢答 or 竞赛: "【抢答结束】" (+ QUIZ_STOPPED when 结束答题 ended it) + the ranking.
QUIZ_FINAL = "【{mode}结束】{stopped}{body}"
QUIZ_RUSH_HEADER = "\n答对题数："
WRONG_BOOK_SENT_DIRECT = "{name}同志，错题本已私信发送。"
WRONG_BOOK_ASK_DIRECT = "错题本属个人学习记录，不在群内显示。请私聊我发送“错题本”查看。"

# --- intent (bot/intent.py): how members really write ------------------------------------------
# Pinyin initials members type for a few short words (compared after folding: ｑｄ, QD → qd). Each is taken only
# while its context is live (a check-in window, an open notice, a coming meeting, the study day).
INTENT_ABBREVIATIONS = {"qd": "签到", "sd": "收到", "qj": "请假", "dk": "打卡", "xxdk": "学习打卡"}
# Courtesy said around a receipt ("好的，收到", "收到，准时参加", "收到谢谢书记"): alone, none of these is a receipt.
INTENT_COURTESY_WORDS = (
    "谢谢",
    "谢谢书记",
    "谢谢领导",
    "谢谢大家",
    "感谢",
    "多谢",
    "辛苦了",
    "辛苦",
    "准时参加",
    "按时参加",
    "一定参加",
    "准时到",
    "按时到",
    "准时到场",
    "按时完成",
    "遵照执行",
    "坚决执行",
    "照办",
    "马上落实",
    "立即落实",
    "马上办",
    "嗯",
    "嗯嗯",
    "书记",
    "领导",
    "了",
)
# Words a member puts before or after a statement ("好的，已签到", "书记，我请假"), dropped before reading it.
INTENT_LEADING_WORDS = ("好的", "好", "嗯", "嗯嗯", "收到", "明白", "书记", "报告", "您好", "你好")
# A reason before 请假 ("家里有事，请假", "因病请假") must sound like one (else "张三请假了" would be a leave).
INTENT_LEAVE_REASON_HINTS = (
    "事",
    "病",
    "院",
    "差",
    "班",
    "勤",
    "任务",
    "外出",
    "不舒服",
    "发烧",
    "孩子",
    "老人",
    "培训",
)
# A question about these put to the bot ("@学习驿站 怎么请假") gets the help menu, not 搜题.
INTENT_FEATURE_WORDS = (
    "签到",
    "请假",
    "打卡",
    "积分",
    "回执",
    "通知",
    "开会",
    "会议",
    "答题",
    "抢答",
    "竞赛",
    "学习日",
)
INTENT_HOW_WORDS = ("怎么", "如何", "怎样", "在哪")
# Without a question mark, a sentence put to the bot is a question for 搜题 when it asks for a fact with one of these.
INTENT_FACT_WORDS = ("什么", "哪", "多少", "几", "谁", "是否", "何时", "何地")
INTENT_CHAT_PARTICLES = ("呢", "啊", "呀", "吧", "哈", "嘛", "好")
# Talk about a 填空 question, not an answer to it ("哈哈这题好难", "这题谁会？").
INTENT_QUIZ_TALK = (
    "这题",
    "这道",
    "好难",
    "太难",
    "难啊",
    "不会",
    "不知道",
    "知道",
    "想想",
    "出题",
    "蒙",
    "猜",
    "什么",
    "谁",
    "哪",
    "吗",
    "呢",
    "怎么",
    "哈哈",
    "呵呵",
    "嘿嘿",
    "嘻嘻",
)

# --- orgtree: units 党委 / 党总支 / 党支部 (bot/org.py, handlers/org.py) ---------------------------------
UNIT_KIND_NAMES = {"committee_unit": "党委", "general_branch": "党总支", "branch": "党支部"}
# A higher unit's notice: the audience (every member of the units below) as 通知情况 and 定时通知 name it.
ORG_AUDIENCE_ALL_BELOW = "下属各单位全体党员"
ORG_NOTICE_NO_CHATS = "本单位及下级单位均未绑定群，通知无法发出。请管理员先绑定群。"
# 通知情况 for a notice that spans units: a line per unit, then the total (names only within one 党支部).
ORG_NOTICE_STATUS_HEAD = "{unit}第{seq}号通知（{audience}）于{sent}发出{state}，回执情况："
ORG_NOTICE_STATUS_LINE = "· {unit}：应收{expected}人，已收{done}人"
ORG_NOTICE_STATUS_TOTAL = "合计：应收{expected}人，已收{done}人。"
ORG_NOTICE_STATUS_PENDING = "本支部未回执（{count}人）：{names}"
# 本月统计/年度统计 in a 党委 or 党总支: after the sum over the units below, a line per unit.
ORG_STATS_UNIT_LINE = "\n· {unit}：{counts}；出席率{rate}（应到{expected}人次，实到{present}人次）"
ORG_STATS_NONE_HELD = "未召开会议"
# A member of another unit in a 党委's or 党总支's group (NOT_ALLOWED_OUTSIDER there says 本支部).
ORG_NOT_ALLOWED_OUTSIDER = "您不属于本单位，不能在本群使用“{word}”。请在所在支部的群内或私聊我办理。"
# 下级单位 (anyone) and 设置上级 (admins of a unit above both places).
CMD_UNITS_BELOW = ("下级单位", "组织架构")
CMD_SET_PARENT = ("设置上级",)
SUMMARY_UNITS_BELOW = "查看本单位的上级和下级单位"
SUMMARY_SET_PARENT = "调整单位隶属关系，如：设置上级 第一党支部 机关党总支"
ORG_PARENT_LINE = "上级单位：{parent}"
ORG_NO_UNITS_BELOW = "{unit}没有下级单位。"
ORG_UNITS_BELOW_HEAD = "{unit}下级单位（{count}个）："
ORG_INDENT = "　"
ORG_UNIT_LINE = "{indent}· {unit}（{kind}，党员{members}人）"
# 设置上级 X 无: X has no unit above it.
ORG_NO_PARENT_WORDS = ("无", "没有")
ORG_SET_PARENT_USAGE = "请写明单位和其上级单位，例如：设置上级 第一党支部 机关党总支（没有上级写“无”）"
ORG_UNIT_NOT_FOUND = "没有找到单位“{name}”。发送“下级单位”可查看本单位及下级单位名称。"
ORG_PARENT_IN_CONFIG = "{unit}的上级单位已在配置文件中设定，请由系统管理员修改配置。"
ORG_SET_PARENT_NOT_ALLOWED = "只有同时管辖该单位现上级和新上级的单位管理员，才能调整隶属关系。"
ORG_SET_PARENT_INVALID = "不能把{unit}设在“{parent}”之下：党支部下不设单位，单位也不能设在本单位或其下级单位之下。"
ORG_PARENT_SET = "已将{unit}调整到{parent}之下。"
ORG_PARENT_CLEARED = "{unit}已不再隶属任何上级单位。"

# --- cards ---
# Template cards (bot/cards.py): button labels and what the tapper's copy of the card says afterwards.
CARD_RECEIPT_BUTTON = "收到"
CARD_CHECK_IN_BUTTON = "签到"
CARD_LEAVE_BUTTON = "请假"
CARD_STUDY_BUTTON = "学习打卡"
CARD_JUDGE_TRUE = "对"
CARD_JUDGE_FALSE = "错"
CARD_SUBMIT_BUTTON = "提交"
CARD_DONE_RECEIPT = "已收到"
CARD_DONE_CHECK_IN = "已签到"
CARD_DONE_LEAVE = "已请假"
CARD_DONE_STUDY = "已打卡"
CARD_DONE_ANSWERED = "已作答"
CARD_TITLE_NOTICE = "第{seq}号通知"
CARD_TITLE_MEETING = "{kind}#{seq}"
CARD_TITLE_STUDY = "学习日 {date}"
CARD_TITLE_QUIZ = "第{position}题"
# 请假 by tap: recorded at once with this reason; the member may still send "请假 原因" to give the real one.
CARD_LEAVE_NO_REASON = "未填写"
CARD_LEAVE_ADD_REASON = "如需补充原因，请发送“请假 原因”，例如：请假 在外执法"

# --- names ------------------------------------------------------------------------------------------------
# The welcome the AI bot answers when a member first enters its single chat on a day (enter_chat).
WECOM_WELCOME = (
    "{name}同志，我是{bot}，可在此办理学习打卡、会议签到和请假、通知回执、答题与搜题。发送“帮助”查看全部功能。"
)
WECOM_WELCOME_NO_NAME = (
    "同志，我是{bot}，可在此办理学习打卡、会议签到和请假、通知回执、答题与搜题。发送“帮助”查看全部功能。"
)
# --- tasks: 月清单、季调度、年评比 (bot/tasks/, handlers/tasks.py) ---
CMD_TASK_ISSUE = ("下发清单", "下达清单")
CMD_TASK_LIST = ("本月清单", "任务清单", "月清单")
CMD_TASK_DONE = ("完成", "清单完成")
CMD_TASK_EXTEND = ("延期", "申请延期")
CMD_TASK_APPROVE = ("同意延期", "批准延期")
CMD_TASK_REFUSE = ("不同意延期", "不批准延期")
CMD_TASK_QUARTER = ("季度调度", "季调度")
CMD_SCORE = ("考核得分", "本支部得分", "支部得分")
CMD_RANKING = ("年度评比", "年评比", "考核排名")
SUMMARY_TASK_ISSUE = "向下级单位下发月度清单，如：下发清单 12月 任务 第一党支部 12月20日前 召开专题组织生活会"
SUMMARY_TASK_LIST = "查看本月清单及完成情况"
SUMMARY_TASK_DONE = "报告清单事项完成，如：完成 3 已召开专题组织生活会"
SUMMARY_TASK_EXTEND = "申请延期，如：延期 3 12月31日 原因"
SUMMARY_TASK_APPROVE = "审批延期申请，如：同意延期 第一党支部 3（不同意：不同意延期 第一党支部 3）"
SUMMARY_TASK_QUARTER = "查看本季度各单位清单完成情况，如：季度调度 2026Q4"
SUMMARY_SCORE = "查看本支部量化考核得分及各项明细"
SUMMARY_RANKING = "查看下属支部年度评比（考核得分排名）"
# 下发清单: 全部支部 (and these words) stands for every 党支部 below the issuing unit.
TASK_ALL_BRANCHES = ("全部支部", "各支部", "所有支部", "全体支部")
TASK_KINDS = ("责任", "任务", "问题")
TASK_ISSUE_USAGE = (
    "请按格式下发清单，每项一行：\n下发清单 12月\n任务 第一党支部 12月20日前 召开专题组织生活会\n"
    "责任 全部支部 12月31日前 落实意识形态工作责任制 完成标准：报送总结\n（类别：责任/任务/问题；责任单位可写“全部支部”或用顿号分隔多个单位）"
)
TASK_ITEM_FORMAT = (
    "“{line}”格式不对，应为：类别 责任单位 完成时限 内容，如：任务 第一党支部 12月20日前 召开专题组织生活会"
)
TASK_BAD_KIND = "类别“{kind}”不对，应为{kinds}之一。"
TASK_BAD_DUE = "完成时限“{due}”看不懂，请写成如“12月20日前”或“2026-12-20”。"
TASK_BAD_MONTH = "月份“{month}”看不懂，请写成如“12月”或“2026-12”。"
TASK_TOO_MANY = "一次最多下发{limit}项。"
TASK_NO_UNITS_BELOW = "{unit}下没有党支部。"
TASK_OWNER_NOT_BELOW = "“{name}”不是{unit}的下级单位，不能向其下发清单。"
TASK_ISSUE_ONLY_HIGHER = "党支部没有下级单位，清单由党委、党总支下发。"
TASK_ISSUED = "已下发{month}清单：{items}项，涉及{units}个单位，共{rows}条。"
TASK_MONTH = "{year}年{month}月"
TASK_DATE = "{month}月{day}日"
TASK_CRITERIA = "（完成标准：{criteria}）"
TASK_LINE = "{seq}. 【{kind}】{title}{criteria}，{due}前，{state}"
TASK_STATE_OPEN = "未完成"
TASK_STATE_DONE = "已完成"
TASK_STATE_OVERDUE = "已逾期"
TASK_STATE_EXTENSION_ASKED = "延期待批"
TASK_ANNOUNCE = "【{issuer}下发{month}清单】{unit}：\n{lines}\n完成后请支部书记发送“完成 序号 完成情况”。"
TASK_LIST_HEAD = "{unit}{month}清单：\n"
TASK_LIST_EMPTY = "{unit}{month}暂无清单事项。"
TASK_OVERVIEW_HEAD = "{unit}{month}下发清单完成情况：\n"
TASK_OVERVIEW_LINE = "· {unit}：共{total}项，已完成{done}项，逾期{overdue}项"
TASK_OVERVIEW_EMPTY = "{unit}{month}尚未下发清单。"
TASK_NUMBER_USAGE = "请写明清单序号，如：{word} 3"
TASK_NOT_FOUND = "本单位清单中没有第{seq}项。发送“本月清单”可查看序号。"
TASK_DONE = "第{seq}项“{title}”已记为完成。"
TASK_DONE_LATE = "第{seq}项“{title}”已记为完成（超过完成时限）。"
TASK_ALREADY_DONE = "第{seq}项已记为完成。"
TASK_EXTEND_USAGE = "请写明新时限和原因，如：延期 3 12月31日 因参会人员出差"
TASK_EXTEND_NOT_LATER = "新时限应晚于现时限{due}。"
TASK_EXTENSION_REQUESTED = "第{seq}项延期至{due}的申请已报上级单位，批准前仍按原时限。"
TASK_EXTENSION_TO_ISSUER = (
    "{unit}申请清单第{seq}项“{title}”延期：原时限{due}，申请延至{new_due}。原因：{reason}\n"
    "同意请发送“同意延期 {unit} {seq}”，不同意请发送“不同意延期 {unit} {seq}”。"
)
TASK_DECIDE_USAGE = "请写明单位和序号，如：同意延期 第一党支部 3"
TASK_DECIDE_NOT_FOUND = "没有找到{unit}清单第{seq}项。"
TASK_DECIDE_NOT_ALLOWED = "只有下发单位或其上级单位的书记可以审批延期。"
TASK_NO_EXTENSION_ASKED = "{unit}清单第{seq}项没有待审批的延期申请。"
TASK_EXTENSION_APPROVED = "已同意{unit}清单第{seq}项延期至{due}。"
TASK_EXTENSION_REFUSED = "已不同意{unit}清单第{seq}项延期，时限仍为{due}。"
TASK_EXTENSION_APPROVED_NOTE = "上级单位已同意清单第{seq}项“{title}”延期至{due}。"
TASK_EXTENSION_REFUSED_NOTE = "上级单位未同意清单第{seq}项“{title}”延期，请于{due}前完成。"
TASK_REMINDER = "清单事项提醒：\n{lines}\n完成后请发送“完成 序号 完成情况”。"
TASK_REMINDER_LINE = "· 第{seq}项“{title}”，{due}前完成（{days}）"
TASK_DUE_TODAY = "今日到期"
TASK_DUE_IN = "还有{days}天"
TASK_OVERDUE = "以下清单事项已逾期未完成：\n{lines}"
TASK_OVERDUE_LINE = "· {unit}第{seq}项“{title}”，时限{due}"
TASK_BAD_QUARTER = "季度“{quarter}”看不懂，请写成如“2026Q4”。"
TASK_QUARTER_HEAD = "{unit}{year}年第{quarter}季度清单调度：\n"
TASK_QUARTER_LINE = "· {unit}：{total}项，按时完成{on_time}项，逾期完成{late}项，未完成{open}项"
TASK_QUARTER_TOTAL = "\n合计：{total}项，按时完成{on_time}项，逾期完成{late}项，未完成{open}项。"
TASK_QUARTER_EMPTY = "{unit}{year}年第{quarter}季度没有到期的清单事项。"
# xlsx: the import template, 季调度.
TASK_SHEET_LIST = "月度清单"
TASK_SHEET_SUMMARY = "季度调度"
TASK_SHEET_DETAIL = "事项明细"
TASK_TEMPLATE_HEADER = ("月份", "类别", "责任单位", "完成时限", "内容", "完成标准")
TASK_TEMPLATE_EXAMPLES = (
    ("2026-12", "任务", "第一党支部", "2026-12-20", "召开专题组织生活会", "报送会议记录"),
    ("2026-12", "责任", "全部支部", "2026-12-31", "落实意识形态工作责任制", "报送年度总结"),
)
TASK_FILE_NOT_XLSX = "{name}：请使用 .xlsx 文件（可先用 yizhan tasks template 生成模板）"
TASK_FILE_UNREADABLE = "{name}：无法读取（{reason}）"
TASK_FILE_HEADER = "第一行应为表头：{header}"
TASK_FILE_ROW = "第{row}行：{reason}"
TASK_QUARTER_HEADER = ("单位", "事项数", "按时完成", "逾期完成", "未完成")
TASK_DETAIL_HEADER = (
    "责任单位",
    "序号",
    "下发单位",
    "类别",
    "内容",
    "完成标准",
    "原定时限",
    "现行时限",
    "状态",
    "完成时间",
    "完成人",
    "完成情况",
    "延期",
    "申请延至",
    "延期原因",
    "申请人",
    "申请时间",
    "审批人",
    "审批时间",
)
TASK_XLSX_ON_TIME = "按时完成"
TASK_XLSX_LATE = "逾期完成"
TASK_XLSX_OPEN = "未完成"
TASK_EXTENSION_STATES = {"requested": "待审批", "approved": "已同意", "refused": "未同意"}
# 量化计分 (bot/tasks/scoring.py).
SCORE_RULE_NAMES = {
    "meetings": "三会一课",
    "theme_day": "主题党日",
    "study": "参学率",
    "notices": "回执率",
    "tasks": "清单按时完成",
}
SCORE_KIND_PART = "{kind}{met}/{of}期"
SCORE_MONTHS = "{met}/{of}个月"
SCORE_RATE = "{done}/{of}，{rate:.1f}%"
SCORE_RULE_LINE = "· {name}：{score:g}分（满分{full:g}；{detail}）"
SCORE_BREAKDOWN = "{unit}{year}年量化考核得分：{total:g}分\n{lines}"
SCORE_ONLY_BRANCH = "考核得分按党支部计算；党委、党总支请发送“年度评比”查看下属支部得分。"
SCORE_YEAR_USAGE = "请写年份，如：年度评比 2026"
SCORE_RANKING_HEAD = "{unit}{year}年度评比（总分｜{header}）：\n"
SCORE_RANKING_LINE = "{rank}. {unit}：{total:g}分（{parts}）"
SCORE_RANKING_EMPTY = "{unit}下没有党支部。"
SCORE_RANKING_SENT_DIRECT = "年度评比已私信发送。"
SCORE_RANKING_ASK_DIRECT = "年度评比仅供书记查看，请私聊我发送“年度评比”。"
SCORE_CHART_TITLE = "{unit}{year}年度评比"
SCORE_SHEET_RANKING = "{year}年度评比"
SCORE_SHEET_DETAIL = "得分明细"
SCORE_COL_RANK = "名次"
SCORE_COL_UNIT = "党支部"
SCORE_COL_TOTAL = "总分"
SCORE_DETAIL_HEADER = ("党支部", "项目", "得分", "满分", "计算依据")

# --- coordinator: the study nudge names nobody in a group --------------------------------------------------------
# The chats hear how many have not checked in; each of them is reminded directly (names are not announced in a group).
STUDY_NUDGE_COUNT = "【学习提醒】今天是学习日，还有{count}位同志未打卡。学完后请回复“学习打卡”。"
# 设置上级 naming a unit by a name two units the admin reaches share.
ORG_UNIT_AMBIGUOUS = "有多个名为“{name}”的单位，请改用配置中的单位编号（id），例如：设置上级 b3 zzb1"

# --- wecomgaps ---
# Private pushes of one content to many members (a notice's nudge, a meeting reminder) carry no name: the same
# text goes to every member in one WeCom app call (touser "a|b|c", up to 1,000) with its card's buttons.
NOTICE_NUDGE_ALL = "【回执提醒】第{seq}号通知尚未回执：{title}\n请回复“收到”确认。"
MEETING_REMINDER_DIRECT_ALL = (
    "【会议提醒】{kind}将于{when}开始{location_part}。签到时间{window}；不能参加请回复“请假 原因”。"
)
# For the study-day nudge to each pending member (main's STUDY_NUDGE_DIRECT names the member): nameless, so it goes
# to all of them in one app call, with the 学习打卡 card (study_card).
STUDY_NUDGE_DIRECT_ALL = "今天是学习日，您还没有学习打卡。学完后请回复“学习打卡”，可附学习内容。"

# --- crosscheck: 互查 (bot/tasks/crosscheck.py, handlers/crosscheck.py) ---
CMD_CROSSCHECK_OPEN = ("开展互查", "组织互查", "开启互查")
CMD_CROSSCHECK_VIEW = ("互查查看", "互查 查看", "查看互查")
CMD_CROSSCHECK_FINDING = ("互查意见", "互查 意见")
CMD_CROSSCHECK_STATUS = ("互查情况", "互查进度")
CMD_CROSSCHECK_CLOSE = ("结束互查", "互查结束")
SUMMARY_CROSSCHECK_OPEN = "组织下属党支部季度互查（轮流互查），如：开展互查 2026Q4"
SUMMARY_CROSSCHECK_VIEW = "查看本支部互查对象本季度的会议、学习、清单情况"
SUMMARY_CROSSCHECK_FINDING = "提出互查意见（可多条），如：互查意见 党小组会记录不全"
SUMMARY_CROSSCHECK_STATUS = "查看本轮互查安排和意见条数"
SUMMARY_CROSSCHECK_CLOSE = "结束互查，互查意见转为被查支部的问题清单"
CROSSCHECK_QUARTER = "{year}年第{quarter}季度"
CROSSCHECK_ONLY_HIGHER = "互查由党委、党总支组织，党支部不能开展互查。"
CROSSCHECK_NO_BRANCHES = "{unit}下没有党支部，无法开展互查。"
CROSSCHECK_ONE_BRANCH = "{unit}下只有1个党支部，无法开展互查。"
CROSSCHECK_ALREADY = "{unit}{quarter}互查已开展，不能重复开展。"
CROSSCHECK_OVERLAP = "{unit}正在开展互查，涉及相同的党支部，请待其结束后再开展。"
CROSSCHECK_OPENED = (
    "已开展{quarter}互查，{count}个党支部轮流互查：\n{lines}\n各支部书记已收到通知。结束后请发送“结束互查”。"
)
CROSSCHECK_PAIR_LINE = "· {reviewer}检查{reviewed}"
CROSSCHECK_ASSIGNED = (
    "【互查】{unit}开展{quarter}互查，{reviewer}负责检查{reviewed}。\n"
    "发送“互查查看”查阅其本季度会议、学习、清单情况；发送“互查意见 内容”提出意见，可多条。"
)
CROSSCHECK_NOT_ASSIGNED = "本支部没有进行中的互查任务。"
CROSSCHECK_NOT_YOURS = "本轮互查中{reviewer}的检查对象是{reviewed}，不能查看{asked}。"
CROSSCHECK_VIEW_HEAD = "{reviewed}{quarter}情况（互查用，{reviewer}查阅）："
CROSSCHECK_VIEW_MEETINGS = "会议："
CROSSCHECK_VIEW_MEETING_LINE = "· {kind}{count}次，应到{expected}人次，实到{present}人次，请假{leave}人次"
CROSSCHECK_VIEW_NO_MEETINGS = "会议：本季度未召开会议。"
CROSSCHECK_VIEW_STUDY = "学习日：{weeks}次，参学率{rate}（应参学{expected}人次，已打卡{done}人次）"
CROSSCHECK_VIEW_NO_STUDY = "学习日：本季度未开展。"
CROSSCHECK_VIEW_TASKS = "清单（本季度到期{total}项，已完成{done}项，逾期未完成{overdue}项）："
CROSSCHECK_VIEW_NO_TASKS = "清单：本季度没有到期事项。"
CROSSCHECK_VIEW_FOOTER = "本支部已提出意见{count}条。提出意见请发送“互查意见 内容”。"
CROSSCHECK_VIEW_SENT_DIRECT = "互查情况已私信发送。"
CROSSCHECK_FINDING_USAGE = "请写明互查意见，如：互查意见 党小组会记录不全"
CROSSCHECK_FINDING_TOO_LONG = "互查意见不超过{limit}字，请分条提出。"
CROSSCHECK_FINDING_SAVED = "已记录对{reviewed}的第{count}条互查意见。"
CROSSCHECK_NO_ROUND = "{unit}没有进行中的互查。"
CROSSCHECK_STATUS_HEAD = "{unit}{quarter}互查（进行中）："
CROSSCHECK_STATUS_LINE = "· {reviewer}检查{reviewed}：意见{count}条"
CROSSCHECK_STATUS_MINE = "{unit}{quarter}互查：{reviewer}检查{reviewed}，已提出意见{count}条。"
CROSSCHECK_TASK_TITLE = "{quarter}互查发现：{finding}"
CROSSCHECK_TASK_CRITERIA = "整改到位并报送整改情况"
CROSSCHECK_CLOSED = "{quarter}互查已结束：意见{findings}条，已作为问题清单下发{units}个党支部，整改时限{due}。"
CROSSCHECK_CLOSED_SENT = "互查汇总已私信发送本单位书记。"
CROSSCHECK_SUMMARY_HEAD = "{unit}{quarter}互查汇总（已结束）："
CROSSCHECK_SUMMARY_LINE = "· {reviewer}检查{reviewed}：意见{count}条"
CROSSCHECK_SUMMARY_TOTAL = "共{pairs}组，意见{findings}条，已转为问题清单，整改时限{due}。"

# --- coordinator: a tap on a card whose notice, meeting or study week is over --------------------------------------
CARD_STALE_NOTICE = "第{seq}号通知已关闭，或您已回执。"
CARD_STALE_MEETING = "该会议的签到已结束或会议已取消。"
CARD_STALE_STUDY = "这是往期学习日的卡片。本周学习打卡请点本周的卡片，或回复“学习打卡”。"
