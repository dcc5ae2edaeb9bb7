"""The shape of a demo event: its rates, custom questions and the bookings that fill it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from bookings.booking.models import PaymentStatus
from bookings.catalogue.models import (
    EventStatus,
    QuestionKind,
)

LONDON = "Europe/London"
UTC = ZoneInfo("UTC")


VAT_STANDARD_BP = 2000


@dataclass
class Rate:
    name: str
    price_pence: int
    description: str = ""
    vat_rate_bp: int = VAT_STANDARD_BP
    cap: int | None = None
    sale_days: tuple[int, int] | None = None  # sale window in days from now: (starts, ends)


@dataclass
class Ask:
    label: str
    kind: str = QuestionKind.TEXT.value
    choices: list[str] = field(default_factory=list)
    is_required: bool = False


@dataclass
class Fill:
    """A confirmed booking made for the demo: a booker's email, places, payment status."""

    booker: str
    places: int
    payment_status: str = PaymentStatus.INVOICED.value
    purchase_order: str = ""


@dataclass
class DemoEvent:
    slug: str
    title: str
    kind: str
    summary: str
    description: str
    days_ahead: int
    sessions: list[tuple[int, time, time, str]]  # (day offset, local start, local end, title)
    capacity: int
    rates: list[Rate]
    venue_name: str = ""
    venue_address: str = ""
    online_url: str = ""
    status: str = EventStatus.PUBLISHED.value
    prices_include_vat: bool = True
    max_places_per_booking: int = 10
    booking_opens_days: int | None = None
    questions: list[Ask] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)

    @property
    def is_online(self) -> bool:
        return bool(self.online_url)


def _one_day(start: time = time(9, 30), end: time = time(16, 30)) -> list[tuple[int, time, time, str]]:
    return [(0, start, end, "")]
