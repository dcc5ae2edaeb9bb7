"""Booking bodies in and out of the API: parsing attendee lists and billing fields, the booking JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, jsonify, url_for
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload, selectinload

from bookings.api.auth import api_user
from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, BookingStatus, PaymentMethod
from bookings.booking.services.common import event_for_booking
from bookings.booking.services.confirming import BILLING_LIMITS
from bookings.catalogue.models import Event, EventStatus
from bookings.core.errors import Conflict, NotFound
from bookings.extensions import db

ATTENDEE_KEYS = {"name", "email", "organisation", "job_title", "dietary_needs", "access_needs", "answers"}
BOOKING_KEYS = {
    "ticket_type_id",
    "attendees",
    "payment",
    "purchase_order",
    "billing_contact",
    "billing_email",
    "billing_address",
}
PAYMENTS = [m.value for m in PaymentMethod]


def status_now(booking: Booking, now: datetime) -> str:
    """A held booking past its time reads as expired at once, before any sweep."""
    if booking.is_held and not booking.is_hold_live(now):
        return BookingStatus.EXPIRED.value
    return booking.status


def booking_json(booking: Booking, now: datetime, *, checkout_url: str | None = None) -> dict[str, Any]:
    viewer = api_user()
    with_needs = viewer is not None and viewer.is_admin  # access and dietary needs: admins only
    attendees = []
    for attendee in booking.attendees:
        item = {
            "id": attendee.id,
            "name": attendee.name,
            "email": attendee.email,
            "organisation": attendee.organisation,
            "job_title": attendee.job_title,
            "ticket_type_id": attendee.ticket_type_id,
            "price_pence": attendee.price_pence,
            "status": attendee.status,
            "answers": attendee.answers or {},
        }
        if with_needs:
            item["dietary_needs"] = attendee.dietary_needs
            item["access_needs"] = attendee.access_needs
        attendees.append(item)
    zone = booking.event.zone

    def iso(value: datetime | None) -> str | None:
        return value.astimezone(zone).isoformat() if value is not None else None

    body: dict[str, Any] = {
        "reference": booking.reference,
        "event_id": booking.event_id,
        "status": status_now(booking, now),
        "payment_status": booking.payment_status,
        "payment_method": booking.payment_method,
        "hold_expires_at": iso(booking.hold_expires_at) if booking.is_held else None,
        "total_pence": booking.total_pence,
        "currency": booking.currency,
        "purchase_order": booking.purchase_order,
        "created_at": iso(booking.created_at),
        "confirmed_at": iso(booking.confirmed_at),
        "cancelled_at": iso(booking.cancelled_at),
        "attendees": attendees,
    }
    if checkout_url is not None:
        body["checkout_url"] = checkout_url
    return body


def unknown_keys(body: dict[str, Any], allowed: set[str], prefix: str = "") -> dict[str, str]:
    return {f"{prefix}{key}": "This field is not recognised." for key in body if key not in allowed}


def text_field(body: dict[str, Any], key: str, errors: dict[str, str], prefix: str = "", limit: int = 500) -> str:
    value = body.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[f"{prefix}{key}"] = "Must be text."
        return ""
    if len(value) > limit:
        errors[f"{prefix}{key}"] = f"Must be {limit} characters or fewer."
        return ""
    return value


def parse_attendees(raw: Any, errors: dict[str, str]) -> list[AttendeeInput]:
    if not isinstance(raw, list) or not raw:
        errors["attendees"] = "Give a list with one object per attendee (at least one)."
        return []
    if len(raw) > 100:
        errors["attendees"] = "At most 100 attendees in one booking."
        return []
    people = []
    for index, item in enumerate(raw):
        prefix = f"attendees-{index}-"
        if not isinstance(item, dict):
            errors[f"attendees-{index}"] = "Each attendee must be an object with name and email."
            continue
        errors.update(unknown_keys(item, ATTENDEE_KEYS, prefix))
        answers = item.get("answers", {})
        if not isinstance(answers, dict):
            errors[f"{prefix}answers"] = "Answers must be an object of question id to answer."
            answers = {}
        people.append(
            AttendeeInput(
                name=text_field(item, "name", errors, prefix, 200),
                email=text_field(item, "email", errors, prefix, 254),
                organisation=text_field(item, "organisation", errors, prefix, 200),
                job_title=text_field(item, "job_title", errors, prefix, 200),
                dietary_needs=text_field(item, "dietary_needs", errors, prefix),
                access_needs=text_field(item, "access_needs", errors, prefix),
                answers={str(k): v for k, v in answers.items()},
            )
        )
    return people


def visible_event(event_id: int) -> Event:
    event = event_for_booking(event_id)  # with what the booking checks
    user = api_user()
    if event is None or (event.status == EventStatus.DRAFT.value and not (user and user.is_admin)):
        raise NotFound("There is no event with that id.")
    return event


def card_checkout_available() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY")) and "payments.checkout" in current_app.view_functions


def start_card_checkout(booking: Booking, now: datetime) -> str:
    from bookings.payments.services import start_checkout  # payments sits above booking

    return start_checkout(
        reference=booking.reference,
        actor=api_user(),
        now=now,
        success_url=url_for("payments.checkout_return", reference=booking.reference, _external=True),
        cancel_url=url_for("booking.review", reference=booking.reference, _external=True),
    )


def created_response(booking: Booking, now: datetime, *, checkout_url: str | None = None):
    """201 with the booking as its booker sees it, and its address in Location.

    Rendering the confirmation emails after the commit loaded the booking,
    its event and attendees again, which is all the answer shows; when nothing
    did (a card hold), one load of those, not a full `get_booking_for`.
    """
    state = inspect(booking)
    if state.expired_attributes or {"event", "attendees"} & state.unloaded:
        booking = db.session.scalars(
            select(Booking)
            .where(Booking.id == state.identity[0])
            .options(joinedload(Booking.event), selectinload(Booking.attendees))
            .execution_options(populate_existing=True)
        ).one()
    response = jsonify(booking_json(booking, now, checkout_url=checkout_url))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_booking", reference=booking.reference)
    return response


def parse_payment_and_billing(body: dict[str, Any], errors: dict[str, str]) -> tuple[str, services.BillingDetails]:
    """The `payment` method (default free) and the billing fields of a booking or claim body."""
    payment = body.get("payment", "free")
    if payment not in PAYMENTS:
        errors["payment"] = f"Must be one of: {', '.join(PAYMENTS)}."
    billing = services.BillingDetails(
        purchase_order=text_field(body, "purchase_order", errors, limit=BILLING_LIMITS["purchase_order"]),
        contact=text_field(body, "billing_contact", errors, limit=BILLING_LIMITS["billing_contact"]),
        email=text_field(body, "billing_email", errors, limit=BILLING_LIMITS["billing_email"]),
        address=text_field(body, "billing_address", errors, limit=BILLING_LIMITS["billing_address"]),
    )
    return payment, billing


def refuse_card_if_unavailable(method: PaymentMethod) -> None:
    """409 `card_unavailable` before any place is taken, when card checkout is not configured."""
    if method is PaymentMethod.CARD and not card_checkout_available():
        raise Conflict("Card payment is not available at the moment. Pay by invoice instead.", code="card_unavailable")
