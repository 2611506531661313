"""The realistic mix: what 500 members of two branches send over WeCom on a busy day, and a 竞赛 burst.

A deployment as the bot meets it in real groups: two branches, three WeCom groups where members @ the AI bot
(智能机器人, encrypted JSON callbacks), and 1:1 messages to the self-built app (encrypted XML callbacks). The
500 members already exist (seeded into the database before the server starts, with their WeCom names); each
branch's study day is open (its job fired at start); then each branch's secretary sends, through the bot itself,
a notice, a meeting whose check-in window is open, and, in one group, a live 竞赛 of single-choice questions.
Only then is the traffic measured.

Every member sends ten messages, in a random order, all members interleaved (proportions and why: README.md):
  1 收到 (the open notice; taken quietly in a group), 1 签到 (5 % send 请假 instead), 1 学习打卡,
  1 quiz answer (members of the 竞赛 group) or 帮助 (the others),
  1 of 搜题 / 排行榜 / 会议列表 / 我的学习 (40/20/20/20 %),
  5 chatter: greetings and thanks the bot cannot act on, half @-messages in the group, half 1:1 to the app.

The baseline (`aibot-bare`) is the bare handler with wechatpy's crypto: verify the signature, decrypt, parse the
JSON, encrypt and sign a stream answer — for the same kind of requests (the app's XML callbacks go to the
`wecom-bare` handler's equivalent inside it).

Judging: every answer decrypts and is right for its kind (a reply where one is due, the short help for chatter,
nothing for a quiet receipt, never the apology); afterwards the database must hold every message once, each
handled by the handler its kind expects, no failure, and every outbox row sent (pushes go to a fake WeCom API
served by the load generator's process).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from sqlalchemy import func, or_, select

from bench.scenarios import (
    WECOM_AES_KEY,
    WECOM_CORP_ID,
    WECOM_TOKEN,
    Plan,
    Request,
    Response,
    Scenario,
    Unit,
    Verification,
)
from bot.core import db, texts
from bot.core.config import DatabaseConfig

TZ = ZoneInfo("Asia/Shanghai")
AIBOT_PATH = "/wecom/aibot"
APP_PATH = "/wecom/callback"
AGENT_ID = 1000002
APP_SECRET = "bench-app-secret"
AIBOT_TOKEN = "benchAibotToken"
AIBOT_KEY = base64.b64encode(bytes(range(50, 82))).decode().rstrip("=")
JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json"}
XML_HEADERS: Mapping[str, str] = {"Content-Type": "text/xml"}

# Two branches, three groups: members @ the AI bot there; the app posts to them as app group chats.
BRANCH_A, BRANCH_B = "demo", "mixb"
CHAT_A1, CHAT_A2, CHAT_B1 = "wrMixGroupA1", "wrMixGroupA2", "wrMixGroupB1"
QUIZ_CHAT = CHAT_A1
SECRETARY_A, SECRETARY_B = "secA", "secB"
MEMBERS = 500
# Members by group: 200 in A1 (the 竞赛 group), 100 in A2 (both branch A), 200 in B1 (branch B).
GROUP_OF = [CHAT_A1] * 200 + [CHAT_A2] * 100 + [CHAT_B1] * 200
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅志军海燕玉兰文斌晓东春生"

# Nothing here is a receipt word (好的, 明白, 1 … acknowledge an open notice: see texts.RECEIPT_WORDS).
CHATTER_GROUP = ("辛苦了", "你好呀", "在吗", "谢谢", "早上好", "大家辛苦")
CHATTER_DM = ("你好", "谢谢", "辛苦了", "在吗", "早上好", "请问一下")
LOOKUP_STEMS = (
    "党的最高领导机关是",
    "入党誓词",
    "党支部应当每月相对固定几天开展主题党日",
    "预备党员的预备期为",
    "党的最高理想和最终目标",
    "三会一课",
)
MENTION = "@学习驿站 "
BURST_SECONDS = 60  # seconds per 竞赛 question
BURST_TAG = "基准单选"  # the tag of the seeded single-choice questions the burst's 竞赛 asks (seed_members)

# kind -> the handlers that may answer it (judged again from the database after the run).
HANDLERS: Mapping[str, frozenset[str]] = {
    "receipt": frozenset({"handle_receipt"}),
    "check_in": frozenset({"handle_check_in"}),
    "leave": frozenset({"handle_leave"}),
    "study": frozenset({"handle_study_check_in"}),
    # Between two questions (the few seconds after a result) a letter answers nothing: the short help.
    "answer": frozenset({"handle_answer", "help_short"}),
    "help": frozenset({"handle_help"}),
    "lookup": frozenset({"handle_lookup"}),
    "leaderboard": frozenset({"handle_leaderboard"}),
    "meetings": frozenset({"handle_meetings"}),
    "my_study": frozenset({"handle_my_study"}),
    "chatter": frozenset({"help_short"}),
    "chatter_dm": frozenset({"help_short"}),
    # In the 竞赛 group, while a 填空 question is open, any text is an answer to it (the quiz's filter comes
    # before the receipt filter): a receipt or a greeting there may be graded as an answer, silently.
    "receipt_quiz": frozenset({"handle_receipt", "handle_answer"}),
    "chatter_quiz": frozenset({"help_short", "handle_answer"}),
    "setup": frozenset({"handle_notice", "handle_match", "handle_create_theme_day", "handle_create_member_assembly"}),
}
# Kinds whose passive answer must carry text (the others: anything but the apology, possibly nothing).
REPLIES = frozenset({"check_in", "leave", "study", "help", "lookup", "meetings", "my_study", "chatter", "chatter_dm"})


def member_ids() -> list[str]:
    return [f"m{i:03d}" for i in range(MEMBERS)]


def member_name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + ("" if i < 50 else GIVEN[(i * 3) % len(GIVEN)])


def now_local() -> datetime:
    return datetime.now(TZ)


# --- crypto, as WeCom does it ---------------------------------------------------------------------


def _sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def _prp(key: str) -> Any:
    from wechatpy.work.crypto import PrpCrypto

    return PrpCrypto(base64.b64decode(key + "="))


@dataclass
class Sender:
    """Builds signed, encrypted callbacks (fresh timestamps: the app refuses old ones)."""

    fake_base: str
    serial: int = 0
    kinds: dict[str, str] = field(default_factory=dict)  # platform message id -> kind
    last: str = ""  # the key of the last message built (as `kinds` has it)
    # Messages whose reply was not in the HTTP answer: the bot pushes an answer instead when a push to the same
    # chat is due (it must not overtake it); verify_mix checks that each got its reply that way.
    pushed_instead: set[str] = field(default_factory=set)
    _aibot: Any = None
    _app: Any = None

    def __post_init__(self) -> None:
        from wechatpy.work.crypto import WeChatCrypto

        self._aibot = _prp(AIBOT_KEY)
        self._app = WeChatCrypto(WECOM_TOKEN, WECOM_AES_KEY, WECOM_CORP_ID)

    def _next(self, kind: str, prefix: str) -> str:
        self.serial += 1
        # A leading 1: an app MsgId is a number, so a leading zero would not survive the app's parsing.
        return f"{prefix}1{int(time.time()) % 100000:05d}{self.serial:07d}"

    def aibot(self, kind: str, user: str, chat: str | None, text: str) -> Request:
        msg_id = self._next(kind, "MIX")
        self.last = f"aibot:{msg_id}"
        self.kinds[self.last] = kind
        payload: dict[str, Any] = {
            "msgid": msg_id,
            "aibotid": "AIBOTMIX",
            "chattype": "group" if chat else "single",
            "from": {"userid": user},
            "response_url": f"{self.fake_base}/cgi-bin/aibot/response?response_code=rc-{msg_id}",
            "msgtype": "text",
            "text": {"content": text},
        }
        if chat:
            payload["chatid"] = chat
        timestamp, nonce = str(int(time.time())), f"n{self.serial}"
        encrypted = self._aibot.encrypt(json.dumps(payload, ensure_ascii=False), "").decode()
        query = {
            "msg_signature": _sign(AIBOT_TOKEN, timestamp, nonce, encrypted),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        return Request(AIBOT_PATH, json.dumps({"encrypt": encrypted}).encode(), headers=JSON_HEADERS, query=query)

    def app(self, kind: str, user: str, text: str) -> Request:
        msg_id = self.last = self._next(kind, "")
        self.kinds[msg_id] = kind
        timestamp, nonce = str(int(time.time())), f"x{self.serial}"
        plain = (
            f"<xml><ToUserName><![CDATA[{WECOM_CORP_ID}]]></ToUserName>"
            f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{timestamp}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
            f"<MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
        )
        encrypted = self._app.encrypt_message(plain, nonce, timestamp).split("<Encrypt><![CDATA[")[1].split("]]>")[0]
        envelope = (
            f"<xml><ToUserName><![CDATA[{WECOM_CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
        )
        query = {
            "msg_signature": _sign(WECOM_TOKEN, timestamp, nonce, encrypted),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        return Request(APP_PATH, envelope.encode(), headers=XML_HEADERS, query=query)


def answer_text(response: Response) -> str | None:
    """The text of a passive answer (AI-bot stream or app XML), '' for an empty answer, None if undecryptable."""
    if response.status != 200:
        return None
    if not response.body:
        return ""
    if response.body.lstrip().startswith(b"{"):
        data = json.loads(response.body)
        if data.get("msgsignature") != _sign(AIBOT_TOKEN, data["timestamp"], data["nonce"], data["encrypt"]):
            return None
        plain = json.loads(_prp(AIBOT_KEY).decrypt(data["encrypt"], ""))
        return str(plain.get("stream", {}).get("content", ""))
    import re

    found = re.search(rb"<Encrypt><!\[CDATA\[([^\]]+)\]\]></Encrypt>", response.body)
    if found is None:
        return None
    plain = _prp(WECOM_AES_KEY).decrypt(found.group(1), WECOM_CORP_ID)
    content = re.search(r"<Content><!\[CDATA\[(.*)\]\]></Content>", plain, re.S)
    return content.group(1) if content else ""


def judge(kind: str, responses: Sequence[Response], key: str = "", pushed: set[str] | None = None) -> str | None:
    """What is wrong with a message's answer, if anything. key, pushed: the message's key and where to note that
    its reply was not in the answer (verify_mix then checks that it was pushed); without them that is wrong."""
    text = answer_text(responses[0])
    if text is None:
        return f"{kind}: HTTP {responses[0].status}, not a valid encrypted answer: {responses[0].body[:100]!r}"
    if texts.GENERIC_ERROR in text:
        return f"{kind}: the bot apologised: {text[:80]!r}"
    if kind in REPLIES and not text:
        if pushed is None:
            return f"{kind}: no answer"
        pushed.add(key)
    if kind in ("chatter", "chatter_dm") and text != texts.HELP_SHORT:
        return f"{kind}: {text[:80]!r} is not the short help"
    if kind in ("receipt", "receipt_quiz") and text:
        return f"{kind}: a group receipt was answered: {text[:80]!r}"
    if kind == "chatter_quiz" and text not in ("", texts.HELP_SHORT):
        return f"chatter_quiz: {text[:80]!r} is neither the short help nor a silent answer"
    return None


def _judge_of(world: World, kind: str) -> Callable[[Sequence[Response]], str | None]:
    """The judge of the message just built."""
    return partial(judge, kind, key=world.sender.last, pushed=world.sender.pushed_instead)


def judge_bare(responses: Sequence[Response]) -> str | None:
    return None if responses[0].status == 200 and responses[0].body else "bare: no answer"


# --- the world: config, seed, fake WeCom, setup -----------------------------------------------------


def branches(today: datetime) -> list[dict[str, Any]]:
    """Both branches, each with its study day today (so its job, fired at start, opens the roll call)."""
    study = {"weekday": today.isoweekday(), "time": "00:00", "nudge_time": "23:59", "holiday_rule": "skip"}
    return [
        {
            "id": BRANCH_A,
            "name": "市城管局机关第一党支部",
            "party_groups": ["执法党小组", "市容党小组"],
            "chats": [f"wecom:{CHAT_A1}", f"wecom:{CHAT_A2}"],
            "secretaries": [f"wecom:{SECRETARY_A}"],
            "study": study,
        },
        {
            "id": BRANCH_B,
            "name": "城管执法大队第二党支部",
            "party_groups": ["一中队党小组"],
            "chats": [f"wecom:{CHAT_B1}"],
            "secretaries": [f"wecom:{SECRETARY_B}"],
            "study": study,
        },
    ]


def wecom_section(fake_base: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "corp_id": WECOM_CORP_ID,
        "agent_id": AGENT_ID,
        "app_secret": APP_SECRET,
        "callback_token": WECOM_TOKEN,
        "encoding_aes_key": WECOM_AES_KEY,
        "aibot_token": AIBOT_TOKEN,
        "aibot_encoding_aes_key": AIBOT_KEY,
        "appchats": [CHAT_A1, CHAT_A2, CHAT_B1],
        "api_base_url": fake_base,
        "reply_budget_seconds": 4.5,
    }


async def seed_members(url: str, config: Any, groups: Sequence[str]) -> None:
    """The deployment as it stands before the day: migrated, branches synced, 500 members with WeCom names."""
    from bot.core.members import branch_by_key, sync_config
    from bot.core.models import Member, MemberIdentity
    from bot.quiz.models import Question

    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        async with db.transaction(sessions) as session:
            await sync_config(session, config)
            ids = {key: (await branch_by_key(session, key)) for key in (BRANCH_A, BRANCH_B)}
            created = now_local() - timedelta(days=100)
            people = [(f"m{i:03d}", member_name(i), groups[i]) for i in range(MEMBERS)]
            people += [(SECRETARY_A, "李建国", CHAT_A1), (SECRETARY_B, "王志强", CHAT_B1)]
            for user, name, chat in people:
                branch = ids[BRANCH_B if chat == CHAT_B1 else BRANCH_A]
                assert branch is not None
                member = Member(branch_id=branch.id, display_name=name, role="member", created_at=created)
                session.add(member)
                await session.flush()
                session.add(MemberIdentity(member_id=member.id, channel="wecom", platform_user_id=user))
            await session.flush()
            await sync_config(session, config)  # declared secretaries now exist: give them their role
            for i in range(10):  # the burst's 竞赛 (BURST_TAG): single choice, so each letter is an answer
                session.add(
                    Question(
                        key=f"bench-{i}",
                        type="single",
                        stem=f"基准题{i + 1}：党的最高领导机关是？",
                        options=[
                            "党的全国代表大会和它所产生的中央委员会",
                            "党的全国代表大会",
                            "中央委员会",
                            "中央政治局",
                        ],
                        answer="A",
                        explanation="《中国共产党章程》第十条。",
                        source="《中国共产党章程》第二章第十条",
                        tags=[BURST_TAG],
                        difficulty=1,
                        created_at=created,
                        updated_at=created,
                    )
                )
    finally:
        await engine.dispose()


@dataclass
class World:
    """What a mix round needs around its server: config, the fake API, the seed, setup and traffic."""

    fake_base: str
    today: datetime
    sender: Sender
    fake: Any
    groups: Sequence[str] = tuple(GROUP_OF)  # each member's group, by index
    setup_answers: list[str] = field(default_factory=list)
    # The 竞赛's tag: the burst pins its questions to the seeded single-choice ones (a letter answers them); the mix
    # draws from the whole bank (a 对/错 or 填空 question takes letters as talk or as wrong answers).
    quiz_tag: str = ""

    @property
    def config(self) -> dict[str, Any]:
        return {
            "wecom": wecom_section(self.fake_base),
            "branches": branches(self.today),
            "sim": {"enabled": False},
            "demo": {"seed": False},
        }

    fire_jobs: tuple[str, ...] = (f"study_reminder.{BRANCH_A}", f"study_reminder.{BRANCH_B}")

    async def setup(self, base_url: str) -> None:
        """The secretaries' day: a notice each, a meeting each (check-in open), a 竞赛 in A1 — through the bot."""
        start = now_local() + timedelta(minutes=20)
        when = f"{start.month}月{start.day}日{start:%H:%M}"
        steps = [
            (SECRETARY_A, CHAT_A1, "通知 请各位同志本周五前完成《中国共产党章程》第一章的学习，收到请回复"),
            (SECRETARY_B, CHAT_B1, "通知 明早八点在大队部集合开展志愿服务，收到请回复"),
            (SECRETARY_A, CHAT_A1, f"发起主题党日 {when} 三楼会议室 主题：学习党章"),
            (SECRETARY_B, CHAT_B1, f"发起党员大会 {when} 二楼会议室 主题：民主评议党员"),
            (SECRETARY_A, QUIZ_CHAT, f"竞赛 10题 {BURST_SECONDS}秒 {self.quiz_tag}".rstrip()),
        ]
        async with aiohttp.ClientSession(base_url) as session:
            for user, chat, text in steps:
                request = self.sender.aibot("setup", user, chat, MENTION + text)
                async with session.post(
                    request.path, data=request.body, headers=request.headers, params=request.query
                ) as r:
                    answer = answer_text(Response(r.status, await r.read()))
                if answer is None or texts.GENERIC_ERROR in answer:
                    raise RuntimeError(f"setup step {text!r} failed: HTTP {r.status}, {answer!r}")
                self.setup_answers.append(answer)
                print(f"  setup: {text[:24]}… → {answer.splitlines()[0][:60] if answer else '(pushed)'}", flush=True)


# The kinds of the members' messages (member_messages), for --kinds.
MEMBER_KINDS = frozenset(
    {
        "receipt",
        "receipt_quiz",
        "check_in",
        "leave",
        "study",
        "answer",
        "help",
        "lookup",
        "leaderboard",
        "meetings",
        "my_study",
        "chatter",
        "chatter_quiz",
        "chatter_dm",
    }
)


def member_messages(world: World, rng: random.Random, count: int, kinds: frozenset[str] = frozenset()) -> list[Unit]:
    """Each member's ten messages, shuffled across all members; the first count of them (so a shorter run still
    comes from all 500 members in all three groups, in the same proportions)."""
    people = member_ids()
    plan: list[tuple[str, str, str | None, str]] = []  # kind, user, chat (None: 1:1 to the app), text
    for i, user in enumerate(people):
        chat = world.groups[i]
        quiz = "_quiz" if chat == QUIZ_CHAT else ""
        mine: list[tuple[str, str | None, str]] = [(f"receipt{quiz}", chat, "收到")]
        mine.append(("leave", chat, "请假 今天值班走不开") if rng.random() < 0.05 else ("check_in", chat, "签到"))
        mine.append(("study", chat, "学习打卡 学习党章第一章"))
        mine.append(("answer", chat, rng.choice("ABCD")) if chat == QUIZ_CHAT else ("help", chat, "帮助"))
        pick = rng.random()
        if pick < 0.4:
            mine.append(("lookup", chat, f"搜题 {rng.choice(LOOKUP_STEMS)}"))
        elif pick < 0.6:
            mine.append(("leaderboard", chat, "排行榜"))
        elif pick < 0.8:
            mine.append(("meetings", chat, "会议列表"))
        else:
            mine.append(("my_study", chat, "我的学习"))
        for n in range(5):
            if n % 2 == 0:
                mine.append((f"chatter{quiz}", chat, rng.choice(CHATTER_GROUP)))
            else:
                mine.append(("chatter_dm", None, rng.choice(CHATTER_DM)))
        plan.extend((kind, user, where, text) for kind, where, text in mine)
    rng.shuffle(plan)
    if kinds:  # --kinds: what these cost alone (a kind sent once per member runs out at 500 or fewer)
        plan = [p for p in plan if p[0] in kinds]
    units = []
    for kind, user, chat, text in plan[:count]:
        if chat is None:
            request = world.sender.app(kind, user, text)
        else:
            request = world.sender.aibot(kind, user, chat, MENTION + text)
        units.append(Unit(kind, (request,), _judge_of(world, kind), replies=0))
    return units


def burst_messages(world: World, rng: random.Random, count: int, kinds: frozenset[str] = frozenset()) -> list[Unit]:
    """Every member of the 竞赛 group answers the open question at once (one answer each; kinds: not used)."""
    people = [u for i, u in enumerate(member_ids()) if world.groups[i] == QUIZ_CHAT][:count]
    return [
        Unit(
            "answer",
            (world.sender.aibot("answer", user, QUIZ_CHAT, MENTION + rng.choice("ABCD")),),
            partial(judge, "answer"),
        )
        for user in people
    ]


# match-spread: the answers arrive over this many seconds, at uniformly random moments (the issue's "500 members
# answer one question within 2 s"; match-burst sends them all at the same instant).
SPREAD_SECONDS = 2.0


def spread_messages(world: World, rng: random.Random, count: int, kinds: frozenset[str] = frozenset()) -> list[Unit]:
    """The burst's answers, each sent at a random moment of the first SPREAD_SECONDS (in order of those moments)."""
    units = burst_messages(world, rng, count, kinds)
    moments = sorted(rng.uniform(0.0, SPREAD_SECONDS) for _ in units)
    return [replace(unit, at=moment) for unit, moment in zip(units, moments, strict=True)]


async def verify_mix(world: World, url: str, units: Sequence[Unit]) -> Verification:
    """Every message stored once and handled as its kind expects; no failure; every outbox row sent."""
    from bot.core.models import InboundMessage, Outbox
    from bot.quiz.models import QuizAttempt

    engine = db.create_engine(DatabaseConfig(url=url))
    problems: list[str] = []
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(InboundMessage.platform_msg_id, InboundMessage.handled_by))).all()
            statuses = Counter(
                dict((await conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all())
            )
            via = Counter(
                dict(
                    (
                        await conn.execute(select(Outbox.delivered_via, func.count()).group_by(Outbox.delivered_via))
                    ).all()
                )
            )
            attempts = await conn.scalar(select(func.count()).select_from(QuizAttempt))
            # The replies pushed instead of answered: each such message must have a reply the sender delivered.
            pushed_ok = {
                r.platform_msg_id
                for r in await conn.execute(
                    select(InboundMessage.platform_msg_id)
                    .join(Outbox, Outbox.cause_inbound_id == InboundMessage.id)
                    .where(
                        InboundMessage.platform_msg_id.in_(sorted(world.sender.pushed_instead)),
                        Outbox.status == "sent",
                        or_(Outbox.delivered_via.is_(None), Outbox.delivered_via != "passive"),
                    )
                )
            }
    finally:
        await engine.dispose()
    unanswered = world.sender.pushed_instead - pushed_ok
    if unanswered:
        problems.append(f"{len(unanswered)} replies neither answered nor pushed, e.g. {sorted(unanswered)[0]}")
    stored = Counter(msg_id for msg_id, _ in rows)
    expected = set(world.sender.kinds)
    if set(stored) != expected:
        problems.append(f"{len(set(stored) ^ expected)} messages missing or unexpected in the inbound table")
    if any(n > 1 for n in stored.values()):
        problems.append("a message was stored twice")
    handled: Counter[tuple[str, str | None]] = Counter()
    for msg_id, handler in rows:
        kind = world.sender.kinds.get(msg_id, "?")
        handled[(kind, handler)] += 1
        if handler not in HANDLERS.get(kind, frozenset()) and len(problems) < 12:
            problems.append(f"{kind} message {msg_id} handled by {handler!r}")
    if set(statuses) - {"sent"}:
        problems.append(f"outbox rows not sent: {dict(statuses)}")
    info = {
        "inbound_messages": len(rows),
        "handled_by": {f"{k}→{h}": n for (k, h), n in sorted(handled.items(), key=str)},
        "outbox_status": dict(statuses),
        "delivered_via": {str(k): v for k, v in via.items()},
        "quiz_attempts": attempts,
        "replies_pushed_instead_of_answered": len(world.sender.pushed_instead),
        "setup_answers": [a.splitlines()[0][:80] if a else "" for a in world.setup_answers],
    }
    return Verification(info, problems)


async def verify_burst(world: World, url: str, units: Sequence[Unit]) -> Verification:
    """As the mix, and every answer to the open question scored exactly by the documented rule."""
    from bot.core.config import QuizConfig
    from bot.quiz.models import QuizAttempt, QuizRound
    from bot.quiz.scoring import match_score

    checked = await verify_mix(world, url, units)
    problems = list(checked.problems)
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(QuizAttempt.correct, QuizAttempt.elapsed_ms, QuizAttempt.score, QuizRound.position).join(
                        QuizRound, QuizRound.id == QuizAttempt.round_id
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    answers = sum(1 for u in units if u.kind == "answer")
    if len(rows) != answers:
        problems.append(f"{len(rows)} quiz attempts stored for {answers} answers")
    config = QuizConfig()
    wrong_scores = [
        r for r in rows if r.score != (match_score(config, r.elapsed_ms, BURST_SECONDS, 0) if r.correct else 0)
    ]
    if wrong_scores:
        problems.append(f"{len(wrong_scores)} attempts not scored by the documented rule, e.g. {wrong_scores[0]}")
    if {r.position for r in rows} - {1}:
        problems.append("answers reached a question other than the first")
    info = {**checked.info, "attempts": len(rows), "correct": sum(1 for r in rows if r.correct)}
    return Verification(info, problems)


# --- the scenarios ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def open_world(groups: Sequence[str] = tuple(GROUP_OF), quiz_tag: str = "") -> AsyncIterator[World]:
    """Serve a fake WeCom API in this process for the round (pushes land there), and give the round's world."""
    from bot.core.clock import system_clock
    from tests.channels.wecom.fake_api import FakeWecom

    fake = FakeWecom(system_clock(TZ), corp_id=WECOM_CORP_ID, secret=APP_SECRET)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    fake.base_url = base
    try:
        yield World(fake_base=base, today=now_local(), sender=Sender(base), fake=fake, groups=groups, quiz_tag=quiz_tag)
    finally:
        await runner.cleanup()


def warmup_messages(world: World, rng: random.Random, count: int) -> list[Unit]:
    """Warm-up traffic that answers no roll call or quiz (those belong to the measured day): chatter, 帮助, 搜题."""
    units = []
    for _ in range(count):
        i = rng.randrange(MEMBERS)
        user, chat = f"m{i:03d}", world.groups[i]
        kind, text = rng.choice((("help", "帮助"), ("lookup", f"搜题 {rng.choice(LOOKUP_STEMS)}")))
        if rng.random() < 0.5:
            kind, text = "chatter_dm", rng.choice(CHATTER_DM)
            units.append(Unit(kind, (world.sender.app(kind, user, text),), _judge_of(world, kind)))
        else:
            units.append(Unit(kind, (world.sender.aibot(kind, user, chat, MENTION + text),), _judge_of(world, kind)))
    return units


def _build(
    make: Callable[[World, random.Random, int], list[Unit]], *, bare: bool = False
) -> Callable[[Plan, str, World], list[Unit]]:
    def build(plan: Plan, phase: str, world: World) -> list[Unit]:
        if phase == "warmup":
            units = warmup_messages(world, plan.rng("mix-warmup"), plan.count(phase))
        else:
            units = make(world, plan.rng(f"mix-{phase}"), plan.count(phase), plan.kinds)
        return [Unit(u.kind, u.requests, judge_bare) for u in units] if bare else units

    return build


@dataclass(frozen=True)
class WorldScenario(Scenario):
    """A scenario whose server needs a world around it (bench/run.py enters it for each round)."""

    world: Callable[[], contextlib.AbstractAsyncContextManager[World]] = open_world
    build_in: Callable[[Plan, str, World], list[Unit]] | None = None
    verify_in: Callable[[World, str, Sequence[Unit]], Awaitable[Verification]] | None = None
    setup: bool = True  # the secretaries' notice, meetings and 竞赛 before warming up
    concurrency: int | None = None  # the measured phase's clients, if not --concurrency


def _burst(name: str, what: str, make: Callable[[World, random.Random, int], list[Unit]]) -> WorldScenario:
    """A 竞赛 burst: all 500 members in the 竞赛 group, one client each; checked by verify_burst."""
    return WorldScenario(
        name,
        "app",
        f"竞赛 burst: all 500 members are in the 竞赛 group and {what}",
        _no_units,
        world=partial(open_world, (QUIZ_CHAT,) * MEMBERS, BURST_TAG),
        baseline="aibot-bare",
        build_in=_build(make),
        verify_in=verify_burst,
        concurrency=MEMBERS,
    )


def _no_units(plan: Plan, phase: str) -> list[Unit]:
    raise RuntimeError("a world scenario builds its units inside its world")


MIX_SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        WorldScenario(
            "aibot-bare",
            "aibot-bare",
            "bare aiohttp + wechatpy crypto: verify, decrypt, parse the mix's AI-bot/app callbacks, encrypt an answer",
            _no_units,
            baseline=None,
            build_in=_build(member_messages, bare=True),
            setup=False,
        ),
        WorldScenario(
            "wecom-mix",
            "app",
            "500 members, 2 branches, 3 groups: 收到/签到/请假/学习打卡/竞赛 answers/搜题/排行榜/… + chatter over WeCom",
            _no_units,
            baseline="aibot-bare",
            build_in=_build(member_messages),
            verify_in=verify_mix,
        ),
        _burst("match-burst", "answer its first question at once", burst_messages),
        _burst(
            "match-spread",
            f"answer its first question within {SPREAD_SECONDS:g} s (random moments)",
            spread_messages,
        ),
    )
}
