"""Organisers' view of an event's waiting list: positions and offers, offers by hand, close, export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.booking.models import Booking
from bookings.catalogue import services as catalogue_services
from bookings.catalogue.models import Event
from bookings.core.clock import utcnow
from bookings.core.errors import DomainError, ValidationError
from bookings.extensions import db
from bookings.waitlist import services
from bookings.waitlist.views import bp

P = ParamSpec("P")
T = TypeVar("T")

CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def admin_required(view: Callable[P, T]) -> Callable[P, T]:
    """Sign-in first (anonymous visitors are sent to sign in), then the admin role (403 otherwise)."""

    @wraps(view)
    @login_required
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _event(event_id: int) -> Event:
    event = db.session.scalars(
        select(Event).where(Event.id == event_id).options(selectinload(Event.ticket_types))
    ).one_or_none()
    if event is None:
        abort(404)
    return event


def _back(event_id: int):
    return redirect(url_for("waitlist.admin_list", event_id=event_id))


@bp.get("/admin/events/<int:event_id>/waitlist")
@admin_required
def admin_list(event_id: int):
    event = _event(event_id)
    now = utcnow()
    entries = services.entries_for_event(event.id, now)
    booking_ids = [v.entry.claimed_booking_id for v in entries if v.entry.claimed_booking_id]
    references = dict(
        db.session.execute(select(Booking.id, Booking.reference).where(Booking.id.in_(booking_ids))).all()
    )
    places = capacity.availability(event, now)
    return render_template(
        "waitlist/admin_list.html",
        event=event,
        entries=entries,
        references=references,
        places=places,
        in_line=sum(1 for v in entries if v.position is not None),
        errors={},
        values={"capacity": str(event.capacity)},
    )


@bp.post("/admin/events/<int:event_id>/waitlist/<int:entry_id>/offer")
@admin_required
def admin_offer(event_id: int, entry_id: int):
    _event(event_id)
    entry = services.get_entry_for(entry_id, current_user)
    if entry.event_id != event_id:
        abort(404)
    try:
        services.offer_to_entry(entry_id=entry_id, actor=current_user, now=utcnow())
        flash(f"Places offered to {entry.user.name}. They have been emailed a link to claim them.")
    except DomainError as error:
        flash(error.message)
    return _back(event_id)


@bp.post("/admin/events/<int:event_id>/waitlist/send-offers")
@admin_required
def admin_send_offers(event_id: int):
    _event(event_id)
    count = services.send_offers_now(event_id=event_id, actor=current_user, now=utcnow())
    flash(f"{count} new offer{'s' if count != 1 else ''} sent.")
    return _back(event_id)


@bp.post("/admin/events/<int:event_id>/waitlist/status")
@admin_required
def admin_status(event_id: int):
    _event(event_id)
    is_open = request.form.get("open") == "1"
    services.set_waitlist_open(event_id=event_id, is_open=is_open, actor=current_user, now=utcnow())
    flash("The waiting list is open to new people." if is_open else "The waiting list is closed to new people.")
    return _back(event_id)


@bp.post("/admin/events/<int:event_id>/waitlist/capacity")
@admin_required
def admin_capacity(event_id: int):
    """Raise (or lower) capacity; the event service offers freed places to the list in the same transaction."""
    event = _event(event_id)
    raw = request.form.get("capacity", "").strip()
    errors: dict[str, str] = {}
    if not raw.isdigit():
        errors["capacity"] = "Enter the capacity as a whole number, like 40"
    else:
        try:
            catalogue_services.update_event(event_id, {"capacity": int(raw)}, current_user.id, utcnow())
            flash(f"Capacity is now {int(raw)}. Any free places have been offered to the waiting list first.")
            return _back(event_id)
        except ValidationError as error:
            errors["capacity"] = error.errors.get("capacity", error.message)
        except DomainError as error:
            errors["capacity"] = error.message
    db.session.rollback()
    now = utcnow()
    entries = services.entries_for_event(event.id, now)
    return render_template(
        "waitlist/admin_list.html",
        event=event,
        entries=entries,
        references={},
        places=capacity.availability(event, now),
        in_line=sum(1 for v in entries if v.position is not None),
        errors=errors,
        values={"capacity": raw},
    ), 422


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula would run in a spreadsheet (CSV injection).
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


@bp.get("/admin/events/<int:event_id>/waitlist.csv")
@admin_required
def admin_export(event_id: int):
    event = _event(event_id)
    now = utcnow()
    entries = services.entries_for_event(event.id, now)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "position",
            "status",
            "name",
            "email",
            "organisation",
            "places",
            "rate",
            "joined_at",
            "offered_at",
            "offer_expires_at",
            "email_consent",
        ]
    )
    for view in entries:
        entry = view.entry
        rate = entry.offer_ticket_type or entry.ticket_type
        writer.writerow(
            [
                _cell(c)
                for c in (
                    view.position or "",
                    view.status,
                    entry.user.name,
                    entry.user.email,
                    entry.user.organisation,
                    entry.places,
                    rate.name if rate else "Any",
                    entry.joined_at.isoformat(),
                    entry.offered_at.isoformat() if entry.offered_at else "",
                    entry.offer_expires_at.isoformat() if entry.offer_expires_at else "",
                    "yes" if entry.has_email_consent else "no",
                )
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="waitlist-{event.slug}.csv"'},
    )
