"""What the tasks feature says in chat, and its command words, kept in one place for review."""

from __future__ import annotations

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
SUMMARY_TASK_LIST = "查看本月清单及完成情况，也可指定月份，如：本月清单 12月"
SUMMARY_TASK_DONE = "报告清单事项完成，如：完成 3 已召开专题组织生活会"
SUMMARY_TASK_EXTEND = "申请延期，如：延期 3 12月31日 原因"
SUMMARY_TASK_APPROVE = "审批延期申请，如：同意延期 第一党支部 3（不同意：不同意延期 第一党支部 3）"
SUMMARY_TASK_QUARTER = "查看本季度各单位清单完成情况，如：季度调度 2026Q4"
SUMMARY_SCORE = "查看本支部量化考核得分及各项明细"
SUMMARY_RANKING = "查看下属支部年度评比（考核得分排名）"
# 下发清单: 全部支部 (and these words) stands for every 党支部 below the issuing unit.
TASK_ALL_BRANCHES = ("全部支部", "各支部", "所有支部", "全体支部")
TASK_KIND_PROBLEM = "问题"  # a 互查 finding becomes one of these (bot/tasks/crosscheck.py)
TASK_KINDS = ("责任", "任务", TASK_KIND_PROBLEM)
# What a secretary writes (bot/tasks/lists.py): the owner units' separators, a month ("12月", "2026年12月份清单"),
# a due date ("12月20日前", "2026-12-20"), the criteria marker ("完成标准：") and the year of 年度评比 ("2026年").
TASK_OWNER_SEPARATORS = "、,，"
TASK_MONTH_PATTERN = r"^(?:(\d{4})年)?(\d{1,2})月(?:份)?(?:清单)?$"
TASK_DUE_PATTERN = r"^(?:(\d{4})[年\-/.])?(\d{1,2})[月\-/.](\d{1,2})[日号]?(?:之?前)?$"
TASK_CRITERIA_PATTERN = r"(?:完成)?标准[:：]"
SCORE_YEAR_SUFFIX = "年"
TASK_ISSUE_USAGE = (
    "请按格式下发清单，每项一行：\n下发清单 12月\n任务 第一党支部 12月20日前 召开专题组织生活会\n"
    "责任 全部支部 12月31日前 落实意识形态工作责任制 完成标准：报送总结\n（类别：责任/任务/问题；责任单位可写“全部支部”或用顿号分隔多个单位）"
)
TASK_ITEM_FORMAT = (
    "“{line}”格式不对，应为：类别 责任单位 完成时限 内容，如：任务 第一党支部 12月20日前 召开专题组织生活会"
)
TASK_BAD_KIND = "类别“{kind}”不对，应为{kinds}之一。"
TASK_BAD_DUE = "完成时限“{due}”看不懂，请写成如“12月20日前”或“2026-12-20”。"
TASK_DUE_BEFORE_MONTH = "“{line}”的完成时限{due}早于{month}，请核对（跨年请写明年份）。本次清单未下发。"
TASK_DUE_PAST = "“{line}”的完成时限{due}已过，请核对。本次清单未下发。"
TASK_BAD_MONTH = "月份“{month}”看不懂，请写成如“12月”或“2026-12”。"
TASK_TOO_MANY = "一次最多下发{limit}项。"
TASK_NO_UNITS_BELOW = "{unit}下没有党支部。"
TASK_OWNER_NOT_BELOW = "“{name}”不是{unit}的下级单位，不能向其下发清单。"
TASK_ISSUE_ONLY_HIGHER = "党支部没有下级单位，清单由党委、党总支下发。"
TASK_ISSUED = "已下发{month}清单：{items}项，涉及{units}个单位，共{rows}条。"
TASK_MONTH = "{year}年{month}月"
TASK_DATE = "{month}月{day}日"
TASK_DATE_YEAR = "{year}年{month}月{day}日"  # a date not in the current year
TASK_CRITERIA = "（完成标准：{criteria}）"
TASK_LINE = "{seq}. 【{kind}】{title}{criteria}，{due}前，{state}"
TASK_STATE_OPEN = "未完成"
TASK_STATE_DONE = "已完成"
TASK_STATE_OVERDUE = "已逾期"
TASK_STATE_EXTENSION_ASKED = "延期待批"
TASK_ANNOUNCE = "【{issuer}下发{month}清单】{unit}：\n{lines}\n完成后请支部书记发送“完成 序号 完成情况”。"
TASK_LIST_HEAD = "{unit}{month}清单：\n"
TASK_LIST_EMPTY = "{unit}{month}暂无清单事项。"
TASK_LIST_USAGE = "请写明月份，如：本月清单 12月"
# Under 本月清单 when a later month's list is already issued; {arg} is what to write after 本月清单.
TASK_LIST_LATER = "{month}清单已提前下发，发送“本月清单 {arg}”查看。"
TASK_MONTH_ARG = "{month}月"
TASK_OVERVIEW_HEAD = "{unit}{month}下发清单完成情况：\n"
TASK_OVERVIEW_LINE = "· {unit}：共{total}项，已完成{done}项，逾期{overdue}项"
TASK_OVERVIEW_EMPTY = "{unit}{month}尚未下发清单。"
TASK_NUMBER_USAGE = "请写明清单序号，如：{word} 3"
TASK_NOT_FOUND = "本单位清单中没有第{seq}项。发送“本月清单”可查看序号。"
# A secretary of a higher unit in a lower unit's chat: the unit's own secretary reports and asks for its items.
TASK_NOT_OWN_UNIT = "{unit}的清单事项由{unit}书记{action}。"
TASK_ACTION_DONE = "报告完成"
TASK_ACTION_EXTEND = "申请延期"
TASK_DONE = "第{seq}项“{title}”已记为完成。"
TASK_DONE_LATE = "第{seq}项“{title}”已记为完成（超过完成时限）。"
TASK_ALREADY_DONE = "第{seq}项“{title}”此前已于{day}记为完成，无需重复报告。"
TASK_EXTEND_DONE = "第{seq}项“{title}”已于{day}记为完成，无需延期。"
TASK_EXTEND_USAGE = "请写明新时限和原因，如：延期 3 12月31日 因参会人员出差"
TASK_EXTEND_NOT_LATER = "新时限应晚于现时限{due}。"
TASK_EXTEND_PAST = "新时限{due}已过，请写今天或以后的日期。"
TASK_EXTENSION_REQUESTED = "第{seq}项延期至{due}的申请已报上级单位，批准前仍按原时限。"
# Recorded, but none of the issuing unit's secretaries could be written to privately.
TASK_EXTENSION_NOT_PASSED_ON = (
    "第{seq}项延期至{due}的申请已登记，但未能通知{issuer}书记，请直接告知（审批请发送“同意延期 {unit} {seq}”）。"
    "批准前仍按原时限。"
)
TASK_EXTENSION_TO_ISSUER = (
    "{unit}申请清单第{seq}项“{title}”延期：原时限{due}，申请延至{new_due}。原因：{reason}\n"
    "同意请发送“同意延期 {unit} {seq}”，不同意请发送“不同意延期 {unit} {seq}”。"
)
TASK_DECIDE_USAGE = "请写明单位和序号，如：同意延期 第一党支部 3"
TASK_DECIDE_NOT_FOUND = "没有找到{unit}清单第{seq}项。"
TASK_DECIDE_NOT_ALLOWED = "只有下发单位或其上级单位的书记可以审批延期。"
TASK_NO_EXTENSION_ASKED = "{unit}清单第{seq}项没有待审批的延期申请。"
TASK_EXTENSION_DECIDED = "{unit}清单第{seq}项的延期申请此前已审批（{state}），现时限{due}。"
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
# The example rows, for next month (so the template imports as it is): {month} is "2026-12", {day20} and {last}
# that month's 20th and last day.
TASK_TEMPLATE_EXAMPLES = (
    ("{month}", "任务", "第一党支部", "{day20}", "召开专题组织生活会", "报送会议记录"),
    ("{month}", "责任", "全部支部", "{last}", "落实意识形态工作责任制", "报送年度总结"),
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
SCORE_RATE_NONE = "本年度尚无应计数项"  # nothing to count (0/0): no rate to show
SCORE_RULE_LINE = "· {name}：{score:g}分（满分{full:g}；{detail}）"
SCORE_BREAKDOWN = "{unit}{year}年量化考核得分：{total:g}分\n{lines}"
SCORE_ONLY_BRANCH = "考核得分按党支部计算；党委、党总支请发送“年度评比”查看下属支部得分。"
SCORE_YEAR_USAGE = "请写年份，如：年度评比 2026"
SCORE_COLUMN_SEPARATOR = "｜"
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
CROSSCHECK_VIEW_ASK_DIRECT = "互查情况请私聊我发送“互查查看”查看。"
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
