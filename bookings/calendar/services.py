"""Rule 5 (calendars stay true) for the files people download, subscribe to and get by email.

UIDs and SEQUENCE (docs/calendar.md says the same for readers):

- A public entry (event download, catalogue feed) has the session's own UID;
  its SEQUENCE is `session.sequence + event.sequence`, both raised by the
  catalogue services on every change of time, place or status.
- A booking's entry (booking download, personal feed, email invites) has the
  UID `<session uid>-<booking reference>`: someone who imported both the
  public file and their booking gets two distinct entries, and cancelling
  the booking never cancels the public one. Its SEQUENCE is the public one
  plus BOOKING_CANCELLED_BUMP once the booking is cancelled.
- Cancelled sessions, events and bookings are written as STATUS:CANCELLED and
  stay in feeds (CANCELLED_KEEP_DAYS after their end; anything past stays
  PAST_KEEP_DAYS) rather than vanishing.

Every loader here runs a fixed number of queries whatever the number of
bookings or sessions. Each returns a `CalendarFile` whose ETag is a hash of
the plain data the file is built from, so a conditional request is answered
without building the file.
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property

import icalendar
from flask import current_app, has_request_context, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from bookings.accounts.models import User
from bookings.booking.models import Booking, BookingStatus
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
from bookings.calendar.links import LinkSession, google_link, outlook_link
from bookings.calendar.models import CalendarFeedToken
from bookings.catalogue.models import Event, EventKind, EventSession, EventStatus
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import DomainError, NotFound
from bookings.core.tokens import hash_token, new_token
from bookings.extensions import db
from bookings.notifications.outbox import Attachment

CANCELLED_KEEP_DAYS = 30
PAST_KEEP_DAYS = 90
BOOKING_CANCELLED_BUMP = 1
# A feed poll records `last_used_at` at most this often, so polling is not a write each time.
FEED_USE_RECORD_INTERVAL = timedelta(hours=1)
CONTENT_TYPE = "text/calendar; charset=utf-8"
# For a file with no entries: a fixed, old Last-Modified.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_FEED_TOKEN_CONTEXT = b"bookings.calendar-feed.v1"


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


def _booking_entries(booking: Booking, organizer: Person, *, cancelling: bool = False) -> list[IcsSession]:
    """The booking's entries; `cancelling` writes them cancelled (for an email sent as it happens)."""
    event = booking.event
    booking_cancelled = _booking_is_cancelled(booking)
    places = sum(1 for a in booking.attendees if a.is_active)
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
        if event.is_online and event.online_url:
            lines.append(f"Join online: {event.online_url}")
        lines.append(f"Event details: {event_page_url(event)}")
        lines.append(f"Your booking: {booking_page_url(booking)}")
        if event.is_online:
            location, url = event.online_url or "Online", event.online_url or event_page_url(event)
        else:
            location, url = _venue(event), event_page_url(event)
        entries.append(
            IcsSession(
                uid=booking_uid(session.uid, booking.reference),
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
                last_modified=_booking_last_modified(booking),
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


def _keep_booking(booking: Booking, now: datetime) -> bool:
    end = _event_end(booking.event)
    if end is None:
        return False
    cancelled = booking.event.is_cancelled or _booking_is_cancelled(booking)
    keep = CANCELLED_KEEP_DAYS if cancelled else PAST_KEEP_DAYS
    return end >= now - timedelta(days=keep)


def _file(name: str, filename: str, entries: list[IcsSession], *, default_modified: datetime = EPOCH) -> CalendarFile:
    calendar = IcsCalendar(name=name, sessions=tuple(entries), method=Method.PUBLISH)
    return CalendarFile(calendar, filename, last_modified_of(entries, default_modified))


def _oldest_kept(now: datetime) -> datetime:
    return now - timedelta(days=max(PAST_KEEP_DAYS, CANCELLED_KEEP_DAYS))


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


# --- Personal feeds ---------------------------------------------------------------------------------


def personal_calendar(user_id: int, now: datetime) -> CalendarFile:
    """All of a user's bookings (cancelled ones for a while), in four queries whatever their number."""
    bookings = db.session.scalars(
        select(Booking)
        .join(Event, Booking.event_id == Event.id)
        .where(
            Booking.booker_id == user_id,
            Booking.status.in_([BookingStatus.CONFIRMED.value, BookingStatus.CANCELLED.value]),
            or_(Event.ends_at.is_(None), Event.ends_at >= _oldest_kept(now)),
        )
        .options(selectinload(Booking.event).selectinload(Event.sessions), selectinload(Booking.attendees))
        .order_by(Event.starts_at, Booking.id)
    ).all()
    organizer = _organizer()
    entries = [
        entry for booking in bookings if _keep_booking(booking, now) for entry in _booking_entries(booking, organizer)
    ]
    name = f"{current_app.config['SITE_NAME']}: my bookings"
    return _file(name, "my-bookings.ics", entries)


def _feed_token(user_id: int, token_id: int) -> str:
    """The secret in a feed address: an HMAC of the row under the app's key (see CalendarFeedToken)."""
    key = current_app.config["SECRET_KEY"].encode()
    message = _FEED_TOKEN_CONTEXT + f"|{user_id}|{token_id}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


def _live_token(user_id: int) -> CalendarFeedToken | None:
    return db.session.scalars(
        select(CalendarFeedToken)
        .where(CalendarFeedToken.user_id == user_id, CalendarFeedToken.revoked_at.is_(None))
        .order_by(CalendarFeedToken.id.desc())
        .limit(1)
    ).first()


def _create_token(user_id: int, now: datetime) -> str:
    row = CalendarFeedToken(user_id=user_id, token_hash=hash_token(new_token()), created_at=now)
    db.session.add(row)
    db.session.flush()  # the id is part of the secret
    token = _feed_token(user_id, row.id)
    row.token_hash = hash_token(token)
    audit.record("calendar_feed.created", "user", user_id, actor_id=user_id, at=now, token_id=row.id)
    return token


def _revoke_live(user_id: int, now: datetime) -> int:
    rows = db.session.scalars(
        select(CalendarFeedToken).where(CalendarFeedToken.user_id == user_id, CalendarFeedToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
        audit.record("calendar_feed.revoked", "user", user_id, actor_id=user_id, at=now, token_id=row.id)
    return len(rows)


@transactional
def get_or_create_feed_token(user_id: int, now: datetime) -> str:
    """The user's live feed token, made if they have none."""
    row = _live_token(user_id)
    if row is not None:
        return _feed_token(user_id, row.id)
    return _create_token(user_id, now)


@transactional
def regenerate_feed_token(user_id: int, now: datetime) -> str:
    """Revoke the user's feed address (if any) and make a new one; the old one answers 404 from now on."""
    _revoke_live(user_id, now)
    return _create_token(user_id, now)


@transactional
def revoke_feed_token(user_id: int, now: datetime) -> bool:
    """Revoke the user's feed address; False when there was none."""
    return _revoke_live(user_id, now) > 0


def find_feed_token(user_id: int) -> str | None:
    """The user's live feed token without making one (for the account page)."""
    row = _live_token(user_id)
    return None if row is None else _feed_token(user_id, row.id)


@transactional
def _record_feed_use(token_id: int, now: datetime) -> None:
    row = db.session.get(CalendarFeedToken, token_id)
    if row is not None:
        row.last_used_at = now


def use_feed_token(token: str, now: datetime) -> int:
    """The id of the user whose live feed `token` opens. Raises NotFound for an unknown or revoked token."""
    row = db.session.execute(
        select(CalendarFeedToken.id, CalendarFeedToken.user_id, CalendarFeedToken.last_used_at)
        .join(User, User.id == CalendarFeedToken.user_id)
        .where(
            CalendarFeedToken.token_hash == hash_token(token),
            CalendarFeedToken.revoked_at.is_(None),
            User.is_active_account.is_(True),
        )
    ).one_or_none()
    if row is None:
        raise NotFound("There is no such calendar feed.")
    if row.last_used_at is None or row.last_used_at <= now - FEED_USE_RECORD_INTERVAL:
        _record_feed_use(row.id, now)
    return row.user_id


@dataclass(frozen=True)
class FeedLinks:
    https_url: str
    webcal_url: str


def feed_links(token: str) -> FeedLinks:
    """The addresses to show for a feed token: https to copy, webcal:// to subscribe with one click."""
    url = url_for("calendar.personal_feed", token=token, _external=True, _scheme="https")
    return FeedLinks(https_url=url, webcal_url="webcal://" + url.split("://", 1)[1])


def account_feed_links(user_id: int) -> FeedLinks | None:
    """What `templates/calendar/_account_feed.html` shows as `calendar_feed` (None: no live address)."""
    token = find_feed_token(user_id)
    return None if token is None else feed_links(token)


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
