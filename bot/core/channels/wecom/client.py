"""The WeCom channel client: delivers outbox rows by robot webhook, appchat, app message or response_url."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import texts
from bot.core.channels.wecom import api, markdown
from bot.core.channels.wecom.cards import app_card_shown, task_id, template_card, text_in_card
from bot.core.channels.wecom.media import INVALID_MEDIA_ID, MediaCache
from bot.core.channels.wecom.models import WecomSentPart
from bot.core.channels.wecom.routing import (
    APP,
    APP_MAX_RECIPIENTS,
    APPCHAT,
    IMAGE_FILENAME,
    IMAGE_ROUTES,
    LONG_CONNECTION,
    MARKDOWN_ROUTES,
    RESPONSE_URL,
    ROBOT,
    TEXT_MAX_BYTES,
    Route,
    Router,
    release,
    shows_image,
)
from bot.core.channels.wecom.split import split_text, truncate
from bot.core.channels.wecom.token import TokenCache
from bot.core.clock import Clock
from bot.core.config import WecomConfig
from bot.core.db import read_only, transaction
from bot.core.members import MemberNames
from bot.core.message import Outgoing
from bot.core.models import Member, MemberIdentity, Outbox
from bot.core.outbox import PermanentError, RateLimit, TransientError

if TYPE_CHECKING:
    from bot.core.channels.wecom.longconn import LongConnection

log = logging.getLogger(__name__)

CHANNEL = "wecom"


class WecomClient:
    """Routes each row, splits it under the route's byte limit, sends the parts, maps WeCom's error codes.

    A row split into several messages is "sent" once all its parts are; parts already delivered are
    recorded (wecom_sent_part) so a retry sends only the rest.
    """

    name = CHANNEL

    def __init__(
        self,
        config: WecomConfig,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        http: aiohttp.ClientSession,
        *,
        postgres: bool,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.clock = clock
        self.http = http
        self.router = Router(config)
        self.base = config.api_base_url.rstrip("/")
        self.tokens = TokenCache(
            sessions,
            clock,
            key=f"{config.corp_id}:{config.agent_id}",
            fetch=self._gettoken,
            margin_seconds=config.token_refresh_margin_seconds,
            postgres=postgres,
        )
        self.long_connection: LongConnection | None = None  # set by the channel in long-connection mode
        self.media = MediaCache(sessions, clock)
        self.member_names: MemberNames | None = None  # names from the contacts, set by the channel

    # --- ChannelClient ----------------------------------------------------------------------
    def rate_limit(self, item: Outgoing) -> RateLimit | None:
        """The documented per-target limit, counted in messages: a row's text parts and its image each count."""
        route = self.router.static_route(item)
        if route is None or route.limit is None:
            return None
        return RateLimit(route.limit.count, route.limit.seconds, self.messages(item), self.messages)

    def batch_limit(self, item: Outgoing) -> int:
        """How many members one app message/send may carry for a row like this (BatchingClient): touser takes
        up to 1,000 userids (routing.py); a row of one message (a short text, or a card with its text) to a
        member by the app, with no image or mention, can go with others; anything else goes alone."""
        route = self.router.static_route(item)
        if route is None or route.kind != APP or item.target_kind != "user" or item.mentions or item.media_id:
            return 1
        return APP_MAX_RECIPIENTS if self.messages(item) == 1 else 1

    async def deliver_batch(self, items: Sequence[Outgoing]) -> Mapping[int, PermanentError]:
        """One message/send to every row's member (touser "a|b|c"); the rows of members WeCom names in
        invaliduser or unlicenseduser are refused, the others delivered.

        发送应用消息 (path/90236): "touser 成员ID列表（消息接收者，多个接收者用'|'分隔，最多支持1000个）"; the answer
        lists "invaliduser": "userid1|userid2" (unknown or outside the app's 可见范围) and "unlicenseduser" (in
        the 可见范围 but without 基础接口权限), userids "不区分大小写，统一转为小写"; "如果全部接收人无权限或不存在，
        则本次调用返回失败，errcode为81013".
        """
        first = items[0]
        assert all(i.text == first.text and i.card == first.card for i in items) and len(items) <= APP_MAX_RECIPIENTS
        route = Route(APP, "|".join(item.target_id for item in items), TEXT_MAX_BYTES, None)
        try:
            if app_card_shown(first.card, first.text):
                answer = await self._send_app_card(route, first, first.text)
            else:
                answer = await self._post(route, "text", {"content": first.text})
        except api.ApiError as err:
            failure = await self._delivery_error(err, first)
            if err.code == api.IP_NOT_TRUSTED:
                log.error("wecom: %s", failure)
            raise failure from None
        refused: dict[int, PermanentError] = {}
        for field_name, reason in (("invaliduser", api.INVALID_USER), ("unlicenseduser", api.UNLICENSED_USER)):
            named = {user.lower() for user in str(answer.get(field_name) or "").split("|") if user}
            for item in items:
                if item.target_id.lower() in named and item.id not in refused:
                    refused[item.id] = PermanentError(f"message/send: {field_name} {item.target_id}: {reason}")
        return refused

    def messages(self, item: Outgoing) -> int:
        """How many WeCom messages the row makes on its configured route (1 where there is none)."""
        route = self.router.static_route(item)
        if route is None:
            return 1
        if item.card is not None and route.kind == LONG_CONNECTION:
            return 1 + (0 if text_in_card(item.card, item.text) else len(split_text(item.text, route.max_bytes)))
        return len(split_text(item.text, route.max_bytes)) + shows_image(route, item)

    async def deliver(self, item: Outgoing) -> None:
        async with transaction(self.sessions) as session:
            route = await self.router.route(session, item, self.clock())
            spell_out = bool(item.mentions) and route.kind != ROBOT  # robots mention by user id instead
            names = await mention_names(session, item.mentions) if spell_out else {}
        text = markdown.escape(item.text) if route.kind in MARKDOWN_ROUTES else item.text
        markdown_route = route.kind in MARKDOWN_ROUTES
        text = with_mentions(text, item.mentions, names, as_markdown=markdown_route) if spell_out else text
        try:
            if route.kind == RESPONSE_URL:
                await self._answer(route, text, item)
            elif item.card is not None and route.kind == LONG_CONNECTION:
                await self._send_card(route, item, text)
            elif route.kind == APP and app_card_shown(item.card, text):
                await self._send_app_card(route, item, text)
            else:
                await self._send_parts(route, item, text)
        except api.ApiError as err:
            failure = await self._delivery_error(err, item)
            if err.code == api.IP_NOT_TRUSTED:
                log.error("wecom: %s", failure)
            raise failure from None

    # --- sending ------------------------------------------------------------------------------
    async def _send_parts(self, route: Route, item: Outgoing, text: str) -> None:
        """The text's parts, then the image (if the route shows it), each once even across retries."""
        parts = split_text(text, route.max_bytes)
        image = item.image if shows_image(route, item) else None
        if item.image is not None and image is None and route.kind in IMAGE_ROUTES:
            log.warning("wecom: the image of outbox row %d is over 2 MB; its text goes alone", item.id)
        last = None if image is None else partial(self._send_image_or_let_go, route, item, image)
        await self._in_parts(route, item, parts, last)

    async def _in_parts(
        self, route: Route, item: Outgoing, parts: list[str], last: Callable[[], Awaitable[None]] | None
    ) -> None:
        """The text's parts, then last (an image or a card) if any; each once even across retries (WecomSentPart)."""
        count = len(parts) + (last is not None)
        done = await self._sent_parts(item.id) if count > 1 else set()
        for index in range(count):
            if index in done:
                continue
            if index < len(parts):
                await self._send(route, parts[index], item.mentions if index == 0 else ())
            else:
                assert last is not None
                await last()
            if count > 1:
                async with transaction(self.sessions) as session:
                    session.add(WecomSentPart(outbox_id=item.id, part=index, sent_at=self.clock()))

    async def _send_card(self, route: Route, item: Outgoing, text: str) -> None:
        """A card row over the long connection: its text inside a button card, or as its own message(s) first
        (long text, or a choice card, which has no text area); each part once even across retries."""
        assert item.card is not None and self.long_connection is not None
        inside = text_in_card(item.card, text)
        parts = [] if inside else split_text(text, route.max_bytes)
        card = template_card(item.card, text, task_id(item.id), with_text=inside)
        await self._in_parts(route, item, parts, partial(self.long_connection.send_card, route.address, card))

    async def _send_app_card(self, route: Route, item: Outgoing, text: str) -> dict[str, Any]:
        """A button card in the app's 1:1 chat (message/send, msgtype template_card: cards.py [90236]); to every
        member of a batch at once (one task_id: each member's copy is their own, updated by their ResponseCode)."""
        assert item.card is not None
        body: dict[str, Any] = {
            "touser": route.address,
            "msgtype": "template_card",
            "agentid": self.config.agent_id,
            "template_card": template_card(item.card, text, task_id(item.id)),
        }
        if self.config.duplicate_check_seconds:
            body["enable_duplicate_check"] = 1
            body["duplicate_check_interval"] = self.config.duplicate_check_seconds
        return await self._with_token("message/send", body=body)

    async def update_app_button(self, user_id: str, response_code: str, label: str) -> None:
        """The tapper's button in an app card renamed (message/update_template_card: cards.py [94888])."""
        body = {
            "userids": [user_id],
            "agentid": self.config.agent_id,
            "response_code": response_code,
            "button": {"replace_name": label},
        }
        await self._with_token("message/update_template_card", body=body)

    async def _send(self, route: Route, content: str, mentions: tuple[str, ...]) -> None:
        if route.kind == ROBOT and mentions:
            # "<@userid>" in a robot's markdown @s the member (群机器人配置说明); the rest was escaped.
            heads = " ".join(markdown.mention(user_id) for user_id in mentions)
            await self._post(route, "markdown", {"content": f"{heads} {content}"})
        elif route.kind in (ROBOT, LONG_CONNECTION):
            await self._post(route, "markdown", {"content": content})
        else:
            await self._post(route, "text", {"content": content})

    async def _send_image_or_let_go(self, route: Route, item: Outgoing, image: bytes) -> None:
        """Send the image; one WeCom refuses for good is dropped (and logged): the row's text is delivered."""
        try:
            await self._send_image(route, image)
        except api.ApiError as err:
            failure = await self._delivery_error(err, item)
            if not isinstance(failure, PermanentError):
                raise
            log.warning("wecom: the image of outbox row %d was not delivered, its text was: %s", item.id, failure)

    async def _send_image(self, route: Route, image: bytes) -> None:
        if route.kind == LONG_CONNECTION and self.long_connection is not None:
            await self.long_connection.send_image(route.address, image, IMAGE_FILENAME)
            return
        if route.kind == ROBOT:
            encoded = base64.b64encode(image).decode("ascii")
            await self._post(route, "image", {"base64": encoded, "md5": hashlib.md5(image).hexdigest()})
            return
        # One upload per picture: its media_id is reused for 2.5 of its 3 days (media.py).
        owner = f"corp:{self.config.corp_id}"
        media_id = await self.media.media_id(owner, image, lambda: self._upload_image(image))
        try:
            await self._post(route, "image", {"media_id": media_id})
        except api.ApiError as err:
            if err.code != INVALID_MEDIA_ID:
                raise
            log.info("wecom: a cached media_id was refused (%d); uploading the image again", err.code)
            await self.media.forget(owner, image)
            media_id = await self.media.media_id(owner, image, lambda: self._upload_image(image))
            await self._post(route, "image", {"media_id": media_id})

    async def _upload_image(self, image: bytes) -> str:
        upload = api.Upload(IMAGE_FILENAME, image, "image/png")
        answer = await self._with_token("media/upload", params={"type": "image"}, upload=upload)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise TransientError("media/upload: answer has no media_id")
        return media_id

    async def _post(self, route: Route, msgtype: str, section: dict[str, Any]) -> dict[str, Any]:
        """One message of msgtype to a robot, an app group chat or a member (or members: "a|b|c"); the answer."""
        if route.kind == ROBOT:
            url = f"{self.base}/cgi-bin/webhook/send"
            body: dict[str, Any] = {"msgtype": msgtype, msgtype: section}
            return await api.call(self.http, "POST", url, "webhook/send", params={"key": route.address}, body=body)
        if route.kind == APPCHAT:
            body = {"chatid": route.address, "msgtype": msgtype, msgtype: section, "safe": 0}
            return await self._with_token("appchat/send", body=body)
        if route.kind == LONG_CONNECTION:
            if self.long_connection is None:  # pragma: no cover - the route exists only in that mode
                raise PermanentError("the AI bot's long connection is not configured")
            await self.long_connection.send_markdown(route.address, section["content"])
            return {}
        if route.kind == APP:
            body = {
                "touser": route.address,
                "msgtype": msgtype,
                "agentid": self.config.agent_id,
                msgtype: section,
                "safe": 0,
            }
            if self.config.duplicate_check_seconds:
                # WeCom drops the same message to the same member within the interval: a row re-sent after a
                # crash (its "sent" mark lost) arrives once. Robots and app group chats have no such check.
                body["enable_duplicate_check"] = 1
                body["duplicate_check_interval"] = self.config.duplicate_check_seconds
            return await self._with_token("message/send", body=body)
        raise ValueError(route.kind)  # pragma: no cover - routes are closed

    async def _answer(self, route: Route, text: str, item: Outgoing) -> None:
        """Answer through an AI-bot response_url: one call only, so long text is cut, not split.

        A button card whose text fits in it goes as the card (response_url takes markdown or template_card:
        path/101138); any other card row goes as its text (typed words still work).
        """
        body: dict[str, Any]
        if item.card is not None and text_in_card(item.card, text):
            body = {"msgtype": "template_card", "template_card": template_card(item.card, text, task_id(item.id))}
        else:
            content = truncate(text, route.max_bytes, texts.WECOM_TRUNCATED)
            body = {"msgtype": "markdown", "markdown": {"content": content}}
        try:
            await api.call(self.http, "POST", route.address, "aibot/response", body=body)
        except TransientError:
            await self._release(route)
            raise
        except api.ApiError as err:
            if err.code == api.BUSY:
                await self._release(route)
            raise

    async def _with_token(
        self,
        endpoint: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        upload: api.Upload | None = None,
        method: str = "POST",
    ) -> dict[str, Any]:
        """Call an app API; a refused token (40014/42001) is replaced once and the call repeated once."""
        url = f"{self.base}/cgi-bin/{endpoint}"
        token = await self.tokens.get()
        try:
            query = {**(params or {}), "access_token": token}
            return await api.call(self.http, method, url, endpoint, params=query, body=body, upload=upload)
        except api.ApiError as err:
            if err.code not in api.TOKEN_ERRORS:
                raise
            log.info("wecom: %s refused the access token (%d); refreshing it", endpoint, err.code)
        token = await self.tokens.invalidate(token)
        query = {**(params or {}), "access_token": token}
        return await api.call(self.http, method, url, endpoint, params=query, body=body, upload=upload)

    async def call_app_api(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        """A GET of the app's API with its access token (contacts.py reads 读取成员 with it)."""
        return await self._with_token(endpoint, params=params, method="GET")

    async def _gettoken(self) -> tuple[str, int]:
        answer = await api.call(
            self.http,
            "GET",
            f"{self.base}/cgi-bin/gettoken",
            "gettoken",
            params={"corpid": self.config.corp_id, "corpsecret": self.config.app_secret},
        )
        token, expires_in = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise TransientError("gettoken: answer has no access_token/expires_in")
        return token, expires_in

    # --- bookkeeping ----------------------------------------------------------------------------
    async def _sent_parts(self, outbox_id: int) -> set[int]:
        async with read_only(self.sessions) as session:
            rows = await session.scalars(select(WecomSentPart.part).where(WecomSentPart.outbox_id == outbox_id))
            return set(rows)

    async def _delivery_error(self, err: api.ApiError, item: Outgoing) -> TransientError | PermanentError:
        """What WeCom's errcode means for this row (busy: according to how often it was tried before)."""
        previous = await self._previous_attempts(item.id) if err.code == api.BUSY else 0
        return api.delivery_error(err, previous)

    async def _previous_attempts(self, outbox_id: int) -> int:
        async with read_only(self.sessions) as session:
            return await session.scalar(select(Outbox.attempts).where(Outbox.id == outbox_id)) or 0

    async def _release(self, route: Route) -> None:
        async with transaction(self.sessions) as session:
            await release(session, route)


async def mention_names(session: AsyncSession, user_ids: tuple[str, ...]) -> dict[str, str]:
    """Display names of WeCom users, for routes that cannot @-mention by user id."""
    rows = await session.execute(
        select(MemberIdentity.platform_user_id, Member.display_name)
        .join(Member, Member.id == MemberIdentity.member_id)
        .where(MemberIdentity.channel == CHANNEL, MemberIdentity.platform_user_id.in_(user_ids))
    )
    return {user_id: name for user_id, name in rows}


def with_mentions(text: str, mentions: tuple[str, ...], names: Mapping[str, str], *, as_markdown: bool = False) -> str:
    """The text with "@name" for each mention in front, where mentions must be written out (as_markdown: the
    names escaped like the text — a name comes from the contacts or config, not from us)."""
    spelled = {user_id: names.get(user_id, user_id) for user_id in mentions}
    if as_markdown:
        spelled = {user_id: markdown.escape(name) for user_id, name in spelled.items()}
    heads = [texts.WECOM_MENTION.format(name=spelled[user_id]) for user_id in mentions]
    return " ".join(heads) + " " + text
