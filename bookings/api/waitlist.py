"""The waiting list through the API: join, list mine, claim an offer, decline, leave.

`POST /events/<id>/waitlist` answers 201 `{"id", "position", "status": "waiting"}`
(409 `places_available` if the places still fit, `already_on_waitlist`,
`waitlist_closed`, `booking_closed`). `POST /waitlist/<id>/claim` books the
offered places and answers like `POST /events/<id>/bookings`; after the
offer's time it is 409 `offer_expired`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, request, url_for

from bookings.api.auth import api_user, require_user
from bookings.api.blueprint import bp, json_object
from bookings.api.booking_bodies import (
    PAYMENTS,
    created_response,
    parse_attendees,
    parse_payment_and_billing,
    refuse_card_if_unavailable,
    start_card_checkout,
    unknown_keys,
)
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
from bookings.booking.models import PaymentMethod
from bookings.catalogue.models import Event, EventStatus
from bookings.core.clock import utcnow
from bookings.core.errors import NotFound, ValidationError
from bookings.core.ratelimit import hoarding_limit
from bookings.extensions import db
from bookings.waitlist import services
from bookings.waitlist.models import WaitlistStatus

JOIN_KEYS = {"places", "ticket_type_id", "email_consent"}
CLAIM_KEYS = {"attendees", "payment", "purchase_order", "billing_contact", "billing_email", "billing_address"}
# The waiting-list issue's five: an offer turned down reads `withdrawn`, with `declined` true.
API_STATUSES = ["waiting", "offered", "claimed", "expired", "withdrawn"]


def entry_json(view: services.EntryView) -> dict[str, Any]:
    entry = view.entry
    zone = entry.event.zone

    def iso(value: datetime | None) -> str | None:
        return value.astimezone(zone).isoformat() if value is not None else None

    declined = view.status == WaitlistStatus.DECLINED.value
    return {
        "id": entry.id,
        "event_id": entry.event_id,
        "event_title": entry.event.title,
        "places": entry.places,
        "ticket_type_id": entry.ticket_type_id,
        "status": WaitlistStatus.WITHDRAWN.value if declined else view.status,
        "declined": declined,
        "position": view.position,
        "joined_at": iso(entry.joined_at),
        "offer_expires_at": iso(view.offer_expires_at),
        "offer_ticket_type_id": entry.offer_ticket_type_id if view.status == WaitlistStatus.OFFERED.value else None,
    }


def _whole_number(body: dict[str, Any], key: str, errors: dict[str, str], *, required: bool) -> int | None:
    value = body.get(key)
    if value is None:
        if required:
            errors[key] = "Required: a whole number."
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        errors[key] = "Must be a whole number, 1 or more."
        return None
    return value


def visible_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or event.status == EventStatus.DRAFT.value:
        raise NotFound("There is no event with that id.")
    return event


@bp.post("/events/<int:event_id>/waitlist")
@require_user
@hoarding_limit("waitlist", "join waiting lists")
def join_waitlist(event_id: int):
    body = json_object()
    now = utcnow()
    event = visible_event(event_id)
    errors = unknown_keys(body, JOIN_KEYS)
    places = _whole_number(body, "places", errors, required=True)
    ticket_type_id = _whole_number(body, "ticket_type_id", errors, required=False)
    consent = body.get("email_consent", True)
    if not isinstance(consent, bool):
        errors["email_consent"] = "Must be true or false."
    if errors or places is None:
        raise ValidationError("Some fields are not valid.", errors=errors)
    entry = services.join_waitlist(
        event_id=event.id,
        user=api_user(),
        places=places,
        ticket_type_id=ticket_type_id,
        has_email_consent=consent,
        now=now,
    )
    entry = services.get_entry_for(entry.id, api_user())
    view = services.entry_view(entry, now)
    response = jsonify(entry_json(view))
    response.status_code = 201
    response.headers["Location"] = url_for("api.my_waitlist")
    return response


@bp.get("/me/waitlist")
@require_user
def my_waitlist():
    views = services.entries_for_user(api_user().id, utcnow())
    return jsonify({"entries": [entry_json(v) for v in views]})


@bp.post("/waitlist/<int:entry_id>/claim")
@require_user
def claim_offer(entry_id: int):
    now = utcnow()
    services.get_entry_for(entry_id, api_user())  # 404 before looking at the body
    body = json_object() if request.get_data(cache=True) else {}
    errors = unknown_keys(body, CLAIM_KEYS)
    payment, billing = parse_payment_and_billing(body, errors)
    people = parse_attendees(body["attendees"], errors) if "attendees" in body else []
    if errors:
        raise ValidationError("Some fields are not valid.", errors=errors)
    method = PaymentMethod(payment)
    if people:
        refuse_card_if_unavailable(method)
    booking = services.claim_offer_and_book(
        entry_id=entry_id, actor=api_user(), now=now, people=people, method=method, billing=billing
    )
    checkout_url = start_card_checkout(booking, now) if people and method is PaymentMethod.CARD else None
    return created_response(booking, now, checkout_url=checkout_url)


@bp.post("/waitlist/<int:entry_id>/decline")
@require_user
def decline_offer(entry_id: int):
    now = utcnow()
    entry = services.decline_offer(entry_id=entry_id, actor=api_user(), now=now)
    return jsonify(entry_json(services.entry_view(services.get_entry_for(entry.id, api_user()), now)))


@bp.delete("/waitlist/<int:entry_id>")
@require_user
def leave_waitlist(entry_id: int):
    now = utcnow()
    entry = services.leave_waitlist(entry_id=entry_id, actor=api_user(), now=now)
    return jsonify(entry_json(services.entry_view(services.get_entry_for(entry.id, api_user()), now)))


# --- OpenAPI --------------------------------------------------------------------------------------------------------

add_schema(
    "WaitlistEntry",
    {
        "type": "object",
        "required": ["id", "event_id", "places", "status", "position", "offer_expires_at"],
        "properties": {
            "id": POSITIVE_ID,
            "event_id": POSITIVE_ID,
            "event_title": {"type": "string"},
            "places": {"type": "integer", "minimum": 1},
            "ticket_type_id": nullable({**POSITIVE_ID, "description": "The rate asked for; null: any rate."}),
            "status": {
                "type": "string",
                "enum": API_STATUSES,
                "description": "An offer past its time reads `expired` at once, before any sweep; an offer "
                "turned down reads `withdrawn` (with `declined` true).",
            },
            "declined": {"type": "boolean", "description": "The person turned an offer down (status `withdrawn`)."},
            "position": nullable(
                {"type": "integer", "minimum": 1, "description": "Place in line (1 = next); null once out of line."}
            ),
            "joined_at": {"type": "string", "format": "date-time"},
            "offer_expires_at": nullable({"type": "string", "format": "date-time"}),
            "offer_ticket_type_id": nullable(POSITIVE_ID),
        },
    },
)
add_schema(
    "WaitlistJoin",
    {
        "type": "object",
        "required": ["places"],
        "additionalProperties": False,
        "properties": {
            "places": {"type": "integer", "minimum": 1},
            "ticket_type_id": {**POSITIVE_ID, "description": "Optional: wait for one rate only."},
            "email_consent": {"type": "boolean", "default": True},
        },
    },
)
add_schema(
    "WaitlistClaim",
    {
        "type": "object",
        "additionalProperties": False,
        "description": "Optional. Without attendees the places are held (blank attendees) like any held booking.",
        "properties": {
            "attendees": {
                "type": "array",
                "minItems": 1,
                "description": "One per offered place, as for createBooking.",
                "items": {"type": "object"},
            },
            "payment": {"type": "string", "enum": PAYMENTS, "default": "free"},
            "purchase_order": {"type": "string", "maxLength": 100},
            "billing_contact": {"type": "string", "maxLength": 200},
            "billing_email": {"type": "string", "maxLength": 254},
            "billing_address": {"type": "string", "maxLength": 2000},
        },
    },
)
ENTRY_ID = {"name": "entry_id", "in": "path", "required": True, "schema": POSITIVE_ID}
add_path(
    "/events/{event_id}/waitlist",
    {
        "parameters": [{"$ref": "#/components/parameters/EventId"}],
        "post": {
            "operationId": "joinWaitlist",
            "summary": "Join the waiting list of a full event (or one with fewer places left than you need)",
            "description": "409 codes: `places_available` (book instead), `already_on_waitlist`, "
            "`waitlist_closed`, `booking_closed`.",
            "tags": ["waitlist"],
            "security": TOKEN,
            "requestBody": json_body(ref("WaitlistJoin")),
            "responses": {
                "201": json_response("Your entry, with your position in line.", ref("WaitlistEntry")),
                "429": json_response("Too many waiting lists joined in a short time.", ref("Error")),
                **error_responses(400, 401, 404, 409, 413, 415, 422, 503),
            },
        },
    },
)
add_path(
    "/me/waitlist",
    {
        "get": {
            "operationId": "listMyWaitlist",
            "summary": "Your waiting-list entries, newest first, with status and position",
            "tags": ["waitlist"],
            "security": TOKEN,
            "responses": {
                "200": json_response(
                    "Your entries.",
                    {
                        "type": "object",
                        "required": ["entries"],
                        "properties": {"entries": {"type": "array", "items": ref("WaitlistEntry")}},
                    },
                ),
                **error_responses(401),
            },
        }
    },
)
add_path(
    "/waitlist/{entry_id}/claim",
    {
        "parameters": [ENTRY_ID],
        "post": {
            "operationId": "claimWaitlistOffer",
            "summary": "Book the places offered to you",
            "description": "Answers like createBooking. 409 `offer_expired` after the offer's time (or once "
            "declined), `offer_used` when already claimed.",
            "tags": ["waitlist"],
            "security": TOKEN,
            "requestBody": {**json_body(ref("WaitlistClaim")), "required": False},
            "responses": {
                "201": json_response("The booking.", ref("Booking")),
                **error_responses(400, 401, 404, 409, 413, 415, 422, 503),
            },
        },
    },
)
add_path(
    "/waitlist/{entry_id}/decline",
    {
        "parameters": [ENTRY_ID],
        "post": {
            "operationId": "declineWaitlistOffer",
            "summary": "Turn down an offer; the places pass to the next person in line",
            "tags": ["waitlist"],
            "security": TOKEN,
            "responses": {
                "200": json_response("The entry, now declined.", ref("WaitlistEntry")),
                **error_responses(401, 404, 409),
            },
        },
    },
)
add_path(
    "/waitlist/{entry_id}",
    {
        "parameters": [ENTRY_ID],
        "delete": {
            "operationId": "leaveWaitlist",
            "summary": "Leave the waiting list (giving up any offer). Leaving twice changes nothing; "
            "an entry already claimed, declined or expired answers 409 not_on_waitlist.",
            "tags": ["waitlist"],
            "security": TOKEN,
            "responses": {
                "200": json_response("The entry, now withdrawn.", ref("WaitlistEntry")),
                **error_responses(401, 404, 409),
            },
        },
    },
)
