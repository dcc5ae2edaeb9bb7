"""Read side of the catalogue: what the public listing and the event page show.

Each function issues a fixed number of SQL queries whatever the number of
events, sessions or rates: relationships are eager-loaded with `selectinload`
and the places left of every listed event come from one call to the capacity
module (which counts expired holds as free). The results are plain read
models, so templates display values and never query or count.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.catalogue.models import DEFAULT_TIMEZONE, Event, EventKind, EventStatus, TicketType
from bookings.core.errors import NotFound
from bookings.core.money import format_money, vat_of_net
from bookings.extensions import db

KINDS = tuple(kind.value for kind in EventKind)
FORMAT_ONLINE = "online"
FORMAT_IN_PERSON = "in-person"
FORMATS = (FORMAT_ONLINE, FORMAT_IN_PERSON)
# Months are cut at midnight in the site's own timezone, where organisers and most attendees are.
SITE_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
BASIS_POINTS_PER_PERCENT = 100


class PageOutOfRange(NotFound):
    code = "page_not_found"


@dataclass(frozen=True)
class CatalogueFilters:
    """What the visitor asked for; every field optional. `month` is the first day of a month."""

    kind: str | None = None
    month: date | None = None
    format: str | None = None
    text: str = ""


@dataclass(frozen=True)
class EventCard:
    """One event in the listing."""

    event: Event
    places_left: int
    price_label: str


@dataclass(frozen=True)
class CataloguePage:
    cards: list[EventCard]
    page: int
    pages: int
    total: int

    @property
    def window(self) -> list[int | None]:
        """Page numbers to link, GOV.UK style: first, last, current and its neighbours; None is a gap."""
        wanted = {1, self.pages, self.page - 1, self.page, self.page + 1}
        numbers = sorted(n for n in wanted if 1 <= n <= self.pages)
        window: list[int | None] = []
        for number in numbers:
            if window and number - (window[-1] or 0) > 1:
                window.append(None)
            window.append(number)
        return window


class BookingState(enum.StrEnum):
    """Whether the event page offers a booking form, and if not, why not."""

    OPEN = "open"
    DRAFT = "draft"
    CANCELLED = "cancelled"
    ENDED = "ended"
    CLOSED = "closed"
    NOT_YET_OPEN = "not_yet_open"
    FULL = "full"
    NO_RATES_ON_SALE = "no_rates_on_sale"


class SaleState(enum.StrEnum):
    ON_SALE = "on_sale"
    NOT_YET = "not_yet"
    ENDED = "ended"


@dataclass(frozen=True)
class RateView:
    """One rate on the event page, with its price put the way the event states prices."""

    ticket_type: TicketType
    price_label: str  # "£95.00 plus VAT", "£234.00 including VAT", "Free"
    vat_label: str  # "VAT at 20%", "No VAT"
    gross_label: str  # the price with VAT, shown when prices are stated without it; else ""
    sale_state: SaleState
    places_left: int

    @property
    def is_bookable(self) -> bool:
        return self.sale_state is SaleState.ON_SALE and self.places_left > 0


@dataclass(frozen=True)
class EventPage:
    event: Event
    places_left: int
    rates: list[RateView]
    state: BookingState
    show_timezone: bool

    @property
    def bookable_rates(self) -> list[RateView]:
        return [rate for rate in self.rates if rate.is_bookable]

    @property
    def max_places(self) -> int:
        """The most places one booking may ask for now (the booking service checks again)."""
        return max(0, min(self.event.max_places_per_booking, self.places_left))

    @property
    def is_draft(self) -> bool:
        return self.state is BookingState.DRAFT


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The UTC instants at which `month` starts and the next one starts, cut in the site's timezone."""
    start = datetime.combine(month.replace(day=1), time(0), tzinfo=SITE_ZONE)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    end = datetime.combine(following, time(0), tzinfo=SITE_ZONE)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def upcoming_events_query(filters: CatalogueFilters, now: datetime) -> Select:
    """Published events whose last session has not ended, matching `filters`, soonest first."""
    query = select(Event).where(Event.status == EventStatus.PUBLISHED.value, Event.ends_at > now)
    if filters.kind:
        query = query.where(Event.kind == filters.kind)
    if filters.format == FORMAT_ONLINE:
        query = query.where(Event.is_online.is_(True))
    elif filters.format == FORMAT_IN_PERSON:
        query = query.where(Event.is_online.is_(False))
    if filters.month is not None:
        # An event belongs to every month it runs in, so a course spanning March and April is in both.
        start, end = month_bounds(filters.month)
        query = query.where(Event.starts_at < end, Event.ends_at > start)
    text = filters.text.strip()
    if text:
        # autoescape turns % and _ into literals; the value is a bound parameter, never SQL.
        query = query.where(
            or_(
                Event.title.icontains(text, autoescape=True),
                Event.summary.icontains(text, autoescape=True),
                Event.venue_name.icontains(text, autoescape=True),
                Event.venue_address.icontains(text, autoescape=True),
            )
        )
    return query.order_by(Event.starts_at, Event.id)


def count_events(query: Select) -> int:
    """How many events `query` finds, counting ids only (from ix_event_status_starts_at_ends_at alone)."""
    ids = query.with_only_columns(Event.id).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(ids)) or 0


def list_upcoming_events(filters: CatalogueFilters, now: datetime, *, page: int, per_page: int) -> CataloguePage:
    """One page of the listing, with places left and a price for each event.

    Raises `PageOutOfRange` for a page before the first or after the last
    (an empty listing has one, empty, page).
    """
    query = upcoming_events_query(filters, now)
    total = count_events(query)
    pages = max(1, math.ceil(total / per_page))
    if page < 1 or page > pages:
        raise PageOutOfRange(f"There is no page {page} of events.")
    events = list(
        db.session.scalars(
            query.options(selectinload(Event.sessions), selectinload(Event.ticket_types))
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    places = capacity.availability_for(events, now)
    cards = [
        EventCard(event=event, places_left=places[event.id].places_left, price_label=price_range_label(event, now))
        for event in events
    ]
    return CataloguePage(cards=cards, page=page, pages=pages, total=total)


def price_range_label(event: Event, now: datetime) -> str:
    """'Free', '£95.00', 'From £95.00' or 'Free to £195.00', over the rates on sale now (else all)."""
    rates = [rate for rate in event.ticket_types if rate.is_on_sale(now)] or list(event.ticket_types)
    if not rates:
        return ""
    prices = [rate.price_pence for rate in rates]
    low, high = min(prices), max(prices)
    currency = rates[0].currency
    if high == 0:
        return "Free"
    if low == high:
        label = format_money(low, currency)
    elif low == 0:
        label = f"Free to {format_money(high, currency)}"
    else:
        label = f"From {format_money(low, currency)}"
    return label if event.prices_include_vat else f"{label} plus VAT"


def event_page(slug: str, now: datetime, *, include_drafts: bool = False) -> EventPage | None:
    """Everything the event page shows, or None when there is no such event for this viewer."""
    query = (
        select(Event).where(Event.slug == slug).options(selectinload(Event.sessions), selectinload(Event.ticket_types))
    )
    if not include_drafts:
        query = query.where(Event.status != EventStatus.DRAFT.value)
    event = db.session.scalars(query).one_or_none()
    if event is None:
        return None
    places = capacity.availability(event, now)
    rates = [_rate_view(event, rate, places, now) for rate in event.ticket_types]
    return EventPage(
        event=event,
        places_left=places.places_left,
        rates=rates,
        state=_booking_state(event, places.places_left, rates, now),
        show_timezone=event.timezone != DEFAULT_TIMEZONE,
    )


def _rate_view(event: Event, rate: TicketType, places: capacity.Availability, now: datetime) -> RateView:
    if rate.sale_starts_at is not None and now < rate.sale_starts_at:
        sale_state = SaleState.NOT_YET
    elif rate.is_on_sale(now):
        sale_state = SaleState.ON_SALE
    else:
        sale_state = SaleState.ENDED
    vat_label = vat_rate_label(rate.vat_rate_bp)
    if rate.price_pence == 0:
        price_label, gross_label = "Free", ""
    elif event.prices_include_vat:
        price_label, gross_label = f"{format_money(rate.price_pence, rate.currency)} including VAT", ""
    else:
        vat = vat_of_net(rate.price_pence, rate.vat_rate_bp)
        price_label = f"{format_money(rate.price_pence, rate.currency)} plus VAT"
        gross_label = f"{format_money(rate.price_pence + vat, rate.currency)} including VAT"
    return RateView(
        ticket_type=rate,
        price_label=price_label,
        vat_label=vat_label,
        gross_label=gross_label,
        sale_state=sale_state,
        places_left=places.places_left_for(rate.id),
    )


def vat_rate_label(vat_rate_bp: int) -> str:
    if vat_rate_bp == 0:
        return "No VAT"
    percent = vat_rate_bp / BASIS_POINTS_PER_PERCENT
    return f"VAT at {percent:g}%"


def _booking_state(event: Event, places_left: int, rates: list[RateView], now: datetime) -> BookingState:
    if event.status == EventStatus.DRAFT.value:
        return BookingState.DRAFT
    if event.is_cancelled:
        return BookingState.CANCELLED
    if event.ends_at is not None and event.ends_at <= now:
        return BookingState.ENDED
    started = event.starts_at is not None and event.starts_at <= now
    if started or (event.booking_closes_at is not None and now >= event.booking_closes_at):
        return BookingState.CLOSED
    if event.booking_opens_at is not None and now < event.booking_opens_at:
        return BookingState.NOT_YET_OPEN
    if places_left <= 0:
        return BookingState.FULL
    if not any(rate.is_bookable for rate in rates):
        return BookingState.NO_RATES_ON_SALE
    return BookingState.OPEN
