"""帮助 / 菜单: a short menu of topics per role, each topic within WeCom's text limit; unmatched text."""

import pytest
from sqlalchemy import select

from bot.app import ROUTERS
from bot.core import intent, texts
from bot.core.models import InboundMessage, Role
from bot.core.normalize import normalize
from bot.core.router import Dispatcher
from bot.meetings import texts as meeting_texts
from bot.notices import texts as notice_texts
from bot.points import texts as points_texts
from bot.quiz import texts as quiz_texts
from handlers.help import TOPIC_OF_ROUTER, build

# WeCom's text message: content at most 2048 bytes of UTF-8 (app message/send, group robot, app group chat).
WECOM_TEXT_MAX_BYTES = 2048
MENU_MAX_LINES = 10


def utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def menu_line(topic: str, role: str) -> str:
    return texts.HELP_MENU_LINE.format(topic=texts.HELP_TOPICS[topic], blurb=texts.HELP_TOPIC_BLURBS[topic][role])


WHOAMI_LINE = texts.HELP_LINE.format(word="我是谁", summary=texts.SUMMARY_WHOAMI)


async def test_member_menu_is_short_and_shows_only_what_a_member_may_do(bot):
    data = await bot.say("帮助", user="u01")
    [reply] = data["replies"]
    assert reply["to"] == "demo-group"
    assert reply["text"] == "\n".join(
        [
            texts.HELP_HEADER.format(name="张伟"),
            menu_line("meetings", "member"),
            menu_line("notices", "member"),  # only how to acknowledge one (收到)
            menu_line("study", "member"),
            menu_line("quiz", "guest"),
            menu_line("points", "guest"),
            menu_line("org", "guest"),
            WHOAMI_LINE,
            texts.HELP_FOOTER,
        ]
    )
    assert reply["text"].startswith("【学习驿站】张伟同志，可使用以下功能：")
    assert "您好" not in reply["text"] and "帮助 管理" not in reply["text"]
    assert len(reply["text"].splitlines()) <= MENU_MAX_LINES and utf8(reply["text"]) < 1024
    transcript = await bot.transcript()
    assert [line["text"] for line in transcript] == ["帮助", reply["text"]]


async def test_secretary_and_admin_menus(bot):
    await bot.say("设为书记 @王芳", user="u00")
    secretary = (await bot.say("菜单", user="u02"))["replies"][0]["text"]
    assert secretary.splitlines()[1:-1] == [
        menu_line("meetings", "secretary"),
        menu_line("notices", "secretary"),
        menu_line("study", "secretary"),
        menu_line("quiz", "secretary"),
        menu_line("points", "guest"),
        menu_line("org", "secretary"),
        WHOAMI_LINE,
    ]
    admin = (await bot.say("帮助", user="u00"))["replies"][0]["text"]
    assert admin.splitlines()[0] == texts.HELP_HEADER.format(name="李建国")
    assert admin.splitlines()[-4:] == [
        menu_line("roles", "admin"),
        menu_line("org", "admin"),
        WHOAMI_LINE,
        texts.HELP_FOOTER,
    ]
    for menu in (secretary, admin):
        assert len(menu.splitlines()) <= MENU_MAX_LINES and utf8(menu) < 1024


@pytest.mark.parametrize("role", Role.ORDER)
def test_every_menu_and_topic_fits_one_wecom_text_message(role):
    made = build(Dispatcher(ROUTERS), role)
    menu = texts.HELP_HEADER.format(name="欧阳某某某某") + "\n" + made.menu
    assert len(menu.splitlines()) <= MENU_MAX_LINES
    assert utf8(menu) <= WECOM_TEXT_MAX_BYTES
    assert made.topics, "every role has some help"
    for text in made.topics.values():
        assert utf8(text) <= WECOM_TEXT_MAX_BYTES, text


def test_every_command_is_in_a_topic_or_the_menu():
    """A command of a module with no topic would land in the menu itself: only 我是谁 (and 帮助) may."""
    dispatcher = Dispatcher(ROUTERS)
    untopiced = [r.words[0] for m in dispatcher.routers if m.name not in TOPIC_OF_ROUTER for r in m.routes if r.words]
    assert untopiced == ["帮助", "我是谁"]
    assert set(TOPIC_OF_ROUTER.values()) == set(texts.HELP_TOPICS)


async def test_topics_list_the_commands_of_the_role(bot):
    await bot.say("帮助 会议", user="u01")
    await bot.say("帮助 答题", user="u01")
    member_meetings, member_quiz = bot.replies_to("u01")
    assert member_meetings == "\n".join(
        [
            texts.HELP_TOPIC_HEADER.format(topic="会议"),
            texts.HELP_LINE.format(word="签到", summary=meeting_texts.SUMMARY_CHECK_IN),
            texts.HELP_LINE.format(word="请假", summary=meeting_texts.SUMMARY_LEAVE),
            texts.HELP_LINE.format(word="取消请假", summary=meeting_texts.SUMMARY_CANCEL_LEAVE),
            texts.HELP_LINE.format(word="会议列表", summary=meeting_texts.SUMMARY_MEETINGS),
            texts.HELP_TOPIC_FOOTER,
        ]
    )
    assert texts.HELP_LINE.format(word="搜题", summary=quiz_texts.SUMMARY_LOOKUP) in member_quiz
    assert texts.HELP_LINE.format(word="错题本", summary=quiz_texts.SUMMARY_WRONG_BOOK) in member_quiz
    assert "抢答" not in member_quiz  # a member cannot start one
    await bot.say("帮助 积分", user="u05")
    assert bot.replies_to("u05")[-1] == "\n".join(
        [
            texts.HELP_TOPIC_HEADER.format(topic="积分"),
            texts.HELP_LINE.format(word="我的积分", summary=points_texts.SUMMARY_MY_POINTS),
            texts.HELP_LINE.format(word="积分规则", summary=points_texts.SUMMARY_POINTS_RULES),
            texts.HELP_TOPIC_FOOTER,
        ]
    )
    # A topic the member may not use is not there: the menu instead.
    await bot.say("帮助 管理", user="u01")
    assert bot.replies_to("u01")[-1].startswith(texts.HELP_HEADER.format(name="张伟"))
    # The admin's topics: by name, or by one of the topic's command words.
    await bot.say("帮助 管理", user="u00")
    await bot.say("帮助 抢答", user="u00")
    await bot.say("@学习驿站 帮助通知", user="u00")
    roles, quiz, notices = bot.replies_to("u00")
    assert roles.startswith(texts.HELP_TOPIC_HEADER.format(topic="管理"))
    assert texts.HELP_LINE.format(word="设为书记", summary=texts.SUMMARY_SET_SECRETARY) in roles
    assert quiz.startswith(texts.HELP_TOPIC_HEADER.format(topic="答题"))
    assert texts.HELP_LINE.format(word="抢答", summary=quiz_texts.SUMMARY_RUSH) in quiz
    assert notices.startswith(texts.HELP_TOPIC_HEADER.format(topic="通知"))
    for text in (member_meetings, member_quiz, roles, quiz, notices):
        assert utf8(text) <= WECOM_TEXT_MAX_BYTES


async def test_help_directly_is_the_same_menu(bot):
    direct = (await bot.say("帮助", user="u01", chat=None))["replies"]
    group = (await bot.say("帮助", user="u01"))["replies"]
    assert [r["to"] for r in direct] == ["u01"] and direct[0]["text"] == group[0]["text"]


async def test_unmatched_group_text_is_ignored(bot):
    data = await bot.say("今天下午的会几点开？", user="u02")
    assert data["replies"] == []
    assert [line["sender"] for line in await bot.transcript()] == ["u02"]


async def test_mention_with_unmatched_text_gets_short_help(bot):
    data = await bot.say("@学习驿站 今天天气怎么样", user="u02")
    assert [r["text"] for r in data["replies"]] == [texts.HELP_UNKNOWN]


async def test_a_how_question_naming_a_command_gets_that_commands_help(bot):
    """QA: '@学习驿站 怎么请假' gave the whole menu; the 会议 topic carries the 请假 line. 怎么/如何/怎样 + a command
    word (a few characters between or after at most) gets that command's topic, or its line if it is in the menu."""
    await bot.say("帮助 会议", user="u01")
    await bot.say("帮助 答题", user="u01")
    meetings, quiz = bot.replies_to("u01")
    leave_line = texts.HELP_LINE.format(word="请假", summary=meeting_texts.SUMMARY_LEAVE)
    assert leave_line in meetings
    asked = {
        "@学习驿站 怎么请假": meetings,
        "@学习驿站 请问如何才能签到？": meetings,
        "@学习驿站 请假条怎么写": meetings,  # the command word first, then how
        "@学习驿站 怎样搜题呢": quiz,
        "@学习驿站 怎么用我是谁": WHOAMI_LINE,  # a command of the menu itself: its line
    }
    for text, expected in asked.items():
        data = await bot.say(text, user="u02")
        assert [r["text"] for r in data["replies"]] == [expected], text
    data = await bot.say("如何签到", user="u02", chat=None)  # directly
    assert [r["text"] for r in data["replies"]] == [meetings]
    async with bot.services.sessions() as session:
        handled = list(
            await session.scalars(
                select(InboundMessage.handled_by)
                .where(InboundMessage.platform_user_id == "u02")
                .order_by(InboundMessage.id)
            )
        )
    assert handled == ["handle_help"] * (len(asked) + 1)
    # A command the member may not use: the menu; a secretary gets its topic.
    await bot.say("@学习驿站 怎么发起主题党日", user="u03")
    await bot.say("@学习驿站 怎么发起主题党日", user="u00")
    assert bot.replies_to("u03")[-1].startswith(texts.HELP_HEADER.format(name="刘洋"))
    assert bot.replies_to("u00")[-1].startswith(texts.HELP_TOPIC_HEADER.format(topic="会议"))
    # Talk and quiz questions stay what they were.
    await bot.say("@学习驿站 今天天气怎么样", user="u04")
    await bot.say("怎么请假", user="u04")  # not put to the bot: group talk
    assert bot.replies_to("u04") == [texts.HELP_UNKNOWN]


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("怎么请假", "帮助 请假"),
        ("如何签到", "帮助 签到"),
        ("怎样搜题", "帮助 搜题"),
        ("请问怎么才能请假呀", "帮助 请假"),
        ("怎么查积分", "帮助 查积分"),
        ("签到了吗", "帮助"),  # not a how-question: the menu, as before
        ("怎么开会", "帮助"),  # no command word: the menu, as before
        ("在职党员如何到社区报到", None),  # a quiz question that holds a command word: not help
        ("如何完成入党志愿书的填写", None),
        # review: a subject before the how-word is a quiz question or talk (搜题 or nothing, as before)
        ("预备党员如何延期转正？", "搜题 预备党员如何延期转正"),
        ("流动党员如何报到？", "搜题 流动党员如何报到"),
        ("党员如何完成学分？", "搜题 党员如何完成学分"),
        ("新党员如何分组？", "搜题 新党员如何分组"),
        ("张三怎么还没到", None),
        ("怎么还没到", None),  # 到 alone is no command asked about
    ],
)
def test_how_questions_read_as_help_on_the_command(text, option):
    text_in, mentioned, _names = normalize(f"@学习驿站 {text}", ("学习驿站",))
    reading = intent.read(f"@学习驿站 {text}", text_in, mentioned)
    assert (reading.options[0].text if reading.options else None) == option


async def test_help_topics_asked_as_members_ask(bot):
    """QA: '帮助：会议' (a full-width colon), '帮助 打卡' and '@学习驿站 怎么打卡' got the menu, not the topic; '帮助 收到' got
    the menu and no member topic said how to acknowledge a notice."""
    await bot.say("帮助 会议", user="u01")
    await bot.say("帮助 学习", user="u01")
    meetings, study = bot.replies_to("u01")
    asked = {
        "帮助：会议": meetings,
        "@学习驿站 帮助，会议": meetings,
        "帮助 打卡": study,
        "@学习驿站 怎么打卡": study,
        "学习打卡怎么弄": None,  # not put to the bot: talk
        "@学习驿站 学习打卡怎么弄": study,
    }
    for text, expected in asked.items():
        data = await bot.say(text, user="u02")
        assert [r["text"] for r in data["replies"]] == ([expected] if expected else []), text
    receipt = texts.HELP_LINE.format(word="收到", summary=notice_texts.SUMMARY_RECEIPT)
    for text in ("帮助 收到", "帮助 通知", "@学习驿站 帮助 回执"):
        data = await bot.say(text, user="u03")
        assert [r["text"] for r in data["replies"]] == [
            "\n".join([texts.HELP_TOPIC_HEADER.format(topic="通知"), receipt, texts.HELP_TOPIC_FOOTER])
        ], text
    await bot.say("帮助 通知", user="u00")  # a secretary's topic lists the line after the commands
    secretary = bot.replies_to("u00")[-1]
    assert secretary.startswith(texts.HELP_TOPIC_HEADER.format(topic="通知")) and receipt in secretary
    assert secretary.count("\n· ") > 1


async def test_a_bare_mention_or_greeting_gives_no_command(bot):
    """QA: a bare @, '@学习驿站 你好' and emoji got '未能识别该命令', though no command was given."""
    assert texts.HELP_SHORT != texts.HELP_UNKNOWN
    for i, text in enumerate(
        ["@学习驿站", "@学习驿站 你好", "@学习驿站 👍👍", "@学习驿站 在吗？", "@学习驿站 早上好，辛苦了"]
    ):
        data = await bot.say(text, user="u02", msg_id=f"g{i}")
        assert [r["text"] for r in data["replies"]] == [texts.HELP_SHORT], text
    data = await bot.say("👍", user="u02", chat=None)  # directly
    assert [r["text"] for r in data["replies"]] == [texts.HELP_SHORT]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("@学习驿站 签倒", "签到"),
        ("@学习驿站 学习打开", "学习打卡"),
        ("@学习驿站 学习打咔", "学习打卡"),
        ("@学习驿站 我的积份", "我的积分"),
        ("@学习驿站 学习打开 读了党章", "学习打卡"),
        ("@学习驿站 错题伴", "错题本"),
        ("@学习驿站 签名", "签到"),  # one edit from 排名 too: the word with the typo's first character
    ],
)
async def test_a_typo_put_to_the_bot_gets_the_command_suggested_not_run(bot, text, word):
    data = await bot.say(text, user="u01")
    assert [r["text"] for r in data["replies"]] == [texts.HELP_DID_YOU_MEAN.format(word=word)]
    assert data["handled_by"] == "help_short"


async def test_a_typo_suggests_only_what_the_sender_may_use(bot):
    await bot.say("学习打开", user="u01")  # not put to the bot: group talk, silence
    await bot.say("@学习驿站 补鉴", user="u01")  # 补签 is a secretary's
    await bot.say("@学习驿站 补鉴", user="u00")
    await bot.say("@学习驿站 下法清单", user="u00")  # one edit from 下发清单 and 下达清单: one command, suggested
    await bot.say("@学习驿站 天气", user="u01")  # near nothing
    await bot.say("学习打开", user="u01", chat=None)  # directly: put to the bot
    assert bot.replies_to("u01") == [
        texts.HELP_UNKNOWN,
        texts.HELP_UNKNOWN,
        texts.HELP_DID_YOU_MEAN.format(word="学习打卡"),
    ]
    assert bot.replies_to("u00") == [
        texts.HELP_DID_YOU_MEAN.format(word="补签"),
        texts.HELP_DID_YOU_MEAN.format(word="下发清单"),
    ]


def test_every_example_in_help_says_the_word_of_its_line():
    """QA: the 取消书记 line's example was '设为党员 @张三' (a word of the same command, not the one the line names).
    An example says the line's word, or a form of it ('关闭第3号通知' for 关闭通知)."""
    for route in Dispatcher(ROUTERS).commands_for(Role.ADMIN):
        if "如：" in route.summary:
            said = route.summary.split("如：", 1)[1].split(" ", 1)[0]
            assert said.startswith(route.words) and set(route.words[0]) <= set(said), (route.words[0], route.summary)
