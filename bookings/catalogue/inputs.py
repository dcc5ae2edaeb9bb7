"""What an event is made of, as plain values, and how raw input becomes it.

`parse_event_input` turns a mapping of JSON-like values (from the API, a form
or a script) into an `EventInput`; `parse_event_changes` does the same for a
partial update. Both check every field, collect every problem and raise one
`ValidationError(errors={field: message})`, so a client sees all its
mistakes at once and nothing is written. Field paths of list items read
`sessions[0].starts_at`.

Datetimes are ISO 8601. One with an offset (`2027-03-27T09:30:00+00:00`,
`...Z`) means that instant; a naive one (`2027-03-27T09:30`) is wall-clock
time in the event's timezone. All are stored in UTC.

No database and no Flask here: rules that need the database (slug taken,
places already taken, a rate in use) belong to `bookings.catalogue.services`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from bookings.catalogue.models import DEFAULT_TIMEZONE, EventKind, EventStatus
from bookings.core.errors import ValidationError

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
DEFAULT_CURRENCY = "GBP"
DEFAULT_VAT_RATE_BP = 2000
MAX_VAT_RATE_BP = 10_000
MAX_PER_BOOKING_LIMIT = 1000
MAX_LIST_ITEMS = 100  # sessions or rates per event
MAX_INTEGER = 2**31 - 1  # what every database column holds
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


@dataclass(frozen=True)
class SessionInput:
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    title: str = ""
    id: int | None = None  # an existing session to keep (updates only)


@dataclass(frozen=True)
class TicketTypeInput:
    name: str
    price_pence: int
    currency: str = DEFAULT_CURRENCY
    vat_rate_bp: int = DEFAULT_VAT_RATE_BP
    cap: int | None = None
    sale_starts_at: datetime | None = None
    sale_ends_at: datetime | None = None
    description: str = ""
    id: int | None = None  # an existing rate to keep (updates only)


@dataclass(frozen=True)
class EventInput:
    title: str
    capacity: int
    sessions: tuple[SessionInput, ...]
    ticket_types: tuple[TicketTypeInput, ...]
    kind: str = EventKind.COURSE.value
    status: str = EventStatus.DRAFT.value
    timezone: str = DEFAULT_TIMEZONE
    slug: str | None = None  # None: made from the title
    summary: str = ""
    description: str = ""
    is_online: bool = False
    venue_name: str = ""
    venue_address: str = ""
    online_url: str = ""
    booking_opens_at: datetime | None = None
    booking_closes_at: datetime | None = None
    max_places_per_booking: int = 10
    cancellation_cutoff_hours: int = 48
    substitution_cutoff_hours: int = 2
    hold_minutes: int | None = None  # None: the site default
    offer_expiry_hours: int | None = None  # None: the site default
    allow_invoice: bool = True
    prices_include_vat: bool = True
    is_waitlist_open: bool = True


class FieldError(Exception):
    """One field's problem; the parser collects these into a ValidationError."""


# --- single values -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_known_timezone(name: str) -> bool:
    return name in _known_zones()


def _text(max_length: int, *, required: bool = False, what: str = "a value") -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise FieldError("Must be text.")
        value = value.strip()
        if required and not value:
            raise FieldError(f"Enter {what}.")
        if len(value) > max_length:
            raise FieldError(f"Must be {max_length} characters or fewer.")
        return value

    return parse


def _integer(minimum: int, maximum: int = MAX_INTEGER, *, nullable: bool = False) -> Callable[[Any], int | None]:
    def parse(value: Any) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("Must be a whole number.")
        if value < minimum:
            raise FieldError(f"Must be {minimum} or more.")
        if value > maximum:
            raise FieldError(f"Must be {maximum} or less.")
        return value

    return parse


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError("Must be true or false.")
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise FieldError(f"Must be one of: {', '.join(choices)}.")
        return value

    return parse


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not is_known_timezone(value):
        raise FieldError("Must be an IANA timezone name, such as Europe/London.")
    return value


def _slug(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 120 or not SLUG_PATTERN.match(value):
        raise FieldError("Must be lower-case letters, digits and single hyphens, 120 characters or fewer.")
    return value


def _url(value: Any) -> str:
    value = _text(500)(value)
    if value and not re.match(r"^https?://[^\s/]+", value):
        raise FieldError("Must be a web address starting with https:// or http://.")
    return value


def _currency(value: Any) -> str:
    if not isinstance(value, str) or not CURRENCY_PATTERN.match(value.upper()):
        raise FieldError("Must be a three-letter currency code, such as GBP.")
    return value.upper()


def parse_datetime(value: Any, zone: ZoneInfo) -> datetime:
    """An aware UTC datetime from an ISO 8601 string or a datetime; naive values are wall-clock time in `zone`."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) < 16 or text[10] not in "Tt ":
            raise FieldError("Must be a date and time in ISO 8601, such as 2027-03-27T09:30:00+00:00.")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise FieldError("Must be a date and time in ISO 8601, such as 2027-03-27T09:30:00+00:00.")
    if not isinstance(value, datetime):
        raise FieldError("Must be a date and time in ISO 8601, such as 2027-03-27T09:30:00+00:00.")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise FieldError(f"Must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _datetime(*, nullable: bool) -> Callable[[Any, ZoneInfo], datetime | None]:
    def parse(value: Any, zone: ZoneInfo) -> datetime | None:
        if value is None and nullable:
            return None
        return parse_datetime(value, zone)

    return parse


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
    "description": _text(20_000),
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
    {"id", "url", "places_left", "starts_at", "ends_at", "sequence", "created_at", "updated_at", "is_cancelled"}
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
