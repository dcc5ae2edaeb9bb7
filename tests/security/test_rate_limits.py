"""Hoarding: caps on live holds and rate limits on holding and booking, with plain answers."""

from __future__ import annotations

from sqlalchemy import func, select

from bookings import capacity
from bookings.booking.models import Booking, BookingStatus
from bookings.catalogue.models import Event
from bookings.extensions import db
from tests.conftest import login_as
from tests.security.conftest import bearer
from tests.support.factories import make_event


def _live_holds(user_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.booker_id == user_id, Booking.status == BookingStatus.HELD.value)
    )


def test_holding_again_on_the_same_event_replaces_the_earlier_hold(client, world):
    event = make_event(capacity=10)
    login_as(client, world.other)
    for _ in range(4):
        client.post(f"/events/{event.slug}/book", data={"places": "2"})
    assert _live_holds(world.other.id) == 1


def test_one_person_cannot_hold_every_place_by_repeating(client, world, clock):
    event = make_event(capacity=10)
    login_as(client, world.other)
    for _ in range(10):
        client.post(f"/events/{event.slug}/book", data={"places": "2"})
    db.session.expire_all()
    assert capacity.availability(db.session.get(Event, event.id), clock.now).places_left == 8


def test_live_holds_across_events_are_capped(app, client, world):
    app.config["MAX_LIVE_HOLDS_PER_USER"] = 2
    events = [make_event(capacity=5) for _ in range(3)]
    login_as(client, world.other)
    for event in events[:2]:
        client.post(f"/events/{event.slug}/book", data={"places": "1"})
    response = client.post(f"/events/{events[2].slug}/book", data={"places": "1"})
    assert response.status_code == 422
    assert b"Complete or cancel one before starting another" in response.data
    assert _live_holds(world.other.id) == 2


def test_web_holding_is_rate_limited_with_a_clear_message(app, client, world):
    app.config["BOOKING_RATE_LIMIT"] = 3
    event = make_event(capacity=50)
    login_as(client, world.other)
    statuses = [client.post(f"/events/{event.slug}/book", data={"places": "1"}).status_code for _ in range(3)]
    assert 429 not in statuses
    response = client.post(f"/events/{event.slug}/book", data={"places": "1"})
    assert response.status_code == 429
    assert b"too many times in a short time" in response.data


def test_looking_at_the_booking_page_is_never_rate_limited(app, client, world):
    app.config["BOOKING_RATE_LIMIT"] = 1
    login_as(client, world.other)
    assert [client.get(f"/events/{world.event.slug}/book").status_code for _ in range(3)] == [200, 200, 200]


def test_api_booking_is_rate_limited_per_token_holder(app, client, world):
    app.config["BOOKING_RATE_LIMIT"] = 2
    event = make_event(capacity=50)
    body = {"attendees": [{"name": "Bob Other", "email": "bob@council.example"}], "payment": "free"}
    url = f"/api/v1/events/{event.id}/bookings"
    first = [client.post(url, json=body, headers=bearer(world.other_token)).status_code for _ in range(2)]
    assert first == [201, 201]
    refused = client.post(url, json=body, headers=bearer(world.other_token))
    assert refused.status_code == 429
    assert refused.json["error"] == "rate_limited"
    # Another person is not slowed by Bob's limit.
    assert client.post(url, json=body, headers=bearer(world.owner_token)).status_code == 201


def test_rate_limit_window_passes(app, client, world, clock):
    app.config["BOOKING_RATE_LIMIT"] = 1
    event = make_event(capacity=50)
    login_as(client, world.other)
    client.post(f"/events/{event.slug}/book", data={"places": "1"})
    assert client.post(f"/events/{event.slug}/book", data={"places": "1"}).status_code == 429
    clock.advance(seconds=app.config["BOOKING_RATE_WINDOW_SECONDS"] + 1)
    assert client.post(f"/events/{event.slug}/book", data={"places": "1"}).status_code == 302
