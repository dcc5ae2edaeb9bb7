"""Joining, leaving and claiming from the waiting list. Thin: parse, call a service, render."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.booking.rules import BookingClosed, check_event_bookable
from bookings.catalogue.models import Event, EventStatus
from bookings.core.clock import utcnow
from bookings.core.errors import Conflict, NotFound, ValidationError
from bookings.core.ratelimit import hoarding_limit
from bookings.extensions import db
from bookings.waitlist import services
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus

bp = Blueprint("waitlist", __name__)


def _event_by_slug(slug: str) -> Event:
    event = db.session.scalars(
        select(Event).where(Event.slug == slug).options(selectinload(Event.ticket_types))
    ).one_or_none()
    if event is None or (event.status == EventStatus.DRAFT.value and not current_user.is_admin):
        abort(404)
    return event


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@bp.route("/events/<slug>/waitlist", methods=["GET", "POST"])
@login_required
@hoarding_limit("waitlist", "join waiting lists")
def join(slug: str):
    event = _event_by_slug(slug)
    now = utcnow()
    errors: dict[str, str] = {}
    values = {
        "places": request.form.get("places", request.args.get("places", "1")),
        "ticket_type_id": request.form.get("ticket_type_id", ""),
        "has_email_consent": request.form.get("has_email_consent", ""),
    }
    try:  # a closed event's page says why, with no form to fill in for nothing
        check_event_bookable(event, now)
        closed = ""
    except BookingClosed as error:
        closed = error.message
    if request.method == "POST" and not closed:
        places = _int_or_none(values["places"])
        if places is None:
            errors["places"] = "Enter the number of places as a whole number, like 2"
        elif not values["has_email_consent"]:
            errors["has_email_consent"] = "Agree to be emailed, so that we can tell you when places are offered"
        else:
            try:
                services.join_waitlist(
                    event_id=event.id,
                    user=current_user,
                    places=places,
                    ticket_type_id=_int_or_none(values["ticket_type_id"]),
                    has_email_consent=True,
                    now=now,
                )
                return redirect(url_for("waitlist.join", slug=event.slug))
            except ValidationError as error:
                errors.update(error.errors or {"places": error.message})
            except services.AlreadyOnWaitlist:
                return redirect(url_for("waitlist.join", slug=event.slug))
            except (services.PlacesAvailable, services.WaitlistClosed) as error:
                errors["places"] = error.message
            except BookingClosed as error:  # it closed a moment ago
                closed = error.message
    entry = services.current_entry(event.id, current_user.id, now)
    return render_template(
        "waitlist/join.html",
        event=event,
        closed=closed,
        entry=services.entry_view(entry, now) if entry else None,
        on_sale=[t for t in event.ticket_types if t.is_on_sale(now)],
        places_left=capacity.availability(event, now).places_left,
        values=values,
        errors=errors,
    ), (422 if errors else 409 if closed and request.method == "POST" else 200)


def _leave_cancel_url(entry: WaitlistEntry) -> str:
    """Where "No, keep my place" goes: back to the event's waiting list page, or to all your lists."""
    if request.args.get("back") == "event":
        return url_for("waitlist.join", slug=entry.event.slug)
    return url_for("waitlist.mine")


@bp.get("/waitlist/<int:entry_id>/leave")
@login_required
def confirm_leave(entry_id: int):
    """Are you sure? (WCAG 3.3.4): a place in line, once left, is gone. Its form posts to `leave`."""
    try:
        entry = services.get_entry_for(entry_id, current_user)
    except NotFound:
        abort(404)
    now = utcnow()
    if entry.status == WaitlistStatus.WITHDRAWN.value:
        flash(f"You have already left the waiting list for {entry.event.title}.")
        return redirect(url_for("waitlist.mine"))
    if not entry.is_in_line(now):
        flash(f"You are no longer on the waiting list for {entry.event.title}.")
        return redirect(url_for("waitlist.mine"))
    return render_template(
        "waitlist/leave.html",
        entry=services.entry_view(entry, now),
        event=entry.event,
        cancel_url=_leave_cancel_url(entry),
    )


@bp.post("/waitlist/<int:entry_id>/leave")
@login_required
def leave(entry_id: int):
    try:
        entry = services.leave_waitlist(entry_id=entry_id, actor=current_user, now=utcnow())
    except NotFound:
        abort(404)
    except Conflict as error:
        flash(error.message)
        return redirect(url_for("waitlist.mine"))
    flash(f"You have left the waiting list for {entry.event.title}.")
    return redirect(url_for("waitlist.mine"))


@bp.get("/my-waiting-lists")
@login_required
def mine():
    views = services.entries_for_user(current_user.id, utcnow())
    current = [v for v in views if v.position is not None]
    past = [v for v in views if v.position is None]
    return render_template("waitlist/mine.html", current=current, past=past)


def _offer(token: str):
    try:
        return services.find_offer(token, current_user)
    except NotFound:
        abort(404)


@bp.route("/waitlist/claim/<token>", methods=["GET", "POST"])
@login_required
def claim(token: str):
    entry = _offer(token)
    now = utcnow()
    error = None
    if request.method == "POST":
        try:
            booking = services.claim_offer(entry_id=entry.id, actor=current_user, now=now)
            return redirect(url_for("booking.attendees", reference=booking.reference))
        except (services.OfferExpired, services.OfferUsed, BookingClosed) as exc:
            error = exc.message
            db.session.rollback()
            entry = _offer(token)
    return render_template(
        "waitlist/claim.html",
        entry=entry,
        event=entry.event,
        status=entry.status_at(now),
        is_live=entry.is_offer_live(now),
        token=token,
        error=error,
    ), (409 if error else 200)


@bp.get("/waitlist/claim/<token>/decline")
@login_required
def confirm_decline(token: str):
    """Are you sure? (WCAG 3.3.4): declined places go to the next person at once. Its form posts to `decline`."""
    entry = _offer(token)
    if not entry.is_offer_live(utcnow()):
        return redirect(url_for("waitlist.claim", token=token))  # that page says how the offer ended
    return render_template("waitlist/decline.html", entry=entry, event=entry.event, token=token)


@bp.post("/waitlist/claim/<token>/decline")
@login_required
def decline(token: str):
    entry = _offer(token)
    try:
        services.decline_offer(entry_id=entry.id, actor=current_user, now=utcnow())
    except services.OfferExpired as error:
        flash(error.message)
        return redirect(url_for("waitlist.mine"))
    flash(f"You have declined the places at {entry.event.title}. They have been offered to the next person in line.")
    return redirect(url_for("waitlist.mine"))


WAITLIST_STATUS_LABELS = {
    WaitlistStatus.WAITING.value: "Waiting",
    WaitlistStatus.OFFERED.value: "Offered",
    WaitlistStatus.CLAIMED.value: "Claimed",
    WaitlistStatus.EXPIRED.value: "Offer expired",
    WaitlistStatus.WITHDRAWN.value: "Left the list",
    WaitlistStatus.DECLINED.value: "Declined",
}


@bp.app_template_filter("waitlist_status")
def waitlist_status_label(status: str) -> str:
    return WAITLIST_STATUS_LABELS.get(status, status)


from bookings.waitlist import admin_views  # noqa: E402, F401  registers the admin routes on this blueprint
