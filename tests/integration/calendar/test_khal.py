"""Our files imported into a real calendar client (khal), checked by what it lists.

Files are fetched through the app's URLs, as a user's calendar would fetch them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bookings.calendar import services
from bookings.extensions import db
from tests.conftest import login_as, require
from tests.integration.calendar.helpers import cancel_booking, cancel_event, make_booking, move_session
from tests.support.factories import make_event, make_user
from tests.support.khal import Khal, khal_executable

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def khal(tmp_path) -> Khal:
    require(khal_executable() is not None, "khal is not installed (pip install khal)")
    return Khal(tmp_path)


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


def _event_at(local_starts: list[datetime], **overrides):
    """An event whose sessions start at these local times and last two hours each."""
    event = make_event(starts_at=local_starts[0], days=len(local_starts), **overrides)
    for session, start in zip(event.sessions, local_starts, strict=True):
        session.starts_at = start
        session.ends_at = start + timedelta(hours=2)
    db.session.commit()
    return event


def _fetch(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.data
    return response.data


def _sequence(data: bytes, uid: str) -> int:
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    return next(e.decoded("SEQUENCE") for e in events if str(e["UID"]) == uid)


def test_session_the_day_clocks_go_forward_listed_at_local_time(client, khal):
    event = _event_at([datetime(2027, 3, 28, 9, 30, tzinfo=LONDON)])
    khal.import_ics(_fetch(client, f"/events/{event.slug}.ics"))
    [row] = khal.list("2027-03-27", "3d")
    assert (row.start, row.end, row.uid) == ("2027-03-28 09:30", "2027-03-28 11:30", event.sessions[0].uid)


def test_session_the_day_clocks_go_back_listed_at_local_time(client, khal):
    event = _event_at([datetime(2027, 10, 31, 9, 30, tzinfo=LONDON)])
    khal.import_ics(_fetch(client, f"/events/{event.slug}.ics"))
    [row] = khal.list("2027-10-30", "3d")
    assert (row.start, row.end) == ("2027-10-31 09:30", "2027-10-31 11:30")


def test_course_across_clock_change_keeps_its_local_start_each_day(client, khal):
    event = _event_at(
        [datetime(2027, 3, 27, 9, 30, tzinfo=LONDON), datetime(2027, 3, 28, 9, 30, tzinfo=LONDON)],
        title="Two-day course",
    )
    khal.import_ics(_fetch(client, f"/events/{event.slug}.ics"))
    assert [row.start for row in khal.list("2027-03-26", "4d")] == ["2027-03-27 09:30", "2027-03-28 09:30"]


def test_new_york_event_listed_at_london_time(client, khal):
    # 10 March: New York on EST (-5), London on GMT. 16 March: New York on EDT (-4), London still GMT.
    event = _event_at(
        [datetime(2027, 3, 10, 9, 0, tzinfo=NEW_YORK), datetime(2027, 3, 16, 9, 0, tzinfo=NEW_YORK)],
        timezone="America/New_York",
    )
    data = _fetch(client, f"/events/{event.slug}.ics")
    assert b"DTSTART;TZID=America/New_York:20270310T090000" in data
    khal.import_ics(data)
    assert [row.start for row in khal.list("2027-03-09", "10d")] == ["2027-03-10 14:00", "2027-03-16 13:00"]


def test_new_york_event_listed_at_nine_by_new_york_reader(client, tmp_path):
    require(khal_executable() is not None, "khal is not installed (pip install khal)")
    reader = Khal(tmp_path, timezone="America/New_York")
    event = _event_at([datetime(2027, 3, 16, 9, 0, tzinfo=NEW_YORK)], timezone="America/New_York")
    reader.import_ics(_fetch(client, f"/events/{event.slug}.ics"))
    assert [row.start for row in reader.list("2027-03-15", "3d")] == ["2027-03-16 09:00"]


def test_moved_event_imported_over_original_replaces_it(client, khal):
    event = _event_at([datetime(2027, 3, 28, 9, 30, tzinfo=LONDON)])
    uid = event.sessions[0].uid
    original = _fetch(client, f"/events/{event.slug}.ics")
    khal.import_ics(original)
    move_session(event, 0, by=timedelta(hours=1))
    moved = _fetch(client, f"/events/{event.slug}.ics")
    assert _sequence(moved, uid) > _sequence(original, uid)
    khal.import_ics(moved)
    rows = khal.list("2027-03-27", "3d")
    assert [(row.start, row.uid, row.status) for row in rows] == [("2027-03-28 10:30", uid, "CONFIRMED")]


def test_cancelled_event_imported_over_update_shows_cancelled(client, khal):
    event = _event_at([datetime(2027, 10, 31, 9, 30, tzinfo=LONDON)])
    uid = event.sessions[0].uid
    khal.import_ics(_fetch(client, f"/events/{event.slug}.ics"))
    move_session(event, 0, by=timedelta(hours=1))
    moved = _fetch(client, f"/events/{event.slug}.ics")
    khal.import_ics(moved)
    cancel_event(event)
    cancelled = _fetch(client, f"/events/{event.slug}.ics")
    assert _sequence(cancelled, uid) > _sequence(moved, uid)
    khal.import_ics(cancelled)
    rows = khal.list("2027-10-30", "3d")
    assert [(row.start, row.uid, row.status) for row in rows] == [("2027-10-31 10:30", uid, "CANCELLED")]


def test_booking_cancellation_cancels_booking_entry_not_public_entry(client, khal):
    user = make_user()
    event = _event_at([datetime(2027, 3, 28, 9, 30, tzinfo=LONDON)])
    booking = make_booking(event, user)
    login_as(client, user)
    khal.import_ics(_fetch(client, f"/events/{event.slug}.ics"))
    khal.import_ics(_fetch(client, f"/bookings/{booking.reference}.ics"))
    cancel_booking(booking)
    khal.import_ics(_fetch(client, f"/bookings/{booking.reference}.ics"))
    statuses = {row.uid: row.status for row in khal.list("2027-03-27", "3d")}
    assert statuses == {
        event.sessions[0].uid: "CONFIRMED",
        f"{event.sessions[0].uid}-{booking.reference}": "CANCELLED",
    }


def test_emailed_invite_then_cancellation_shows_cancelled(request_ctx, khal):
    event = _event_at([datetime(2027, 10, 31, 9, 30, tzinfo=LONDON)])
    booking = make_booking(event, make_user())
    khal.import_ics(services.booking_ics_attachment(booking).content)
    [invited] = khal.list("2027-10-30", "3d")
    assert (invited.start, invited.status) == ("2027-10-31 09:30", "CONFIRMED")
    khal.import_ics(services.booking_ics_attachment(booking, cancelled=True).content)
    [row] = khal.list("2027-10-30", "3d")
    assert (row.uid, row.status) == (invited.uid, "CANCELLED")


def test_personal_feed_lists_every_booked_session(client, khal, clock):
    user = make_user()
    spring = _event_at([datetime(2027, 3, 28, 9, 30, tzinfo=LONDON)])
    autumn = _event_at([datetime(2027, 10, 31, 9, 30, tzinfo=LONDON)])
    make_booking(spring, user)
    make_booking(autumn, user)
    make_booking(_event_at([datetime(2027, 6, 1, 9, 30, tzinfo=LONDON)]), make_user())
    token = services.get_or_create_feed_token(user.id, clock.now)
    khal.import_ics(_fetch(client, f"/calendar/{token}.ics"))
    assert [row.start for row in khal.list("2027-01-01", "2027-12-31")] == ["2027-03-28 09:30", "2027-10-31 09:30"]


def test_catalogue_feed_lists_published_events_of_kind(client, khal):
    _event_at([datetime(2027, 3, 28, 9, 30, tzinfo=LONDON)], kind="course", title="Course A")
    _event_at([datetime(2027, 3, 28, 13, 0, tzinfo=LONDON)], kind="webinar", title="Webinar B")
    khal.import_ics(_fetch(client, "/events.ics?kind=webinar"))
    rows = khal.list("2027-03-27", "3d")
    assert [(row.start, row.title) for row in rows] == [("2027-03-28 13:00", "Webinar B")]


def test_personal_feed_applies_move_then_event_cancellation_to_booked_entry(client, khal, clock):
    user = make_user()
    event = _event_at([datetime(2027, 3, 28, 9, 30, tzinfo=LONDON)])
    booking = make_booking(event, user)
    uid = f"{event.sessions[0].uid}-{booking.reference}"
    token = services.get_or_create_feed_token(user.id, clock.now)
    first = _fetch(client, f"/calendar/{token}.ics")
    khal.import_ics(first)
    move_session(event, 0, by=timedelta(minutes=30))
    moved = _fetch(client, f"/calendar/{token}.ics")
    khal.import_ics(moved)
    assert [(row.start, row.uid) for row in khal.list("2027-03-27", "3d")] == [("2027-03-28 10:00", uid)]
    cancel_event(event)
    cancelled = _fetch(client, f"/calendar/{token}.ics")
    khal.import_ics(cancelled)
    assert [(row.uid, row.status) for row in khal.list("2027-03-27", "3d")] == [(uid, "CANCELLED")]
    assert _sequence(first, uid) < _sequence(moved, uid) < _sequence(cancelled, uid)
