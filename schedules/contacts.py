"""The daily refresh of members' names from a channel's contacts (WeCom: bot/core/channels/wecom/contacts.py)."""

from __future__ import annotations

import logging

from bot.core.context import Context
from bot.core.members import MemberNames

log = logging.getLogger(__name__)


async def refresh_member_names(ctx: Context) -> None:
    """Start reading every member's name again where a channel has a contacts source (in the background: the
    platform's answers never hold this job's transaction open). A name set in config.toml is kept."""
    started = 0
    for name, client in ctx.clients.items():
        names: MemberNames | None = getattr(client, "member_names", None)
        if names is not None and names.refresh_soon():
            started += 1
            log.info("names: refreshing members' names from %s", name)
    if not started:
        log.info("names: no channel reads members' names here (or a refresh is under way)")
