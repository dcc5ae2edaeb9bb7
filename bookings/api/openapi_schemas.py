"""Shared pieces of the OpenAPI document: helpers for responses and bodies, and the event schemas."""

from __future__ import annotations

from typing import Any

from bookings.catalogue.inputs import CREATE_STATUSES, KINDS, STATUSES
from bookings.catalogue.models import QuestionKind


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    schema = dict(schema)
    schema["type"] = [schema["type"], "null"]
    return schema


def json_response(description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def json_body(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"required": True, "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return body


ERROR_RESPONSES = {
    400: "BadRequest",
    401: "Unauthorised",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    413: "TooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    503: "Busy",
}


def error_responses(*statuses: int) -> dict[str, Any]:
    return {str(status): {"$ref": f"#/components/responses/{ERROR_RESPONSES[status]}"} for status in statuses}


# Who may call an operation. An empty requirement means "no token needed".
PUBLIC = [{}, {"bearerAuth": []}]
TOKEN = [{"bearerAuth": []}]

# --- shared schemas ------------------------------------------------------------------------------------------------

DATE_TIME = {"type": "string", "format": "date-time"}
INPUT_DATE_TIME = {
    "type": "string",
    "description": "ISO 8601 date and time. With an offset it is that instant; without one it is "
    "wall-clock time in the event's timezone.",
    "examples": ["2027-03-27T09:30:00+00:00", "2027-03-27T09:30"],
}
POSITIVE_ID = {"type": "integer", "minimum": 1}


def _text(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, **extra}


SESSION = {
    "type": "object",
    "description": "One dated slot of an event. Times are in the event's timezone, with the offset.",
    "additionalProperties": False,
    "required": ["id", "uid", "title", "starts_at", "ends_at", "is_cancelled", "sequence"],
    "properties": {
        "id": POSITIVE_ID,
        "uid": {"type": "string", "description": "Stable iCalendar UID."},
        "title": {"type": "string"},
        "starts_at": DATE_TIME,
        "ends_at": DATE_TIME,
        "is_cancelled": {"type": "boolean"},
        "sequence": {"type": "integer", "minimum": 0, "description": "iCalendar SEQUENCE: raised on every change."},
    },
}

TICKET_TYPE = {
    "type": "object",
    "description": "A rate. Prices in minor units (pence); VAT in basis points (2000 = 20 %).",
    "additionalProperties": False,
    "required": [
        "id",
        "name",
        "description",
        "price_pence",
        "currency",
        "vat_rate_bp",
        "cap",
        "sale_starts_at",
        "sale_ends_at",
        "is_on_sale",
        "places_left",
    ],
    "properties": {
        "id": POSITIVE_ID,
        "name": {"type": "string"},
        "description": {"type": "string"},
        "price_pence": {"type": "integer", "minimum": 0},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "vat_rate_bp": {"type": "integer", "minimum": 0, "maximum": 10000},
        "cap": {"type": ["integer", "null"], "minimum": 0, "description": "Own limit inside the event's capacity."},
        "sale_starts_at": nullable(DATE_TIME),
        "sale_ends_at": nullable(DATE_TIME),
        "is_on_sale": {"type": "boolean"},
        "places_left": {"type": "integer", "minimum": 0},
    },
}

QUESTION = {
    "type": "object",
    "additionalProperties": False,
    "description": "Asked of each attendee: answer in the attendee's `answers`, keyed by the question's id (a string).",
    "required": ["id", "label", "kind", "choices", "is_required"],
    "properties": {
        "id": POSITIVE_ID,
        "label": {"type": "string"},
        "kind": {"type": "string", "enum": [k.value for k in QuestionKind]},
        "choices": {"type": "array", "items": {"type": "string"}, "description": "For `choice`: the answers allowed."},
        "is_required": {"type": "boolean"},
    },
}

_EVENT_COMMON = {
    "slug": {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 120},
    "title": _text(200, minLength=1),
    "kind": {"type": "string", "enum": list(KINDS)},
    "summary": _text(500),
    "description": _text(20000),
    "timezone": {"type": "string", "description": "IANA timezone name.", "examples": ["Europe/London"]},
    "is_online": {"type": "boolean"},
    "venue_name": _text(200),
    "venue_address": _text(500),
    "capacity": {"type": "integer", "minimum": 0, "maximum": 1000000},
    "max_places_per_booking": {"type": "integer", "minimum": 1, "maximum": 1000},
    "cancellation_cutoff_hours": {"type": "integer", "minimum": 0},
    "substitution_cutoff_hours": {"type": "integer", "minimum": 0},
    "hold_minutes": {"type": ["integer", "null"], "minimum": 1, "description": "null: the site default."},
    "offer_expiry_hours": {"type": ["integer", "null"], "minimum": 1, "description": "null: the site default."},
    "allow_invoice": {"type": "boolean"},
    "prices_include_vat": {"type": "boolean"},
    "is_waitlist_open": {"type": "boolean"},
}

EVENT = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "url",
        "status",
        "starts_at",
        "ends_at",
        "places_left",
        "waitlist_length",
        "sequence",
        "booking_opens_at",
        "booking_closes_at",
        "sessions",
        "ticket_types",
        "questions",
        *_EVENT_COMMON,
    ],
    "properties": {
        "id": POSITIVE_ID,
        "url": {"type": "string", "format": "uri", "description": "The public event page."},
        "status": {"type": "string", "enum": list(STATUSES)},
        **_EVENT_COMMON,
        "starts_at": nullable(DATE_TIME),
        "ends_at": nullable(DATE_TIME),
        "places_left": {"type": "integer", "minimum": 0, "description": "Live: unexpired holds count."},
        "waitlist_length": {"type": "integer", "minimum": 0, "description": "People in line on the waiting list."},
        "booking_opens_at": nullable(DATE_TIME),
        "booking_closes_at": nullable(DATE_TIME),
        "sequence": {"type": "integer", "minimum": 0},
        "sessions": {"type": "array", "items": ref("Session")},
        "ticket_types": {"type": "array", "items": ref("TicketType")},
        "questions": {"type": "array", "items": ref("Question")},
        "online_url": {"type": "string", "description": "Joining link (admins only)."},
        "created_at": {**DATE_TIME, "description": "Admins only."},
        "updated_at": {**DATE_TIME, "description": "Admins only."},
    },
}

EVENT_LIST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["events", "page", "per_page", "total", "next", "previous"],
    "properties": {
        "events": {"type": "array", "items": ref("Event")},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        "total": {"type": "integer", "minimum": 0},
        "next": {"type": ["string", "null"], "format": "uri"},
        "previous": {"type": ["string", "null"], "format": "uri"},
    },
}


def _session_input(*, with_id: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {"title": _text(200), "starts_at": INPUT_DATE_TIME, "ends_at": INPUT_DATE_TIME}
    if with_id:
        properties = {"id": {**POSITIVE_ID, "description": "Keep this existing session (and its UID)."}, **properties}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["starts_at", "ends_at"],
        "properties": properties,
    }


def _ticket_type_input(*, with_id: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "name": _text(100, minLength=1),
        "description": _text(300),
        "price_pence": {"type": "integer", "minimum": 0},
        "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$", "default": "GBP"},
        "vat_rate_bp": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 2000},
        "cap": {"type": ["integer", "null"], "minimum": 0},
        "sale_starts_at": {**INPUT_DATE_TIME, "type": ["string", "null"]},
        "sale_ends_at": {**INPUT_DATE_TIME, "type": ["string", "null"]},
    }
    if with_id:
        properties = {"id": {**POSITIVE_ID, "description": "Keep this existing rate."}, **properties}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "price_pence"],
        "properties": properties,
    }


def _event_input(*, create: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        **_EVENT_COMMON,
        "status": {"type": "string", "enum": list(CREATE_STATUSES if create else STATUSES)},
        "online_url": _text(500, description="Joining link (https://...)."),
        "booking_opens_at": {**INPUT_DATE_TIME, "type": ["string", "null"]},
        "booking_closes_at": {**INPUT_DATE_TIME, "type": ["string", "null"]},
        "sessions": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": ref("NewSession" if create else "SessionChange"),
        },
        "ticket_types": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": ref("NewTicketType" if create else "TicketTypeChange"),
        },
    }
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if create:
        schema["required"] = ["title", "capacity", "sessions", "ticket_types"]
    return schema
