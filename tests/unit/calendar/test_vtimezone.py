"""VTIMEZONEs written as yearly rules, read back right by icalendar and by vobject (dateutil)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bookings.calendar.vtimezone import vtimezone
from tests.unit.calendar.parsers import vobject_read


def _wrap(zone: str, first: datetime, last: datetime, local_times: list[datetime]) -> str:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//test//EN")
    cal.add("version", "2.0")
    cal.add_component(vtimezone(zone, first, last))
    for n, value in enumerate(local_times):
        event = icalendar.Event()
        event.add("uid", f"{n}@test")
        event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
        event.add("dtstart", value)
        cal.add_component(event)
    return cal.to_ical().decode()


def test_london_written_as_last_sunday_rules():
    text = vtimezone("Europe/London", datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC)).to_ical()
    assert b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text
    assert b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in text
    assert b"RDATE" not in text


@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        ("Europe/London", datetime(2027, 3, 27, 9, 30), datetime(2027, 3, 27, 9, 30)),
        ("Europe/London", datetime(2027, 3, 28, 9, 30), datetime(2027, 3, 28, 8, 30)),
        ("Europe/London", datetime(2027, 10, 30, 9, 30), datetime(2027, 10, 30, 8, 30)),
        ("Europe/London", datetime(2027, 10, 31, 9, 30), datetime(2027, 10, 31, 9, 30)),
        ("America/New_York", datetime(2027, 3, 10, 9, 0), datetime(2027, 3, 10, 14, 0)),
        ("America/New_York", datetime(2027, 3, 16, 9, 0), datetime(2027, 3, 16, 13, 0)),
        ("Australia/Sydney", datetime(2027, 4, 4, 9, 0), datetime(2027, 4, 3, 23, 0)),
        ("Asia/Tokyo", datetime(2027, 6, 1, 9, 0), datetime(2027, 6, 1, 0, 0)),
    ],
)
def test_vobject_reads_local_time_as_right_instant(zone, local, utc):
    aware = local.replace(tzinfo=ZoneInfo(zone))
    text = _wrap(zone, aware, aware, [aware])
    parsed = vobject_read(text).vevent.dtstart.value
    assert parsed.astimezone(UTC) == utc.replace(tzinfo=UTC)


def test_rule_change_inside_range_falls_back_to_one_component_per_change():
    # The United States moved its clock changes in 2007: no single yearly rule covers 2006-2008.
    ny = ZoneInfo("America/New_York")
    first, last = datetime(2007, 1, 1, tzinfo=ny), datetime(2007, 12, 1, tzinfo=ny)
    text = _wrap(
        "America/New_York", first, last, [datetime(2006, 10, 30, 9, tzinfo=ny), datetime(2007, 3, 12, 9, tzinfo=ny)]
    )
    assert "RRULE" not in text
    events = vobject_read(text).vevent_list
    assert [e.dtstart.value.astimezone(UTC).hour for e in events] == [14, 13]
