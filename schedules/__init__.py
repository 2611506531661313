"""Scheduled jobs, declared here in one list; bot/scheduler.py is the only module that talks to APScheduler."""

from bot.scheduler import Job
from schedules.housekeeping import purge_old_records

JOBS: tuple[Job, ...] = (
    Job(
        name="purge_old_records",
        func=purge_old_records,
        cron="30 3 * * *",
        description="Delete inbound messages and delivered outbox rows past their retention period",
    ),
)
