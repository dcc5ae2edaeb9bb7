"""Helpers for the console tests: an event with bookings, an invoice booking, a failed email, audit rows, an event
with sessions given in London time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, PaymentMethod
from bookings.catalogue.models import Event, EventSession, Question
from bookings.core.audit import AuditRecord
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from tests.support.factories import make_event, make_user


def book(event: Event, now: datetime, *, people: list[AttendeeInput] | None = None, user=None, method=None) -> Booking:
    """A confirmed booking (free, or by invoice for a paid rate)."""
    user = user or make_user()
    people = people or [AttendeeInput(name=f"Person of {user.name}", email=user.email)]
    paid = any(t.price_pence for t in db.session.get(Event, event.id).ticket_types)
    return booking_services.book_places(
        event_id=event.id,
        booker=user,
        ticket_type_id=None,
        people=people,
        method=method or (PaymentMethod.INVOICE if paid else PaymentMethod.FREE),
        now=now,
    )


def paid_event(**overrides) -> Event:
    return make_event(ticket_types=[{"name": "Public sector", "price_pence": 12000}], **overrides)


def failed_email(to: str = "gone@council.example", now: datetime | None = None) -> OutboxMessage:
    message = OutboxMessage(
        message_key=uuid.uuid4().hex,
        kind="booking_confirmed",
        to_address=to,
        subject="Booking confirmed",
        text_body="Hello",
        status=OutboxStatus.FAILED.value,
        attempts=8,
        next_attempt_at=now,
        created_at=now,
        last_error="550 mailbox unavailable",
    )
    db.session.add(message)
    db.session.commit()
    return message


def add_question(event: Event, label: str = "Which workshop?") -> Question:
    question = Question(event_id=event.id, label=label, kind="text", choices=[], is_required=False, position=0)
    db.session.add(question)
    db.session.commit()
    return question


def audit_rows(action: str) -> list[AuditRecord]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)))


def count(model, *where) -> int:
    db.session.rollback()
    return len(db.session.scalars(select(model).where(*where)).all())


LONDON = ZoneInfo("Europe/London")


def london_utc(local: str) -> datetime:
    """A wall-clock time in London (the earlier one in a repeated hour), as UTC."""
    return datetime.fromisoformat(local).replace(tzinfo=LONDON).astimezone(UTC)


def london_event(*sessions: tuple[str, str], **overrides) -> Event:
    """An Europe/London event whose sessions start and end at these London wall-clock times."""
    event = make_event(days=len(sessions), timezone="Europe/London", **overrides)
    for session, (starts, ends) in zip(event.sessions, sessions, strict=True):
        session.starts_at, session.ends_at = london_utc(starts), london_utc(ends)
    event.starts_at, event.ends_at = event.sessions[0].starts_at, event.sessions[-1].ends_at
    db.session.commit()
    return event


def london_times(event_id: int) -> list[tuple[str, str]]:
    """Each session's start and end in London, ISO 8601 with the offset, in order."""
    db.session.rollback()
    sessions = db.session.scalars(
        select(EventSession).where(EventSession.event_id == event_id).order_by(EventSession.starts_at)
    )
    return [(s.starts_at.astimezone(LONDON).isoformat(), s.ends_at.astimezone(LONDON).isoformat()) for s in sessions]


# The console's new-event form, filled in well (two sessions, one rate).
GOOD_EVENT = {
    "title": "Safeguarding adults: level 2",
    "kind": "course",
    "timezone": "Europe/London",
    "capacity": "20",
    "max_places_per_booking": "5",
    "cancellation_cutoff_hours": "48",
    "substitution_cutoff_hours": "2",
    "hold_minutes": "",
    "offer_expiry_hours": "12",
    "allow_invoice": "y",
    "venue_name": "Civic Centre",
    "session_rows": "2",
    "sessions-0-starts_at": "2027-03-27T09:30",
    "sessions-0-ends_at": "2027-03-27T16:30",
    "rate_rows": "1",
    "rates-0-name": "Public sector",
    "rates-0-price": "95.50",
    "rates-0-vat": "20",
}
