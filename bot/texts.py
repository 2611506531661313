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
ROLE_NAMES = {"guest": "其他支部党员", "member": "党员", "secretary": "书记/组织委员", "admin": "管理员"}

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

# --- Meetings (主题党日 / 三会一课): check-in, leave, records ------------------------------
MEETING_KIND_NAMES = {
    "theme_day": "主题党日",
    "member_assembly": "支部党员大会",
    "committee": "支部委员会",
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
SUMMARY_MEETING_CODE = "查看进行中会议的签到码（仅自己可见）"
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
MEETING_NO_AUDIENCE = "{audience}还没有成员，会议没有创建。"
MEETING_ANNOUNCE = (
    "【{kind}】{when}{location_part}{topic_part}。\n应参加：{audience}。签到时间{window}，不能参加请回复“请假 原因”。"
)
MEETING_REMINDER = "【会议提醒】{kind}将于{when}开始{location_part}{topic_part}。签到时间{window}。"
MEETING_REMINDER_DIRECT = "【会议提醒】{name}同志，{kind}将于{when}开始{location_part}。不能参加请回复“请假 原因”。"
MEETING_WINDOW = "{start}–{end}"
MEETING_CHECKED_IN = "{name}，{kind}签到成功（{time}）。"
MEETING_CHECKED_IN_LATE = "{name}，{kind}签到成功（{time}，迟到）。"
MEETING_ALREADY = "{name}，您已经签过到了。"
MEETING_NO_WINDOW = "现在没有可以签到的会议。"
MEETING_NOT_YET = "{kind}的签到从{start}开始，请到时再签。"
MEETING_NOT_AUDIENCE = "本次{kind}的参加对象是{audience}，您不需要签到。"
MEETING_CODE_NEEDED = "本次{kind}需要签到码，请发送“签到 四位签到码”（签到码在会场公布）。"
MEETING_CODE_WRONG = "签到码不对，请核对会场公布的四位数字后再试。"
MEETING_LEAVE_OK = "{name}，已为您登记{kind}请假：{reason}。"
MEETING_LEAVE_ASKED = "{name}，请假申请已提交，待书记批准：{reason}。"
MEETING_LEAVE_NEED_REASON = "请写明请假原因，例如：请假 在外执法"
MEETING_LEAVE_NONE = "近期没有需要您参加的会议。"
MEETING_LEAVE_ALREADY_IN = "{name}，您已签到，不需要请假。"
MEETING_LEAVE_REQUEST_TO_SECRETARY = "【请假申请】{name}申请{kind}（{when}）请假：{reason}。同意请回复“准假 @{name}”。"
MEETING_LEAVE_APPROVED = "已批准{name}的{kind}请假。"
MEETING_LEAVE_APPROVED_DIRECT = "您的{kind}请假已获批准。"
MEETING_NO_REQUEST = "{name}没有待批准的请假。"
MEETING_LEAVE_CANCELLED = "{name}，已取消{kind}的请假。"
MEETING_NO_LEAVE = "您没有可取消的请假。"
MEETING_CORRECTED = "已将{name}在{kind}#{seq}的记录更正为{status}（原因：{reason}），已记入更正记录。"
MEETING_CORRECT_NEED_REASON = "请写明原因，例如：补签 @张三 现场签到时手机没电"
MEETING_CORRECT_NO_MEETING = "没有找到可更正的会议。"
MEETING_CORRECT_NOT_AUDIENCE = "{name}不在{kind}#{seq}的参加对象中。"
MEETING_SUMMARY = (
    "【{kind}#{seq} 签到结果】应到{expected}人，实到{present}人{late_part}，请假{leave}人，缺席{absent}人。"
    "\n请假：{leave_names}\n缺席：{absent_names}"
)
MEETING_LATE_PART = "（其中迟到{late}人）"
MEETING_LIST_HEADER = "近期会议："
MEETING_LIST_LINE = "· {kind}#{seq} {when}{location_part}（应到{expected}人）"
MEETING_LIST_EMPTY = "近期没有安排会议。"
MEETING_CODE_SHOWN = "{kind}#{seq}的签到码：{code}"
MEETING_NO_CODE = "进行中的会议没有设置签到码。"
MEETING_CANCELLED = "【会议取消】{kind}（原定{when}）取消，请相互转告。"
MEETING_NOT_FOUND = "没有找到会议#{seq}。发送“会议列表”可查看近期会议。"
MEETING_STATS = (
    "{period}会议情况：{counts}。\n出席率：{rate}（应到{expected}人次，实到{present}人次，请假{leave}人次）。"
)
MEETING_STATS_COUNT = "{kind}{count}次"
MEETING_STATS_PERIOD_MONTH = "{year}年{month}月"
MEETING_STATS_PERIOD_YEAR = "{year}年"
MEETING_CADENCE_WARNING = "【会议提醒·仅书记可见】{period}还没有召开{kinds}，按规定每{cadence}至少一次，请及时安排。"
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
SUMMARY_MATCH = "发起竞赛，如：竞赛 5题 20秒 党史（限时作答，越快得分越高）"
SUMMARY_STOP_QUIZ = "提前结束本群正在进行的抢答或竞赛"
SUMMARY_LEADERBOARD = "查看答题积分排行，如：排行榜 本月、排行榜 执法党小组、排行榜 本群"
SUMMARY_OPT_OUT = "不在公开排行榜上显示我（参加排名可恢复）"
SUMMARY_WRONG_BOOK = "查看我答错的题，发送“重做 1”再练一次"

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
QUIZ_STARTED = "{mode}开始！共{count}题{tag_part}，每题限时{seconds}秒。"
QUIZ_TAG_PART = "（{tag}）"
QUIZ_NOT_ENOUGH = "题库里{tag_part}的题目不够，现有{available}道。"
QUIZ_ALREADY_RUNNING = "本群已有{mode}在进行，请等它结束后再发起。"
QUIZ_COUNT_INVALID = "题数请在1到{max}之间。"
QUIZ_SECONDS_INVALID = "每题时间请在5到3600秒之间。"
QUIZ_NOT_IN_GROUP = "抢答和竞赛请在群里发起。"
QUIZ_RUSH_WIN = "🎉 {name}抢答正确！答案：{answer}"
QUIZ_RUSH_TOO_SLOW = "慢了一步，{winner}已经抢答成功。"
QUIZ_WRONG = "{name}，答案不对哦。"
QUIZ_ALREADY_ANSWERED = "{name}，这道题您已经答过了。"
QUIZ_DAILY_RECEIVED = "已收到您的每日一题答案，{close}公布结果。"
QUIZ_TIMEOUT = "⏰ 时间到，本题无人答对。正确答案：{answer}"
QUIZ_EXPLANATION = "\n解析：{explanation}（{source}）"
QUIZ_MATCH_REVEAL = "⏰ 第{position}题结束。正确答案：{answer}\n本题正确率{rate}（{correct}/{answered}人答对）{fastest}"
QUIZ_MATCH_FASTEST = "，最快：{name} {seconds:.1f}秒"
QUIZ_DAILY_REVEAL = "【每日一题·揭晓】正确答案：{answer}{explanation}\n答对的同志：{names}（{correct}/{answered}）"
QUIZ_DAILY_NOBODY = "暂无"
QUIZ_RUSH_FINAL = "🏁 抢答结束！{ranking}"
QUIZ_MATCH_FINAL = "🏁 竞赛结束！{podium}{teams}"
QUIZ_RANK_LINE = "\n{place}. {name} {value}"
QUIZ_RUSH_VALUE = "{wins}题"
QUIZ_MATCH_VALUE = "{score}分"
QUIZ_PODIUM_HEADER = "\n🏆 领奖台："
QUIZ_TEAM_HEADER = "\n党小组总分："
QUIZ_TEAM_LINE = "\n· {group} {score}分"
QUIZ_NO_RANKING = "\n本次共{count}人参加，感谢参与！"
QUIZ_NO_WINNERS = "\n本次没有人答对，下次加油！"
QUIZ_STOPPED = "本次{mode}已提前结束。"
QUIZ_NOTHING_RUNNING = "本群现在没有进行中的抢答或竞赛。"
QUIZ_UNGROUPED = "未分组"
LEADERBOARD_HEADER = "【答题积分榜·{scope}·{period}】"
LEADERBOARD_LINE = "\n{place}. {name} {points}分"
CHART_POINTS = "{value}分"
LEADERBOARD_EMPTY = "【答题积分榜·{scope}·{period}】暂时还没有积分。"
LEADERBOARD_OFF = "本支部没有开启公开排行榜。发送“错题本”可以查看自己的练习情况。"
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
RANKING_OPTED_OUT = "好的，您不会出现在公开排行榜上了。发送“参加排名”可以恢复。"
RANKING_OPTED_IN = "好的，您会重新出现在排行榜上。"
WRONG_BOOK_HEADER = "{name}的错题本（最近{count}道）："
WRONG_BOOK_LINE = "\n{index}. {stem}"
WRONG_BOOK_FOOTER = "\n发送“重做 1”可以再练第1题。"
WRONG_BOOK_EMPTY = "您的错题本是空的，继续保持！"
WRONG_BOOK_BAD_INDEX = "请写错题本里的序号，例如：重做 1"
PRACTICE_RIGHT = "✅ 答对了！这道题已移出错题本。答案：{answer}"
PRACTICE_WRONG = "还不对哦。正确答案：{answer}{explanation}"

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
LOOKUP_NEED_QUERY = "请在“搜题”后面写上题目，例如：搜题 预备党员的预备期是多长时间"
LOOKUP_TOO_SHORT = "题目太短了，请多写几个字，我好找得准一些。"
LOOKUP_NOT_FOUND = "抱歉，题库里没有找到和这道题足够接近的题目，为免误导就不猜了。可以写出更完整的题干再试一次。"
LOOKUP_QUIZ_RUNNING = "本群正在进行抢答或竞赛，为保证公平，搜题暂停使用，等答题结束后再来查吧。"
LOOKUP_RESULT = (
    "【搜题】找到最接近的题目（匹配度{score}%）：\n（{type}）{stem}{options}\n答案：{answer}{explanation}{source}"
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
NOT_ALLOWED_OUTSIDER = "抱歉，您不是本支部党员，不能在本群使用“{word}”，请在所在支部的群里或私聊我办理。"
# Ends the help menu a member of another branch sees in this branch's group.
HELP_GUEST_NOTE = "您不是本支部党员，在本群只能使用以上功能。"
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
SUMMARY_MY_POINTS = "查看本人积分（私信发送）；“积分规则”查看计分办法"
SUMMARY_POINTS_RULES = "查看积分规则"
POINTS_MINE = "{name}同志的积分（截至{date}）：\n本月{month}分，本年{year}分，累计{total}分。{lines}"
POINTS_MINE_LINE = "\n· {source}：本月{month}分，本年{year}分，累计{total}分"
POINTS_MINE_EMPTY = "{name}同志，您目前还没有积分。发送“积分规则”可查看计分办法。"
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
QUIZ_ANSWER_LATE = "{name}同志，本题作答时间已过，此次作答不计分。"
# Leaderboard: two members of one name are told apart by their 党小组, else by their member number.
CHART_NAMESAKE = "{name}（{detail}）"
CHART_MEMBER_NUMBER = "编号{id}"

# --- Scheduled notices and records (input/records review) ----------------------------------------------------
# A scheduled notice has not gone out: it is listed and reported as 待发送, never as 未回执.
NOTICE_LIST_SCHEDULED_LINE = "· 通知#{seq} {title}（待发送，{when}发出，需回执{expected}人）"
NOTICE_STATUS_SCHEDULED = "通知#{seq}（{audience}）尚未发出，将于{when}发出，需回执{expected}人。发出后可查看回执情况。"
NOTICE_STATUS_CANCELLED = "通知#{seq}（{audience}）在发出前已取消，没有发出。"
NOTICE_CANCELLED = "通知#{seq}尚未发出，已取消。"
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
LOOKUP_NOT_READY = "题库正在加载，请稍后再搜题。"

# --- orgtree: units 党委 / 党总支 / 党支部 (bot/org.py, handlers/org.py) ---------------------------------
UNIT_KIND_NAMES = {"committee_unit": "党委", "general_branch": "党总支", "branch": "党支部"}
# A higher unit's notice: the audience (every member of the units below) as 通知情况 and 定时通知 name it.
ORG_AUDIENCE_ALL_BELOW = "下属各单位全体党员"
ORG_NOTICE_NO_CHATS = "本单位及下级单位都还没有绑定群，通知无法发出。请管理员先绑定群。"
# 通知情况 for a notice that spans units: a line per unit, then the total (names only within one 党支部).
ORG_NOTICE_STATUS_HEAD = "{unit}通知#{seq}（{audience}，{sent}发出{state}）回执情况："
ORG_NOTICE_STATUS_LINE = "· {unit}：应收{expected}人，已收{done}人"
ORG_NOTICE_STATUS_TOTAL = "合计：应收{expected}人，已收{done}人。"
ORG_NOTICE_STATUS_PENDING = "本支部未回执（{count}人）：{names}"
# 本月统计/年度统计 in a 党委 or 党总支: after the sum over the units below, a line per unit.
ORG_STATS_UNIT_LINE = "\n· {unit}：{counts}；出席率{rate}（应到{expected}人次，实到{present}人次）"
ORG_STATS_NONE_HELD = "未召开会议"
# A member of another unit in a 党委's or 党总支's group (NOT_ALLOWED_OUTSIDER there says 本支部).
ORG_NOT_ALLOWED_OUTSIDER = "抱歉，您不属于本单位，不能在本群使用“{word}”，请在所在支部的群里或私聊我办理。"
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
