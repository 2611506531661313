"""The xlsx sheets the bot writes for secretaries (records, task lists, scores): one look for all of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter


def local_minute(moment: datetime | None, tz: ZoneInfo) -> str:
    """A stored moment as a cell: local time to the minute; empty for none."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def add_sheet(
    book: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[object]], first: bool = False
) -> None:
    """A sheet with a bold, centred header row and columns as wide as their text (two units a character, for
    Chinese; 8 to 60). first: the workbook's own first sheet, instead of a new one."""
    sheet = book.active if first else book.create_sheet()
    assert sheet is not None
    sheet.title = title
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for row in rows:
        sheet.append(row)
    for index, name in enumerate(header, start=1):
        width = max([len(str(name)) * 2, *(len(str(r[index - 1])) * 2 for r in rows if index <= len(r))], default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 8), 60)
