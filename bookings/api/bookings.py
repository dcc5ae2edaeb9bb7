"""Bookings through the API: book places, read a booking, cancel places, list my bookings.

`POST /events/<id>/bookings` holds, records attendees and (free or invoice)
confirms in one transaction: 201 with the booking, or 409 `sold_out` with
`places_left`. Card bookings stay held and carry a `checkout_url`.
"""

from __future__ import annotations

from flask import jsonify, request

from bookings.api import openapi_bookings  # noqa: F401  documents these routes
from bookings.api.auth import api_user, require_user
from bookings.api.blueprint import bp, json_object
from bookings.api.booking_bodies import (
    BOOKING_KEYS,
    booking_json,
    created_response,
    parse_attendees,
    parse_payment_and_billing,
    refuse_card_if_unavailable,
    start_card_checkout,
    text_field,
    unknown_keys,
    visible_event,
)
from bookings.booking import hooks, services
from bookings.booking.models import PaymentMethod
from bookings.core.clock import utcnow
from bookings.core.errors import ValidationError
from bookings.core.ratelimit import hoarding_limit


@bp.post("/events/<int:event_id>/bookings")
@require_user
@hoarding_limit("book", "book places")
def create_booking(event_id: int):
    body = json_object()
    now = utcnow()
    event = visible_event(event_id)
    errors = unknown_keys(body, BOOKING_KEYS)
    ticket_type_id = body.get("ticket_type_id")
    if ticket_type_id is not None and (not isinstance(ticket_type_id, int) or isinstance(ticket_type_id, bool)):
        errors["ticket_type_id"] = "Must be the id (a whole number) of one of the event's rates."
        ticket_type_id = None
    payment, billing = parse_payment_and_billing(body, errors)
    people = parse_attendees(body.get("attendees"), errors)
    if errors:
        raise ValidationError("Some fields are not valid.", errors=errors)
    method = PaymentMethod(payment)
    refuse_card_if_unavailable(method)
    booking = services.book_places(
        event_id=event.id,
        booker=api_user(),
        ticket_type_id=ticket_type_id,
        people=people,
        method=method,
        now=now,
        billing=billing,
    )
    checkout_url = start_card_checkout(booking, now) if method is PaymentMethod.CARD else None
    return created_response(booking, now, checkout_url=checkout_url)


@bp.get("/bookings/<reference>")
@require_user
def get_booking(reference: str):
    return jsonify(booking_json(services.get_booking_for(reference, api_user()), utcnow()))


@bp.post("/bookings/<reference>/cancel")
@require_user
def cancel_booking(reference: str):
    now = utcnow()
    services.get_booking_for(reference, api_user())  # 404 before looking at the body
    body = json_object() if request.get_data(cache=True) else {}
    errors = unknown_keys(body, {"attendee_ids", "reason"})
    attendee_ids = body.get("attendee_ids")
    if attendee_ids is not None and (
        not isinstance(attendee_ids, list)
        or not attendee_ids
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in attendee_ids)
    ):
        errors["attendee_ids"] = "Must be a non-empty list of attendee ids."
    reason = text_field(body, "reason", errors, limit=500)
    if errors:
        raise ValidationError("Some fields are not valid.", errors=errors)
    booking = services.cancel_booking(
        reference=reference, actor=api_user(), now=now, attendee_ids=attendee_ids, reason=reason
    )
    hooks.cancellation_committed(booking.reference, now)
    return jsonify(booking_json(services.get_booking_for(booking.reference, api_user()), now))


@bp.get("/me/bookings")
@require_user
def my_bookings():
    now = utcnow()
    upcoming, past = services.my_bookings(api_user(), now)
    return jsonify(
        {
            "upcoming": [booking_json(b, now) for b in upcoming],
            "past": [booking_json(b, now) for b in past],
        }
    )
