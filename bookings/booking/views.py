"""The booking journey (choose, attendees, review, confirm) and My bookings. Thin: parse, call, render."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.booking import hooks, services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import PaymentMethod
from bookings.booking.rules import BookingClosed, cancellation_deadline, substitution_deadline
from bookings.catalogue.models import Event, EventStatus
from bookings.core.clock import utcnow
from bookings.core.errors import Conflict, DomainError, NotFound, RateLimited, SoldOut, ValidationError
from bookings.core.ratelimit import hoarding_limit
from bookings.extensions import db
from bookings.site.templating import format_time

bp = Blueprint("booking", __name__)

ATTENDEE_FIELDS = ("name", "email", "organisation", "job_title", "dietary_needs", "access_needs")


def _event_by_slug(slug: str) -> Event:
    event = db.session.scalars(
        select(Event)
        .where(Event.slug == slug)
        .options(selectinload(Event.ticket_types), selectinload(Event.sessions), selectinload(Event.questions))
    ).one_or_none()
    if event is None or (event.status == EventStatus.DRAFT.value and not current_user.is_admin):
        abort(404)
    return event


def _booking(reference: str):
    try:
        return services.get_booking_for(reference, current_user)
    except NotFound:
        abort(404)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@bp.route("/events/<slug>/book", methods=["GET", "POST"])
@login_required
@hoarding_limit("book", "book places")
def start(slug: str):
    event = _event_by_slug(slug)
    now = utcnow()
    errors: dict[str, str] = {}
    sold_out = False
    values = {"ticket_type_id": request.values.get("ticket_type_id", ""), "places": request.values.get("places", "1")}
    if request.method == "POST":
        places = _int_or_none(values["places"])
        if places is None:
            errors["places"] = "Enter the number of places as a whole number, like 2"
        else:
            try:
                booking = services.hold_places(
                    event_id=event.id,
                    booker_id=current_user.id,
                    ticket_type_id=_int_or_none(values["ticket_type_id"]),
                    places=places,
                    now=now,
                )
                return redirect(url_for("booking.attendees", reference=booking.reference))
            except ValidationError as error:
                errors.update(error.errors or {"places": error.message})
            except SoldOut as error:
                errors["places"] = error.message
                sold_out = True
            except (BookingClosed, RateLimited) as error:
                errors["places"] = error.message
    status = 422 if errors else 200
    on_sale = [t for t in event.ticket_types if t.is_on_sale(now)]
    left = capacity.availability(event, now)
    return render_template(
        "booking/start.html",
        event=event,
        on_sale=on_sale,
        availability=left,
        errors=errors,
        values=values,
        sold_out=sold_out,
    ), status


def _people_from_form(count: int, questions) -> list[AttendeeInput]:
    people = []
    for index in range(count):
        prefix = f"attendees-{index}-"
        answers = {str(q.id): request.form.get(f"{prefix}q{q.id}", "") for q in questions}
        people.append(AttendeeInput(**{f: request.form.get(prefix + f, "") for f in ATTENDEE_FIELDS}, answers=answers))
    return people


def _attendee_values(booking) -> dict[str, str]:
    values: dict[str, str] = {}
    for index, attendee in enumerate(booking.active_attendees):
        for field in ATTENDEE_FIELDS:
            values[f"attendees-{index}-{field}"] = getattr(attendee, field) or ""
        for key, answer in (attendee.answers or {}).items():
            values[f"attendees-{index}-q{key}"] = answer
    if booking.active_attendees and not booking.is_details_complete and not values.get("attendees-0-name"):
        # The booker is usually the first attendee: start from their details.
        values["attendees-0-name"] = current_user.name
        values["attendees-0-email"] = current_user.email
        values["attendees-0-organisation"] = current_user.organisation
    return values


@bp.route("/bookings/<reference>/attendees", methods=["GET", "POST"])
@login_required
def attendees(reference: str):
    booking = _booking(reference)
    if not booking.is_held:
        return redirect(url_for("booking.detail", reference=booking.reference))
    errors: dict[str, str] = {}
    values = _attendee_values(booking)
    if request.method == "POST" and request.form.get("more_time"):
        return _more_time(booking, "booking/attendees.html", values=dict(request.form))
    if request.method == "POST":
        people = _people_from_form(len(booking.active_attendees), booking.event.questions)
        values = dict(request.form)
        try:
            services.save_attendee_details(reference=booking.reference, actor=current_user, people=people, now=utcnow())
            return redirect(url_for("booking.review", reference=booking.reference))
        except ValidationError as error:
            errors = error.errors or {"attendees": error.message}
        except services.HoldExpired as error:
            flash(error.message)
            return redirect(url_for("catalogue.event", slug=booking.event.slug))
    return render_template(
        "booking/attendees.html", booking=booking, event=booking.event, errors=errors, values=values, now=utcnow()
    ), (422 if errors else 200)


def _card_available() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY")) and "payments.checkout" in current_app.view_functions


@bp.route("/bookings/<reference>/review", methods=["GET", "POST"])
@login_required
def review(reference: str):
    booking = _booking(reference)
    if booking.is_confirmed:
        return redirect(url_for("booking.detail", reference=booking.reference))
    if not booking.is_held:
        abort(404)
    if not booking.is_details_complete:
        return redirect(url_for("booking.attendees", reference=booking.reference))
    errors: dict[str, str] = {}
    values = dict(request.form) if request.method == "POST" else {}
    if request.method == "POST" and request.form.get("more_time"):
        return _more_time(booking, "booking/review.html", values=values, **_review_context(booking))
    if request.method == "POST":
        method_name = request.form.get("payment", "free" if hooks.amount_due(booking) == 0 else "")
        if method_name == PaymentMethod.CARD.value and _card_available():
            return redirect(url_for("payments.checkout", reference=booking.reference), code=303)
        try:
            method = PaymentMethod(method_name)
        except ValueError:
            errors["payment"] = "Choose how you will pay"
        else:
            billing = services.BillingDetails(
                purchase_order=request.form.get("purchase_order", ""),
                contact=request.form.get("billing_contact", ""),
                email=request.form.get("billing_email", ""),
                address=request.form.get("billing_address", ""),
            )
            try:
                services.confirm_booking(
                    reference=booking.reference,
                    actor=current_user,
                    method=method,
                    now=utcnow(),
                    billing=billing if method is PaymentMethod.INVOICE else None,
                )
                return redirect(url_for("booking.detail", reference=booking.reference, confirmed=1))
            except ValidationError as error:
                errors = error.errors or {"payment": error.message}
            except services.HoldExpired as error:
                flash(error.message)
                return redirect(url_for("catalogue.event", slug=booking.event.slug))
            except Conflict as error:
                errors = {"payment": error.message}
    return render_template(
        "booking/review.html", errors=errors, values=values, now=utcnow(), **_review_context(booking)
    ), (422 if errors else 200)


def _review_context(booking) -> dict:
    return {
        "booking": booking,
        "event": booking.event,
        "card_available": _card_available(),
        "amount_due": hooks.amount_due(booking),
        **hooks.review_context(booking),
    }


def _more_time(held, template: str, *, values: dict[str, str], **context):
    """'Give me more time' (WCAG 2.2.1): the hold runs again from now, and the page comes back as the
    person left it, with what they had typed (the button submits the page's own form)."""
    try:
        booking = services.extend_hold(reference=held.reference, actor=current_user, now=utcnow())
    except services.HoldExpired as error:
        flash(error.message)
        return redirect(url_for("catalogue.event", slug=held.event.slug))
    except Conflict as error:
        booking = held
        flash(error.message)
    else:
        flash(f"We will hold your places until {format_time(booking.hold_expires_at, booking.event.timezone)}.")
    context.setdefault("booking", booking)
    context.setdefault("event", booking.event)
    return render_template(template, errors={}, values=values, now=utcnow(), **context)


@bp.get("/bookings/<reference>")
@login_required
def detail(reference: str):
    booking = _booking(reference)
    now = utcnow()
    cancel_by = cancellation_deadline(booking.event)
    substitute_by = substitution_deadline(booking.event)
    return render_template(
        "booking/detail.html",
        booking=booking,
        event=booking.event,
        # What it costs, discount and VAT included; once places are cancelled the payment page has the figures.
        amount_due=hooks.amount_due(booking) if len(booking.active_attendees) == len(booking.attendees) else None,
        now=now,
        just_confirmed=request.args.get("confirmed") == "1" and booking.is_confirmed,
        can_cancel=booking.is_confirmed and (current_user.is_admin or cancel_by is None or now < cancel_by),
        can_substitute=booking.is_confirmed and (current_user.is_admin or substitute_by is None or now < substitute_by),
        cancel_by=cancel_by,
        substitute_by=substitute_by,
    )


@bp.route("/bookings/<reference>/cancel", methods=["GET", "POST"])
@login_required
def cancel(reference: str):
    booking = _booking(reference)
    errors: dict[str, str] = {}
    if request.method == "POST":
        # Nothing is cancelled on a guess: cancelling cannot be undone.
        scope = request.form.get("scope", "")
        ids = [i for i in (_int_or_none(v) for v in request.form.getlist("attendee_ids")) if i is not None]
        if scope not in ("all", "some"):
            errors["scope"] = "Choose whether to cancel the whole booking or some places"
        elif scope == "some" and not ids:
            errors["attendee_ids"] = "Choose the places to cancel"
        elif scope == "all" and ids:
            errors["scope"] = "You ticked some places: choose Some places to cancel only those"
        else:
            try:
                now = utcnow()
                services.cancel_booking(
                    reference=booking.reference,
                    actor=current_user,
                    now=now,
                    attendee_ids=ids if scope == "some" else None,
                )
                hooks.cancellation_committed(booking.reference, now)
                flash(
                    "The places have been cancelled." if scope == "some" else "Your booking has been cancelled.",
                    "success",
                )
                return redirect(url_for("booking.detail", reference=booking.reference))
            except DomainError as error:
                errors[getattr(error, "field", None) or "scope"] = error.message
    return render_template(
        "booking/cancel.html",
        booking=booking,
        event=booking.event,
        errors=errors,
        scope=request.form.get("scope", ""),
        ticked=set(request.form.getlist("attendee_ids")),
    ), (422 if errors else 200)


@bp.route("/bookings/<reference>/attendees/<int:attendee_id>/substitute", methods=["GET", "POST"])
@login_required
def substitute(reference: str, attendee_id: int):
    booking = _booking(reference)
    attendee = next((a for a in booking.active_attendees if a.id == attendee_id), None)
    if attendee is None:
        abort(404)
    errors: dict[str, str] = {}
    values = {"organisation": attendee.organisation}  # colleagues usually share it
    if request.method == "POST":
        values = dict(request.form)
        questions = booking.event.questions
        details = AttendeeInput(
            **{f: request.form.get(f, "") for f in ATTENDEE_FIELDS},
            answers={str(q.id): request.form.get(f"q{q.id}", "") for q in questions},
        )
        try:
            services.substitute_attendee(
                reference=booking.reference,
                attendee_id=attendee.id,
                name=details.name,
                email=details.email,
                actor=current_user,
                now=utcnow(),
                details=details,
            )
            flash(f"The place now belongs to {details.name.strip()}. We have emailed them.", "success")
            return redirect(url_for("booking.detail", reference=booking.reference))
        except ValidationError as error:
            errors = {k.removeprefix("substitute-"): v for k, v in (error.errors or {"name": error.message}).items()}
        except DomainError as error:
            errors = {"name": error.message}
    return render_template(
        "booking/substitute.html", booking=booking, event=booking.event, attendee=attendee, errors=errors, values=values
    ), (422 if errors else 200)


@bp.get("/my-bookings")
@login_required
def my_bookings():
    upcoming, past = services.my_bookings(current_user, utcnow())
    return render_template("booking/my_bookings.html", upcoming=upcoming, past=past, now=utcnow())
