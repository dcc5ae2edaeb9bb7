"""Moving an event across a clock change: every time keeps its wall-clock time in the event's timezone.

Europe/London in 2027: the clocks go forward at 01:00 on Sunday 28 March (01:00-02:00 does not
exist) and back at 02:00 on Sunday 31 October (01:00-02:00 happens twice).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.admin import services
from bookings.catalogue.models import Event
from bookings.core.errors import ValidationError
from bookings.extensions import db
from tests.integration.admin.support import LONDON, audit_rows, london_event, london_times, london_utc
from tests.support.factories import make_admin

SPRING = (("2027-03-26T09:30", "2027-03-26T16:30"), ("2027-03-29T09:30", "2027-03-29T16:30"))  # GMT, then BST


def test_a_move_into_summer_time_keeps_every_sessions_local_time(app, clock):
    event = london_event(*SPRING)
    sequences = [s.sequence for s in event.sessions]

    services.move_event(event.id, make_admin(), clock.now, new_start=london_utc("2027-04-02T09:30"))

    assert london_times(event.id) == [
        ("2027-04-02T09:30:00+01:00", "2027-04-02T16:30:00+01:00"),
        ("2027-04-05T09:30:00+01:00", "2027-04-05T16:30:00+01:00"),
    ]
    assert [s.sequence for s in db.session.get(Event, event.id).sessions] == [n + 1 for n in sequences]
    assert [r.details["shift_seconds"] for r in audit_rows("event.moved")] == [7 * 86400 - 3600]


def test_a_move_back_into_winter_time_keeps_every_sessions_local_time(app, clock):
    event = london_event(("2027-10-22T09:30", "2027-10-22T16:30"), ("2027-10-25T09:30", "2027-10-25T16:30"))

    services.move_event(event.id, make_admin(), clock.now, new_start=london_utc("2027-10-29T09:30"))

    assert london_times(event.id) == [
        ("2027-10-29T09:30:00+01:00", "2027-10-29T16:30:00+01:00"),
        ("2027-11-01T09:30:00+00:00", "2027-11-01T16:30:00+00:00"),
    ]


def test_a_move_by_a_delta_counts_days_on_the_local_clock(app, clock):
    event = london_event(*SPRING)

    services.move_event(event.id, make_admin(), clock.now, delta=timedelta(days=7))

    assert london_times(event.id) == [
        ("2027-04-02T09:30:00+01:00", "2027-04-02T16:30:00+01:00"),
        ("2027-04-05T09:30:00+01:00", "2027-04-05T16:30:00+01:00"),
    ]


def test_booking_close_keeps_its_local_time_when_the_event_moves(app, clock):
    event = london_event(
        ("2027-11-01T09:30", "2027-11-01T16:30"), booking_closes_at=london_utc("2027-10-29T17:00")
    )  # closes in summer time, starts in winter time

    services.move_event(event.id, make_admin(), clock.now, new_start=london_utc("2027-11-08T09:30"))

    db.session.rollback()
    closes_at = db.session.get(Event, event.id).booking_closes_at
    assert closes_at.astimezone(LONDON).isoformat() == "2027-11-05T17:00:00+00:00"


def test_a_session_moved_into_the_repeated_hour_starts_in_the_first_of_the_two(app, clock):
    event = london_event(("2027-10-24T01:30", "2027-10-24T02:30"))

    services.move_event(event.id, make_admin(), clock.now, delta=timedelta(days=7))

    # 01:30 is read as the first 01:30 (still summer time), as every naive local time in the app is;
    # the session keeps its hour on the wall clock.
    assert london_times(event.id) == [("2027-10-31T01:30:00+01:00", "2027-10-31T02:30:00+00:00")]


@pytest.mark.parametrize(
    "session, skipped",
    [
        (("2027-03-21T01:30", "2027-03-21T03:00"), "Session 1 would start at 01:30 on Sunday 28 March 2027"),
        (("2027-03-21T00:15", "2027-03-21T01:15"), "Session 1 would end at 01:15 on Sunday 28 March 2027"),
    ],
)
def test_a_move_that_puts_a_session_in_the_skipped_hour_is_refused(app, clock, session, skipped):
    event = london_event(session)
    before = london_times(event.id)

    with pytest.raises(ValidationError) as caught:
        services.move_event(event.id, make_admin(), clock.now, delta=timedelta(days=7))

    message = caught.value.errors["new_start"]
    assert message.startswith(skipped) and "does not exist in Europe/London" in message
    assert london_times(event.id) == before
    assert audit_rows("event.moved") == []


def test_a_move_that_closes_booking_in_the_skipped_hour_is_refused(app, clock):
    event = london_event(("2027-03-22T09:30", "2027-03-22T16:30"), booking_closes_at=london_utc("2027-03-21T01:30"))

    with pytest.raises(ValidationError) as caught:
        services.move_event(event.id, make_admin(), clock.now, delta=timedelta(days=7))

    assert caught.value.errors["new_start"].startswith("Booking would close at 01:30 on Sunday 28 March 2027")
    assert audit_rows("event.moved") == []
