"""Pages owned by one area showing what areas above it provide (waiting list position, calendar feed)."""

from __future__ import annotations

from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import PaymentMethod
from tests.conftest import login_as
from tests.support.factories import make_event, make_user


def fill(event, clock, places=1):
    services.book_places(
        event_id=event.id,
        booker=make_user(),
        ticket_type_id=None,
        people=[AttendeeInput(name=f"P{i}", email=f"p{i}@x.example") for i in range(places)],
        method=PaymentMethod.FREE,
        now=clock.now,
    )


def test_full_event_page_shows_my_place_in_line(client, clock):
    event = make_event(capacity=1)
    fill(event, clock)
    first, second = make_user(), make_user()
    for person in (first, second):
        login_as(client, person)
        assert client.post(
            f"/events/{event.slug}/waitlist", data={"places": "1", "has_email_consent": "yes"}
        ).status_code in (
            302,
            303,
        )
    html = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert "You are 2nd in line" in html
    account = client.get("/account").get_data(as_text=True)
    assert "2nd in line" in account and event.title in account


def test_account_page_has_the_calendar_feed_section(client, clock):
    login_as(client, make_user())
    html = client.get("/account").get_data(as_text=True)
    assert 'id="calendar-feed-heading"' in html


def test_sold_out_start_page_offers_the_waiting_list(client, clock):
    event = make_event(capacity=1)
    login_as(client, make_user())
    response = client.post(f"/events/{event.slug}/book", data={"places": "2"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"/events/{event.slug}/waitlist?places=2" in html
