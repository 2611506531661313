"""Where an outbox row for WeCom goes (robot webhook, app group chat, app message, AI-bot response_url or
AI-bot long connection)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.cards import asks_a_live_question
from bot.core.channels.wecom.models import WecomResponseUrl
from bot.core.config import WecomConfig
from bot.core.message import Outgoing
from bot.core.models import InboundMessage, Outbox
from bot.core.outbox import PermanentError, RateLimit

ROBOT = "robot"
APPCHAT = "appchat"
APP = "app"
RESPONSE_URL = "response_url"
LONG_CONNECTION = "aibot_send_msg"  # a proactive push over the AI bot's long connection
# Routes whose messages WeCom renders as markdown (their text is escaped: markdown.py).
MARKDOWN_ROUTES = frozenset({ROBOT, LONG_CONNECTION, RESPONSE_URL})

# Byte limits of one message's content (UTF-8); longer text is silently truncated by WeCom.
TEXT_MAX_BYTES = 2048  # text: app message/send, appchat/send, robot text (发送应用消息, 群机器人配置说明)
ROBOT_MARKDOWN_MAX_BYTES = 4096  # robot markdown (群机器人配置说明)
# AI-bot response_url markdown: we found no documented limit, so keep to the robot's. A response_url
# answers once, so text beyond this is cut with a marker instead of split.
RESPONSE_URL_MAX_BYTES = 4096

# Documented rates. Robot: "每个机器人发送的消息不能超过20条/分钟" (群机器人配置说明).
ROBOT_LIMIT = RateLimit(count=20, seconds=60)
# App messages: "每应用对同一个成员不可超过30次/分钟，1000次/小时，超过部分会被丢弃不下发" (访问频率限制,
# developer.work.weixin.qq.com/document/path/90312). The outbox enforces one window: the minute one.
APP_MEMBER_LIMIT = RateLimit(count=30, seconds=60)
# One app message/send reaches many members: "touser 成员ID列表（消息接收者，多个接收者用'|'分隔，最多支持1000个）"
# (发送应用消息, path/90236). It saves calls and round trips, not quota: "每应用不可超过账号上限数*200人次/天（注：
# 若调用api一次发给1000人，算1000人次）", and the per-member limit above holds for each recipient, so the outbox
# checks every target's window as for a row sent alone; "发消息频率不计入基础频率" (访问频率限制, path/90312 and
# path/90454).
APP_MAX_RECIPIENTS = 1000
# App group chats: "每个成员在群中收到的应用消息不可超过200条/分" (same page); per chat this bounds every member.
APPCHAT_LIMIT = RateLimit(count=200, seconds=60)

# AI-bot long connection, aibot_send_msg (markdown): we found no documented size or rate limit (智能机器人长连接,
# path/101463, and WeCom's SDKs), so keep to the group robot's: 4096 bytes, 20 messages a minute per chat.
LONG_CONNECTION_MAX_BYTES = ROBOT_MARKDOWN_MAX_BYTES
LONG_CONNECTION_LIMIT = ROBOT_LIMIT

# "每个 response_url 用户可以调用接口一次，该 response_url 有效期为 1 个小时" (智能机器人 主动回复消息,
# path/101138); keep a minute in hand.
RESPONSE_URL_TTL = timedelta(minutes=59)


@dataclass(frozen=True)
class Route:
    """One way to deliver: `address` is the webhook key, chat id, user id or response_url."""

    kind: str
    address: str
    max_bytes: int
    limit: RateLimit | None
    response_url_id: int | None = None

    @property
    def splittable(self) -> bool:
        return self.kind != RESPONSE_URL


# An image goes after the row's text as a message of its own, where the route can show one: a robot takes it
# as base64 with its MD5, "图片（base64编码前）最大不能超过2M，支持JPG,PNG格式" (群机器人配置说明); the app and its
# group chats send a media_id from 上传临时素材 (media/upload, type=image), where we keep to the same 2 MB.
# The AI bot's long connection uploads it over the connection (aibot_upload_media_*) and pushes the media_id.
# An AI bot's response_url carries text only.
IMAGE_ROUTES = frozenset({ROBOT, APPCHAT, APP, LONG_CONNECTION})
IMAGE_MAX_BYTES = 2 * 1024 * 1024
IMAGE_FILENAME = "yizhan.png"  # images are PNG (bot.core.context: Context.reply(image=…))


def shows_image(route: Route | None, item: Outgoing) -> bool:
    """Whether this row's image goes out on this route (the text is sent either way)."""
    return (
        route is not None
        and route.kind in IMAGE_ROUTES
        and item.media_id is not None
        and (item.image is None or len(item.image) <= IMAGE_MAX_BYTES)
    )


# The conversation of the inbound message an outbox row answers (none for a push of our own).
CAUSE = (
    select(InboundMessage.platform_chat_id, InboundMessage.platform_user_id)
    .join(Outbox, Outbox.cause_inbound_id == InboundMessage.id)
    .where(Outbox.id == bindparam("outbox_id"))
)
# The response_url of the AI-bot message an outbox row answers, for the row's target (one statement: the cause's
# platform message id is joined, not read first).
ANSWERED_RESPONSE_URL = (
    select(WecomResponseUrl)
    .join(InboundMessage, InboundMessage.platform_msg_id == WecomResponseUrl.platform_msg_id)
    .join(Outbox, Outbox.cause_inbound_id == InboundMessage.id)
    .where(
        Outbox.id == bindparam("outbox_id"),
        WecomResponseUrl.target_kind == bindparam("target_kind"),
        WecomResponseUrl.target_id == bindparam("target_id"),
    )
)


class Router:
    """Decides the route of a row from config and, for AI-bot answers, the stored response_urls."""

    def __init__(self, config: WecomConfig) -> None:
        self.config = config
        self.robot_keys = config.robot_keys()
        self.appchats = frozenset(config.appchats)

    def static_route(self, item: Outgoing) -> Route | None:
        """The configured route, or None when only a response_url (if any) can carry the row."""
        if item.target_kind == "chat":
            key = self.robot_keys.get(item.target_id)
            if key is not None:
                # Mentions ride in the markdown as "<@userid>" (their bytes are kept free of the first part).
                spare = sum(len(user_id.encode()) + 4 for user_id in item.mentions)
                return Route(ROBOT, key, ROBOT_MARKDOWN_MAX_BYTES - spare, ROBOT_LIMIT)
            if item.target_id in self.appchats:
                return Route(APPCHAT, item.target_id, TEXT_MAX_BYTES, APPCHAT_LIMIT)
            return self._long_connection(item)
        if self.config.app_push_ready:
            return Route(APP, item.target_id, TEXT_MAX_BYTES, APP_MEMBER_LIMIT)
        return self._long_connection(item)

    def _long_connection(self, item: Outgoing) -> Route | None:
        """A push over the AI bot's long connection, to a group's chatid or a member's userid (single chat)."""
        if not self.config.long_connection:
            return None
        return Route(LONG_CONNECTION, item.target_id, LONG_CONNECTION_MAX_BYTES, LONG_CONNECTION_LIMIT)

    def rate_limit(self, item: Outgoing) -> RateLimit | None:
        route = self.static_route(item)
        return None if route is None else route.limit

    async def route(self, session: AsyncSession, item: Outgoing, now: datetime) -> Route:
        """The route for this row, claiming a response_url if one is used; PermanentError if there is none."""
        static = self.static_route(item)
        if item.target_kind == "user" or static is None:
            # A 1:1 AI-bot question is answered in that AI-bot conversation rather than by the app (text only:
            # the member may be outside the app's 可见范围, and the answer belongs where the question was).
            answered = await self._claim(session, await self._answered_response_url(session, item), now)
            if answered is not None:
                return answered
        if static is not None:
            return static
        if not asks_a_live_question(item.card) and not await self._is_reply(session, item):
            # A push of our own (a reminder, a notice, a nudge) never takes a response_url: it answers the message
            # it came with, once, within an hour ("每个 response_url 用户可以调用接口一次", path/101138). Later
            # pushes go by a robot, an app group chat, the app or the long connection. The one exception is the
            # next question of a live 抢答/竞赛 (a card): it continues an exchange members are in now, and an
            # unused response_url of that group from the last hour is the only way an HTTP-callback AI bot
            # can show it.
            return _no_route(item)
        return await self._latest_response_url(session, item, now) or _no_route(item)

    async def _is_reply(self, session: AsyncSession, item: Outgoing) -> bool:
        """Whether the row answers an inbound message in its own conversation (a job's push, or a notice a
        secretary's message sends to other chats, is not an answer)."""
        row = (await session.execute(CAUSE, {"outbox_id": item.id})).first()
        if row is None:
            return False
        chat_id, user_id = row
        if item.target_kind == "chat":
            return chat_id == item.target_id
        return chat_id is None and user_id == item.target_id

    async def _answered_response_url(self, session: AsyncSession, item: Outgoing) -> WecomResponseUrl | None:
        """The response_url of the AI-bot message this row answers, if it came in one."""
        return await session.scalar(
            ANSWERED_RESPONSE_URL,
            {"outbox_id": item.id, "target_kind": item.target_kind, "target_id": item.target_id},
        )

    async def _latest_response_url(self, session: AsyncSession, item: Outgoing, now: datetime) -> Route | None:
        rows = await session.scalars(
            select(WecomResponseUrl)
            .where(
                WecomResponseUrl.target_kind == item.target_kind,
                WecomResponseUrl.target_id == item.target_id,
                WecomResponseUrl.used_at.is_(None),
                WecomResponseUrl.received_at > now - RESPONSE_URL_TTL,
            )
            .order_by(WecomResponseUrl.received_at.desc())
            .limit(3)
        )
        for row in rows:
            route = await self._claim(session, row, now)
            if route is not None:
                return route
        return None

    async def _claim(self, session: AsyncSession, row: WecomResponseUrl | None, now: datetime) -> Route | None:
        if row is None or row.used_at is not None or row.received_at <= now - RESPONSE_URL_TTL:
            return None
        result = await session.execute(
            update(WecomResponseUrl)
            .where(WecomResponseUrl.id == row.id, WecomResponseUrl.used_at.is_(None))
            .values(used_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return Route(RESPONSE_URL, row.url, RESPONSE_URL_MAX_BYTES, None, response_url_id=row.id)


async def release(session: AsyncSession, route: Route) -> None:
    """Give a claimed response_url back: the call failed before WeCom could have used it."""
    if route.response_url_id is not None:
        await session.execute(
            update(WecomResponseUrl).where(WecomResponseUrl.id == route.response_url_id).values(used_at=None)
        )


def _no_route(item: Outgoing) -> Route:
    if item.target_kind == "chat":
        raise PermanentError(
            f"no way to post to WeCom group chat {item.target_id!r}: add '{item.target_id}=<webhook key>' to "
            "[wecom] robot_webhooks (or YIZHAN_WECOM_ROBOT_WEBHOOKS), or list it in [wecom] appchats if the app "
            "created it; the AI bot can only answer within an hour of an @-message, once per message"
        )
    raise PermanentError(
        f"no way to message WeCom user {item.target_id!r}: set [wecom] corp_id, agent_id and app_secret "
        "(YIZHAN_WECOM_APP_SECRET) so the app can send; the AI bot can only answer within an hour, once per message"
    )
