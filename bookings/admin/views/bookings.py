"""Bookings: search, detail, cancel and refund, mark an invoice paid, resend, book on someone's behalf."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookings.admin import queries, services
from bookings.admin.access import admin_required
from bookings.admin.views import bp, event_or_404, optional_int
from bookings.booking import hooks as booking_hooks
from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import BookingStatus, PaymentMethod, PaymentStatus
from bookings.core.clock import utcnow
from bookings.core.errors import DomainError, NotFound, SoldOut, ValidationError
from bookings.extensions import db
from bookings.payments import services as payment_services

MAX_PEOPLE = 50
PERSON_FIELDS = ("name", "email", "organisation", "job_title", "dietary_needs", "access_needs")


@bp.get("/bookings")
@admin_required
def bookings():
    filters = {
        "q": request.args.get("q", "").strip()[:200],
        "event_id": optional_int("event_id"),
        "status": request.args.get("status", ""),
        "payment_status": request.args.get("payment_status", ""),
    }
    results = queries.bookings_page(
        text=filters["q"],
        event_id=filters["event_id"],
        status=filters["status"],
        payment_status=filters["payment_status"],
        page=queries.page_number(request.args.get("page")),
    )
    return render_template(
        "admin/bookings.html",
        results=results,
        filters=filters,
        args={k: v for k, v in filters.items() if v not in (None, "")},
        events=queries.event_choices(),
        statuses=[s.value for s in BookingStatus],
        payment_statuses=[s.value for s in PaymentStatus],
    )


def _booking(reference: str):
    try:
        return booking_services.get_booking_for(reference, current_user)
    except NotFound:
        abort(404)


def _detail(reference: str, errors: dict[str, str] | None = None, status: int = 200):
    booking = _booking(reference)
    return render_template(
        "admin/booking.html",
        booking=booking,
        event=booking.event,
        payments=payment_services.payment_overview(booking),
        errors=errors or {},
        values=request.form if errors else {},
    ), status


@bp.get("/bookings/<reference>")
@admin_required
def booking(reference: str):
    return _detail(reference)


@bp.post("/bookings/<reference>/cancel")
@admin_required
def cancel_booking(reference: str):
    booking = _booking(reference)
    chosen = [int(v) for v in request.form.getlist("attendee_ids") if v.isdigit()]
    reason = request.form.get("reason", "").strip()
    errors: dict[str, str] = {}
    if not chosen:
        errors["attendee_ids"] = "Choose the places to cancel"
    if len(reason) > 500:
        errors["reason"] = "The reason must be 500 characters or fewer"
    if not errors:
        try:
            now = utcnow()
            booking_services.cancel_booking(
                reference=booking.reference, actor=current_user, now=now, attendee_ids=chosen, reason=reason
            )
            booking_hooks.cancellation_committed(booking.reference, now)
            flash("The places are cancelled. The booker has been told and any refund has started.", "success")
            return redirect(url_for("admin.booking", reference=booking.reference))
        except ValidationError as error:
            errors["attendee_ids"] = error.message
        except DomainError as error:
            errors["attendee_ids"] = error.message
        db.session.rollback()
    return _detail(reference, errors, 422)


@bp.post("/bookings/<reference>/mark-paid")
@admin_required
def mark_paid(reference: str):
    booking = _booking(reference)
    try:
        payment_services.mark_invoice_paid(booking.reference, current_user, utcnow())
        flash("The invoice is marked as paid.", "success")
    except DomainError as error:
        flash(error.message)
    return redirect(url_for("admin.booking", reference=booking.reference))


@bp.post("/bookings/<reference>/resend")
@admin_required
def resend_confirmation(reference: str):
    booking = _booking(reference)
    try:
        services.resend_confirmation(booking.reference, current_user, utcnow())
        flash("The confirmation has been sent again.", "success")
    except DomainError as error:
        flash(error.message)
    return redirect(url_for("admin.booking", reference=booking.reference))


def _people(form, count: int) -> list[AttendeeInput]:
    people = []
    for index in range(count):
        raw = {name: form.get(f"attendees-{index}-{name}", "") for name in PERSON_FIELDS}
        if index and not any(raw.values()):
            continue  # blank extra rows
        answers = {
            key.rsplit("-q", 1)[1]: value
            for key, value in form.items()
            if key.startswith(f"attendees-{index}-q") and key.rsplit("-q", 1)[1].isdigit()
        }
        people.append(AttendeeInput(**raw, answers=answers))
    return people


def _row_count(form) -> int:
    raw = form.get("rows", "")
    return min(int(raw), MAX_PEOPLE) if raw.isdigit() else 1


@bp.route("/events/<int:event_id>/book", methods=["GET", "POST"])
@admin_required
def book_on_behalf(event_id: int):
    event = event_or_404(event_id)
    values = request.form.to_dict() if request.method == "POST" else {"rows": "3"}
    errors: dict[str, str] = {}
    sold_out = False
    if request.method == "POST" and "add_rows" in request.form:
        values["rows"] = str(min(_row_count(request.form) + 3, MAX_PEOPLE))
    elif request.method == "POST":
        rate = request.form.get("ticket_type_id", "")
        method_raw = request.form.get("method", "")
        try:
            method = PaymentMethod(method_raw) if method_raw in ("free", "invoice") else None
            if method is None:
                raise ValidationError("Choose how it is paid.", errors={"method": "Choose how the booking is paid"})
            booking = services.book_on_behalf(
                event.id,
                current_user,
                request.form.get("booker_email", ""),
                _people(request.form, _row_count(request.form)),
                method,
                request.form.get("override") == "yes",
                request.form.get("reason", ""),
                utcnow(),
                ticket_type_id=int(rate) if rate.isdigit() else None,
                booker_name=request.form.get("booker_name", ""),
            )
            flash(f"Booking {booking.reference} is confirmed and the confirmation sent.", "success")
            return redirect(url_for("admin.booking", reference=booking.reference))
        except SoldOut as error:
            sold_out = True
            errors["override"] = f"{error.message} To book anyway, tick 'Go over capacity' and give the reason."
        except ValidationError as error:
            errors.update(error.errors or {"booker_email": error.message})
        except DomainError as error:
            errors["booker_email"] = error.message
        db.session.rollback()
        event = event_or_404(event_id)
    return render_template(
        "admin/book_on_behalf.html",
        event=event,
        values=values,
        errors=errors,
        rows=_row_count(values),
        sold_out=sold_out,
        occupancy=queries.occupancy_for([event], utcnow())[event.id],
    ), (422 if errors else 200)
