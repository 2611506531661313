"""What the study feature says in chat, and its command words, kept in one place for review."""

from __future__ import annotations

# --- Study day (学习日) and 学习打卡 -----------------------------------------------------
CMD_STUDY_SET = ("本周学习",)
CMD_STUDY_QUEUE = ("添加学习材料",)
CMD_MY_STUDY = ("我的学习",)
CMD_STUDY_STATUS = ("学习情况", "学习统计")
SUMMARY_STUDY_CHECK_IN = "学习日打卡，可附学习内容，如：学习打卡 纪录片《……》"
SUMMARY_STUDY_SET = "设定本周学习内容，如：本周学习 党章第一章"
SUMMARY_STUDY_QUEUE = "预先排好以后几周的学习内容"
SUMMARY_MY_STUDY = "查看本人学习进度"
SUMMARY_STUDY_STATUS = "查看本周打卡情况和本月参学率"
# Tags a check-in note may carry (regular expressions on the note); they count towards the study goals. A 党课
# (one of 三会一课) is no 微党课; 原著 is said so, or a named book read (读完《共产党宣言》) — not 读书笔记 or
# 读完…讲话, nor a newspaper (读《人民日报》).
STUDY_TAGS = {
    "微党课": r"微党课",
    "原著": r"原著|(?:研读|通读|精读|阅读|读)(?:了|完|过)*\s*《(?!人民日报|光明日报|求是|学习时报|解放军报)",
    "纪录片": r"纪录片",
}
STUDY_REMINDER = "【学习日】今天{date}是本周学习日。\n本周学习：{material}\n学完后请回复“学习打卡”，可附学习内容。"
STUDY_REMINDER_MOVED = "\n原定{nominal}为节假日，学习日提前到今天。"
STUDY_NO_MATERIAL = "自主学习党章党规和理论文章"
STUDY_MATERIAL_SET = "{week}的学习内容已设为：{text}"
STUDY_MATERIAL_PUSH = "【本周学习内容更新】{text}"
# 本周学习 typed in a chat that has just read STUDY_MATERIAL_PUSH: the confirmation does not repeat the material.
STUDY_MATERIAL_UPDATED = "{week}的学习内容已更新，已发到{chats}个群。"
STUDY_MATERIAL_QUEUED = "已加入学习材料库（排在第{position}位），之后的学习日会依次使用。"
STUDY_NEED_TEXT = "请写上学习内容，例如：本周学习 党章第一章 总纲"
STUDY_THIS_WEEK = "本周（{span}）"
STUDY_NEXT_WEEK = "下周（{span}）"
STUDY_CHECKED_IN = "{name}同志，学习打卡已记录。本周参学{done}/{expected}人。"
STUDY_CHECKED_IN_TAG = "（已记入“{tag}”）"
STUDY_ALREADY = "{name}同志，您本周已打卡。发送“我的学习”可查看进度。"
STUDY_NOT_OPEN = "现在不在学习打卡时间。请在每周学习日收到提醒后打卡。"
STUDY_ENDED = "{name}同志，本周学习日{day}已结束，打卡已截止。"
# A week the holiday rule leaves without a study day (holiday_rule = "skip", or no workday before it).
STUDY_WEEK_HOLIDAY = "本周学习日{day}逢节假日，不安排学习。"
STUDY_NEXT_DAY = "下一个学习日：{day}。"
STUDY_WEEK_SKIPPED_SET = "本周（{span}）逢节假日，不安排学习日。"
STUDY_MATERIAL_SET_FOR_DAY = "下一个学习日{day}的学习内容已设为：{text}"
# 学习打卡 with a note after an earlier check-in: the note is added to the one check-in.
STUDY_NOTE_ADDED = "{name}同志，您本周已打卡，已补充学习内容：{note}"
STUDY_NOTE_SEPARATOR = "；"
STUDY_SUMMARY = "【学习日小结】{day}学习日：应参学{expected}人，已打卡{done}人，参学率{rate}。{names_part}"
STUDY_SUMMARY_NAMES = "参加学习的同志：{names}。"
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
STUDY_STATUS_ENDED = (
    "本周学习日{day}已结束：应参学{expected}人，已打卡{done}人，参学率{rate}。\n未打卡：{pending}\n{month}"
)
STUDY_STATUS_ENDED_COUNTS = (
    "本周学习日{day}已结束：应参学{expected}人，已打卡{done}人，参学率{rate}，未打卡{pending_count}人。\n{month}"
)
# 本月参学率: check-ins ÷ expected over the study days held this month, in person-times.
STUDY_MONTH_RATE = "本月参学率{rate}（应参学{expected}人次，已打卡{done}人次）。"
STUDY_MONTH_NONE = "本月尚无学习日。"

# --- reports (issue #15: meeting, notice, study and statistics texts as a branch writes them) ---------------
STUDY_STATUS_COUNTS = (
    "本周学习日{day}：应参学{expected}人，已打卡{done}人，参学率{rate}，未打卡{pending_count}人。\n{month}"
)

# --- cards ---
CARD_TITLE_STUDY = "学习日 {date}"

# --- coordinator: the study nudge names nobody in a group --------------------------------------------------------
# The chats hear how many have not checked in; each of them is reminded directly (names are not announced in a group).
STUDY_NUDGE_COUNT = "【学习提醒】今天是学习日，还有{count}位同志未打卡。学完后请回复“学习打卡”。"

# --- wecomgaps ---
# For the study-day nudge to each pending member (main's STUDY_NUDGE_DIRECT names the member): nameless, so it goes
# to all of them in one app call, with the 学习打卡 card (study_card).
STUDY_NUDGE_DIRECT_ALL = "今天是学习日，您还没有学习打卡。学完后请回复“学习打卡”，可附学习内容。"

# --- coordinator: a tap on a card whose notice, meeting or study week is over --------------------------------------
CARD_STALE_STUDY = "这是往期学习日的卡片。本周学习打卡请点本周的卡片，或回复“学习打卡”。"
