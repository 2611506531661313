"""Scheduled jobs, declared in one place; bot/core/scheduler.py is the only module that talks to APScheduler."""

from bot.core.config import Config
from bot.core.scheduler import Job
from schedules.contacts import refresh_member_names
from schedules.housekeeping import purge_old_records
from schedules.meetings import plan_meetings, warn_meeting_cadence
from schedules.quiz import post_daily_questions
from schedules.rollcalls import tick_roll_calls
from schedules.study import study_reminder
from schedules.tasks import issue_recurring_tasks, push_quarter_summary, remind_tasks


def declared_jobs(config: Config) -> tuple[Job, ...]:
    """Every job this configuration runs."""
    jobs = [
        Job(
            name="purge_old_records",
            func=purge_old_records,
            cron="30 3 * * *",
            description="Delete old message texts, outgoing messages and fire records past their retention",
        ),
        Job(
            name="tick_roll_calls",
            func=tick_roll_calls,
            cron="* * * * *",
            description="Open scheduled notices, meeting reminders, due nudges, close notices/study weeks/meetings",
        ),
        Job(
            name="plan_meetings",
            func=plan_meetings,
            cron="30 7 * * *",
            description="Create recurring meetings ([[branches.meetings]]) ahead of their holiday-adjusted dates",
        ),
        Job(
            name="warn_meeting_cadence",
            func=warn_meeting_cadence,
            cron="0 9 * * *",
            description="Tell secretaries about required meetings not yet held this period",
        ),
    ]
    if config.wecom.enabled and config.wecom.contacts_ready:
        jobs.append(
            Job(
                name="refresh_member_names",
                func=refresh_member_names,
                cron="40 4 * * *",
                description="Read WeCom members' names again from the contacts (names in config.toml are kept)",
            )
        )
    hour, minute = config.tasks.reminder_time.split(":")
    jobs.append(
        Job(
            name="remind_tasks",
            func=remind_tasks,
            cron=f"{int(minute)} {int(hour)} * * *",
            description="月清单: reminders before the due day (workdays), overdue items to the issuing unit once",
        )
    )
    if config.tasks.recurring:
        jobs.append(
            Job(
                name="issue_recurring_tasks",
                func=issue_recurring_tasks,
                cron="0 8 1 * *",
                description="月清单: issue this month's [[tasks.recurring]] items",
            )
        )
    if config.tasks.quarterly_push:
        jobs.append(
            Job(
                name="push_quarter_summary",
                func=push_quarter_summary,
                cron="30 9 1 1,4,7,10 *",
                description="季调度: last quarter's task summary to the units that issued items",
            )
        )
    if any(branch.daily_quiz for branch in config.branches):
        hour, minute = config.quiz.daily_time.split(":")
        jobs.append(
            Job(
                name="post_daily_questions",
                func=post_daily_questions,
                cron=f"{int(minute)} {int(hour)} * * *",
                description="每日一题 in the chats of branches with daily_quiz = true",
            )
        )
    for branch in config.branches:
        if branch.study.enabled:
            hour, minute = branch.study.time.split(":")
            jobs.append(
                Job(
                    name=f"study_reminder.{branch.id}",
                    func=study_reminder(branch),
                    cron=f"{int(minute)} {int(hour)} * * *",
                    description=f"学习日 reminder for {branch.name} (sent only on its study day)",
                )
            )
    return tuple(jobs)
