"""Shared words: refusals and errors, formats, help and roles, the command line, channels — and every text no single feature owns."""

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
# To a message for the bot that matches nothing: no command given (a bare @, emoji, a greeting); text that is no
# command; a text one edit from a command word the sender may use (suggested, never run).
HELP_SHORT = "请发送“帮助”查看可用功能。"
HELP_UNKNOWN = "未能识别该命令。发送“帮助”可查看可用功能。"
HELP_DID_YOU_MEAN = "未能识别该命令。是否要发送“{word}”？"
SUMMARY_HELP = "查看功能目录；“帮助 会议”等查看详细说明"
SUMMARY_WHOAMI = "查看本人所在支部、党小组和使用权限"
SUMMARY_SET_SECRETARY = "授予支部管理权限（发通知、发起会议、组织答题等），如：设为书记 @张三"
SUMMARY_SET_ADMIN = "授予系统管理权限（含设置权限和党小组），如：设为管理员 @张三"
SUMMARY_SET_MEMBER = "撤销管理权限，恢复为基本权限，如：取消书记 @张三"
SUMMARY_SET_GROUP = "调整所在党小组，如：分组 @张三 执法党小组"
EXAMPLE_SET_SECRETARY = "设为书记 @张三"
EXAMPLE_SET_ADMIN = "设为管理员 @张三"
EXAMPLE_SET_MEMBER = "取消书记 @张三"
EXAMPLE_SET_GROUP = "分组 @张三 {group}"
EXAMPLE_GROUP_NAME = "第一党小组"
LIST_SEPARATOR = "、"
NONE_LISTED = "（无）"
WHOAMI = "{name}同志，所在支部：{branch}，党小组：{group}，使用权限：{role}。"
NO_GROUP = "未分组"

# --- Refusals and errors ----------------------------------------------------------------
NOT_ALLOWED = "“{word}”需{role}。如需办理，请联系支部书记。"
NOT_ALLOWED_ADMIN = "“{word}”需{role}。如需办理，请联系系统管理员。"  # the roles only an admin may give
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
NOTICE_TIME_MISSING = "请写明发送时间，例如：定时通知 明天9:00 请按时参加主题党日"
NOTICE_TIME_AMBIGUOUS = "“{text}”未注明上午或下午，请写成“下午3点”或“15:00”后重新发送。"
NOTICE_TIME_PAST = "{when}已过，请改为此后的时间。"
NOTICE_TIME_INVALID = "未能识别发送时间，请写成“明天9:00”或“11月28日14:30”。"
NOTICE_TIME_TOO_FAR = "{when}距今已满一年，请核对年份，改为一年以内的时间。"
AUDIENCE_BRANCH = "全体党员"

# --- Study day (学习日) and 学习打卡 -----------------------------------------------------
CMD_STUDY_CHECK_IN = ("学习打卡", "打卡学习", "已学习", "学习完成")
PERCENT = "{value:.0%}"
PERCENT_PRECISE = "{value:.1%}"
NAME_SEPARATOR = "、"
DATETIME_FORMAT = "{month}月{day}日（周{weekday}）{hour:02d}:{minute:02d}"
DATE_FORMAT = "{month}月{day}日（周{weekday}）"
YEAR_PREFIX = "{year}年"
WEEKDAY_NAMES = "一二三四五六日"

# --- Meetings (主题党日 / 三会一课): check-in, leave, records ------------------------------
MEETING_KIND_NAMES = {
    "theme_day": "主题党日",
    "member_assembly": "支部党员大会",
    "committee": "支委会",
    "group_meeting": "党小组会",
    "party_lecture": "党课",
}
# The words members name a meeting's kind by (请假/取消请假 … 党员大会): the full name and the shorter ones in use.
MEETING_KIND_WORDS = {
    "theme_day": ("主题党日",),
    "member_assembly": ("支部党员大会", "党员大会", "支部大会"),
    "committee": ("支委会议", "支委会"),
    "group_meeting": ("党小组会议", "党小组会", "党小组"),
    "party_lecture": ("党课",),
}
CMD_CHECK_IN = ("签到", "我签到", "签个到", "到", "已到", "到了", "报到", "签到了")
# Of those, the short ones: a check-in only while a window is open (handlers/meetings.py, bot/core/intent.py).
SHORT_CHECK_INS = frozenset(("到", "已到", "到了"))
CMD_LEAVE = ("请假",)

# --- Question bank and 搜题 -------------------------------------------------------------
CMD_LOOKUP = ("搜题", "查题", "搜答案", "查答案")
# An addressed message counts as a question from this many Chinese characters on.
LOOKUP_MIN_QUESTION_CHARS = 6

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

# --- Authority across branches (bot/core/authority.py) ---------------------------------------
# A member of another branch in this branch's group: refused every command that acts for the branch.
NOT_ALLOWED_OUTSIDER = "您不是本支部党员，不能在本群使用“{word}”。请在所在支部的群内或私聊我办理。"
# Ends the help menu a member of another branch sees in this branch's group.
HELP_GUEST_NOTE = "您不属于本单位，在本群只能使用以上功能。"
# Follows 我是谁 when asked in another branch's group.
WHOAMI_GUEST_NOTE = "本群属于{branch}，您在本群不计入应到、应回执人数。"

# --- Dates and times in meeting commands; the points command (积分) ---------------------
# A member's own points; bare "积分" only as the whole message, so "积分制……" in chat is not a command.
CMD_MY_POINTS = ("我的积分", "查积分", "查询积分", "积分查询", "查看积分", "我的得分")

# --- Simulator access (sessions, CSRF, Host allow-list; see SECURITY.md) ------------------
SIM_UNKNOWN_MEMBER = "没有这个成员：模拟成员须先在群里发言。"
SIM_HOST_REFUSED = "拒绝访问：主机名不在允许列表中（[server] allowed_hosts）。"
SIM_FOREIGN_ORIGIN = "拒绝访问：请求不是来自模拟群聊页面。"
SIM_NO_SESSION = "会话无效或已过期，请刷新页面。"
SIM_NOT_JSON = "请求须为 JSON（Content-Type: application/json）。"
SIM_BAD_CSRF = "拒绝访问：缺少或错误的页面令牌，请刷新页面。"
SIM_BAD_TOKEN = "访问令牌不正确。"
SIM_TOO_LARGE = "请求过大：不得超过 {limit} 字节。"

# --- Faults and overload (bot/core/overload.py): answers that ask the sender to send again ----------
# The message was not stored (the database is unavailable): nothing was done; the same message may be resent.
SERVICE_UNAVAILABLE = "系统暂时无法处理消息，本条消息未被记录，请稍后再试。"
# The server is past what it can take: the message was refused before anything was done.
SERVICE_BUSY = "系统繁忙，本条消息未被处理，请稍后再试。"

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
CLI_DATABASE_ERROR = "数据库 {database} 出错：{error}"
CLI_DATABASE_FILE_UNREACHABLE = "无法打开数据库文件 {path}：请检查它所在的目录是否存在、是否可读写（[database] url）"
CLI_DATABASE_UNREACHABLE = (
    "无法连接数据库 {url}：请检查数据库服务是否在运行，以及 [database] url 中的主机、端口、用户名、密码和库名"
)
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
CLI_BANK_OUT_SUFFIX = "题库只能写成 .xlsx 或 .json，收到的是 {text!r}"
CLI_NOTHING_IMPORTED = "没有导入任何题目"
CLI_UNKNOWN_JOB = "没有名为 {name!r} 的任务（已有：{known}）"
# argparse's own messages, put in Chinese (pattern → template); anything else is shown as argparse says it.
CLI_ARGPARSE_MESSAGES = (
    (  # a word where a command (or a command's action, or a kind of records) is expected
        r"^argument (?P<metavar>COMMAND|ACTION|RECORDS): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)$",
        "{value} 不是 {prog} 的{kind}；可用的{kind}：{choices}",
    ),
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
# What a subcommand's metavar names, for the message above; its choices are listed with LIST_SEPARATOR.
CLI_SUBCOMMAND_KINDS = {"COMMAND": "命令", "ACTION": "操作", "RECORDS": "台账种类"}
# Confirmations.
CLI_RUN_OPEN = "yizhan {version}：请打开 {url}（Ctrl+C 停止）"
CLI_RUN_LISTENING = "yizhan {version}：正在 http://{host}:{port}/ 监听（Ctrl+C 停止）"
CLI_DB_AT = "数据库已是最新版本：{revision}"
CLI_DB_UPGRADED = "数据库已升级到最新版本：{revision}"
CLI_JOBS_HEADER = ("任务", "时间表（crontab）", "下次执行", "说明")
CLI_EXPORT_WROTE = "已写入 {path}：{count}{kind}，成员 {rows} 行（{branch}）"
CLI_EXPORT_KINDS = {"attendance": "次会议", "study": "个学习周", "notices": "条通知"}
CLI_MEETING_CREATED = "已创建{kind}#{seq}，{when}；运行中的机器人会在群里发布通知"
CLI_MEETING_CODE = "签到码：{code}"
CLI_BANK_WROTE = "已写入 {path}：{count} 道题"
CLI_BANK_IMPORTED = "{file}：新增 {added}，更新 {updated}，未变 {unchanged}，拒绝 {rejected}"
CLI_BANK_REJECTED = "  第 {row} {unit}：{reason}"
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
CLI_JOB_STUDY_CLOSED = (
    "原因：今天是{branch}的学习日，但打卡已于{close}截止，截止后不再发提醒（见 [branches.study] close_after_hours）。"
)
# yizhan jobs list: what each job does (by name; study_reminder.<branch> by its prefix).
CLI_JOB_DESCRIPTIONS = {
    "purge_old_records": "删除超过保留期的消息原文、已发消息和执行记录",
    "tick_roll_calls": "发出定时通知、会议提醒和催办，按时结束通知、学习周和会议签到",
    "plan_meetings": "按 [[branches.meetings]] 提前创建例行会议（遇节假日按规则调整）",
    "warn_meeting_cadence": "提醒书记本期尚未召开的规定会议",
    "post_daily_questions": "在开启 daily_quiz 的支部群里发每日一题",
    "refresh_member_names": "从企业微信通讯录重新读取成员姓名（config.toml 中写明的姓名保持不变）",
    "remind_tasks": "月清单：到期前（按工作日）提醒，逾期事项向下发单位报告一次",
    "issue_recurring_tasks": "月清单：按 [[tasks.recurring]] 下发本月事项",
    "push_quarter_summary": "季调度：向下发单位推送上季度清单完成情况",
    "study_reminder.": "{branch}的学习日提醒（只在学习日发出）",
}
CLI_JOB_DELIVERED_OTHER = "运行中的 yizhan run 已全部送达。"
CLI_JOB_FAILED = (
    "送达失败 {count} 条（已送达 {sent} 条），原因：{error}。详见："
    "SELECT id, status, last_error FROM outbox WHERE id >= {first};"
)
# `yizhan tasks …` (bot/cli.py _task_parsers, _tasks): 月清单, 季调度, 年评比.
CLI_HELP_TASKS = "月清单、季调度、年评比"
CLI_HELP_TASKS_TEMPLATE = "写出月度清单导入模板（.xlsx）"
CLI_HELP_TASKS_IMPORT = "从填好的模板下发清单（有错误的行则一项也不下发）"
CLI_HELP_TASKS_EXPORT = "季度调度：各单位清单完成情况及事项明细（.xlsx）"
CLI_HELP_TASKS_SCORES = "年度评比：下属党支部量化考核得分（.xlsx，可另出图表 .png）"
CLI_HELP_XLSX_OUT = "要写入的 .xlsx 文件"
CLI_HELP_XLSX_IN = "填好的 .xlsx 模板"
CLI_HELP_ISSUING_UNIT = "下发单位在 config.toml 中的 id（党委或党总支）"
CLI_HELP_UNIT = "单位在 config.toml 中的 id"
CLI_HELP_QUARTER = "季度，如 2026Q4"
CLI_HELP_YEAR = "年份，如 2026"
CLI_HELP_SCORE_CHART = "另写出得分图表（.png）"
CLI_TASKS_TEMPLATE_WRITTEN = "已写出模板 {file}"
CLI_TASKS_NOTHING_TO_ISSUE = "没有可下发的事项"
CLI_TASKS_NONE_ISSUED = "yizhan: 未下发任何事项"
CLI_TASKS_NO_UNIT = "yizhan: 数据库中没有单位 {unit!r}"
CLI_TASKS_ISSUED = "{unit}：已下发{items}项，共{rows}条（由运行中的机器人通知各单位）"
CLI_TASKS_QUARTER_WRITTEN = "已写出 {file}：{units}个单位，{items}项（{unit}）"
CLI_TASKS_SCORES_WRITTEN = "已写出 {file}：{branches}个党支部（{unit}{year}年度评比）"
CLI_TASKS_NO_FONT = "yizhan: 未找到中文字体（请安装 fonts-wqy-microhei），未生成图表"
CLI_TASKS_CHART_WRITTEN = "已写出图表 {file}"

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
    "notices": {"member": "通知回执", "secretary": "发通知、查看回执、关闭通知"},
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
# Words that ask for a topic without being one of its command words: '帮助 打卡', '@学习驿站 怎么打卡', '帮助 收到'.
HELP_TOPIC_ALIASES = {"打卡": "study", "收到": "notices", "回执": "notices"}
ROLE_REVOKED = "已撤销{name}同志的管理权限，现为{role}。"
ROLE_CHANGED = "已将{name}同志的权限调整为{role}。"

# --- intent (bot/core/intent.py): how members really write ------------------------------------------
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
# Said after a statement, neither a receipt (a notice's 收到) nor a note ('学习已完成，请书记查收'); to the bot alone,
# no command given.
INTENT_CHEERING_WORDS = ("请查收", "请书记查收", "请审阅", "请书记审阅", "加油", "大家加油", "继续努力")
# Greetings put to the bot ("@学习驿站 你好", "在吗", "早上好"): with courtesy and receipt words, no command given.
INTENT_GREETING_WORDS = (
    "你好",
    "您好",
    "你们好",
    "大家好",
    "大家",
    "在吗",
    "在么",
    "在不在",
    "早上好",
    "上午好",
    "中午好",
    "下午好",
    "晚上好",
    "早安",
    "晚安",
    "早",
    "请问",
    "请问一下",
    "同志",
    "小助手",
    "hello",
    "hi",
    "哈喽",
    "嗨",
    "呀",
    "啊",
    "哦",
    "哈",
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
# What may come before the how-word of a question about a command (the longest first).
INTENT_HOW_LEADS = ("我想问一下", "想问一下", "我想问", "请问一下", "请问", "问一下", "我们", "我要", "我")
# "怎么请假", "如何才能签到", "怎样搜题呢": a how-word, at most this many characters, a command word, at most this many
# after it — the help of that command (bot/core/intent.py _asked_command).
INTENT_HOW_GAP = 2
INTENT_HOW_TAIL = 3
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

# --- orgtree: units 党委 / 党总支 / 党支部 (bot/core/org.py, handlers/org.py) ---------------------------------
UNIT_KIND_NAMES = {"committee_unit": "党委", "general_branch": "党总支", "branch": "党支部"}
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
# Template cards (bot/core/cards.py): button labels and what the tapper's copy of the card says afterwards.
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

# --- names ------------------------------------------------------------------------------------------------
# The welcome the AI bot answers when a member first enters its single chat on a day (enter_chat).
WECOM_WELCOME = (
    "{name}同志，我是{bot}，可在此办理学习打卡、会议签到和请假、通知回执、答题与搜题。发送“帮助”查看全部功能。"
)
WECOM_WELCOME_NO_NAME = (
    "同志，我是{bot}，可在此办理学习打卡、会议签到和请假、通知回执、答题与搜题。发送“帮助”查看全部功能。"
)

# --- coordinator: the study nudge names nobody in a group --------------------------------------------------------
# 设置上级 naming a unit by a name two units the admin reaches share.
ORG_UNIT_AMBIGUOUS = "有多个名为“{name}”的单位，请改用配置中的单位编号（id），例如：设置上级 b3 zzb1"
