"""The /api/v1 blueprint: bearer-token authentication, JSON bodies and JSON errors.

The app's error handlers already answer `{"error": code, "message": ...}` for
every path under /api/ (a 405 with its Allow header); this blueprint adds
what they cannot know: the WWW-Authenticate challenge on a 401, and JSON
bodies read with the one rule for text (`core.text`).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, request

from bookings.api.auth import Unauthorised, authenticate_request
from bookings.core.errors import DomainError, NotFound, ValidationError
from bookings.core.text import CONTROL_CHARACTER_MESSAGE, find_unsafe_text, json_may_hold_unsafe_text
from bookings.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens are the protection: cookies never authorise the API
bp.before_request(authenticate_request)


# The largest id a row can have (PostgreSQL `integer`); a bigger one names nothing. Without this bound
# SQLite raises OverflowError on ids past 2**63 and the caller gets a 500 instead of a 404.
MAX_ID = 2**31 - 1


@bp.url_value_preprocessor
def _refuse_ids_out_of_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    for value in (values or {}).values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFound("There is no such thing.")


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415


@bp.errorhandler(Unauthorised)
def _unauthorised(error: Unauthorised):
    response = jsonify(error.to_dict())
    response.status_code = error.status
    response.headers["WWW-Authenticate"] = error.challenge
    return response


@bp.after_request
def _vary_on_authorization(response):
    # What an event looks like depends on who asks (admins see drafts).
    response.vary.add("Authorization")
    return response


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_object() -> dict[str, Any]:
    """The request body as a JSON object: 415 if it is not JSON, 400 if malformed or not an object, 413 if too big.

    Text the database cannot hold is refused here, for every endpoint at once (`bookings.core.text`):
    a lone surrogate (`"\\ud800"`) is not Unicode, so the body is malformed (400); a control character
    other than tab, LF or CR is a field that is not valid (422, naming each field).
    """
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'.")
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError):
        raise DomainError("The request body is not valid JSON.", code="malformed_json")
    except RecursionError:  # thousands of nested brackets: refuse, do not crash
        raise DomainError("The request body is nested too deeply.", code="malformed_json")
    if not isinstance(body, dict):
        raise DomainError("The request body must be a JSON object.", code="not_an_object")
    if json_may_hold_unsafe_text(raw):
        _refuse_unsafe_text(body)
    return body


def _refuse_unsafe_text(body: dict[str, Any]) -> None:
    unsafe = find_unsafe_text(body)
    if unsafe.has_lone_surrogate:
        raise DomainError(
            "The request body is not valid JSON: it has a lone surrogate (such as \\ud800), "
            "which is not a Unicode character.",
            code="malformed_json",
        )
    if unsafe:
        raise ValidationError(
            "Some text contains control characters: see errors.",
            errors=dict.fromkeys(unsafe.control_character_paths, CONTROL_CHARACTER_MESSAGE),
        )
