"""Members' names from the WeCom contacts (读取成员), so that a member is 张三 and not their userid.

Platform facts, and where each comes from:
- WeCom tells us only a userid: an AI-bot message or event carries `from.userid` and no name (智能机器人 接收消息,
  developer.work.weixin.qq.com/document/path/100719; 接收事件, path/101027: "From结构体 … userid 操作者的userid"),
  and so does the long connection (path/101463).
- 读取成员 (path/90196; the same text at path/96255): `GET /cgi-bin/user/get?access_token=ACCESS_TOKEN&userid=USERID`
  answers {"userid", "name", …}. "应用只能获取可见范围内的成员信息"; "权限说明：应用须拥有指定成员的查看权限". The
  access token is the self-built app's (corp_id + app Secret), the one the app sends messages with.
- Errors (全局错误码): 60011 no privilege (the member is outside the app's 可见范围), 60111 userid not found, 48002
  API forbidden (the app may not call the contacts API). In each case we keep the userid as the name, and say so in
  the log once.

A name set in config.toml ([wecom] member_names = ["<userid>=<name>"]) wins and is never overwritten. A newcomer's
name is read after their message is handled (it never delays the reply); every member's name is read again daily
(schedules/contacts.py), so a renamed member follows WeCom.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.channels.wecom import api
from bot.core.config import WecomConfig
from bot.core.db import read_only, transaction
from bot.core.models import Member, MemberIdentity
from bot.core.outbox import TransientError

if TYPE_CHECKING:
    from bot.core.channels.wecom.client import WecomClient
    from bot.core.directory import Directory

log = logging.getLogger(__name__)

CHANNEL = "wecom"
ENDPOINT = "user/get"
NO_PRIVILEGE = 60011  # 指定的成员/部门/标签参数无权限 (outside the app's 可见范围)
USER_NOT_FOUND = 60111  # UserID不存在
API_FORBIDDEN = 48002  # API接口无权限调用 (the app has no contacts permission)
REFUSED = frozenset({NO_PRIVILEGE, API_FORBIDDEN})
NAME_MAX_CHARS = 64  # "成员名称。长度为1~64个utf8字符" (创建成员)


class Contacts:
    """Reads names with the app's access token and stores them on members (never over a configured name)."""

    def __init__(
        self,
        client: WecomClient,
        sessions: async_sessionmaker[AsyncSession],
        config: WecomConfig,
        directory: Directory | None = None,
    ) -> None:
        self.client = client
        # This process's member directory (bot/core/directory.py): a first look at a member's name, and told of
        # each name stored here.
        self.directory = directory
        self.sessions = sessions
        self.enabled = config.contacts_ready
        self.timeout = config.contacts_timeout_seconds
        self.overrides = config.name_overrides()
        self._settled: set[str] = set()  # userids whose name this process has read (or need not read)
        self._tasks: dict[str, asyncio.Task[str | None]] = {}
        self._refreshing: asyncio.Task[int] | None = None
        self._warned = False

    # --- reading ---------------------------------------------------------------------------------
    async def fetch(self, user_id: str) -> str | None:
        """The name WeCom gives user_id; None where WeCom will not tell (logged). Raises on transient failures."""
        try:
            answer = await self.client.call_app_api(ENDPOINT, {"userid": user_id})
        except api.ApiError as err:
            if err.code in REFUSED:
                self._refused(err)
                return None
            if err.code == USER_NOT_FOUND:
                log.info("wecom: the contacts have no userid %s (60111); keeping the userid as the name", user_id)
                return None
            raise
        name = answer.get("name")
        if not isinstance(name, str) or not name.strip():
            return None
        return name.strip()[:NAME_MAX_CHARS]

    def _refused(self, err: api.ApiError) -> None:
        if self._warned:
            log.debug("wecom: user/get refused (%d)", err.code)
            return
        self._warned = True
        log.warning(
            "wecom: the app may not read members' names (user/get errcode %d); members keep their userid as the "
            "name. Give the app the contacts in its 可见范围 (应用管理 → the app → 可见范围), or name them in "
            "[wecom] member_names. (Logged once.)",
            err.code,
        )

    # --- a newcomer --------------------------------------------------------------------------------
    def learn_soon(self, user_id: str) -> None:
        """Read this member's name in the background if they still go by their userid (once per process)."""
        if not self.enabled or user_id in self._settled or user_id in self._tasks:
            return
        task = asyncio.create_task(self.learn(user_id), name=f"wecom-name-{user_id}")
        self._tasks[user_id] = task
        task.add_done_callback(lambda done: self._learned(user_id, done))

    def _learned(self, user_id: str, task: asyncio.Task[str | None]) -> None:
        self._tasks.pop(user_id, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("wecom: reading the name of %s failed", user_id, exc_info=error)

    async def learn(self, user_id: str) -> str | None:
        """Read and store user_id's name if their member shows none yet; the name they go by afterwards."""
        if user_id in self.overrides:
            self._settled.add(user_id)
            return self.overrides[user_id]
        known = self._known_name(user_id)
        if known is not None and known != user_id:
            # The directory is a hint that may lag the database (another process, a commit not yet learnt), but
            # a name other than the userid is settled either way: nothing stores a userid over a name (names come
            # from config.toml, a platform's sender name or the contacts), so the row holds this name or a newer
            # one, and the daily refresh reads every name again. A hint that is missing or still the userid only
            # means the row is read, as without a directory.
            self._settled.add(user_id)
            return known
        async with read_only(self.sessions) as session:
            current = await _display_name(session, user_id)
        if current is None:
            return None  # not registered (yet): their next message tries again
        if current != user_id:
            self._settled.add(user_id)
            return current
        try:
            name = await self.fetch(user_id)
        except (api.ApiError, TransientError) as exc:
            log.warning("wecom: could not read the name of %s now (%s); it is tried again later", user_id, exc)
            return None
        self._settled.add(user_id)
        if name is None:
            return current
        await self._store({user_id: name})
        return name

    def _known_name(self, user_id: str) -> str | None:
        """The name this process's member directory has for user_id, if any (a hint: see learn)."""
        if self.directory is None:
            return None
        member_id = self.directory.identities.get((CHANNEL, user_id))
        card = None if member_id is None else self.directory.members.get(member_id)
        return None if card is None else card.display_name

    async def name_for_welcome(self, user_id: str) -> str | None:
        """The name to greet user_id by: stored, configured, or read from the contacts within a short timeout."""
        if user_id in self.overrides:
            return self.overrides[user_id]
        async with read_only(self.sessions) as session:
            current = await _display_name(session, user_id)
        if current is not None and current != user_id:
            return current
        if not self.enabled:
            return None
        try:
            name = await asyncio.wait_for(self.fetch(user_id), self.timeout)
        except (TimeoutError, api.ApiError, TransientError) as exc:
            log.info("wecom: no name for %s in time for the welcome (%s)", user_id, type(exc).__name__)
            return None
        if name is not None and current is not None:
            await self._store({user_id: name})
        return name

    # --- the daily refresh -------------------------------------------------------------------------
    def refresh_soon(self) -> bool:
        """Start reading every WeCom member's name again (in the background); False if one is under way."""
        if not self.enabled or (self._refreshing is not None and not self._refreshing.done()):
            return False
        self._refreshing = asyncio.create_task(self.refresh(), name="wecom-names-refresh")
        return True

    async def refresh(self) -> int:
        """Read the name of every WeCom member not named in config.toml; store the changed ones. How many changed."""
        async with read_only(self.sessions) as session:
            user_ids = list(
                await session.scalars(
                    select(MemberIdentity.platform_user_id)
                    .where(MemberIdentity.channel == CHANNEL)
                    .order_by(MemberIdentity.id)
                )
            )
        names: dict[str, str] = {}
        for user_id in user_ids:
            if user_id in self.overrides:
                continue
            try:
                name = await self.fetch(user_id)
            except (api.ApiError, TransientError) as exc:
                log.warning(
                    "wecom: the daily name refresh stopped at %s (%s); the rest wait for tomorrow", user_id, exc
                )
                break
            if name is not None:
                names[user_id] = name
        changed = await self._store(names)
        log.info("wecom: daily name refresh read %d names, %d changed", len(names), changed)
        return changed

    # --- storing -----------------------------------------------------------------------------------
    async def _store(self, names: dict[str, str]) -> int:
        """Set these members' display names (never one config.toml names); how many changed."""
        wanted = {user: name for user, name in names.items() if user not in self.overrides}
        if not wanted:
            return 0
        renamed: list[tuple[int, str]] = []
        async with transaction(self.sessions) as session:
            rows = await session.execute(
                select(MemberIdentity.platform_user_id, Member)
                .join(Member, Member.id == MemberIdentity.member_id)
                .where(MemberIdentity.channel == CHANNEL, MemberIdentity.platform_user_id.in_(list(wanted)))
            )
            for user_id, member in rows:
                if member.display_name != wanted[user_id]:
                    member.display_name = wanted[user_id]
                    renamed.append((member.id, member.display_name))
        if self.directory is not None:
            for member_id, name in renamed:
                self.directory.rename(member_id, name)
        return len(renamed)

    async def settle(self, timeout: float | None = None) -> None:
        """Wait for name look-ups under way (tests, shutdown)."""
        tasks: set[asyncio.Task[object]] = set(self._tasks.values())
        if self._refreshing is not None:
            tasks.add(self._refreshing)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def close(self, timeout: float) -> None:
        await self.settle(timeout)
        for task in [*self._tasks.values(), self._refreshing]:
            if task is not None and not task.done():
                task.cancel()


async def _display_name(session: AsyncSession, user_id: str) -> str | None:
    return await session.scalar(
        select(Member.display_name)
        .join(MemberIdentity, MemberIdentity.member_id == Member.id)
        .where(MemberIdentity.channel == CHANNEL, MemberIdentity.platform_user_id == user_id)
    )
