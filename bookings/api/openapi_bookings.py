"""The OpenAPI description of the bookings endpoints (added to the shared document at import)."""

from __future__ import annotations

from bookings.api.booking_bodies import PAYMENTS
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
from bookings.booking.models import BookingStatus

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
                "enum": ["not_required", "pending", "invoiced", "paid", "partially_refunded", "refunded", "credited"],
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
