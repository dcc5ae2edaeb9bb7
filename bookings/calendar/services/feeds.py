"""A person's subscribed feed of all their bookings, and the addresses shown for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from bookings.accounts.models import User
from bookings.booking.models import Attendee, Booking, BookingStatus, ReplacedPlace
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


def _email_and_replaced_places(user_id: int) -> tuple[str, dict[int, datetime]]:
    """The account's email, and the places given away from it: attendee id -> when (the latest time).

    One query: the places come with the email (an outer join), so the feed's count stays fixed."""
    rows = db.session.execute(
        select(User.email, ReplacedPlace.attendee_id, ReplacedPlace.replaced_at)
        .outerjoin(ReplacedPlace, ReplacedPlace.user_id == User.id)
        .where(User.id == user_id)
    ).all()
    replaced: dict[int, datetime] = {}
    for _, attendee_id, replaced_at in rows:
        if attendee_id is not None:
            replaced[attendee_id] = max(replaced_at, replaced.get(attendee_id, replaced_at))
    return rows[0].email if rows else "", replaced


def personal_calendar(user_id: int, now: datetime) -> CalendarFile:
    """The user's bookings (cancelled ones for a while), and the places others booked for them.

    A place is theirs when its attendee email is the account's email (both are stored lower-cased;
    indexed). A place given from them to a substitute stays, cancelled, for as long as other
    cancellations do (`ReplacedPlace`). Five queries whatever the number of bookings."""
    email, replaced = _email_and_replaced_places(user_id)
    placed_for_user = select(Attendee.booking_id).where(Attendee.email == email, Attendee.email != "")
    owners = [Booking.booker_id == user_id, Booking.id.in_(placed_for_user)]
    if replaced:
        owners.append(Booking.id.in_(select(Attendee.booking_id).where(Attendee.id.in_(list(replaced)))))
    bookings = db.session.scalars(
        select(Booking)
        .join(Event, Booking.event_id == Event.id)
        .where(
            or_(*owners),
            Booking.status.in_([BookingStatus.CONFIRMED.value, BookingStatus.CANCELLED.value]),
            Booking.confirmed_at.is_not(None),  # a hold given up was never in anyone's calendar
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
                if place.email == email:  # theirs now (substituted back, it is theirs again: listed once)
                    entries += _booking_entries(booking, organizer, place=place)
                elif place.id in replaced and _keep_booking(booking, now, cancelled=True):
                    entries += _booking_entries(booking, organizer, place=place, replaced_at=replaced[place.id])
    name = f"{current_app.config['SITE_NAME']}: my bookings"
    return _file(name, "my-bookings.ics", entries)


@dataclass(frozen=True)
class FeedLinks:
    url: str
    webcal_url: str


def feed_links(token: str) -> FeedLinks:
    """The addresses to show for a feed token: one to copy, webcal:// to subscribe with one click.

    The address has the site's own scheme (https behind TLS, as PREFERRED_URL_SCHEME and the proxy
    say), so a site served over plain http, an intranet or `make run`, gives one that works."""
    url = url_for("calendar.personal_feed", token=token, _external=True)
    return FeedLinks(url=url, webcal_url="webcal://" + url.split("://", 1)[1])


def account_feed_links(user_id: int) -> FeedLinks | None:
    """What `templates/calendar/_account_feed.html` shows as `calendar_feed` (None: no live address)."""
    token = find_feed_token(user_id)
    return None if token is None else feed_links(token)
