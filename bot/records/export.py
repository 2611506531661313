"""Records (台账) as xlsx: meeting attendance, study participation and notice receipts over a period."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import display
from bot.core.models import (
    Branch,
    EntryStatus,
    Member,
    PartyGroup,
    RollCall,
    RollCallEntry,
    RollCallKind,
    RollCallStatus,
)
from bot.core.sheets import add_sheet, local_minute
from bot.meetings.domain import held
from bot.notices.domain import was_sent
from bot.records import texts as record_texts
from bot.study.texts import STUDY_TAGS

STATUS_NAMES = {
    EntryStatus.DONE: record_texts.STUDY_DONE,
    EntryStatus.LEAVE: record_texts.STUDY_LEAVE,
    EntryStatus.PENDING: record_texts.STUDY_PENDING,
}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    roll_calls: int
    rows: int


async def _roll_calls(
    session: AsyncSession, branch: Branch, kind: str, start: date, end: date, tz: ZoneInfo
) -> list[RollCall]:
    since = datetime.combine(start, time(0), tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    rows = await session.scalars(
        select(RollCall)
        .where(
            RollCall.branch_id == branch.id,
            RollCall.kind == kind,
            RollCall.opens_at >= since,
            RollCall.opens_at < until,
        )
        .order_by(RollCall.opens_at, RollCall.id)
    )
    return list(rows)


async def _entries(session: AsyncSession, roll_call: RollCall) -> list[tuple[RollCallEntry, Member, str]]:
    rows = await session.execute(
        select(RollCallEntry, Member, PartyGroup.name)
        .join(Member, Member.id == RollCallEntry.member_id)
        .outerjoin(PartyGroup, PartyGroup.id == Member.party_group_id)
        .where(RollCallEntry.roll_call_id == roll_call.id)
        .order_by(Member.id)
    )
    return [(entry, member, group or "") for entry, member, group in rows]


async def export_study(
    session: AsyncSession, branch: Branch, start: date, end: date, out: Path, tz: ZoneInfo
) -> ExportResult:
    """Study weeks in [start, end]: a summary sheet, per-member totals and every check-in."""
    weeks = await _roll_calls(session, branch, RollCallKind.STUDY, start, end, tz)
    summary, detail = [], []
    per_member: dict[int, list[object]] = {}
    for week in weeks:
        entries = await _entries(session, week)
        done = sum(1 for e, _, _ in entries if e.status == EntryStatus.DONE)
        rate = done / len(entries) if entries else 0.0
        # The study day by its date ('11月20日（周五）'), as records name it; not the ISO week.
        label = display.day(week.opens_at.astimezone(tz).date())
        summary.append([label, local_minute(week.opens_at, tz), week.body, len(entries), done, display.percent(rate)])
        for entry, member, group in entries:
            detail.append(
                [
                    label,
                    member.display_name,
                    group,
                    STATUS_NAMES[entry.status],
                    local_minute(entry.responded_at, tz),
                    entry.tag or "",
                    entry.note,
                ]
            )
            totals = per_member.setdefault(member.id, [member.display_name, group, 0, 0, 0, 0, 0])
            totals[2] = int(totals[2]) + 1  # type: ignore[call-overload]
            if entry.status == EntryStatus.DONE:
                totals[3] = int(totals[3]) + 1  # type: ignore[call-overload]
                tag_column = {tag: 4 + i for i, tag in enumerate(STUDY_TAGS)}.get(entry.tag or "")
                if tag_column is not None:
                    totals[tag_column] = int(totals[tag_column]) + 1  # type: ignore[call-overload]
    members = [
        [*row[:4], display.percent(int(row[3]) / int(row[2])) if row[2] else "", *row[4:]]  # type: ignore[call-overload]
        for row in per_member.values()
    ]
    book = Workbook()
    add_sheet(book, record_texts.STUDY_SHEET_SUMMARY, record_texts.STUDY_SUMMARY_HEADER, summary, first=True)
    add_sheet(book, record_texts.STUDY_SHEET_MEMBERS, [*record_texts.STUDY_MEMBERS_HEADER, *STUDY_TAGS], members)
    add_sheet(book, record_texts.STUDY_SHEET_DETAIL, record_texts.STUDY_DETAIL_HEADER, detail)
    book.save(out)
    return ExportResult(out, len(weeks), len(detail))


def _notice_state(notice: RollCall) -> str:
    if notice.status == RollCallStatus.SCHEDULED:
        return record_texts.RECORDS_NOTICE_SCHEDULED
    if not was_sent(notice):
        return record_texts.RECORDS_NOTICE_CANCELLED
    return (
        record_texts.RECORDS_NOTICE_CLOSED
        if notice.status == RollCallStatus.CLOSED
        else record_texts.RECORDS_NOTICE_OPEN
    )


async def export_notices(
    session: AsyncSession, branch: Branch, start: date, end: date, out: Path, tz: ZoneInfo
) -> ExportResult:
    """Notices of [start, end]: one row per notice, and every receipt with its delay.

    A notice that has not gone out (scheduled, or cancelled before its time) has a row saying so, with its
    audience, and no receipts, rate or delay: nobody could acknowledge it.
    """
    notices = await _roll_calls(session, branch, RollCallKind.NOTICE, start, end, tz)
    summary, detail = [], []
    for notice in notices:
        entries = await _entries(session, notice)
        state = _notice_state(notice)
        if not was_sent(notice):
            summary.append(
                [notice.seq, notice.title, notice.audience_label, local_minute(notice.opens_at, tz), len(entries)]
                + ["", "", "", local_minute(notice.closed_at, tz), state]
            )
            continue
        minutes = [
            (e.responded_at - notice.opens_at).total_seconds() / 60
            for e, _, _ in entries
            if e.status == EntryStatus.DONE and e.responded_at is not None
        ]
        done = len(minutes)
        summary.append(
            [
                notice.seq,
                notice.title,
                notice.audience_label,
                local_minute(notice.opens_at, tz),
                len(entries),
                done,
                display.percent(done / len(entries)) if entries else "",
                round(statistics.median(minutes)) if minutes else "",
                local_minute(notice.closed_at, tz),
                state,
            ]
        )
        for entry, member, group in entries:
            delay = (
                round((entry.responded_at - notice.opens_at).total_seconds() / 60)
                if entry.responded_at is not None
                else ""
            )
            detail.append(
                [
                    notice.seq,
                    member.display_name,
                    group,
                    record_texts.RECEIPT_DONE if entry.status == EntryStatus.DONE else record_texts.RECEIPT_PENDING,
                    local_minute(entry.responded_at, tz),
                    delay,
                ]
            )
    book = Workbook()
    add_sheet(
        book,
        record_texts.NOTICE_SHEET_SUMMARY,
        record_texts.NOTICE_SUMMARY_HEADER,
        summary,
        first=True,
    )
    add_sheet(book, record_texts.NOTICE_SHEET_DETAIL, record_texts.NOTICE_DETAIL_HEADER, detail)
    book.save(out)
    return ExportResult(out, len(notices), len(detail))


ATTENDANCE_STATUS = {
    EntryStatus.DONE: record_texts.ATTENDANCE_PRESENT,
    EntryStatus.LEAVE: record_texts.ATTENDANCE_LEAVE,
    EntryStatus.LEAVE_REQUESTED: record_texts.ATTENDANCE_LEAVE_REQUESTED,
    EntryStatus.PENDING: record_texts.ATTENDANCE_ABSENT,
}


LEAVE_STATUSES = (EntryStatus.LEAVE, EntryStatus.LEAVE_REQUESTED)


async def export_attendance(
    session: AsyncSession, branch: Branch, start: date, end: date, out: Path, tz: ZoneInfo, now: datetime
) -> ExportResult:
    """Meetings held in [start, end] by `now`: a summary (counts by kind, each member's attendance rate) and a
    sheet each. A meeting still ahead is left out (bot.meetings.domain.held): nobody is absent from it yet."""
    from bot.core.texts import MEETING_KIND_NAMES
    from bot.meetings.models import AttendanceAudit, Meeting

    since = datetime.combine(start, time(0), tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    rows = await session.execute(
        select(Meeting, RollCall)
        .join(RollCall, RollCall.id == Meeting.roll_call_id)
        .where(Meeting.branch_id == branch.id, held(now), Meeting.starts_at >= since, Meeting.starts_at < until)
        .order_by(Meeting.starts_at)
    )
    meetings = list(rows)
    book = Workbook()
    counts = {kind: 0 for kind in MEETING_KIND_NAMES}
    per_member: dict[int, list[object]] = {}
    sheets: list[tuple[str, list[list[object]]]] = []
    total_rows = 0
    for meeting, roll_call in meetings:
        counts[meeting.kind] += 1
        detail: list[list[object]] = []
        corrections: dict[int, list[str]] = {}
        for audit in await session.scalars(
            select(AttendanceAudit).where(AttendanceAudit.meeting_id == meeting.id).order_by(AttendanceAudit.id)
        ):
            action = record_texts.ATTENDANCE_CORRECTION_ACTIONS.get(audit.new_status, audit.new_status)
            corrections.setdefault(audit.member_id, []).append(
                record_texts.ATTENDANCE_CORRECTION.format(action=action, reason=audit.reason)
            )
        for entry, member, group in await _entries(session, roll_call):
            status = ATTENDANCE_STATUS[entry.status]
            if entry.status == EntryStatus.LEAVE_REQUESTED and roll_call.status == RollCallStatus.CLOSED:
                status = record_texts.ATTENDANCE_LEAVE_LAPSED  # counted absent, as the meeting's result says
            late = record_texts.ATTENDANCE_LATE if entry.tag == "late" else ""
            detail.append(
                [
                    member.display_name,
                    group,
                    status,
                    local_minute(entry.responded_at, tz),
                    late,
                    # The note of a 签到 or a 补签 is no leave reason (a 补签's reason is under 更正原因).
                    entry.note if entry.status in LEAVE_STATUSES else "",
                    record_texts.ATTENDANCE_CORRECTION_SEPARATOR.join(corrections.get(member.id, [])),
                ]
            )
            totals = per_member.setdefault(member.id, [member.display_name, group, 0, 0, 0, 0])
            totals[2] = int(totals[2]) + 1  # type: ignore[call-overload]
            column = {EntryStatus.DONE: 3, EntryStatus.LEAVE: 4}.get(entry.status, 5)
            totals[column] = int(totals[column]) + 1  # type: ignore[call-overload]
        name = f"{MEETING_KIND_NAMES[meeting.kind]}#{roll_call.seq} {meeting.starts_at.astimezone(tz):%m-%d}"
        sheets.append((name, detail))
        total_rows += len(detail)
    members = [
        [*row, display.percent(int(row[3]) / int(row[2])) if row[2] else ""]  # type: ignore[call-overload]
        for row in per_member.values()
    ]
    add_sheet(book, record_texts.ATTENDANCE_SHEET_SUMMARY, record_texts.ATTENDANCE_SUMMARY_HEADER, members, first=True)
    summary_sheet = book[record_texts.ATTENDANCE_SHEET_SUMMARY]
    summary_sheet.append([])
    summary_sheet.append(record_texts.ATTENDANCE_COUNTS_HEADER)
    for kind, count in counts.items():
        summary_sheet.append([MEETING_KIND_NAMES[kind], count])
    for name, meeting_rows in sheets:
        add_sheet(
            book,
            name[:31],
            record_texts.ATTENDANCE_DETAIL_HEADER,
            meeting_rows,
        )
    book.save(out)
    return ExportResult(out, len(meetings), total_rows)
