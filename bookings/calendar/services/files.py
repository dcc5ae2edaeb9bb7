"""The files people download or get by email: an event's, the catalogue's and a booking's; and add-to-calendar links."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from bookings.booking.models import Booking
from bookings.calendar.ics import (
    IcsCalendar,
    Method,
    Person,
    build_calendar,
    last_modified_of,
)
from bookings.calendar.links import LinkSession, google_link, outlook_link
from bookings.calendar.services.entries import (
    CONTENT_TYPE,
    EPOCH,
    CalendarFile,
    _booking_entries,
    _file,
    _keep_public,
    _oldest_kept,
    _organizer,
    _public_entry,
    _summary,
    _venue,
    event_page_url,
)
from bookings.catalogue.models import Event, EventKind, EventStatus
from bookings.core.errors import DomainError, NotFound
from bookings.extensions import db
from bookings.notifications.outbox import Attachment

# --- Public files ---------------------------------------------------------------------------------


def event_calendar(slug: str, *, viewer_is_admin: bool) -> CalendarFile:
    """Every session of one event. Raises NotFound for an unknown slug, and for a draft unless an admin asks."""
    event = db.session.scalars(
        select(Event).where(Event.slug == slug).options(selectinload(Event.sessions))
    ).one_or_none()
    if event is None or (event.status == EventStatus.DRAFT.value and not viewer_is_admin):
        raise NotFound("There is no such event.")
    organizer = _organizer()
    entries = [_public_entry(event, session, organizer) for session in event.sessions]
    return _file(event.title, f"{event.slug}.ics", entries)


def parse_kind(kind: str | None) -> str | None:
    """A valid event kind or None for all; raises DomainError (400) for anything else."""
    if kind in (None, ""):
        return None
    kinds = [k.value for k in EventKind]
    if kind not in kinds:
        raise DomainError(f"Unknown kind {kind!r}: use one of {', '.join(kinds)}.", code="bad_kind")
    return kind


def catalogue_calendar(kind: str | None, now: datetime) -> CalendarFile:
    """Published events, and cancelled ones for a while after their end, optionally of one kind."""
    kind = parse_kind(kind)
    query = (
        select(Event)
        .where(Event.status.in_([EventStatus.PUBLISHED.value, EventStatus.CANCELLED.value]))
        .where(or_(Event.ends_at.is_(None), Event.ends_at >= _oldest_kept(now)))
        .options(selectinload(Event.sessions))
        .order_by(Event.starts_at, Event.id)
    )
    if kind:
        query = query.where(Event.kind == kind)
    organizer = _organizer()
    entries = [
        _public_entry(event, session, organizer)
        for event in db.session.scalars(query)
        if _keep_public(event, now)
        for session in event.sessions
    ]
    site = current_app.config["SITE_NAME"]
    name = f"{site}: {kind}s" if kind else f"{site}: all events"
    return _file(name, f"events-{kind}.ics" if kind else "events.ics", entries)


# --- Booking files ----------------------------------------------------------------------------------


def _load_booking(reference: str) -> Booking | None:
    return db.session.scalars(
        select(Booking)
        .where(Booking.reference == reference)
        .options(selectinload(Booking.event).selectinload(Event.sessions), selectinload(Booking.attendees))
    ).one_or_none()


def booking_calendar(reference: str, *, viewer_id: int | None, viewer_is_admin: bool) -> CalendarFile:
    """One booking's sessions, with the joining link. Raises NotFound unless the viewer booked it or is an admin."""
    booking = _load_booking(reference)
    if booking is None or not (viewer_is_admin or (viewer_id is not None and booking.booker_id == viewer_id)):
        raise NotFound("There is no such booking.")
    entries = _booking_entries(booking, _organizer())
    return _file(f"{booking.event.title} ({booking.reference})", f"booking-{booking.reference}.ics", entries)


def booking_ics_attachment(booking: Booking, *, cancelled: bool = False, now: datetime | None = None) -> Attachment:
    """The invite (METHOD:REQUEST) or cancellation (METHOD:CANCEL) for a booking's email."""
    entries = _booking_entries(booking, _organizer(), cancelling=cancelled)
    booker = booking.booker
    to = Person(booker.name, booker.email) if booker else Person(booking.billing_contact, booking.billing_email)
    if to.email:
        entries = [replace(entry, attendees=(to,)) for entry in entries]
    method = Method.CANCEL if cancelled else Method.REQUEST
    stamp = now or last_modified_of(entries, EPOCH)
    calendar = IcsCalendar(name=booking.event.title, sessions=tuple(entries), method=method, dtstamp=stamp)
    return Attachment(
        filename=f"booking-{booking.reference}.ics",
        content_type=f"{CONTENT_TYPE}; method={method.value}",
        content=build_calendar(calendar).decode("utf-8"),
    )


# --- Add-to-calendar links ------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionLinks:
    label: str
    google: str
    outlook: str


def add_to_calendar_links(event: Event, booking: Booking | None = None) -> list[SessionLinks]:
    """Google and Outlook links for each session still on (the joining link only for a booking's links)."""
    if event.is_cancelled:
        return []
    live = [s for s in event.sessions if not s.is_cancelled]
    page = event_page_url(event)
    result = []
    for number, session in enumerate(live, start=1):
        details = [event.summary] if event.summary else []
        if booking is not None:
            details.append(f"Booking reference: {booking.reference}")
            if event.is_online and event.online_url:
                details.append(f"Join online: {event.online_url}")
        details.append(f"Details: {page}")
        if event.is_online:
            location = event.online_url if booking is not None and event.online_url else "Online"
        else:
            location = _venue(event)
        link = LinkSession(
            title=_summary(event, session),
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            details="\n\n".join(details),
            location=location,
        )
        label = session.title or (f"Session {number}" if len(live) > 1 else "")
        result.append(SessionLinks(label=label, google=google_link(link), outlook=outlook_link(link)))
    return result
