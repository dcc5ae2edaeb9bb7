"""Events, sessions and bookings as calendar entries: UIDs, SEQUENCE, status and how long cancelled ones stay."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import icalendar
from flask import current_app, has_request_context, url_for

from bookings.booking.models import Attendee, Booking, BookingStatus
from bookings.calendar.ics import (
    FORMAT_VERSION,
    IcsCalendar,
    IcsSession,
    Method,
    Person,
    SessionStatus,
    build_calendar,
    last_modified_of,
)
from bookings.catalogue.models import Event, EventSession, EventStatus

CANCELLED_KEEP_DAYS = 30
PAST_KEEP_DAYS = 90
BOOKING_CANCELLED_BUMP = 1


CONTENT_TYPE = "text/calendar; charset=utf-8"
# For a file with no entries: a fixed, old Last-Modified.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CalendarFile:
    """A calendar ready to serve: the ETag and Last-Modified are known before the bytes are built."""

    calendar: IcsCalendar
    filename: str
    last_modified: datetime

    @cached_property
    def etag(self) -> str:
        versions = f"{FORMAT_VERSION}|{icalendar.__version__}|{self.filename}|"
        return hashlib.sha256((versions + repr(self.calendar)).encode()).hexdigest()[:40]

    @cached_property
    def content(self) -> bytes:
        return build_calendar(self.calendar)


# --- URLs -----------------------------------------------------------------------------------------


def _external_url(endpoint: str, fallback_path: str, **values: object) -> str:
    """An absolute link when the app can build one (a request, or SERVER_NAME set), else a path."""
    if endpoint not in current_app.view_functions:
        return fallback_path
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    return fallback_path


def event_page_url(event: Event) -> str:
    return _external_url("catalogue.event", f"/events/{event.slug}", slug=event.slug)


def booking_page_url(booking: Booking) -> str:
    return _external_url("booking.detail", f"/bookings/{booking.reference}", reference=booking.reference)


# --- Building entries from rows -------------------------------------------------------------------


def _organizer() -> Person:
    config = current_app.config
    return Person(name=config["ORGANISER_NAME"], email=config["ORGANISER_EMAIL"])


def _summary(event: Event, session: EventSession) -> str:
    if session.title and len(event.sessions) > 1:
        return f"{event.title}: {session.title}"
    return event.title


def _venue(event: Event) -> str:
    return ", ".join(part for part in (event.venue_name, event.venue_address) if part)


def _public_status(event: Event, session: EventSession) -> SessionStatus:
    if event.is_cancelled or session.is_cancelled:
        return SessionStatus.CANCELLED
    if event.status == EventStatus.DRAFT.value:
        return SessionStatus.TENTATIVE
    return SessionStatus.CONFIRMED


def _public_sequence(event: Event, session: EventSession) -> int:
    return session.sequence + event.sequence


def _public_entry(event: Event, session: EventSession, organizer: Person) -> IcsSession:
    page = event_page_url(event)
    lines = [event.summary] if event.summary else []
    if event.is_cancelled or session.is_cancelled:
        lines.append("This session has been cancelled.")
    if event.is_online:
        lines.append("Online. Booked attendees get the joining link with their booking.")
    lines.append(f"Details and booking: {page}")
    return IcsSession(
        uid=session.uid,
        sequence=_public_sequence(event, session),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        timezone=event.timezone,
        summary=_summary(event, session),
        description="\n\n".join(lines),
        location="Online" if event.is_online else _venue(event),
        url=page,
        status=_public_status(event, session),
        organizer=organizer,
        last_modified=event.updated_at,
    )


def booking_uid(session_uid: str, reference: str) -> str:
    """The UID of a booking's entry for one session: distinct from the public entry's."""
    return f"{session_uid}-{reference}"


def _booking_is_cancelled(booking: Booking) -> bool:
    return booking.status in (BookingStatus.CANCELLED.value, BookingStatus.EXPIRED.value) or not any(
        a.is_active for a in booking.attendees
    )


def _booking_last_modified(booking: Booking) -> datetime:
    times = [booking.event.updated_at, booking.created_at, booking.confirmed_at, booking.cancelled_at]
    times += [booking.expired_at] + [a.cancelled_at for a in booking.attendees]
    return max(t for t in times if t is not None)


def _booking_entries(
    booking: Booking,
    organizer: Person,
    *,
    cancelling: bool = False,
    place: Attendee | None = None,
    replaced_at: datetime | None = None,
) -> list[IcsSession]:
    """The booking's entries; `cancelling` writes them cancelled (for an email sent as it happens).

    With `place`, the entries of that one attendee's place, for the attendee's own feed when someone
    else booked it: their own UIDs, cancelled when that place is, and no link to a booking page the
    attendee cannot open. With `replaced_at` too, the place as the feed's owner held it until it was
    given to a substitute then: cancelled for them."""
    event = booking.event
    booking_cancelled = _booking_is_cancelled(booking) or (
        place is not None and (not place.is_active or replaced_at is not None)
    )
    places = sum(1 for a in booking.attendees if a.is_active) if place is None else 0
    # The joining link is for whoever holds the place: not for someone it was taken from (rule 6).
    joining_link = event.online_url if event.is_online and replaced_at is None else ""
    entries = []
    for session in event.sessions:
        public_status = _public_status(event, session)
        bump = booking_cancelled or (cancelling and public_status is not SessionStatus.CANCELLED)
        if booking_cancelled or cancelling or public_status is SessionStatus.CANCELLED:
            status = SessionStatus.CANCELLED
        elif booking.is_held or public_status is SessionStatus.TENTATIVE:
            status = SessionStatus.TENTATIVE
        else:
            status = SessionStatus.CONFIRMED
        lines = [event.summary] if event.summary else []
        if status is SessionStatus.CANCELLED:
            lines.append("This booking or session has been cancelled.")
        lines.append(f"Booking reference: {booking.reference}")
        if places:
            lines.append(f"Places: {places}")
        if joining_link:
            lines.append(f"Join online: {joining_link}")
        lines.append(f"Event details: {event_page_url(event)}")
        if place is None:
            lines.append(f"Your booking: {booking_page_url(booking)}")
        elif replaced_at is not None:
            lines.append("Your place was given to someone else.")
        else:
            lines.append("Your place was booked for you; the person who booked it can change or cancel it.")
        if event.is_online:
            location, url = joining_link or "Online", joining_link or event_page_url(event)
        else:
            location, url = _venue(event), event_page_url(event)
        entries.append(
            IcsSession(
                uid=booking_uid(session.uid, booking.reference)
                if place is None
                else booking_uid(session.uid, f"{booking.reference}-{place.id}"),
                sequence=_public_sequence(event, session) + (BOOKING_CANCELLED_BUMP if bump else 0),
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                timezone=event.timezone,
                summary=_summary(event, session),
                description="\n\n".join(lines),
                location=location,
                url=url,
                status=status,
                organizer=organizer,
                last_modified=max(_booking_last_modified(booking), replaced_at or EPOCH),
            )
        )
    return entries


def _event_end(event: Event) -> datetime | None:
    ends = [s.ends_at for s in event.sessions]
    return max(ends) if ends else event.ends_at


def _keep_public(event: Event, now: datetime) -> bool:
    end = _event_end(event)
    if end is None:
        return False
    keep = CANCELLED_KEEP_DAYS if event.is_cancelled else PAST_KEEP_DAYS
    return end >= now - timedelta(days=keep)


def _keep_booking(booking: Booking, now: datetime, *, cancelled: bool = False) -> bool:
    """Whether a feed still lists the booking; `cancelled`: its entries are cancelled whatever its status."""
    end = _event_end(booking.event)
    if end is None:
        return False
    cancelled = cancelled or booking.event.is_cancelled or _booking_is_cancelled(booking)
    keep = CANCELLED_KEEP_DAYS if cancelled else PAST_KEEP_DAYS
    return end >= now - timedelta(days=keep)


def _file(name: str, filename: str, entries: list[IcsSession], *, default_modified: datetime = EPOCH) -> CalendarFile:
    calendar = IcsCalendar(name=name, sessions=tuple(entries), method=Method.PUBLISH)
    return CalendarFile(calendar, filename, last_modified_of(entries, default_modified))


def _oldest_kept(now: datetime) -> datetime:
    return now - timedelta(days=max(PAST_KEEP_DAYS, CANCELLED_KEEP_DAYS))
