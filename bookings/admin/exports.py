"""Attendee lists and attendance records as CSV and Excel, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be
run as a formula by Excel or LibreOffice (CSV/formula injection); such cells
are prefixed with `'`. Access and dietary needs are personal data about health
and belief: they are left out unless the admin asks for them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bookings.booking.models import Attendee
from bookings.catalogue.models import Event

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UTF8_BOM = "\ufeff"

Cell = str | int | float


def safe_cell(value: object) -> Cell:
    """The value as a spreadsheet should show it; text that looks like a formula is made plain text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Table:
    name: str
    header: list[str]
    rows: list[list[Cell]]


def _table(name: str, header: list[str], rows: Iterable[Sequence[object]]) -> Table:
    return Table(name=name, header=header, rows=[[safe_cell(v) for v in row] for row in rows])


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    out.write(UTF8_BOM)  # Excel reads a CSV as UTF-8 only with the byte order mark
    writer = csv.writer(out)
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    # Imported here, not at the top: openpyxl adds about 16 MB to every worker (docs/performance.md).
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.name[:31]
    sheet.append(table.header)
    for row in table.rows:
        # Control characters cannot be stored in the XML of a sheet (openpyxl refuses them): drop them.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def attendee_table(event: Event, attendees: Sequence[Attendee], *, include_needs: bool) -> Table:
    header = ["Name", "Email", "Organisation", "Job title", "Rate", "Booking reference", "Checked in"]
    questions = list(event.questions)
    header += [q.label for q in questions]
    if include_needs:
        header += ["Dietary needs", "Access needs"]
    rows = []
    for a in attendees:
        row: list[object] = [
            a.name,
            a.email,
            a.organisation,
            a.job_title,
            a.ticket_type.name,
            a.booking.reference,
            a.checked_in_at is not None,
        ]
        row += [(a.answers or {}).get(str(q.id), "") for q in questions]
        if include_needs:
            row += [a.dietary_needs, a.access_needs]
        rows.append(row)
    return _table("Attendees", header, rows)


def hours_of(event: Event) -> float:
    live = [s for s in event.sessions if not s.is_cancelled]
    total = sum((s.ends_at - s.starts_at for s in live), timedelta())
    return round(total / timedelta(hours=1), 2)


def event_dates(event: Event) -> str:
    zone = event.zone
    days = sorted({s.starts_at.astimezone(zone).date() for s in event.sessions if not s.is_cancelled})
    return ", ".join(d.isoformat() for d in days)


def attendance_table(event: Event, attendees: Sequence[Attendee]) -> Table:
    """For CPD records: who came, to what, when, and for how many hours."""
    hours, dates = hours_of(event), event_dates(event)
    rows = [
        [
            a.name,
            a.email,
            a.organisation,
            event.title,
            dates,
            hours if a.checked_in_at is not None else 0,
            a.checked_in_at is not None,
        ]
        for a in attendees
    ]
    header = ["Name", "Email", "Organisation", "Event", "Dates", "Hours attended", "Checked in"]
    return _table("Attendance", header, rows)
