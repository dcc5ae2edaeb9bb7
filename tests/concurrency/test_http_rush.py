"""The rush through the real HTTP stack: several gunicorn worker processes, one event, many clients.

Every request must be answered 201 (booked) or 409 (sold out, with the
places left); afterwards the confirmed places equal the capacity exactly
and never exceed it. Invariants only, no timings.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from bookings import create_app
from bookings.booking.models import Attendee, AttendeeStatus, Booking, BookingStatus
from bookings.extensions import db
from tests.support.factories import make_api_token, make_event, make_user
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.concurrency

CAPACITY = 20
REQUESTS = 60
CLIENTS = 16


def test_http_rush_answers_only_201_or_409_and_never_overbooks(race_db):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=race_db, MAX_LIVE_HOLDS_PER_USER=1000)
    with app.app_context():
        event = make_event(capacity=CAPACITY)
        event_id = event.id
        tokens = [make_api_token(make_user()) for _ in range(CLIENTS)]
        db.session.remove()
        db.engine.dispose()

    def book(i: int) -> tuple[int, dict]:
        body = {"attendees": [{"name": f"Rusher {i}", "email": f"rusher{i}@council.example"}], "payment": "free"}
        if i % 3 == 0:  # some ask for two places
            body["attendees"].append({"name": f"Colleague {i}", "email": f"colleague{i}@council.example"})
        response = requests.post(
            f"{server.url}/api/v1/events/{event_id}/bookings",
            json=body,
            headers={"Authorization": f"Bearer {tokens[i % CLIENTS]}"},
            timeout=120,
        )
        return response.status_code, response.json()

    server = LiveServer(race_db, config={"MAX_LIVE_HOLDS_PER_USER": 1000}, workers=4, threads=1)  # as deployed
    server.start()
    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            answers = list(pool.map(book, range(REQUESTS)))
    finally:
        server.stop()

    statuses = sorted({status for status, _ in answers})
    assert set(statuses) <= {201, 409}, [a for a in answers if a[0] not in (201, 409)][:3]
    assert 409 in statuses, "the rush never reached the capacity"
    assert all(body["error"] == "sold_out" and "places_left" in body for status, body in answers if status == 409)
    booked = sum(len(body["attendees"]) for status, body in answers if status == 201)

    with app.app_context():
        confirmed = db.session.scalar(
            select(func.count())
            .select_from(Attendee)
            .join(Booking)
            .where(
                Attendee.event_id == event_id,
                Attendee.status == AttendeeStatus.ACTIVE.value,
                Booking.status == BookingStatus.CONFIRMED.value,
            )
        )
        db.session.remove()
        db.engine.dispose()
    assert confirmed == booked  # no confirmed booking lost or invented
    assert confirmed <= CAPACITY
    assert confirmed >= CAPACITY - 1  # sold out: only a request for two can leave one place over


LIMIT = 5
ATTEMPTS = 24
WORKERS = 4  # single-threaded: at most this many requests are in the server at once


def test_one_person_rushing_is_held_to_the_booking_limit(race_db, db_backend):
    """The limit counts changes: read before the view, checked again and written inside the booking's transaction.

    On SQLite the write transactions take turns, so exactly LIMIT bookings go
    through. On PostgreSQL two transactions of one person that start together
    do not see each other's hit (docs/security.md, known gaps): each booking
    over the limit needs one more in flight beside it, so at most WORKERS - 1
    more go through.
    """
    config = {"MAX_LIVE_HOLDS_PER_USER": 1000, "BOOKING_RATE_LIMIT": LIMIT}
    app = create_app("test", SQLALCHEMY_DATABASE_URI=race_db, **config)
    with app.app_context():
        event_id = make_event(capacity=ATTEMPTS * 2).id
        token = make_api_token(make_user())
        db.session.remove()
        db.engine.dispose()

    def book(i: int) -> int:
        body = {"attendees": [{"name": f"Delegate {i}", "email": f"delegate{i}@council.example"}], "payment": "free"}
        response = requests.post(
            f"{server.url}/api/v1/events/{event_id}/bookings",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        return response.status_code

    server = LiveServer(race_db, config=config, workers=WORKERS, threads=1)
    server.start()
    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            statuses = list(pool.map(book, range(ATTEMPTS)))
    finally:
        server.stop()

    assert set(statuses) <= {201, 429}, statuses
    booked = statuses.count(201)
    if db_backend == "sqlite":
        assert booked == LIMIT
    else:
        assert LIMIT <= booked <= LIMIT + WORKERS - 1
