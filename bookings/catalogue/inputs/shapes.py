"""The plain values an event is made of: EventInput with its SessionInputs and TicketTypeInputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookings.catalogue.inputs.values import DEFAULT_CURRENCY, DEFAULT_VAT_RATE_BP
from bookings.catalogue.models import DEFAULT_TIMEZONE, EventKind, EventStatus


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
