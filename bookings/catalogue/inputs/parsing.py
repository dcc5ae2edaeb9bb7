"""The entry points: a whole event or a partial update checked at once, raising one ValidationError."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bookings.catalogue.inputs.fields import (
    CREATE_STATUSES,
    DATETIME_FIELDS,
    EVENT_FIELDS,
    REQUIRED_ON_CREATE,
    SCALAR_FIELDS,
    _Errors,
    _get,
    _parse_list,
    _session_parser,
    _ticket_type_parser,
    _unknown,
)
from bookings.catalogue.inputs.shapes import EventInput
from bookings.catalogue.inputs.values import _datetime, is_known_timezone
from bookings.catalogue.models import DEFAULT_TIMEZONE
from bookings.core.errors import ValidationError


def _parse_fields(data: Mapping[str, Any], zone: ZoneInfo, errors: _Errors, *, allow_ids: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, parse in SCALAR_FIELDS.items():
        if name in data:
            values[name] = _get(data, name, parse, "", errors)
    for name in DATETIME_FIELDS:
        if name in data:
            values[name] = _get(data, name, _datetime(nullable=True), "", errors, zone)
    if "sessions" in data:
        values["sessions"] = _parse_list(
            data["sessions"], "sessions", errors, _session_parser(zone, allow_ids=allow_ids)
        )
    if "ticket_types" in data:
        values["ticket_types"] = _parse_list(
            data["ticket_types"], "ticket_types", errors, _ticket_type_parser(zone, allow_ids=allow_ids)
        )
    if values.get("ticket_types"):
        names = [t.name.casefold() for t in values["ticket_types"] if t is not None]
        if len(names) != len(set(names)):
            errors.add("ticket_types", "Give each rate a different name.")
    return values


def _zone_for(data: Mapping[str, Any], fallback: str) -> ZoneInfo:
    name = data.get("timezone")
    return ZoneInfo(name if isinstance(name, str) and is_known_timezone(name) else fallback)


def check_windows(values: Mapping[str, Any], errors: dict[str, str]) -> None:
    """Rules across fields, applied to the event as it will be after a change."""
    opens, closes = values.get("booking_opens_at"), values.get("booking_closes_at")
    if opens and closes and closes <= opens:
        errors.setdefault("booking_closes_at", "Must be after booking opens.")


def parse_event_input(data: Mapping[str, Any]) -> EventInput:
    """A new event from raw values. Raises `ValidationError` listing every field that is wrong."""
    errors = _Errors()
    if not isinstance(data, Mapping):
        raise ValidationError("The event must be an object.")
    _unknown(data, EVENT_FIELDS, "", errors)
    for name in REQUIRED_ON_CREATE:
        if name not in data:
            errors.add(name, "This field is required.")
    values = _parse_fields(data, _zone_for(data, DEFAULT_TIMEZONE), errors, allow_ids=False)
    if values.get("status") not in (None, *CREATE_STATUSES):
        errors.add("status", f"A new event must be one of: {', '.join(CREATE_STATUSES)}.")
    check_windows(values, errors)
    errors.raise_if_any()
    # Parsed values are never None where a default applies, except nullable fields whose default is None.
    return EventInput(**{name: value for name, value in values.items() if value is not None})


def parse_event_changes(data: Mapping[str, Any], *, timezone: str) -> dict[str, Any]:
    """Typed values for the fields given in a partial update; naive datetimes read in the (new) timezone.

    Sessions and rates given replace the lists; items may carry the `id` of one to keep.
    Raises `ValidationError` listing every field that is wrong.
    """
    errors = _Errors()
    if not isinstance(data, Mapping):
        raise ValidationError("The changes must be an object.")
    _unknown(data, EVENT_FIELDS, "", errors)
    values = _parse_fields(data, _zone_for(data, timezone), errors, allow_ids=True)
    errors.raise_if_any()
    return values
