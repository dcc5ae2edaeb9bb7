"""Bookings through the API: book places, read a booking, cancel places, list my bookings.

`POST /events/<id>/bookings` holds, records attendees and (free or invoice)
confirms in one transaction: 201 with the booking, or 409 `sold_out` with
`places_left`. Card bookings stay held and carry a `checkout_url`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, jsonify, request, url_for

from bookings.api.auth import api_user, require_user
from bookings.api.blueprint import bp, json_object
from bookings.api.openapi import (
    POSITIVE_ID,
    TOKEN,
    add_path,
    add_schema,
    error_responses,
    json_body,
    json_response,
    nullable,
    ref,
)
from bookings.booking import hooks, services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, BookingStatus, PaymentMethod
from bookings.catalogue.models import Event, EventStatus
from bookings.core.clock import utcnow
from bookings.core.errors import Conflict, NotFound, ValidationError
from bookings.extensions import db
from bookings.site.ratelimit import per_person, rate_limit

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
TEXT_LIMITS = {
    "purchase_order": 100,
    "billing_contact": 200,
    "billing_email": 254,
    "billing_address": 2000,
}


def _status_now(booking: Booking, now: datetime) -> str:
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
        "status": _status_now(booking, now),
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


def _unknown_keys(body: dict[str, Any], allowed: set[str], prefix: str = "") -> dict[str, str]:
    return {f"{prefix}{key}": "This field is not recognised." for key in body if key not in allowed}


def _text(body: dict[str, Any], key: str, errors: dict[str, str], prefix: str = "", limit: int = 500) -> str:
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


def _parse_attendees(raw: Any, errors: dict[str, str]) -> list[AttendeeInput]:
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
        errors.update(_unknown_keys(item, ATTENDEE_KEYS, prefix))
        answers = item.get("answers", {})
        if not isinstance(answers, dict):
            errors[f"{prefix}answers"] = "Answers must be an object of question id to answer."
            answers = {}
        people.append(
            AttendeeInput(
                name=_text(item, "name", errors, prefix, 200),
                email=_text(item, "email", errors, prefix, 254),
                organisation=_text(item, "organisation", errors, prefix, 200),
                job_title=_text(item, "job_title", errors, prefix, 200),
                dietary_needs=_text(item, "dietary_needs", errors, prefix),
                access_needs=_text(item, "access_needs", errors, prefix),
                answers={str(k): v for k, v in answers.items()},
            )
        )
    return people


def _visible_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    user = api_user()
    if event is None or (event.status == EventStatus.DRAFT.value and not (user and user.is_admin)):
        raise NotFound("There is no event with that id.")
    return event


def _card_checkout_available() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY")) and "payments.checkout" in current_app.view_functions


def _start_checkout(booking: Booking, now: datetime) -> str:
    from bookings.payments.services import start_checkout  # payments sits above booking

    return start_checkout(
        reference=booking.reference,
        actor=api_user(),
        now=now,
        success_url=url_for("payments.checkout_return", reference=booking.reference, _external=True),
        cancel_url=url_for("booking.review", reference=booking.reference, _external=True),
    )


@bp.post("/events/<int:event_id>/bookings")
@require_user
@rate_limit(per_person("book"), "BOOKING_RATE_LIMIT", "BOOKING_RATE_WINDOW_SECONDS", action="book places")
def create_booking(event_id: int):
    body = json_object()
    now = utcnow()
    event = _visible_event(event_id)
    errors = _unknown_keys(body, BOOKING_KEYS)
    ticket_type_id = body.get("ticket_type_id")
    if ticket_type_id is not None and (not isinstance(ticket_type_id, int) or isinstance(ticket_type_id, bool)):
        errors["ticket_type_id"] = "Must be the id (a whole number) of one of the event's rates."
        ticket_type_id = None
    payment = body.get("payment", "free")
    if payment not in PAYMENTS:
        errors["payment"] = f"Must be one of: {', '.join(PAYMENTS)}."
    people = _parse_attendees(body.get("attendees"), errors)
    billing = services.BillingDetails(
        purchase_order=_text(body, "purchase_order", errors, limit=TEXT_LIMITS["purchase_order"]),
        contact=_text(body, "billing_contact", errors, limit=TEXT_LIMITS["billing_contact"]),
        email=_text(body, "billing_email", errors, limit=TEXT_LIMITS["billing_email"]),
        address=_text(body, "billing_address", errors, limit=TEXT_LIMITS["billing_address"]),
    )
    if errors:
        raise ValidationError("Some fields are not valid.", errors=errors)
    method = PaymentMethod(payment)
    if method is PaymentMethod.CARD and not _card_checkout_available():
        raise Conflict("Card payment is not available at the moment. Pay by invoice instead.", code="card_unavailable")
    booking = services.book_places(
        event_id=event.id,
        booker=api_user(),
        ticket_type_id=ticket_type_id,
        people=people,
        method=method,
        now=now,
        billing=billing,
    )
    checkout_url = _start_checkout(booking, now) if method is PaymentMethod.CARD else None
    booking = services.get_booking_for(booking.reference, api_user())
    response = jsonify(booking_json(booking, now, checkout_url=checkout_url))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_booking", reference=booking.reference)
    return response


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
    errors = _unknown_keys(body, {"attendee_ids", "reason"})
    attendee_ids = body.get("attendee_ids")
    if attendee_ids is not None and (
        not isinstance(attendee_ids, list)
        or not attendee_ids
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in attendee_ids)
    ):
        errors["attendee_ids"] = "Must be a non-empty list of attendee ids."
    reason = _text(body, "reason", errors, limit=500)
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


# --- OpenAPI --------------------------------------------------------------------------------------------------------

add_schema(
    "Attendee",
    {
        "type": "object",
        "required": ["id", "name", "email", "status"],
        "properties": {
            "id": POSITIVE_ID,
            "name": {"type": "string"},
            "email": {"type": "string"},
            "organisation": {"type": "string"},
            "job_title": {"type": "string"},
            "ticket_type_id": POSITIVE_ID,
            "price_pence": {"type": "integer", "minimum": 0},
            "status": {"type": "string", "enum": ["active", "cancelled"]},
            "answers": {"type": "object"},
            "dietary_needs": {"type": "string", "description": "Admins only."},
            "access_needs": {"type": "string", "description": "Admins only."},
        },
    },
)
add_schema(
    "Booking",
    {
        "type": "object",
        "required": ["reference", "status", "payment_status", "hold_expires_at", "attendees"],
        "properties": {
            "reference": {"type": "string", "examples": ["BK-7Q4M2XKD"]},
            "event_id": POSITIVE_ID,
            "status": {"type": "string", "enum": [s.value for s in BookingStatus]},
            "payment_status": {
                "type": "string",
                "enum": ["not_required", "pending", "invoiced", "paid", "partially_refunded", "refunded"],
            },
            "payment_method": {"type": ["string", "null"], "enum": [*PAYMENTS, None]},
            "hold_expires_at": nullable({"type": "string", "format": "date-time"}),
            "total_pence": {"type": "integer", "minimum": 0},
            "currency": {"type": "string"},
            "purchase_order": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "confirmed_at": nullable({"type": "string", "format": "date-time"}),
            "cancelled_at": nullable({"type": "string", "format": "date-time"}),
            "attendees": {"type": "array", "items": ref("Attendee")},
            "checkout_url": {"type": "string", "description": "Card bookings: where the booker pays."},
        },
    },
)
add_schema(
    "BookingCreate",
    {
        "type": "object",
        "required": ["attendees"],
        "additionalProperties": False,
        "properties": {
            "ticket_type_id": {**POSITIVE_ID, "description": "Optional when the event has one rate on sale."},
            "attendees": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["name", "email"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "maxLength": 200},
                        "email": {"type": "string", "maxLength": 254},
                        "organisation": {"type": "string", "maxLength": 200},
                        "job_title": {"type": "string", "maxLength": 200},
                        "dietary_needs": {"type": "string", "maxLength": 500},
                        "access_needs": {"type": "string", "maxLength": 500},
                        "answers": {"type": "object", "description": "Question id -> answer."},
                    },
                },
            },
            "payment": {"type": "string", "enum": PAYMENTS, "default": "free"},
            "purchase_order": {"type": "string", "maxLength": 100},
            "billing_contact": {"type": "string", "maxLength": 200},
            "billing_email": {"type": "string", "maxLength": 254},
            "billing_address": {"type": "string", "maxLength": 2000},
        },
    },
)
add_schema(
    "SoldOut",
    {
        "type": "object",
        "required": ["error", "message", "places_left"],
        "properties": {
            "error": {"type": "string", "const": "sold_out"},
            "message": {"type": "string"},
            "places_left": {"type": "integer", "minimum": 0},
        },
    },
)
add_path(
    "/events/{event_id}/bookings",
    {
        "parameters": [{"$ref": "#/components/parameters/EventId"}],
        "post": {
            "operationId": "createBooking",
            "summary": "Book places for one or more named attendees",
            "description": "Free and invoice bookings are confirmed at once; card bookings are held and carry "
            "`checkout_url`. 409 `sold_out` (with `places_left`) when fewer places are left than asked for; "
            "other 409 codes: `booking_closed`, `card_unavailable`; 429 `rate_limited` for too many open holds.",
            "tags": ["bookings"],
            "security": TOKEN,
            "requestBody": json_body(ref("BookingCreate")),
            "responses": {
                "201": json_response("The booking.", ref("Booking")),
                "409": json_response("Sold out, or booking is closed.", {"anyOf": [ref("SoldOut"), ref("Error")]}),
                "429": json_response("Too many bookings waiting to be completed.", ref("Error")),
                **error_responses(400, 401, 404, 413, 415, 422, 503),
            },
        },
    },
)
REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}
add_path(
    "/bookings/{reference}",
    {
        "parameters": [REFERENCE],
        "get": {
            "operationId": "getBooking",
            "summary": "One booking (its booker or an admin; 404 for anyone else)",
            "tags": ["bookings"],
            "security": TOKEN,
            "responses": {"200": json_response("The booking.", ref("Booking")), **error_responses(401, 404)},
        },
    },
)
add_path(
    "/bookings/{reference}/cancel",
    {
        "parameters": [REFERENCE],
        "post": {
            "operationId": "cancelBooking",
            "summary": "Cancel the whole booking, or the places given by `attendee_ids`",
            "description": "Before the event's cancellation cut-off (409 `cutoff_passed` after it). Freed places "
            "go to the waiting list first. Cancelling twice changes nothing.",
            "tags": ["bookings"],
            "security": TOKEN,
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "attendee_ids": {"type": "array", "items": POSITIVE_ID, "minItems": 1},
                                "reason": {"type": "string", "maxLength": 500},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": json_response("The booking after cancelling.", ref("Booking")),
                **error_responses(400, 401, 404, 409, 413, 415, 422, 503),
            },
        },
    },
)
add_path(
    "/me/bookings",
    {
        "get": {
            "operationId": "listMyBookings",
            "summary": "The token user's bookings, upcoming and past",
            "tags": ["bookings"],
            "security": TOKEN,
            "responses": {
                "200": json_response(
                    "Upcoming (soonest first) and past bookings.",
                    {
                        "type": "object",
                        "required": ["upcoming", "past"],
                        "properties": {
                            "upcoming": {"type": "array", "items": ref("Booking")},
                            "past": {"type": "array", "items": ref("Booking")},
                        },
                    },
                ),
                **error_responses(401),
            },
        }
    },
)
