"""月清单 jobs: recurring items, reminders before the due day, overdue reports, the quarterly 季调度 push."""

from __future__ import annotations

from bot.core.context import Context
from bot.tasks import lists


async def issue_recurring_tasks(ctx: Context) -> None:
    """[[tasks.recurring]]: this month's items (idempotent: once per rule, unit and month)."""
    await lists.issue_recurring(ctx)


async def remind_tasks(ctx: Context) -> None:
    """Reminders on the reminder days of open items, then overdue items to the issuing units (once each)."""
    await lists.send_reminders(ctx)
    await lists.report_overdue(ctx)


async def push_quarter_summary(ctx: Context) -> None:
    """On a quarter's first day: last quarter's 季调度 to the secretaries of each unit that issued items."""
    await lists.push_quarter(ctx)
