"""khal reads a hand-written calendar file with a VTIMEZONE and shows London wall-clock times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from tests.support.khal import KhalError

LONDON = ZoneInfo("Europe/London")
STAMP = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


def _calendar(*events: Event) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Bookings tests//EN")
    calendar.add("version", "2.0")
    for event in events:
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _event(uid: str, title: str, start: datetime, end: datetime, status: str | None = None) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", title)
    event.add("dtstamp", STAMP)
    event.add("dtstart", start)
    event.add("dtend", end)
    if status:
        event.add("status", status)
    return event


def test_event_the_day_after_clocks_go_forward_lists_at_its_london_time(khal):
    ics = _calendar(
        _event(
            "course-day-1@bookings.test",
            "Safeguarding course",
            datetime(2027, 3, 29, 9, 30, tzinfo=LONDON),
            datetime(2027, 3, 29, 16, 30, tzinfo=LONDON),
        )
    )
    assert b"BEGIN:VTIMEZONE" in ics and b"TZID=Europe/London:20270329T093000" in ics

    khal.import_ics(ics)
    rows = khal.list("2027-03-27", "4d")

    assert [(r.start, r.end, r.title, r.uid) for r in rows] == [
        ("2027-03-29 09:30", "2027-03-29 16:30", "Safeguarding course", "course-day-1@bookings.test")
    ]


def test_utc_times_show_an_hour_later_after_clocks_go_forward(khal):
    khal.import_ics(
        _calendar(
            _event(
                "before@bookings.test",
                "Before",
                datetime(2027, 3, 27, 9, 30, tzinfo=UTC),
                datetime(2027, 3, 27, 10, 30, tzinfo=UTC),
            ),
            _event(
                "after@bookings.test",
                "After",
                datetime(2027, 3, 29, 9, 30, tzinfo=UTC),
                datetime(2027, 3, 29, 10, 30, tzinfo=UTC),
            ),
        )
    )

    starts = {row.title: row.start for row in khal.list("2027-03-27", "4d")}

    assert starts == {"Before": "2027-03-27 09:30", "After": "2027-03-29 10:30"}


def test_cancelled_event_is_listed_with_its_status(khal):
    khal.import_ics(
        _calendar(
            _event(
                "cancelled@bookings.test",
                "Cancelled course",
                datetime(2027, 3, 29, 9, 30, tzinfo=LONDON),
                datetime(2027, 3, 29, 16, 30, tzinfo=LONDON),
                status="CANCELLED",
            )
        )
    )

    (row,) = khal.list("2027-03-29", "1d")

    assert (row.title, row.status) == ("Cancelled course", "CANCELLED")


def test_truncated_file_is_refused(khal):
    ics = _calendar(
        _event(
            "x@bookings.test", "X", datetime(2027, 3, 29, 9, tzinfo=LONDON), datetime(2027, 3, 29, 10, tzinfo=LONDON)
        )
    )

    with pytest.raises(KhalError):
        khal.import_ics(ics[: len(ics) // 2])
