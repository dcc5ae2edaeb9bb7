"""The catalogue's read side against a real database: listing pages, places left, prices, booking state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bookings.catalogue.models import Event, TicketType
from bookings.catalogue.queries import (
    BookingState,
    CatalogueFilters,
    CataloguePage,
    PageOutOfRange,
    SaleState,
    event_page,
    list_upcoming_events,
    month_bounds,
    price_range_label,
)
from tests.integration.catalogue.bookings_helper import add_booking
from tests.support.factories import at, make_event


def test_month_is_cut_at_midnight_uk_time():
    # April 2027 begins at midnight BST, 23:00 UTC on 31 March; May begins at 23:00 UTC on 30 April.
    assert month_bounds(date(2027, 4, 1)) == (
        datetime(2027, 3, 31, 23, tzinfo=UTC),
        datetime(2027, 4, 30, 23, tzinfo=UTC),
    )
    assert month_bounds(date(2026, 12, 1)) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def test_month_filter_uses_uk_time_for_an_event_just_after_midnight(app, clock):
    # 23:30 UTC on 31 March 2027 is 00:30 on 1 April in London.
    make_event(title="Night shift briefing", starts_at=at(2027, 3, 31, 23, 30))

    april = list_upcoming_events(CatalogueFilters(month=date(2027, 4, 1)), clock.now, page=1, per_page=10)

    assert [card.event.title for card in april.cards] == ["Night shift briefing"]


def test_listing_counts_places_of_every_listed_event_with_live_holds_only(app, clock):
    first = make_event(title="First", capacity=10, starts_at=at(2027, 1, 5, 9))
    second = make_event(title="Second", capacity=6, starts_at=at(2027, 1, 6, 9))
    add_booking(first, 3)
    add_booking(first, 2, status="held", hold_expires_at=clock.now + timedelta(minutes=5))
    add_booking(second, 4, status="held", hold_expires_at=clock.now - timedelta(minutes=1))
    add_booking(second, 1, status="cancelled")

    listing = list_upcoming_events(CatalogueFilters(), clock.now, page=1, per_page=10)

    assert {card.event.title: card.places_left for card in listing.cards} == {"First": 5, "Second": 6}


def test_hold_stops_counting_the_moment_it_expires(app, clock):
    event = make_event(capacity=5)
    expires = clock.now + timedelta(minutes=30)
    add_booking(event, 5, status="held", hold_expires_at=expires)

    assert event_page(event.slug, expires - timedelta(seconds=1)).places_left == 0
    assert event_page(event.slug, expires).places_left == 5


def test_listing_page_beyond_the_last_is_refused(app, clock):
    make_event()

    with pytest.raises(PageOutOfRange):
        list_upcoming_events(CatalogueFilters(), clock.now, page=2, per_page=10)


def test_empty_listing_has_one_empty_page(app, clock):
    listing = list_upcoming_events(CatalogueFilters(), clock.now, page=1, per_page=10)

    assert (listing.total, listing.pages, listing.cards) == (0, 1, [])


@pytest.mark.parametrize(
    ("page", "pages", "window"),
    [
        (1, 1, [1]),
        (1, 3, [1, 2, 3]),
        (1, 9, [1, 2, None, 9]),
        (5, 9, [1, None, 4, 5, 6, None, 9]),
        (9, 9, [1, None, 8, 9]),
        (3, 9, [1, 2, 3, 4, None, 9]),
    ],
)
def test_pagination_window_shows_ends_neighbours_and_gaps(page, pages, window):
    assert CataloguePage(cards=[], page=page, pages=pages, total=pages * 10).window == window


def rates_event(*prices: int, include_vat: bool = True) -> Event:
    event = Event(prices_include_vat=include_vat)
    event.ticket_types = [TicketType(name=f"Rate {p}", price_pence=p, currency="GBP") for p in prices]
    return event


@pytest.mark.parametrize(
    ("prices", "include_vat", "label"),
    [
        ((0,), True, "Free"),
        ((0, 0), False, "Free"),
        ((9500,), True, "£95.00"),
        ((9500, 19500), True, "From £95.00"),
        ((19500, 9500), False, "From £95.00 plus VAT"),
        ((0, 15000), False, "Free to £150.00 plus VAT"),
    ],
)
def test_price_range_label(prices, include_vat, label):
    now = datetime(2026, 11, 29, tzinfo=UTC)

    assert price_range_label(rates_event(*prices, include_vat=include_vat), now) == label


def test_price_range_ignores_rates_no_longer_on_sale(app, clock):
    event = make_event(
        ticket_types=[
            {"name": "Early bird", "price_pence": 5000, "sale_ends_at": clock.now - timedelta(days=1)},
            {"name": "Standard", "price_pence": 9000},
        ]
    )

    assert price_range_label(event, clock.now) == "£90.00"


def test_rate_with_its_own_cap_has_fewer_places_left_than_the_event(app, clock):
    event = make_event(
        capacity=20,
        ticket_types=[{"name": "Standard", "price_pence": 100}, {"name": "Early", "price_pence": 50, "cap": 3}],
    )
    add_booking(event, 2, ticket_type_id=event.ticket_types[1].id)

    page = event_page(event.slug, clock.now)

    assert [rate.places_left for rate in page.rates] == [18, 1]
    assert page.places_left == 18


def test_rate_whose_cap_is_reached_is_not_bookable(app, clock):
    event = make_event(
        capacity=20,
        ticket_types=[{"name": "Standard", "price_pence": 100}, {"name": "Early", "price_pence": 50, "cap": 2}],
    )
    add_booking(event, 2, ticket_type_id=event.ticket_types[1].id)

    page = event_page(event.slug, clock.now)

    assert [rate.ticket_type.name for rate in page.bookable_rates] == ["Standard"]


@pytest.mark.parametrize(
    ("overrides", "state"),
    [
        ({}, BookingState.OPEN),
        ({"status": "cancelled"}, BookingState.CANCELLED),
        ({"status": "draft"}, BookingState.DRAFT),
        ({"booking_opens_at": at(2026, 12, 1, 9)}, BookingState.NOT_YET_OPEN),
        ({"booking_closes_at": at(2026, 11, 29, 9)}, BookingState.CLOSED),
        ({"starts_at": at(2026, 11, 29, 9), "days": 2}, BookingState.CLOSED),
        ({"starts_at": at(2026, 11, 20, 9)}, BookingState.ENDED),
        ({"capacity": 0}, BookingState.FULL),
        (
            {"ticket_types": [{"name": "Late", "price_pence": 0, "sale_starts_at": at(2026, 12, 1)}]},
            BookingState.NO_RATES_ON_SALE,
        ),
    ],
)
def test_booking_state(app, clock, overrides, state):
    event = make_event(**overrides)

    assert event_page(event.slug, clock.now, include_drafts=True).state is state


def test_sale_state_of_rates(app, clock):
    event = make_event(
        ticket_types=[
            {"name": "Ended", "price_pence": 1, "sale_ends_at": clock.now},
            {"name": "Now", "price_pence": 1, "sale_starts_at": clock.now},
            {"name": "Later", "price_pence": 1, "sale_starts_at": clock.now + timedelta(seconds=1)},
        ]
    )

    states = [rate.sale_state for rate in event_page(event.slug, clock.now).rates]

    assert states == [SaleState.ENDED, SaleState.ON_SALE, SaleState.NOT_YET]


def test_draft_is_found_only_when_drafts_are_included(app, clock):
    event = make_event(status="draft")

    assert event_page(event.slug, clock.now) is None
    assert event_page(event.slug, clock.now, include_drafts=True) is not None


def test_prices_excluding_vat_show_the_total_with_vat(app, clock):
    event = make_event(
        prices_include_vat=False, ticket_types=[{"name": "Reduced", "price_pence": 1000, "vat_rate_bp": 500}]
    )

    rate = event_page(event.slug, clock.now).rates[0]

    assert (rate.price_label, rate.vat_label, rate.gross_label) == (
        "£10.00 plus VAT",
        "VAT at 5%",
        "£10.50 including VAT",
    )
