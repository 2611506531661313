"""A handler's replies in the group commit's savepoint are Drafts written by the batch's Core insert
(bot/core/batchwrite.py DecidedWriter.replies): stored exactly as the ORM's Outbox rows were."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import texts
from bot.core.context import Context, Draft
from bot.core.models import Chat, InboundMessage, Outbox, OutboxStatus
from bot.core.plans import carried
from tests.conftest import START
from tests.core.test_group_commit import sim_message
from tests.support import BotDriver

COLUMNS = (
    "id, channel, target_kind, target_id, text, mentions, cause_inbound_id, status, attempts, next_attempt_at,"
    " lease_until, lease_token, last_error, created_at, sent_at, delivered_via, media_id IS NOT NULL AS media,"
    " card, card IS NULL AS card_is_sql_null"
)
CARD = {"buttons": [{"key": "receipt:1", "label": "收到"}]}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


async def _replies(ctx: Context) -> None:
    """What a handler might send: a reply mentioning its sender, one with an image, a card, a direct message."""
    await ctx.reply("一", mention_sender=True)
    await ctx.reply("二", image=PNG)
    await ctx.send_to_chat(Chat(channel="sim", platform_chat_id="other-group"), "三", card=CARD)
    await ctx.send_to_chat(Chat(channel="sim", platform_chat_id="demo-group"), "四", ("u02", "u03"))


def _as_before(rows: list[Outbox], chosen: list[int] | None, now: Any) -> None:
    """What the group commit did to a handler's ORM rows before (GroupCommit._carry): the carried ones delivered,
    the others due now — or, without a passive policy, left held."""
    if chosen is None:
        return
    for index, row in enumerate(rows):
        if index in chosen:
            row.status, row.sent_at, row.attempts, row.delivered_via = OutboxStatus.SENT, now, 1, "passive"
        row.next_attempt_at = now


def _first_two(rows: Any) -> list[int]:
    return [0, 1]


@pytest.mark.parametrize("policy", ["held", "passive", "behind"])
async def test_a_handlers_replies_are_stored_as_its_orm_rows_were(bot: BotDriver, policy: str):
    commits = bot.services.pipeline.commits
    statements, clock = commits.statements, bot.services.clock
    now = START  # the batch's time; the handler runs a little later
    behind = {("sim", "chat", "demo-group")} if policy == "behind" else set()
    stored: dict[str, list[Any]] = {}
    async with commits.engine.connect() as conn:
        transaction = await conn.begin()
        session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        async with session.begin():
            for path in ("orm", "core"):
                msg = sim_message(f"replies-{path}", "u01", "签到")
                await session.connection()  # (the savepoint, as the group commit begins it)
                params = statements.inbound_params(msg, 0, now, None)
                inbound_id = (
                    await conn.run_sync(lambda sync, params=params: statements.inbound_one.first(sync, params))
                ).id
                clock.set(now + timedelta(seconds=2))
                drafts: list[Draft] | None = None if path == "orm" else []
                ctx = Context(
                    config=bot.services.config, session=session, clock=clock, message=msg, inbound_id=inbound_id
                )
                ctx.drafts = drafts
                await _replies(ctx)
                made: list[Any] = ctx.outgoing if path == "orm" else ctx.drafts or []
                assert len(made) == 4 and ctx.sent == 4
                chosen = None if policy == "held" else carried(made, _first_two, behind)
                if path == "orm":
                    _as_before(ctx.outgoing, chosen, now)
                    await session.flush()
                else:
                    ids = await conn.run_sync(
                        lambda sync, rows=made, cause=inbound_id, chosen=chosen: commits.decided.replies(
                            sync, rows, cause, chosen, now
                        )
                    )
                    assert len(ids) == 4 and ids == sorted(ids)
                read = text(f"SELECT {COLUMNS} FROM outbox WHERE cause_inbound_id = :cause ORDER BY id")
                found = [r._asdict() for r in (await session.execute(read, {"cause": inbound_id})).all()]
                if path == "core":
                    assert [r["id"] for r in found] == ids
                for row in found:
                    assert row.pop("cause_inbound_id") == inbound_id
                    del row["id"]
                stored[path] = found
        await transaction.rollback()
    assert stored["core"] == stored["orm"]
    assert [(r["status"], r["delivered_via"]) for r in stored["core"]] == (
        [("sent", "passive")] * 2 + [("pending", None)] * 2 if policy == "passive" else [("pending", None)] * 4
    )
    assert [bool(r["media"]) for r in stored["core"]] == [False, True, False, False]
    # No card: JSON null, as the ORM wrote it (not SQL NULL, which a decided reply's row has).
    assert [bool(r["card_is_sql_null"]) for r in stored["core"]] == [False] * 4


async def test_a_reply_inserted_in_a_savepoint_that_then_fails_rolls_back_with_it(bot: BotDriver, monkeypatch):
    """The replies are inserted inside the message's savepoint: a failure after that leaves none of them."""
    commits = bot.services.pipeline.commits
    replies = commits.decided.replies
    failing = {"left": 1}

    def insert_then_fail(conn: Any, rows: list[Draft], *args: Any) -> list[int]:
        ids = replies(conn, rows, *args)
        if failing["left"] and rows[0].text != texts.GENERIC_ERROR:
            failing["left"] -= 1
            raise RuntimeError("after the insert")
        return ids

    monkeypatch.setattr(commits.decided, "replies", insert_then_fail)
    outcome = await bot.services.pipeline.process(sim_message("late-failure", "u01", "会议列表"))
    assert outcome.handled_by == "error"
    async with bot.services.sessions() as session:
        stored = (
            await session.scalars(
                select(Outbox.text)
                .join(InboundMessage, InboundMessage.id == Outbox.cause_inbound_id)
                .where(InboundMessage.platform_msg_id == "late-failure")
            )
        ).all()
    assert stored == [texts.GENERIC_ERROR]
    assert failing["left"] == 0
