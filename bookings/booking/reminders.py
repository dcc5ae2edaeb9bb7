"""Reminders: one email to each person with a confirmed place, REMINDER_DAYS_BEFORE days before the event.

The rule owned here is "sent once". Each reminder is written to the outbox
under a fixed message key, `reminder:<booking reference>:<recipient>`, which
the outbox holds unique. A sweep skips keys that exist already, and two
sweeps at once cannot both write one: on SQLite the write transactions run
one after the other (BEGIN IMMEDIATE), on PostgreSQL the event's row lock
orders them, and the unique key is the backstop either way (the loser's
transaction rolls back and counts nothing). Outbox rows must therefore be
kept at least until their event has taken place.

It lives in the booking area because it reads bookings; notifications sits
below booking and knows nothing of them (DESIGN.md's layering).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.booking import hooks
from bookings.booking.models import Attendee, Booking, BookingStatus
from bookings.booking.notify_event_changes import recipients
from bookings.catalogue.models import Event, EventStatus
from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from bookings.notifications.outbox import queue_email

REMINDER_KIND = "reminder"


def reminder_key(booking: Booking, attendee: Attendee | None) -> str:
    """The outbox key of one person's reminder for one booking (the booker's when attendee is None)."""
    who = "booker" if attendee is None else f"a{attendee.id}"
    return f"{REMINDER_KIND}:{booking.reference}:{who}"


def _events_due(now: datetime, days: int) -> list[int]:
    """Published events starting after now and within `days` days."""
    return list(
        db.session.scalars(
            select(Event.id).where(
                Event.status == EventStatus.PUBLISHED.value,
                Event.starts_at > now,
                Event.starts_at <= now + timedelta(days=days),
            )
        ).all()
    )


@transactional
def _queue_event_reminders(event_id: int, now: datetime) -> int:
    # The event lock orders two sweeps on PostgreSQL: the second sees the first's keys once it gets in.
    event = capacity.lock_event(event_id)
    if event.status != EventStatus.PUBLISHED.value or event.starts_at is None or event.starts_at <= now:
        return 0
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED.value)
        .options(selectinload(Booking.booker), selectinload(Booking.attendees).selectinload(Attendee.ticket_type))
        .order_by(Booking.id)
    ).all()
    if not bookings:
        return 0
    sent = set(
        db.session.scalars(
            select(OutboxMessage.message_key).where(
                OutboxMessage.kind == REMINDER_KIND,
                OutboxMessage.booking_reference.in_([b.reference for b in bookings]),
            )
        ).all()
    )
    queued = 0
    for booking in bookings:
        attachments = None
        for address, attendee in recipients(booking):
            key = reminder_key(booking, attendee)
            if key in sent:
                continue
            if attachments is None:
                attachments = hooks.attachments_for(booking, "confirmed")
            queue_email(
                REMINDER_KIND,
                to=address,
                subject=f"Reminder: {event.title} is coming up",
                now=now,
                attachments=attachments,
                booking_reference=booking.reference,
                event_id=event_id,
                message_key=key,
                booking=booking,
                event=event,
                attendee=attendee,
            )
            queued += 1
    db.session.flush()  # a duplicate key fails here, inside this transaction
    return queued


def queue_reminders(now: datetime) -> int:
    """Write the reminders that are due to the outbox, once each. Safe to run on several hosts at once."""
    days = current_app.config["REMINDER_DAYS_BEFORE"]
    if days <= 0:
        return 0
    event_ids = _events_due(now, days)
    db.session.commit()
    total = 0
    for event_id in event_ids:
        try:
            total += _queue_event_reminders(event_id, now)
        except IntegrityError:
            # Another sweep wrote this event's reminders first; its transaction is the one that counts.
            db.session.rollback()
    return total
