"""The pure ICS builder, read back with `icalendar` and with an independent parser (vobject)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bookings.calendar.ics import (
    PRODID,
    IcsCalendar,
    IcsSession,
    Method,
    Person,
    SessionStatus,
    build_calendar,
)
from tests.unit.calendar.parsers import vobject_read

LONDON = ZoneInfo("Europe/London")
ORGANISER = Person("Bookings Learning and Development", "events@bookings.example")


def session(**overrides) -> IcsSession:
    values = {
        "uid": "3f1c-day-1@bookings.test",
        "sequence": 0,
        "starts_at": datetime(2027, 3, 28, 9, 30, tzinfo=LONDON),
        "ends_at": datetime(2027, 3, 28, 16, 30, tzinfo=LONDON),
        "timezone": "Europe/London",
        "summary": "Safeguarding adults: level 2",
        "description": "Details and booking: https://bookings.example/events/safeguarding",
        "organizer": ORGANISER,
        "last_modified": datetime(2027, 1, 5, 12, 0, tzinfo=UTC),
        "location": "Council Chamber, 1 Civic Square, Exampleton",
        "url": "https://bookings.example/events/safeguarding",
    }
    values.update(overrides)
    return IcsSession(**values)


def build(*sessions: IcsSession, method: Method = Method.PUBLISH, dtstamp=None) -> bytes:
    return build_calendar(IcsCalendar(name="Test", sessions=sessions, method=method, dtstamp=dtstamp))


def vevents(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def test_calendar_header_names_product_scale_and_method():
    cal = icalendar.Calendar.from_ical(build(session(), method=Method.REQUEST))
    assert str(cal["PRODID"]) == PRODID
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "REQUEST"


def test_start_carries_tzid_of_event_zone_and_local_wall_time():
    data = build(session())
    assert b"DTSTART;TZID=Europe/London:20270328T093000" in data
    event = vevents(data)[0]
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None
    assert start.astimezone(UTC) == datetime(2027, 3, 28, 8, 30, tzinfo=UTC)


def test_vtimezone_present_for_each_zone_used():
    data = build(session(), session(uid="ny@bookings.test", timezone="America/New_York"))
    zones = {str(tz["TZID"]) for tz in icalendar.Calendar.from_ical(data).walk("VTIMEZONE")}
    assert zones == {"Europe/London", "America/New_York"}


def test_new_york_event_keeps_its_own_zone_and_instant():
    ny = ZoneInfo("America/New_York")
    data = build(
        session(
            starts_at=datetime(2027, 3, 10, 9, 0, tzinfo=ny),
            ends_at=datetime(2027, 3, 10, 10, 0, tzinfo=ny),
            timezone="America/New_York",
        )
    )
    assert b"DTSTART;TZID=America/New_York:20270310T090000" in data
    assert vevents(data)[0].decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 10, 14, 0, tzinfo=UTC)


def test_independent_parser_reads_same_times_uid_sequence_and_status():
    data = build(session(sequence=3, status=SessionStatus.CANCELLED))
    parsed = vobject_read(data)
    vevent = parsed.vevent
    assert vevent.uid.value == "3f1c-day-1@bookings.test"
    assert int(vevent.sequence.value) == 3
    assert vevent.status.value == "CANCELLED"
    assert vevent.dtstart.value.astimezone(UTC) == datetime(2027, 3, 28, 8, 30, tzinfo=UTC)
    assert vevent.dtend.value.astimezone(UTC) == datetime(2027, 3, 28, 15, 30, tzinfo=UTC)
    assert parsed.vtimezone.tzid.value == "Europe/London"


def test_independent_parser_reads_times_after_october_clock_change():
    data = build(
        session(
            starts_at=datetime(2027, 10, 31, 9, 30, tzinfo=LONDON),
            ends_at=datetime(2027, 10, 31, 16, 30, tzinfo=LONDON),
        )
    )
    vevent = vobject_read(data).vevent
    assert vevent.dtstart.value.astimezone(UTC) == datetime(2027, 10, 31, 9, 30, tzinfo=UTC)


def test_uid_and_bytes_stable_across_rebuilds():
    assert build(session()) == build(session())
    assert vevents(build(session()))[0]["UID"] == "3f1c-day-1@bookings.test"


def test_sequence_written_as_given():
    assert vevents(build(session(sequence=7)))[0].decoded("SEQUENCE") == 7


def test_cancel_method_writes_every_entry_cancelled():
    data = build(session(status=SessionStatus.CONFIRMED), method=Method.CANCEL)
    assert str(vevents(data)[0]["STATUS"]) == "CANCELLED"


def test_cancelled_status_written():
    assert str(vevents(build(session(status=SessionStatus.CANCELLED)))[0]["STATUS"]) == "CANCELLED"


def test_feed_dtstamp_is_last_change_so_unchanged_feed_is_identical():
    event = vevents(build(session()))[0]
    assert event.decoded("DTSTAMP") == datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    assert event.decoded("LAST-MODIFIED") == datetime(2027, 1, 5, 12, 0, tzinfo=UTC)


def test_invite_dtstamp_is_time_sent():
    sent = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
    assert vevents(build(session(), method=Method.REQUEST, dtstamp=sent))[0].decoded("DTSTAMP") == sent


def test_title_with_newline_cannot_add_property():
    evil = session(summary="Evil\r\nATTENDEE:mailto:x@y", description="a\nORGANIZER:mailto:z@y", location="x;y:z")
    data = build(evil)
    event = vevents(data)[0]
    assert "ATTENDEE" not in event
    assert str(event["SUMMARY"]) == "Evil\nATTENDEE:mailto:x@y"
    assert str(event["ORGANIZER"]) == "mailto:events@bookings.example"
    assert str(event["LOCATION"]) == "x;y:z"
    vevent = vobject_read(data).vevent
    assert "attendee" not in vevent.contents
    assert vevent.summary.value == "Evil\nATTENDEE:mailto:x@y"


def test_url_with_line_break_cannot_add_property():
    data = build(session(url="https://x.example/a\r\nATTENDEE:mailto:x@y"))
    event = vevents(data)[0]
    assert "ATTENDEE" not in event
    assert b"\r\nATTENDEE" not in data


def test_organizer_and_attendee_written_with_names():
    data = build(session(attendees=(Person('Ann "Annie" Smith, HR', "ann@council.example"),)), method=Method.REQUEST)
    event = vevents(data)[0]
    assert str(event["ORGANIZER"]) == "mailto:events@bookings.example"
    assert event["ORGANIZER"].params["CN"] == "Bookings Learning and Development"
    assert str(event["ATTENDEE"]) == "mailto:ann@council.example"
    assert event["ATTENDEE"].params["CN"] == "Ann 'Annie' Smith, HR"


def test_online_entry_without_location_keeps_url():
    event = vevents(build(session(location="", url="https://meet.example/abc")))[0]
    assert "LOCATION" not in event
    assert str(event["URL"]) == "https://meet.example/abc"


def test_naive_times_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        build(session(starts_at=datetime(2027, 3, 28, 9, 30)))


def test_changed_session_differs_only_where_changed():
    before = vevents(build(session()))[0]
    after = vevents(build(replace(session(), sequence=1, starts_at=datetime(2027, 3, 28, 10, 0, tzinfo=LONDON))))[0]
    assert before["UID"] == after["UID"]
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")


def test_calendar_name_with_newline_cannot_add_property():
    data = build_calendar(IcsCalendar(name="Evil\r\nMETHOD:CANCEL", sessions=(session(),)))
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["METHOD"]) == "PUBLISH"
    assert b"\r\nMETHOD:CANCEL" not in data
