"""The OpenAPI 3.1 document of API v1, served at GET /api/v1/openapi.json.

Every route of the blueprint must be described here (a test walks the URL
map and fails otherwise). To document a new route, add one entry to PATHS
(or call `add_path` from the module that defines the route), reusing the
shared schemas and responses: `ref("Event")`, `json_response(...)`,
`error_responses(401, 403, 422)`.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import jsonify

from bookings.api.blueprint import bp
from bookings.api.openapi_schemas import (  # noqa: F401  re-exported: modules documenting routes import them here
    _EVENT_COMMON,
    DATE_TIME,
    ERROR_RESPONSES,
    EVENT,
    EVENT_LIST,
    INPUT_DATE_TIME,
    POSITIVE_ID,
    PUBLIC,
    QUESTION,
    SESSION,
    TICKET_TYPE,
    TOKEN,
    _event_input,
    _session_input,
    _text,
    _ticket_type_input,
    error_responses,
    json_body,
    json_response,
    nullable,
    ref,
)
from bookings.catalogue.inputs import KINDS, STATUSES

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"


ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "Stable code for programs.", "examples": ["invalid"]},
        "message": {"type": "string", "description": "Plain English for people."},
        "errors": {
            "type": "object",
            "description": "Field -> message (an event's sessions[0].ends_at, a booking's attendees-0-name). "
            "Only with error=invalid.",
            "additionalProperties": {"type": "string"},
        },
        "field": {"type": "string"},
    },
    "additionalProperties": True,
}


def _error_response(description: str) -> dict[str, Any]:
    return json_response(description, ref("Error"))


COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `flask --app wsgi bookings create-token EMAIL`. Cookies never count.",
        }
    },
    "schemas": {
        "Error": ERROR,
        "Session": SESSION,
        "TicketType": TICKET_TYPE,
        "Question": QUESTION,
        "Event": EVENT,
        "EventList": EVENT_LIST,
        "NewSession": _session_input(with_id=False),
        "SessionChange": _session_input(with_id=True),
        "NewTicketType": _ticket_type_input(with_id=False),
        "TicketTypeChange": _ticket_type_input(with_id=True),
        "EventCreate": _event_input(create=True),
        "EventUpdate": _event_input(create=False),
    },
    "responses": {
        "BadRequest": _error_response(
            "Malformed JSON (a lone surrogate such as \\ud800 included), or the body is not a JSON object."
        ),
        "Unauthorised": {
            **_error_response("No bearer token, or one that is not valid or revoked."),
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="bookings"'}},
        },
        "Forbidden": _error_response("The token's user may not do this (admins only)."),
        "NotFound": _error_response("No such thing, or not yours to see."),
        "Conflict": _error_response("Valid, but the state of things does not allow it now."),
        "TooLarge": _error_response("The body is larger than the limit (1 MiB)."),
        "UnsupportedMediaType": _error_response("The body is not sent as application/json."),
        "Invalid": _error_response("Some fields are not valid; `errors` names each one. Nothing was written."),
        "Busy": _error_response("The database stayed busy; safe to retry."),
    },
    "parameters": {
        "EventId": {"name": "event_id", "in": "path", "required": True, "schema": POSITIVE_ID},
    },
}

# --- paths: one entry per path --------------------------------------------------------------------------------------

PATHS: dict[str, dict[str, Any]] = {
    "/events": {
        "get": {
            "operationId": "listEvents",
            "summary": "The catalogue: published upcoming events, soonest first",
            "description": "Anyone may call this. Admins may also list drafts and cancelled events with `status`.",
            "tags": ["events"],
            "security": PUBLIC,
            "parameters": [
                {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(KINDS)}},
                {
                    "name": "status",
                    "in": "query",
                    "description": "Anything but `published` needs an admin token.",
                    "schema": {"type": "string", "enum": [*STATUSES, "all"], "default": "published"},
                },
                {
                    "name": "when",
                    "in": "query",
                    "description": "upcoming: not yet ended; past: ended (latest first).",
                    "schema": {"type": "string", "enum": ["upcoming", "past", "all"], "default": "upcoming"},
                },
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                },
            ],
            "responses": {
                "200": json_response("A page of events, with links to the next and previous pages.", ref("EventList")),
                **error_responses(401, 403, 422),
            },
        },
        "post": {
            "operationId": "createEvent",
            "summary": "Create an event with its sessions and rates (admins)",
            "tags": ["events"],
            "security": TOKEN,
            "requestBody": json_body(ref("EventCreate")),
            "responses": {
                "201": json_response(
                    "The event as created.",
                    ref("Event"),
                    headers={"Location": {"schema": {"type": "string"}, "description": "The event's API address."}},
                ),
                **error_responses(400, 401, 403, 413, 415, 422, 503),
            },
        },
    },
    "/events/{event_id}": {
        "parameters": [{"$ref": "#/components/parameters/EventId"}],
        "get": {
            "operationId": "getEvent",
            "summary": "One event (drafts: admins only; 404 for others)",
            "tags": ["events"],
            "security": PUBLIC,
            "responses": {"200": json_response("The event.", ref("Event")), **error_responses(401, 404)},
        },
        "patch": {
            "operationId": "updateEvent",
            "summary": "Change any fields of an event (admins)",
            "description": "Lists given replace the old ones; items with the `id` of an existing session or "
            "rate keep it. A change of time, place or status raises `sequence`. Status `published` publishes, "
            "`draft` unpublishes, `cancelled` cancels (final). Conflicts: `capacity_below_taken`, "
            "`cap_below_taken`, `ticket_type_in_use`, `event_cancelled`.",
            "tags": ["events"],
            "security": TOKEN,
            "requestBody": json_body(ref("EventUpdate")),
            "responses": {
                "200": json_response("The event as changed.", ref("Event")),
                **error_responses(400, 401, 403, 404, 409, 413, 415, 422, 503),
            },
        },
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This document",
            "tags": ["meta"],
            "security": PUBLIC,
            "responses": {"200": json_response("OpenAPI 3.1 document.", {"type": "object"}), **error_responses(401)},
        }
    },
}


def add_path(path: str, item: dict[str, Any]) -> None:
    """Document a path (relative to /api/v1, with `{name}` parameters), merging methods into an existing entry."""
    entry = PATHS.setdefault(path, {})
    for key, value in item.items():
        if key in entry and key != "parameters":
            raise ValueError(f"{key.upper()} {path} is documented twice")
        entry[key] = value


def add_schema(name: str, schema: dict[str, Any]) -> None:
    if name in COMPONENTS["schemas"]:
        raise ValueError(f"schema {name} is defined twice")
    COMPONENTS["schemas"][name] = schema


def build_document() -> dict[str, Any]:
    return copy.deepcopy(
        {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": "Bookings API",
                "version": API_VERSION,
                "description": "Events: read the catalogue; admins create, change, publish and cancel events. "
                "Bookings: book places (free, invoice or card), read and cancel bookings, list your own. "
                "Waiting list: join a full event's list, list your entries, claim or decline an offer, leave. "
                "Authenticate with `Authorization: Bearer <token>`. Every error is JSON: "
                '`{"error": code, "message": text}`.',
            },
            "servers": [{"url": "/api/v1"}],
            "tags": [{"name": "events"}, {"name": "bookings"}, {"name": "waitlist"}, {"name": "meta"}],
            "security": TOKEN,
            "paths": PATHS,
            "components": COMPONENTS,
        }
    )


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(build_document())
