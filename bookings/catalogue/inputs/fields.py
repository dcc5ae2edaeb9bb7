"""The fields of an event, its sessions and its rates, and the parsers of those lists (every problem collected)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bookings.catalogue.inputs.shapes import SessionInput, TicketTypeInput
from bookings.catalogue.inputs.values import (
    MAX_LIST_ITEMS,
    MAX_PER_BOOKING_LIMIT,
    MAX_VAT_RATE_BP,
    FieldError,
    _boolean,
    _choice,
    _currency,
    _datetime,
    _integer,
    _rich_text,
    _slug,
    _text,
    _timezone,
    _url,
    parse_datetime,
)
from bookings.catalogue.models import EventKind, EventStatus
from bookings.core.errors import ValidationError

# --- the fields of an event ----------------------------------------------------------------------------------------

KINDS = tuple(k.value for k in EventKind)
STATUSES = tuple(s.value for s in EventStatus)
CREATE_STATUSES = (EventStatus.DRAFT.value, EventStatus.PUBLISHED.value)

# Plain fields: name -> parser. Datetime fields and the two lists are handled apart (they need the timezone).
SCALAR_FIELDS: dict[str, Callable[[Any], Any]] = {
    "title": _text(200, required=True, what="a title"),
    "kind": _choice(KINDS),
    "status": _choice(STATUSES),
    "timezone": _timezone,
    "capacity": _integer(0, 1_000_000),
    "slug": _slug,
    "summary": _text(500),
    "description": _rich_text(20_000),
    "is_online": _boolean,
    "venue_name": _text(200),
    "venue_address": _text(500),
    "online_url": _url,
    "max_places_per_booking": _integer(1, MAX_PER_BOOKING_LIMIT),
    "cancellation_cutoff_hours": _integer(0, 24 * 365),
    "substitution_cutoff_hours": _integer(0, 24 * 365),
    "hold_minutes": _integer(1, 24 * 60, nullable=True),
    "offer_expiry_hours": _integer(1, 24 * 30, nullable=True),
    "allow_invoice": _boolean,
    "prices_include_vat": _boolean,
    "is_waitlist_open": _boolean,
}
DATETIME_FIELDS = ("booking_opens_at", "booking_closes_at")
LIST_FIELDS = ("sessions", "ticket_types")
EVENT_FIELDS = (*SCALAR_FIELDS, *DATETIME_FIELDS, *LIST_FIELDS)
REQUIRED_ON_CREATE = ("title", "capacity", "sessions", "ticket_types")

SESSION_FIELDS = ("id", "title", "starts_at", "ends_at")
TICKET_TYPE_FIELDS = (
    "id",
    "name",
    "description",
    "price_pence",
    "currency",
    "vat_rate_bp",
    "cap",
    "sale_starts_at",
    "sale_ends_at",
)
READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "url",
        "places_left",
        "waitlist_length",
        "questions",
        "starts_at",
        "ends_at",
        "sequence",
        "created_at",
        "updated_at",
        "is_cancelled",
    }
)


class _Errors(dict):
    """field path -> message, keeping the first message for each field."""

    def add(self, path: str, message: str) -> None:
        self.setdefault(path, message)

    def raise_if_any(self) -> None:
        if self:
            count = len(self)
            noun = "field is" if count == 1 else "fields are"
            raise ValidationError(f"{count} {noun} not valid: see errors.", errors=dict(self))


def _unknown(data: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, errors: _Errors) -> None:
    for name in data:
        if name not in allowed:
            read_only = not prefix and name in READ_ONLY_FIELDS
            errors.add(f"{prefix}{name}", "This field is read-only." if read_only else "Unknown field.")


def _parse_list(
    value: Any, name: str, errors: _Errors, parse_item: Callable[[Mapping[str, Any], str, _Errors], Any]
) -> tuple[Any, ...] | None:
    if not isinstance(value, list):
        errors.add(name, "Must be a list.")
        return None
    if not value:
        errors.add(name, f"Give at least one item in {name}.")
        return None
    if len(value) > MAX_LIST_ITEMS:
        errors.add(name, f"Give {MAX_LIST_ITEMS} items or fewer.")
        return None
    items = []
    for index, item in enumerate(value):
        path = f"{name}[{index}]"
        if not isinstance(item, Mapping):
            errors.add(path, "Must be an object.")
            continue
        items.append(parse_item(item, f"{path}.", errors))
    ids = [item.id for item in items if item is not None and item.id is not None]
    if len(ids) != len(set(ids)):
        errors.add(name, "The same id is given twice.")
    return tuple(items)


def _get(item: Mapping[str, Any], name: str, parse: Callable[..., Any], path: str, errors: _Errors, *args: Any) -> Any:
    try:
        return parse(item[name], *args)
    except FieldError as error:
        errors.add(f"{path}{name}", str(error))
        return None


def _session_parser(zone: ZoneInfo, *, allow_ids: bool):
    def parse(item: Mapping[str, Any], path: str, errors: _Errors) -> SessionInput | None:
        _unknown(item, SESSION_FIELDS if allow_ids else SESSION_FIELDS[1:], path, errors)
        before = len(errors)
        for name in ("starts_at", "ends_at"):
            if name not in item:
                errors.add(f"{path}{name}", "Enter a date and time.")
        starts_at = _get(item, "starts_at", parse_datetime, path, errors, zone) if "starts_at" in item else None
        ends_at = _get(item, "ends_at", parse_datetime, path, errors, zone) if "ends_at" in item else None
        title = _get(item, "title", _text(200), path, errors) if "title" in item else ""
        session_id = _get(item, "id", _integer(1), path, errors) if "id" in item else None
        if starts_at and ends_at and ends_at <= starts_at:
            errors.add(f"{path}ends_at", "Must be after the start.")
        if len(errors) > before:
            return None
        return SessionInput(starts_at=starts_at, ends_at=ends_at, title=title, id=session_id)

    return parse


def _ticket_type_parser(zone: ZoneInfo, *, allow_ids: bool):
    def parse(item: Mapping[str, Any], path: str, errors: _Errors) -> TicketTypeInput | None:
        _unknown(item, TICKET_TYPE_FIELDS if allow_ids else TICKET_TYPE_FIELDS[1:], path, errors)
        before = len(errors)
        if "name" not in item:
            errors.add(f"{path}name", "Enter a name for the rate.")
        if "price_pence" not in item:
            errors.add(f"{path}price_pence", "Enter a price in pence (0 for free).")
        values: dict[str, Any] = {}
        parsers: dict[str, Callable[..., Any]] = {
            "name": _text(100, required=True, what="a name for the rate"),
            "description": _text(300),
            "price_pence": _integer(0),
            "currency": _currency,
            "vat_rate_bp": _integer(0, MAX_VAT_RATE_BP),
            "cap": _integer(0, nullable=True),
            "id": _integer(1),
        }
        for name, parse_value in parsers.items():
            if name in item:
                values[name] = _get(item, name, parse_value, path, errors)
        for name in ("sale_starts_at", "sale_ends_at"):
            if name in item:
                values[name] = _get(item, name, _datetime(nullable=True), path, errors, zone)
        starts, ends = values.get("sale_starts_at"), values.get("sale_ends_at")
        if starts and ends and ends <= starts:
            errors.add(f"{path}sale_ends_at", "Must be after the sale starts.")
        if len(errors) > before:
            return None
        return TicketTypeInput(**values)

    return parse
