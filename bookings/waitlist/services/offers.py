"""Rule 4: freed places go to the waiting list in join order before open sale; offers and their expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.booking.rules import BookingClosed, check_event_bookable
from bookings.catalogue.models import Event, TicketType
from bookings.core import audit
from bookings.core.tokens import hash_token, new_token
from bookings.core.urls import absolute_url
from bookings.extensions import db
from bookings.notifications.outbox import queue_email
from bookings.waitlist.models import IN_LINE, WaitlistEntry, WaitlistStatus
from bookings.waitlist.services.errors import MIN_OFFER, OFFER_SHARE_OF_TIME_LEFT

# --- offers ---------------------------------------------------------------------------------------------------------


def offer_expiry_for(event: Event, now: datetime) -> datetime:
    """When an offer made now ends: the event's (or site's) offer time, shortened as the event nears.

    At most a quarter of the time left before the event starts (but at least an
    hour), and never past booking close or the start of the event.
    """
    hours = event.offer_expiry_hours or current_app.config["OFFER_EXPIRY_HOURS"]
    length = timedelta(hours=hours)
    if event.starts_at is not None:
        length = min(length, max((event.starts_at - now) / OFFER_SHARE_OF_TIME_LEFT, MIN_OFFER))
    expires_at = now + length
    for deadline in (event.booking_closes_at, event.starts_at):
        if deadline is not None:
            expires_at = min(expires_at, deadline)
    return expires_at


def _can_offer(event: Event, now: datetime) -> bool:
    try:
        check_event_bookable(event, now)
    except BookingClosed:
        return False
    return True


def _rate_for(entry: WaitlistEntry, rates: list[TicketType], left: capacity.Availability, now: datetime):
    """The rate the entry's places fit on now, or None (the entry keeps its position)."""
    for rate in rates:
        if entry.ticket_type_id is not None and rate.id != entry.ticket_type_id:
            continue
        if rate.is_on_sale(now) and left.places_left_for(rate.id) >= entry.places:
            return rate
    return None


def _after_offer(left: capacity.Availability, rate_id: int, places: int) -> capacity.Availability:
    by_type = dict(left.taken_by_type)
    by_type[rate_id] = by_type.get(rate_id, 0) + places
    return capacity.Availability(
        capacity=left.capacity, taken=left.taken + places, taken_by_type=by_type, caps=left.caps
    )


def _make_offer(entry: WaitlistEntry, event: Event, rate: TicketType, actor_id: int | None, now: datetime) -> None:
    token = new_token()
    entry.status = WaitlistStatus.OFFERED.value
    entry.offer_ticket_type_id = rate.id
    entry.offer_token_hash = hash_token(token)
    entry.offered_at = now
    entry.offer_expires_at = offer_expiry_for(event, now)
    audit.record(
        "waitlist.offered",
        "waitlist_entry",
        entry.id,
        actor_id=actor_id,
        event_id=event.id,
        at=now,
        places=entry.places,
        ticket_type_id=rate.id,
        offer_expires_at=entry.offer_expires_at.isoformat(),
    )
    queue_email(
        "waitlist_offer",
        to=entry.user.email,
        subject=f"Places are free: {event.title}",
        now=now,
        event_id=event.id,
        event=event,
        entry=entry,
        rate=rate,
        claim_url=absolute_url("waitlist.claim", token=token),
    )


def _expire_lapsed_offers(event: Event, now: datetime) -> int:
    lapsed = db.session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.event_id == event.id,
            WaitlistEntry.status == WaitlistStatus.OFFERED.value,
            WaitlistEntry.offer_expires_at <= now,
        )
        .options(selectinload(WaitlistEntry.user))
        .order_by(WaitlistEntry.id)
    ).all()
    for entry in lapsed:
        entry.status = WaitlistStatus.EXPIRED.value
        entry.expired_at = now
        audit.record("waitlist.offer_expired", "waitlist_entry", entry.id, actor_id=None, event_id=event.id, at=now)
        queue_email(
            "waitlist_offer_expired",
            to=entry.user.email,
            subject=f"Your offer of places has ended: {event.title}",
            now=now,
            event_id=event.id,
            event=event,
            entry=entry,
        )
    return len(lapsed)


def run_offers(event_id: int, now: datetime) -> tuple[int, int]:
    """Expire lapsed offers, then offer free places in join order. The caller holds the event lock.

    Returns (offers expired, offers made).
    """
    has_entries = db.session.scalar(
        select(WaitlistEntry.id).where(WaitlistEntry.event_id == event_id, WaitlistEntry.status.in_(IN_LINE)).limit(1)
    )
    if has_entries is None:
        return 0, 0  # the common case before every open sale: one cheap query
    event = db.session.scalars(
        select(Event).where(Event.id == event_id).options(selectinload(Event.ticket_types))
    ).one()
    expired = _expire_lapsed_offers(event, now)
    if not _can_offer(event, now):
        return expired, 0
    left = capacity.availability(event, now)
    if left.places_left == 0:
        return expired, 0
    waiting = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.event_id == event_id, WaitlistEntry.status == WaitlistStatus.WAITING.value)
        .options(selectinload(WaitlistEntry.user))
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    ).all()
    offered = 0
    for entry in waiting:
        if left.places_left == 0:
            break
        rate = _rate_for(entry, list(event.ticket_types), left, now)
        if rate is None:
            continue  # does not fit: keeps its position; a later, smaller entry may be offered
        _make_offer(entry, event, rate, None, now)
        left = _after_offer(left, rate.id, entry.places)
        offered += 1
    return expired, offered


def offer_freed_places(event_id: int, now: datetime) -> None:
    """The capacity module's freed-places handler (runs in the locked write transaction)."""
    run_offers(event_id, now)
