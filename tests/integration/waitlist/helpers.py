"""Helpers for the waiting-list service tests: fill an event, join, read offers and emails."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from bookings import capacity
from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, PaymentMethod
from bookings.catalogue.models import Event
from bookings.core.audit import AuditRecord
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from bookings.waitlist import services
from bookings.waitlist.models import WaitlistEntry
from tests.support.factories import make_user


def book(event: Event, n: int, now: datetime, user=None, ticket_type_id: int | None = None) -> Booking:
    """A confirmed free booking of `n` places."""
    user = user or make_user()
    people = [AttendeeInput(name=f"Person {i}", email=f"p{i}-{user.id}@council.example") for i in range(n)]
    return booking_services.book_places(
        event_id=event.id,
        booker=user,
        ticket_type_id=ticket_type_id,
        people=people,
        method=PaymentMethod.FREE,
        now=now,
    )


def cancel(booking: Booking, now: datetime) -> None:
    booker = booking.booker
    booking_services.cancel_booking(reference=booking.reference, actor=booker, now=now)


def join(event: Event, places: int, now: datetime, user=None, **kwargs) -> WaitlistEntry:
    user = user or make_user()
    return services.join_waitlist(event_id=event.id, user=user, places=places, now=now, **kwargs)


def fresh(entry: WaitlistEntry) -> WaitlistEntry:
    db.session.rollback()
    return db.session.get(WaitlistEntry, entry.id)


def taken(event: Event, now: datetime) -> int:
    db.session.rollback()
    return capacity.availability(db.session.get(Event, event.id), now).taken


def places_left(event: Event, now: datetime) -> int:
    db.session.rollback()
    return capacity.availability(db.session.get(Event, event.id), now).places_left


def outbox(kind: str, to: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.scalars(query))


def claim_token(message: OutboxMessage) -> str:
    match = re.search(r"/waitlist/claim/([A-Za-z0-9_\-]+)", message.text_body)
    assert match, message.text_body
    return match.group(1)


def audit_actions(entry: WaitlistEntry) -> list[str]:
    query = (
        select(AuditRecord.action)
        .where(AuditRecord.subject_type == "waitlist_entry", AuditRecord.subject_id == str(entry.id))
        .order_by(AuditRecord.id)
    )
    return list(db.session.scalars(query))
