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

from bookings.catalogue.inputs.fields import (
    CREATE_STATUSES,
    DATETIME_FIELDS,
    EVENT_FIELDS,
    KINDS,
    LIST_FIELDS,
    READ_ONLY_FIELDS,
    REQUIRED_ON_CREATE,
    SCALAR_FIELDS,
    SESSION_FIELDS,
    STATUSES,
    TICKET_TYPE_FIELDS,
)
from bookings.catalogue.inputs.parsing import check_windows, parse_event_changes, parse_event_input
from bookings.catalogue.inputs.shapes import EventInput, SessionInput, TicketTypeInput
from bookings.catalogue.inputs.values import (
    CURRENCY_PATTERN,
    DEFAULT_CURRENCY,
    DEFAULT_VAT_RATE_BP,
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_INTEGER,
    MAX_LIST_ITEMS,
    MAX_PER_BOOKING_LIMIT,
    MAX_VAT_RATE_BP,
    SLUG_PATTERN,
    FieldError,
    is_known_timezone,
    parse_datetime,
)

__all__ = [
    "CREATE_STATUSES",
    "CURRENCY_PATTERN",
    "DATETIME_FIELDS",
    "DEFAULT_CURRENCY",
    "DEFAULT_VAT_RATE_BP",
    "EARLIEST_YEAR",
    "EVENT_FIELDS",
    "KINDS",
    "LATEST_YEAR",
    "LIST_FIELDS",
    "MAX_INTEGER",
    "MAX_LIST_ITEMS",
    "MAX_PER_BOOKING_LIMIT",
    "MAX_VAT_RATE_BP",
    "READ_ONLY_FIELDS",
    "REQUIRED_ON_CREATE",
    "SCALAR_FIELDS",
    "SESSION_FIELDS",
    "SLUG_PATTERN",
    "STATUSES",
    "TICKET_TYPE_FIELDS",
    "EventInput",
    "FieldError",
    "SessionInput",
    "TicketTypeInput",
    "check_windows",
    "is_known_timezone",
    "parse_datetime",
    "parse_event_changes",
    "parse_event_input",
]
