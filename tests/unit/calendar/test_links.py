"""Google and Outlook add-to-calendar links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from bookings.calendar.links import MAX_DETAILS_CHARS, LinkSession, google_link, outlook_link

LONDON = ZoneInfo("Europe/London")
SESSION = LinkSession(
    title="Safeguarding & you: level 2",
    starts_at=datetime(2027, 3, 28, 9, 30, tzinfo=LONDON),
    ends_at=datetime(2027, 3, 28, 16, 30, tzinfo=LONDON),
    details="Bring ID.\nDetails: https://bookings.example/events/s?x=1",
    location="Council Chamber, 1 Civic Square",
)


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_google_link_has_utc_dates_and_encoded_text():
    url = google_link(SESSION)
    assert url.startswith("https://calendar.google.com/calendar/render?")
    query = _query(url)
    assert query["action"] == "TEMPLATE"
    assert query["text"] == "Safeguarding & you: level 2"
    assert query["dates"] == "20270328T083000Z/20270328T153000Z"
    assert query["details"] == SESSION.details
    assert query["location"] == "Council Chamber, 1 Civic Square"
    assert " " not in url and "\n" not in url


def test_outlook_link_has_iso_utc_times():
    url = outlook_link(SESSION)
    assert url.startswith("https://outlook.office.com/calendar/0/deeplink/compose?")
    query = _query(url)
    assert query["subject"] == "Safeguarding & you: level 2"
    assert query["startdt"] == "2027-03-28T08:30:00Z"
    assert query["enddt"] == "2027-03-28T15:30:00Z"
    assert query["body"] == SESSION.details
    assert query["location"] == "Council Chamber, 1 Civic Square"


def test_winter_session_keeps_its_hour_in_utc():
    winter = LinkSession(
        "x", datetime(2027, 10, 31, 9, 30, tzinfo=LONDON), datetime(2027, 10, 31, 10, 30, tzinfo=LONDON)
    )
    assert _query(google_link(winter))["dates"] == "20271031T093000Z/20271031T103000Z"
    assert "location" not in _query(google_link(winter))


def test_long_details_shortened():
    long = LinkSession("x", datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, 1, tzinfo=UTC), details="a" * 5000)
    assert len(_query(outlook_link(long))["body"]) == MAX_DETAILS_CHARS
