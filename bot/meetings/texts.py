"""What the meetings feature says in chat, and its command words, kept in one place for review."""

from __future__ import annotations

# --- Meetings (主题党日 / 三会一课): check-in, leave, records ------------------------------
# Command words that create each kind ("发起主题党日 11月28日14:30 三楼会议室 主题：学习党章").
CMD_CREATE_MEETING = {
    "theme_day": ("发起主题党日", "召开主题党日"),
    "member_assembly": ("发起党员大会", "发起支部党员大会", "召开党员大会"),
    "committee": ("发起支委会", "发起支部委员会", "召开支委会"),
    "group_meeting": ("发起党小组会", "召开党小组会"),
    "party_lecture": ("发起党课", "上党课"),
}
CMD_CANCEL_LEAVE = ("取消请假", "销假")
CMD_APPROVE_LEAVE = ("准假", "批准请假")
CMD_MAKE_UP = ("补签",)
CMD_MARK_LEAVE = ("记请假",)
CMD_MEETINGS = ("会议列表", "近期会议")
CMD_MEETING_CODE = ("签到码",)
CMD_CANCEL_MEETING = ("取消会议",)
CMD_MEETING_STATUS = ("签到情况", "会议情况", "签到统计", "出席情况")
CMD_STATS_MONTH = ("本月统计",)
CMD_STATS_YEAR = ("年度统计", "本年统计")
SUMMARY_CREATE_MEETING = "发起会议，如：发起主题党日 11月28日14:30 三楼会议室 主题：学习党章（支部党员大会、支委会、党小组会、党课同理；加“签到码”需现场签到码）"
SUMMARY_CHECK_IN = "会议签到（签到时间内），有签到码时：签到 1234"
SUMMARY_LEAVE = "会议请假，如：请假 在外执法；指定会议：请假 #2 在外执法"
SUMMARY_CANCEL_LEAVE = "取消请假"
SUMMARY_APPROVE_LEAVE = "批准请假，如：准假 @张三；指定会议：准假 #2 @张三"
SUMMARY_MAKE_UP = "更正记录为已出席，如：补签 @张三 现场签到时手机没电"
SUMMARY_MARK_LEAVE = "更正记录为请假，如：记请假 @张三 临时执勤"
SUMMARY_MEETINGS = "查看近期会议"
SUMMARY_MEETING_CODE = "查看进行中会议的签到码（仅本人可见）"
SUMMARY_CANCEL_MEETING = "取消一场会议，如：取消会议 3"
SUMMARY_MEETING_STATUS = "查看进行中会议的应到、实到、请假、未签到人数，指定会议：签到情况 #2"
SUMMARY_STATS = "本月/年度会议次数与出席率（本月统计、年度统计）"
EXAMPLE_APPROVE_LEAVE = "准假 @张三"
EXAMPLE_MAKE_UP = "补签 @张三 现场签到时手机没电"
EXAMPLE_MARK_LEAVE = "记请假 @张三 临时执勤"
MEETING_CODE_WORD = "签到码"
MEETING_TOPIC_WORDS = ("主题：", "主题:", "主题")
# The confirmation to a secretary who did not see the announcement where they wrote (directly, or a 支委会 created in
# a group): the meeting in full.
MEETING_CREATED = "已发起{kind}#{seq}：{when}{location_part}{topic_part}。\n应到{expected}人，签到时间{window}。"
# … and where the announcement was just posted (the group the command was typed in): one line that does not repeat
# it, with the number that 请假 #N, 取消会议 N and 补签 #N take.
MEETING_CREATED_SHORT = "已发起{kind}#{seq}，应到{expected}人，签到结束后将发布签到结果。"
# After either, in a group, for a meeting with a 签到码 (the code itself goes to the secretary directly); and the
# group's answer to 签到码 (the codes go directly; none set: MEETING_NO_CODE is said where asked).
MEETING_CODE_SENT = "签到码已私信发给您。"
# … where the bot cannot write to the secretary unprompted (a WeCom AI bot without the app): ask directly.
MEETING_CODE_ASK_DIRECT = "签到码请私聊我发送“签到码”查看。"
MEETING_LOCATION_PART = "，地点：{location}"
MEETING_TOPIC_PART = "，主题：{topic}"
MEETING_CODE_SECRET = "{kind}#{seq}的签到码是 {code}，请在会场公布。"
MEETING_NEED_GROUP = "请写明是哪个党小组，例如：发起党小组会 执法党小组 周五15:00 ……。本支部的党小组有：{groups}"
MEETING_NO_AUDIENCE = "{audience}尚无成员，会议未创建。"
MEETING_ANNOUNCE = "【{kind}】{when}{location_part}{topic_part}。\n应参加：{audience}。签到时间{window}{code_part}，不能参加请回复“{leave}”。"
# {code_part} of the announcement and the direct reminder, for a meeting with a 签到码.
MEETING_CODE_PART = "，签到需输入会场公布的四位签到码"
# The 请假 an announcement (or a direct reminder) asks for: a plain 请假 is for the soonest open meeting, so with
# another meeting open it names its own by number (the shortest selector to type on a phone, and never ambiguous).
MEETING_ANNOUNCE_LEAVE = "请假 原因"
MEETING_ANNOUNCE_LEAVE_FOR = "请假 #{seq} 原因"
MEETING_REMINDER = "【会议提醒】{kind}将于{when}开始{location_part}{topic_part}。签到时间{window}。"
# {kind} of a 党小组会 in a reminder or a cancellation, which the whole branch's group reads: which 党小组's.
MEETING_KIND_OF_GROUP = "{kind}（{group}）"
MEETING_WINDOW = "{start}至{end}"
MEETING_CHECKED_IN = "{name}同志，{kind}签到成功（{time}）。"
MEETING_CHECKED_IN_LATE = "{name}同志，{kind}签到成功（{time}，迟到）。"
MEETING_ALREADY = "{name}同志，您已签到，无需重复签到。"
MEETING_NO_WINDOW = "目前没有正在签到的会议。"
MEETING_NOT_YET = "{kind}签到时间从{start}开始，请届时签到。"
MEETING_NOT_AUDIENCE = "本次{kind}的参加对象是{audience}，您无需签到。"
MEETING_CODE_NEEDED = "本次{kind}需要签到码，请发送“签到 四位签到码”（签到码在会场公布）。"
MEETING_CODE_WRONG = "签到码有误，请核对会场公布的四位数字后重新签到。"
# After CODE_TRIES wrong codes (bot/meetings/domain.py): no more tries; the secretaries are told once.
MEETING_CODE_LOCKED = "{name}同志，签到码已输错{tries}次，不能再签到，请联系书记补签。"
# No secretary could be written to privately (an AI bot on HTTP callbacks alone): the member takes it to them.
MEETING_CODE_LOCKED_NOT_PASSED_ON = "{name}同志，签到码已输错{tries}次，不能再签到；未能通知书记，请直接告知书记补签。"
MEETING_CODE_LOCKED_TO_SECRETARY = "【签到码】{name}同志在{kind}#{seq}已输错签到码{tries}次，不能再签到；如确已到会，请发送“补签 #{seq} @{name} 原因”。"
# The leave replies name the meeting by its time: a typed 请假 may be for a later meeting than the soonest, and
# several meetings of one kind (two 主题党日) may be open at once.
MEETING_LEAVE_OK = "{name}同志，已登记{when}的{kind}请假：{reason}。"
MEETING_LEAVE_ASKED = "{name}同志，{when}的{kind}请假申请已提交，待书记批准：{reason}。"
# Recorded (签到情况 shows it, 准假 approves it), but no secretary could be written to privately.
MEETING_LEAVE_ASKED_NOT_PASSED_ON = (
    "{name}同志，{when}的{kind}请假申请已登记，待书记批准：{reason}。未能通知书记，请直接告知书记。"
)
MEETING_LEAVE_NEED_REASON = "请写明请假原因，例如：请假 在外执法"
MEETING_LEAVE_NEED_REASON_FOR = "请写明请假原因，例如：请假 {selector} 在外执法"
MEETING_LEAVE_NONE = "近期没有需要您参加的会议。"
MEETING_LEAVE_ALREADY_IN = "{name}同志，您已签到，无需请假。"
MEETING_LEAVE_REQUEST_TO_SECRETARY = "【请假申请】{name}同志申请{when}的{kind}请假：{reason}。同意请回复“{approve}”。"
# The 准假 a request asks for: a plain 准假 approves the member's soonest request, so with another one waiting the
# request names its meeting.
MEETING_APPROVE = "准假 @{name}"
MEETING_APPROVE_FOR = "准假 #{seq} @{name}"
MEETING_LEAVE_APPROVED = "已批准{name}同志{when}的{kind}请假。"
MEETING_LEAVE_APPROVED_DIRECT = "{name}同志，您{when}的{kind}请假已获批准。"
MEETING_NO_REQUEST = "{name}同志没有待批准的请假。"
# 准假 where leave needs no approval ([meetings] leave_needs_approval = false) and nothing waits: what stands.
MEETING_APPROVE_NOT_NEEDED = "本支部请假无需批准，{name}同志的请假已登记：{items}。"
MEETING_APPROVE_NOT_NEEDED_NONE = "本支部请假无需批准，党员发送“请假 原因”即登记；{name}同志目前没有请假。"
# 准假 #3 / 11月28日 / 主题党日 @张三 naming none, or several, of the member's requests: each in one sentence.
MEETING_REQUEST_NOT_FOUND = "{name}同志没有“{text}”对应的待批准请假，待批准的有：{items}。"
MEETING_REQUEST_WHICH = "“{text}”对应{name}同志多项待批准请假：{items}，请写明哪一项，例如：准假 #{seq} @{name}。"
MEETING_REQUEST_ITEM = "{kind}#{seq} {when}"
# A bare 准假 @张三 while several of the member's requests wait: which one (a bare 准假 approves only a single one).
MEETING_REQUEST_WHICH_BARE = "{name}同志有多项待批准请假：{items}，请写明哪一项，例如：准假 #{seq} @{name}。"
# 准假 for a request still waiting when its meeting's check-in closed: it lapsed (the member counts as absent).
MEETING_REQUEST_LAPSED = (
    "{name}同志{when}的{kind}请假申请在签到结束前未获批准，已计缺席；如需改记请假，请发送“记请假 #{seq} @{name} 原因”。"
)
# 取消请假 of leave a secretary approved: the secretaries are told.
MEETING_LEAVE_WITHDRAWN_TO_SECRETARY = "【请假撤回】{name}同志已取消{when}的{kind}#{seq}请假（此前已批准）。"
MEETING_LEAVE_CANCELLED = "{name}同志，已取消{when}的{kind}请假。"
MEETING_NO_LEAVE = "您没有可取消的请假。"
MEETING_CORRECTED = "已将{name}同志在{kind}#{seq}的记录更正为{status}（原因：{reason}），已记入更正记录。"
# A correction of an attended entry (签到 or an earlier 补签): its attendance points are paid, so it stands.
MEETING_CORRECT_ALREADY_IN = "{name}同志在{kind}#{seq}已计出勤，无需补签。"
MEETING_CORRECT_ATTENDED_NOT_LEAVE = "{name}同志在{kind}#{seq}已计出勤并计积分，不能改记请假。"
# 补签 / 记请假 without a reason: an example of the same command, for the member (and meeting) named.
MEETING_MAKE_UP_NEED_REASON = "请写明补签原因，例如：补签 {seq_part}@{name} 现场签到时手机没电"
MEETING_MARK_LEAVE_NEED_REASON = "请写明请假原因，例如：记请假 {seq_part}@{name} 临时执勤"
MEETING_CORRECT_SEQ_PART = "#{seq} "
# 补签 / 记请假 / 准假 without an @: whom to name, with an example of the command.
MEETING_MAKE_UP_NEED_MENTION = "请 @ 要补签的同志并写明原因，例如：补签 @张三 现场签到时手机没电"
MEETING_MARK_LEAVE_NEED_MENTION = "请 @ 要记请假的同志并写明原因，例如：记请假 @张三 临时执勤"
MEETING_APPROVE_NEED_MENTION = "请 @ 申请请假的同志，例如：准假 @张三"
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
# After an absent member's name: they asked leave and it was not approved before check-in closed.
MEETING_SUMMARY_UNAPPROVED = "（请假未批）"
MEETING_LATE_PART = "（其中迟到{late}人）"
MEETING_LIST_HEADER = "近期会议："
MEETING_LIST_LINE = "· {kind}#{seq} {when}{location_part}（应到{expected}人）"
MEETING_LIST_EMPTY = "近期没有安排会议。"
MEETING_CODE_SHOWN = "{kind}#{seq}的签到码：{code}"
MEETING_NO_CODE = "进行中的会议没有设置签到码。"
MEETING_CANCELLED = "【会议取消】原定{when}的{kind}取消，请相互转告。"
# 签到情况 [#N]: each open meeting (or #N) as it stands. Asked in a group, the group sees the counts only and the
# names of those on leave and not checked in go to the secretary directly (handlers/notices.py
# reply_keeping_names_private).
MEETING_STATUS = "【{kind}#{seq} 签到情况】{when}，应到{expected}人，实到{present}人{late_part}，请假{leave}人，未签到{pending}人{requested_part}。"
MEETING_STATUS_REQUESTED_PART = "（其中请假待批准{requested}人）"
MEETING_STATUS_PENDING_NAMES = "\n未签到：{names}"
# After a not-checked-in member's name: their leave request waits for 准假.
MEETING_STATUS_REQUESTED = "（请假待批准）"
MEETING_STATUS_NONE = "目前没有进行中的会议。"
MEETING_NOT_FOUND = "未找到会议#{seq}。发送“会议列表”可查看近期会议。"
# 取消会议 N / 签到情况 #N for a meeting that exists but is past cancelling: say what it is.
MEETING_ALREADY_CANCELLED = "{kind}#{seq}已取消。"
MEETING_ALREADY_HELD = "{kind}#{seq}已于{when}召开，签到已结束，不能取消。"
MEETING_CANCEL_NEED_SEQ = "请写明会议编号，例如：取消会议 3"
# 本月统计 / 年度统计, as a report writes it: 三会一课 first, then 主题党日; items held 0 times are left out
# unless asked for with “全部”. 出席率 = 实到人次 ÷ 应到人次 over the meetings held; a member on leave is
# expected and did not attend (请假 counts are shown beside it). One name per concept, as in the announcements and
# the attendance export: 支部党员大会 (《中国共产党支部工作条例（试行）》), 出席率, 应到/实到.
# {subject}: the branch, or — asked in a 党委 or 党总支 — the units below it together.
MEETING_STATS = "{period}，{subject}{items}{rate}"
MEETING_STATS_SUBJECT = "本支部共"
MEETING_STATS_SUBJECT_HIGHER = "所属党组织共"
MEETING_STATS_HELD = "召开{items}"
MEETING_STATS_COUNT = "{kind}{count}次"
MEETING_STATS_LECTURE = "上党课{count}次"
MEETING_STATS_THEME_DAY = "开展主题党日活动{count}次"
MEETING_STATS_ITEM_SEPARATOR = "，"
MEETING_STATS_RATE = "；党员出席率{rate}（应到{expected}人次，实到{present}人次{leave_part}）。"
MEETING_STATS_LEAVE_PART = "，请假{leave}人次"
MEETING_STATS_NO_EXPECTED = "；无应到人员。"
MEETING_STATS_NONE = "{period}，支部尚未召开会议。"
MEETING_STATS_NONE_HIGHER = "{period}，所属党组织尚未召开会议。"
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

# --- firstrun ---
# 取消请假 when the member has leave for several upcoming meetings, 请假 #2 … when #2 is not theirs: which one (by
# number or date), the member's meetings a line each.
LEAVE_CHOICE_LINE = "· {kind}#{seq} {when}"
LEAVE_CANCEL_WHICH = "您在以下会议已请假，请写明取消哪一项：\n{lines}\n例如：取消请假 #{seq}，或 取消请假 {day}"
LEAVE_CANCEL_NOT_FOUND = "未找到“{text}”对应的请假。您已请假的会议：\n{lines}\n例如：取消请假 #{seq}，或 取消请假 {day}"
# 取消请假 chose one of several leaves: say which meeting it was.
LEAVE_CANCELLED_ONE = "{name}同志，已取消{when}的{kind}#{seq}请假。"
LEAVE_CHOICE_DAY = "{month}月{day}日"
# 请假 #2 / 11月28日 / 主题党日 原因, when those words name none or several of the member's upcoming meetings.
LEAVE_FOR_NOT_FOUND = (
    "未找到“{text}”对应的会议。您近期应参加的会议：\n{lines}\n例如：请假 #{seq} 在外执法，或 请假 {day} 在外执法"
)
# 请假 #2 … naming an open meeting that does not expect the member, or whose check-in has closed: say which.
LEAVE_FOR_NOT_AUDIENCE = "{kind}#{seq}的参加对象是{audience}，您无需请假。"
LEAVE_FOR_CLOSED = "{kind}#{seq}签到已结束，不能再请假；如需更正请联系书记。"
LEAVE_FOR_WHICH = "“{text}”对应多场会议，请写明哪一场：\n{lines}\n例如：请假 #{seq} 在外执法，或 请假 {day} 在外执法"

# --- orgtree: units 党委 / 党总支 / 党支部 (bot/core/org.py, handlers/org.py) ---------------------------------
# 本月统计/年度统计 in a 党委 or 党总支: after the sum over the units below, a line per unit.
# A unit that held nothing has no 出席率 (0 of 0 is no rate): its line says only that.
ORG_STATS_UNIT_LINE = "\n· {unit}：{counts}{rate}"
ORG_STATS_RATE = "；出席率{rate}（应到{expected}人次，实到{present}人次）"
ORG_STATS_NO_EXPECTED = "；无应到人员"
ORG_STATS_NONE_HELD = "未召开会议"

# --- cards ---
CARD_TITLE_MEETING = "{kind}#{seq}"
# 请假 by tap: recorded at once with this reason; the member may still send "请假 原因" to give the real one.
CARD_LEAVE_NO_REASON = "未填写"
CARD_LEAVE_ADD_REASON = "如需补充原因，请发送“请假 #{seq} 原因”，例如：请假 #{seq} 在外执法"

# --- wecomgaps ---
# {leave}: as the announcement's (MEETING_ANNOUNCE_LEAVE, or MEETING_ANNOUNCE_LEAVE_FOR with another meeting open).
MEETING_REMINDER_DIRECT_ALL = "【会议提醒】{kind}将于{when}开始{location_part}{topic_part}。签到时间{window}{code_part}；不能参加请回复“{leave}”。"

# --- coordinator: a tap on a card whose notice, meeting or study week is over --------------------------------------
CARD_STALE_MEETING = "该会议的签到已结束或会议已取消。"
