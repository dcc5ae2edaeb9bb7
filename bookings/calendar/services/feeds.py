"""A person's subscribed feed of all their bookings, and the addresses shown for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from bookings.accounts.models import User
from bookings.booking.models import Attendee, Booking, BookingStatus
from bookings.calendar.services.entries import (
    CalendarFile,
    _booking_entries,
    _file,
    _keep_booking,
    _oldest_kept,
    _organizer,
)
from bookings.calendar.services.tokens import find_feed_token
from bookings.catalogue.models import Event
from bookings.extensions import db

# --- Personal feeds ---------------------------------------------------------------------------------


def personal_calendar(user_id: int, now: datetime) -> CalendarFile:
    """The user's bookings (cancelled ones for a while), and the places others booked for them.

    A place is theirs when its attendee email is the account's email (both are stored lower-cased;
    indexed). Five queries whatever the number of bookings."""
    email = db.session.scalar(select(User.email).where(User.id == user_id)) or ""
    placed_for_user = select(Attendee.booking_id).where(Attendee.email == email, Attendee.email != "")
    bookings = db.session.scalars(
        select(Booking)
        .join(Event, Booking.event_id == Event.id)
        .where(
            or_(Booking.booker_id == user_id, Booking.id.in_(placed_for_user)),
            Booking.status.in_([BookingStatus.CONFIRMED.value, BookingStatus.CANCELLED.value]),
            or_(Event.ends_at.is_(None), Event.ends_at >= _oldest_kept(now)),
        )
        .options(selectinload(Booking.event).selectinload(Event.sessions), selectinload(Booking.attendees))
        .order_by(Event.starts_at, Booking.id)
    ).all()
    organizer = _organizer()
    entries = []
    for booking in bookings:
        if not _keep_booking(booking, now):
            continue
        if booking.booker_id == user_id:
            entries += _booking_entries(booking, organizer)
        else:
            for place in booking.attendees:
                if place.email == email:
                    entries += _booking_entries(booking, organizer, place=place)
    name = f"{current_app.config['SITE_NAME']}: my bookings"
    return _file(name, "my-bookings.ics", entries)


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
