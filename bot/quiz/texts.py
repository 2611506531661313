"""What the quiz feature says in chat, and its command words, kept in one place for review."""

from __future__ import annotations

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
# … won by a member who is not to be named in the group (不参加排名, or the branch's rankings are off): the group reads
# that it was won; the winner is told privately.
QUIZ_RUSH_WIN_UNNAMED = "【抢答 第{position}题】已有同志抢答正确。正确答案：{answer}{explanation}"
QUIZ_RUSH_WON_PRIVATELY = "{name}同志，{question}您抢答正确。"
QUIZ_RUSH_TOO_SLOW = "{name}同志，{question}已由{winner}同志抢先答对。"
QUIZ_RUSH_TOO_SLOW_UNNAMED = "{name}同志，{question}已有同志抢先答对。"
QUIZ_WRONG = "{name}同志，您对{question}的作答不正确，本题不能再次作答。"
QUIZ_ALREADY_ANSWERED = "{name}同志，{question}您已作答，每题只能作答一次。"
QUIZ_DAILY_RECEIVED = "{name}同志，{question}作答已收到，{close}在群内公布答案。"
QUIZ_TIMEOUT = "【抢答 第{position}题】作答时间到，无人答对。正确答案：{answer}{explanation}"
# An explanation with its source (alone: QUIZ_EXPLANATION_ONLY / QUIZ_SOURCE_ONLY below).
QUIZ_EXPLANATION = "\n解析：{explanation}（{source}）"
QUIZ_MATCH_REVEAL = "【竞赛 第{position}题】作答结束。正确答案：{answer}{explanation}{tally}"
QUIZ_MATCH_TALLY = "\n本题{answered}人作答，{correct}人答对，正确率{rate}{fastest}。"
QUIZ_MATCH_NOBODY = "\n本题无人作答。"  # not "0人作答，0人答对，正确率0%"
QUIZ_MATCH_FASTEST = "；用时最短：{name}（{seconds:.1f}秒）"
QUIZ_DAILY_REVEAL = "【每日一题·揭晓】正确答案：{answer}{explanation}\n本题{answered}人作答，答对的同志：{names}。"
QUIZ_DAILY_NOBODY = "无"
# Some who answered right asked not to appear in rankings: the others are named, the count covers all.
QUIZ_DAILY_SOME_NAMED = "{names}等{count}人"
QUIZ_DAILY_NONE_NAMED = "{count}人"
QUIZ_RANK_LINE = "\n{place}. {name} {value}"
QUIZ_RUSH_VALUE = "{wins}题"
QUIZ_MATCH_VALUE = "{score}分"
QUIZ_PODIUM_HEADER = "\n前三名："
QUIZ_TEAM_HEADER = "\n党小组总分："
QUIZ_TEAM_LINE = "\n· {group} {score}分"
QUIZ_NO_RANKING = "\n本次共{count}人参加。"
QUIZ_NO_WINNERS = "\n本次无人答对。"
# Those who scored all asked not to appear in rankings (不参加排名): nothing is listed, nor claimed.
QUIZ_WINNERS_UNLISTED = "\n得分的同志均不参加排名，名单不公布。"
QUIZ_STOPPED = "本次{mode}已提前结束。"
QUIZ_NOTHING_RUNNING = "本群目前没有进行中的抢答或竞赛。"
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
    "年度": "year",
    "本年度": "year",
    "全年": "year",
    "周榜": "week",
    "月榜": "month",
    "年榜": "year",
    "全部": "all",
    "总": "all",
    "总榜": "all",
}
LEADERBOARD_SCOPE_BRANCH = "全支部"
LEADERBOARD_SCOPE_CHAT = "本群"
LEADERBOARD_CHAT_WORDS = ("本群", "群")
LEADERBOARD_BRANCH_WORDS = ("全支部", "支部", "本支部")  # the default scope, said out loud
PARTY_GROUP_SUFFIX = "小组"  # a word ending so names a 党小组 (排行榜 执法党小组): an unknown one is said to be unknown
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
# Why an imported row was rejected (yizhan questions import: "  第 3 行：缺少答案"); a secretary reads these.
BANK_ROW_TOO_LONG = "有单元格超过 {limit} 个字符"
BANK_ROW_MISSING = "缺少{fields}"
BANK_ROW_FIELD_SEPARATOR = "、"
BANK_ROW_UNKNOWN_TYPE = "题型“{type}”无法识别（应为单选、多选、判断或填空）"
BANK_ROW_OPTION_GAP = "选项{letter}为空，但其后还有选项"
BANK_ROW_OPTION_COUNT = "{type}题应有 {low}–{high} 个选项，此行有 {count} 个"
BANK_ROW_OPTIONS_SAME = "有两个选项相同"
BANK_ROW_NOT_LETTERS = "答案“{answer}”不是选项字母（如 A 或 ABD）"
BANK_ROW_ANSWER_OUTSIDE = "答案中的 {letters} 不在选项 {first}–{last} 之内"
BANK_ROW_SINGLE_ONE_LETTER = "单选题的答案应为一个字母，此行为 {letters}"
BANK_ROW_MULTI_REPEATS = "多选题的答案 {letters} 有重复的字母"
BANK_ROW_MULTI_TWO_LETTERS = "多选题的答案至少要有两个字母"
BANK_ROW_JUDGE_ANSWER = "判断题的答案“{answer}”应为“对”或“错”"
BANK_ROW_BLANK_ANSWER = "填空题至少要有一个答案"
BANK_ROW_DIFFICULTY = "难度“{value}”应为 1、2、3（或易、中、难）"
BANK_ROW_KEY_TOO_LONG = "编号超过 {limit} 个字符"
BANK_ROW_DUPLICATE = "与第 {row} {unit}的编号或题干相同"
BANK_ROW_UNITS = {"row": "行", "item": "项"}
# Why a bank file as a whole was refused (one line, exit 2): "{name}：…".
BANK_FILE_SUFFIX = "{name}：题库文件应为 {suffixes}（.xls 文件请另存为 .xlsx）"
BANK_FILE_JSON_AT = "{name}：第{line}行第{column}列附近 JSON 格式错误"
BANK_FILE_JSON_ENCODING = "{name}：不是 UTF-8 编码的 JSON 文件"
BANK_FILE_JSON_DEEP = "{name}：JSON 嵌套层数过多"
BANK_FILE_JSON_SHAPE = '{name}：JSON 题库应为题目列表，或 {{"questions": [...]}}'
BANK_FILE_NOT_FOUND = "{name}：文件不存在"
BANK_FILE_NO_ACCESS = "{name}：没有读取权限"
BANK_FILE_IS_DIR = "{name}：是一个目录，不是文件"
BANK_FILE_UNREADABLE = "{name}：无法读取（{reason}）"
BANK_FILE_NOT_ZIP = "{name}：不是 xlsx 文件（xlsx 文件是 zip 压缩包；请把表格另存为 .xlsx）"
BANK_FILE_TOO_MANY_PARTS = "{name}：已拒绝，xlsx 压缩包中的部件超过 {limit} 个"
BANK_FILE_TOO_BIG = "{name}：已拒绝，内容解压后将有 {size} MB（上限 {limit} MB；请把题库拆成几个文件）"
BANK_FILE_RATIO = (
    "{name}：已拒绝，其中的 {part} 解压后将是原大小的 {ratio} 倍（表格文件压缩不了这么多，文件可能是特意构造的）"
)
BANK_FILE_BAD_XLSX = "{name}：xlsx 文件已损坏或不完整，无法读取（请用 Excel 或 WPS 打开后重新另存为 .xlsx）"
BANK_FILE_NO_SHEET = "{name}：工作簿中没有工作表"
BANK_FILE_BAD_CSV = "{name}：第 {record} 条记录无法按 CSV 读取（单元格过长，或引号不成对）"
BANK_FILE_EMPTY = "{name}：文件是空的"
BANK_FILE_NO_COLUMNS = "{name}：表头行缺少这些列：{columns}"
BANK_FILE_COLUMN = "{chinese}（{english}）"
BANK_FILE_TOO_MANY_ROWS = "{name}：超过 {limit} 行，请把题库拆成几个文件"
SUMMARY_LOOKUP = "在题库里查题目的答案和出处，如：搜题 预备党员的预备期是多长时间"
LOOKUP_NEED_QUERY = "请在“搜题”后写明题目，例如：搜题 预备党员的预备期是多长时间"
LOOKUP_TOO_SHORT = "题干过短，请写出更完整的题干后再查。"
LOOKUP_NOT_FOUND = "题库中未找到与该题足够接近的题目，为避免误导，不作推测。请写出更完整的题干后再查。"
LOOKUP_QUIZ_RUNNING = "本群正在进行抢答或竞赛，为保证公平，搜题暂停使用，答题结束后恢复。"
# 私聊 (or another branch's group) while a 抢答/竞赛 the member may answer runs in a group of their unit.
LOOKUP_QUIZ_RUNNING_ELSEWHERE = "您所在单位的群内正在进行抢答或竞赛，为保证公平，搜题暂停使用，答题结束后恢复。"
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

# --- Quiz: deadlines and one quiz per chat ------------------------------------------------
# An answer that arrives after its question's time is up (not scored).
QUIZ_ANSWER_LATE = "{name}同志，{question}作答时间已过，此次作答不计分。"
# Leaderboard: two members of one name are told apart by their 党小组, else by their member number.
CHART_NAMESAKE = "{name}（{detail}）"
CHART_MEMBER_NUMBER = "编号{id}"

# --- Question bank size: 搜题 while the index is first built -----------------------------------
LOOKUP_NOT_READY = "题库正在加载，请稍后再查。"

# --- register --- (issue #15: help menu topics, roles as permissions, a member's quiz results in private)
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
# 重做 N asked in a group: the question goes to the member directly, as the 错题本 does.
RETRY_SENT_DIRECT = "{name}同志，题目已私信发送，请在私聊中作答。"
# … where the bot cannot write to members unprompted (a WeCom AI bot without the app): the question is not asked.
RETRY_ASK_DIRECT = "重做错题请私聊我发送“重做 {index}”。"

# --- cards ---
CARD_TITLE_QUIZ = "第{position}题"
