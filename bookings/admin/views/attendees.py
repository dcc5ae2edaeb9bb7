"""Attendees: the list, exports (CSV, Excel, attendance for CPD), the sign-in sheet and phone check-in."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookings.admin import exports, queries, services
from bookings.admin.access import admin_required
from bookings.admin.views import bp, event_or_404
from bookings.core.clock import utcnow
from bookings.core.errors import DomainError

FORMATS = {"csv": (exports.to_csv, exports.CSV_MIMETYPE), "xlsx": (exports.to_xlsx, exports.XLSX_MIMETYPE)}


def _search() -> str:
    return request.args.get("q", "").strip()[:200]


@bp.get("/events/<int:event_id>/attendees")
@admin_required
def attendees(event_id: int):
    event = event_or_404(event_id)
    people = queries.booked_attendees(event.id)
    return render_template(
        "admin/attendees.html",
        event=event,
        attendees=people,
        checked_in=sum(1 for a in people if a.checked_in_at is not None),
    )


def _download(table: exports.Table, fmt: str, filename: str) -> Response:
    write, mimetype = FORMATS[fmt]
    response = Response(write(table), content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"  # personal data: no copies in caches
    return response


@bp.get("/events/<int:event_id>/attendees.<any(csv, xlsx):fmt>")
@admin_required
def export_attendees(event_id: int, fmt: str):
    event = event_or_404(event_id)
    include_needs = request.args.get("include_needs") == "yes"
    table = exports.attendee_table(event, queries.booked_attendees(event.id), include_needs=include_needs)
    return _download(table, fmt, f"attendees-{event.slug}")


@bp.get("/events/<int:event_id>/attendance.<any(csv, xlsx):fmt>")
@admin_required
def export_attendance(event_id: int, fmt: str):
    event = event_or_404(event_id)
    table = exports.attendance_table(event, queries.booked_attendees(event.id))
    return _download(table, fmt, f"attendance-{event.slug}")


@bp.get("/events/<int:event_id>/sign-in-sheet")
@admin_required
def sign_in_sheet(event_id: int):
    event = event_or_404(event_id)
    return render_template("admin/sign_in_sheet.html", event=event, attendees=queries.booked_attendees(event.id))


@bp.get("/events/<int:event_id>/check-in")
@admin_required
def check_in(event_id: int):
    event = event_or_404(event_id)
    text = _search()
    people = queries.booked_attendees(event.id, text=text)
    return render_template("admin/check_in.html", event=event, attendees=people, q=text)


def _back_to_check_in(event_id: int):
    q = request.form.get("q", "").strip()[:200]
    return redirect(url_for("admin.check_in", event_id=event_id, **({"q": q} if q else {})))


@bp.post("/events/<int:event_id>/check-in/<int:attendee_id>")
@admin_required
def mark_attended(event_id: int, attendee_id: int):
    event_or_404(event_id)
    try:
        attendee = services.check_in(attendee_id, current_user, utcnow(), event_id=event_id)
        flash(f"{attendee.name} is checked in.", "success")
    except DomainError as error:
        flash(error.message)
    return _back_to_check_in(event_id)


@bp.post("/events/<int:event_id>/check-in/<int:attendee_id>/undo")
@admin_required
def undo_attended(event_id: int, attendee_id: int):
    event_or_404(event_id)
    try:
        attendee = services.undo_check_in(attendee_id, current_user, utcnow(), event_id=event_id)
        flash(f"{attendee.name} is no longer checked in.", "success")
    except DomainError as error:
        flash(error.message)
    return _back_to_check_in(event_id)
