"""The event page at `/events/<slug>`: content, places left, booking state, drafts and cancellations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import url_for

from tests.conftest import login_as
from tests.integration.catalogue.bookings_helper import add_booking
from tests.support.factories import at, make_admin, make_event, make_user


def page_text(response) -> str:
    """The page's visible words with tags and runs of white space collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_event_page_shows_title_summary_description_and_kind(client, clock):
    event = make_event(
        title="Safeguarding adults",
        kind="workshop",
        summary="Recognise and report abuse and neglect.",
        description="First paragraph.\n\nSecond paragraph.",
    )

    response = client.get(f"/events/{event.slug}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1" in html and "Safeguarding adults" in html
    assert "Workshop" in html
    assert "Recognise and report abuse and neglect." in html
    assert '<p class="govuk-body">First paragraph.</p>' in html
    assert '<p class="govuk-body">Second paragraph.</p>' in html


@pytest.mark.parametrize("slug", ["no-such-event", "%00", "x%27%20OR%20%271%27%3D%271", "%25"])
def test_unknown_event_is_not_found(client, clock, slug):
    make_event()

    assert client.get(f"/events/{slug}").status_code == 404


def test_every_session_is_listed_with_day_and_times_in_uk_time(client, clock):
    # 9:30 UTC in June is 10:30 in London (BST).
    event = make_event(starts_at=at(2027, 6, 14, 9, 30), days=3)

    text = page_text(client.get(f"/events/{event.slug}"))

    assert "Day 1: Monday 14 June 2027, 10:30am to 5:30pm" in text
    assert "Day 2: Tuesday 15 June 2027, 10:30am to 5:30pm" in text
    assert "Day 3: Wednesday 16 June 2027, 10:30am to 5:30pm" in text
    assert "Europe/London" not in text


def test_sessions_show_their_timezone_when_not_london(client, clock):
    event = make_event(starts_at=at(2027, 6, 14, 14, 0), timezone="America/New_York")

    text = page_text(client.get(f"/events/{event.slug}"))

    assert "Monday 14 June 2027, 10am to 5pm (America/New_York)" in text


def test_venue_and_address_are_shown_for_an_in_person_event(client, clock):
    event = make_event(venue_name="Leeds Civic Hall", venue_address="Calverley Street, Leeds, LS1 1UR")

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    assert "Leeds Civic Hall" in html
    assert "<br>Calverley Street<br>Leeds<br>LS1 1UR" in html


def test_online_event_says_so_and_does_not_reveal_the_joining_link(client, clock):
    event = make_event(is_online=True, online_url="https://meet.example/secret-room")

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    assert "Online event" in html
    assert "secret-room" not in html


def test_rates_show_prices_excluding_vat_with_the_vat_rate_and_total(client, clock):
    event = make_event(
        prices_include_vat=False,
        ticket_types=[
            {"name": "Public sector", "price_pence": 9500, "vat_rate_bp": 2000},
            {"name": "Charity", "price_pence": 5000, "vat_rate_bp": 0},
        ],
    )

    text = page_text(client.get(f"/events/{event.slug}"))

    assert "Prices are shown excluding VAT" in text
    assert "Public sector £95.00 plus VAT VAT at 20%: £114.00 including VAT" in text
    assert "Charity £50.00 plus VAT No VAT: £50.00 including VAT" in text


def test_rates_show_prices_including_vat(client, clock):
    event = make_event(
        prices_include_vat=True,
        ticket_types=[
            {"name": "Standard", "price_pence": 12000, "vat_rate_bp": 2000},
            {"name": "Free", "price_pence": 0},
        ],
    )

    text = page_text(client.get(f"/events/{event.slug}"))

    assert "Prices are shown including VAT" in text
    assert "Standard £120.00 including VAT VAT at 20%" in text
    assert "Free Free" in text


def test_rate_outside_its_sale_window_says_when_it_was_or_will_be_on_sale(client, clock):
    event = make_event(
        ticket_types=[
            {"name": "Early bird", "price_pence": 5000, "sale_ends_at": clock.now - timedelta(days=1)},
            {"name": "Late", "price_pence": 9000, "sale_starts_at": at(2026, 12, 1, 9)},
            {"name": "Standard", "price_pence": 7000, "sale_ends_at": at(2026, 12, 20, 17)},
        ]
    )

    text = page_text(client.get(f"/events/{event.slug}"))

    assert "Early bird £50.00 including VAT VAT at 20% No longer on sale" in text
    assert "On sale from 9am on Tuesday 1 December 2026" in text
    assert "On sale until 5pm on Sunday 20 December 2026" in text


def test_places_left_counts_confirmed_places(client, clock):
    event = make_event(capacity=10)
    add_booking(event, 7)

    assert "3 places left" in page_text(client.get(f"/events/{event.slug}"))


def test_places_left_counts_a_live_hold(client, clock):
    event = make_event(capacity=10)
    add_booking(event, 4, status="held", hold_expires_at=clock.now + timedelta(minutes=10))

    assert "6 places left" in page_text(client.get(f"/events/{event.slug}"))


def test_places_left_ignores_an_expired_hold_before_any_sweep(client, clock):
    event = make_event(capacity=10)
    add_booking(event, 4, status="held", hold_expires_at=clock.now + timedelta(minutes=10))

    clock.advance(minutes=11)

    assert "10 places left" in page_text(client.get(f"/events/{event.slug}"))


def test_book_form_offers_rates_on_sale_and_places_up_to_the_booking_limit(client, clock, booking_endpoints):
    event = make_event(
        capacity=20,
        max_places_per_booking=6,
        ticket_types=[
            {"name": "Public sector", "price_pence": 9500},
            {"name": "Private sector", "price_pence": 19500},
            {"name": "Early bird", "price_pence": 7500, "sale_ends_at": clock.now - timedelta(days=1)},
        ],
    )
    public, private, early = event.ticket_types

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    with booking_endpoints.test_request_context():
        action = url_for("booking.start", slug=event.slug)
    assert f'action="{action}"' in html
    assert f'name="ticket_type_id" type="radio" value="{public.id}"' in html
    assert f'name="ticket_type_id" type="radio" value="{private.id}"' in html
    assert f'value="{early.id}"' not in html
    assert 'name="places"' in html
    assert "You can book up to 6 places." in html


def test_book_form_with_one_rate_sends_it_as_a_hidden_field(client, clock, booking_endpoints):
    event = make_event(ticket_types=[{"name": "Standard", "price_pence": 0}])

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    assert f'<input type="hidden" name="ticket_type_id" value="{event.ticket_types[0].id}">' in html
    assert 'type="radio"' not in html


def test_book_form_limits_places_to_those_left(client, clock, booking_endpoints):
    event = make_event(capacity=10, max_places_per_booking=8)
    add_booking(event, 7)

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    assert "You can book up to 3 places." in html


def test_fully_booked_event_offers_the_waiting_list(client, clock, booking_endpoints):
    event = make_event(capacity=2)
    add_booking(event, 2)

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    assert "Fully booked" in html
    assert "Join the waiting list" in html
    assert 'name="places"' not in html


def test_fully_booked_event_with_waiting_list_closed_just_says_so(client, clock, booking_endpoints):
    event = make_event(capacity=2, is_waitlist_open=False)
    add_booking(event, 2)

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    assert "This event is fully booked." in html
    assert "Join the waiting list" not in html


def test_booking_not_yet_open_says_when_it_opens(client, clock, booking_endpoints):
    event = make_event(booking_opens_at=at(2026, 12, 7, 9))

    text = page_text(client.get(f"/events/{event.slug}"))

    assert "Booking opens at 9am on Monday 7 December 2026." in text
    assert 'name="places"' not in text


def test_booking_closed_after_its_closing_time(client, clock, booking_endpoints):
    event = make_event(booking_closes_at=clock.now - timedelta(hours=1))

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    assert "Booking has closed." in html
    assert 'name="places"' not in html


def test_cancelled_event_shows_a_banner_and_no_book_form(client, clock, booking_endpoints):
    event = make_event(status="cancelled")

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    assert "This event has been cancelled." in html
    assert "govuk-notification-banner" in html
    assert 'name="places"' not in html
    assert "Join the waiting list" not in html


@pytest.mark.parametrize("who", ["anonymous", "attendee"])
def test_draft_event_is_not_found_except_for_admins(client, clock, who):
    event = make_event(status="draft")
    if who == "attendee":
        login_as(client, make_user())

    assert client.get(f"/events/{event.slug}").status_code == 404


def test_admin_sees_a_draft_with_a_draft_tag_and_no_book_form(client, clock, booking_endpoints):
    event = make_event(status="draft", title="Unpublished course")
    login_as(client, make_admin())

    response = client.get(f"/events/{event.slug}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Unpublished course" in html
    assert '<strong class="govuk-tag govuk-tag--grey">Draft</strong>' in html
    assert 'name="places"' not in html
