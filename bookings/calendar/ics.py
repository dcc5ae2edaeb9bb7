"""Rule 5 (calendars stay true): build iCalendar files from plain data.

No database and no Flask here: callers hand over `IcsSession` values and get
bytes back, so the rules about UIDs, SEQUENCE, STATUS and time zones are
tested without an app. VTIMEZONEs come from `vtimezone.py` (yearly rules,
which every reader understands). Every text value goes through `icalendar`, which
escapes newlines, `;` and `,`, so a title cannot add a property of its own;
values that are not text (URLs, email addresses) are stripped of control
characters here because the library writes them as they are.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText, vUri

from bookings.calendar.vtimezone import vtimezone

PRODID = "-//Bookings//Bookings//EN"
# Part of every ETag: raise it when the way files are written changes, so caches refetch.
FORMAT_VERSION = "1"

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class Method(enum.StrEnum):
    PUBLISH = "PUBLISH"  # downloads and feeds
    REQUEST = "REQUEST"  # the invite attached to a confirmation email
    CANCEL = "CANCEL"  # the cancellation attached to an email


class SessionStatus(enum.StrEnum):
    CONFIRMED = "CONFIRMED"
    TENTATIVE = "TENTATIVE"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class IcsSession:
    """One VEVENT: a session as one reader of one file should see it."""

    uid: str
    sequence: int
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    timezone: str  # IANA name: DTSTART/DTEND carry it as TZID
    summary: str
    description: str
    organizer: Person
    last_modified: datetime  # aware; also DTSTAMP in feeds and downloads
    status: SessionStatus = SessionStatus.CONFIRMED
    location: str = ""
    url: str = ""
    attendees: tuple[Person, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class IcsCalendar:
    """Everything that goes into one file. Equal values give byte-equal files."""

    name: str
    sessions: tuple[IcsSession, ...]
    method: Method = Method.PUBLISH
    # Invites stamp the time they were made; feeds and downloads stamp each entry's
    # last change, so that an unchanged feed is byte for byte the same (ETags hold).
    dtstamp: datetime | None = None


def _clean(value: str) -> str:
    """Values written without escaping (URIs, addresses, parameters) lose control characters."""
    return _CONTROL_CHARS.sub("", value).strip()


def _address(person: Person, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{_clean(person.email)}")
    if person.name:
        address.params["CN"] = _clean(person.name).replace('"', "'")
    if role:
        address.params["ROLE"] = role
        address.params["PARTSTAT"] = "ACCEPTED"
        address.params["RSVP"] = "FALSE"
    return address


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


def _local(value: datetime, zone: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    if zone.upper() == "UTC":
        return _utc(value)
    return value.astimezone(ZoneInfo(zone)).replace(microsecond=0)


def _vevent(session: IcsSession, method: Method, dtstamp: datetime | None) -> Event:
    status = SessionStatus.CANCELLED if method is Method.CANCEL else session.status
    event = Event()
    event.add("uid", vText(_clean(session.uid)))
    event.add("sequence", session.sequence)
    event.add("dtstamp", _utc(dtstamp or session.last_modified))
    event.add("last-modified", _utc(session.last_modified))
    event.add("dtstart", _local(session.starts_at, session.timezone))
    event.add("dtend", _local(session.ends_at, session.timezone))
    event.add("summary", session.summary)
    if session.description:
        event.add("description", session.description)
    if session.location:
        event.add("location", session.location)
    if session.url:
        event.add("url", vUri(_clean(session.url)))
    event.add("status", status.value)
    event.add("transp", "TRANSPARENT" if status is SessionStatus.CANCELLED else "OPAQUE")
    event.add("organizer", _address(session.organizer))
    for person in session.attendees:
        event.add("attendee", _address(person, role="REQ-PARTICIPANT"))
    return event


def build_calendar(calendar: IcsCalendar) -> bytes:
    """The VCALENDAR for `calendar`, with a VTIMEZONE for every zone its times use."""
    for session in calendar.sessions:
        if session.starts_at.tzinfo is None or session.ends_at.tzinfo is None:
            raise ValueError("calendar times must be timezone-aware")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", calendar.method.value)
    if calendar.name:
        # icalendar does not escape this non-standard property: keep it to one clean line.
        cal.add("x-wr-calname", " ".join(_CONTROL_CHARS.sub(" ", calendar.name).split()) or "Calendar")
    zones = sorted({s.timezone for s in calendar.sessions if s.timezone.upper() != "UTC"})
    for zone in zones:
        times = [t for s in calendar.sessions if s.timezone == zone for t in (s.starts_at, s.ends_at)]
        cal.add_component(vtimezone(zone, min(times), max(times)))
    for session in calendar.sessions:
        cal.add_component(_vevent(session, calendar.method, calendar.dtstamp))
    return cal.to_ical()


def last_modified_of(sessions: Sequence[IcsSession], default: datetime) -> datetime:
    """The latest change among the sessions (whole seconds, as HTTP dates have)."""
    latest = max((_utc(s.last_modified) for s in sessions), default=_utc(default))
    return latest
