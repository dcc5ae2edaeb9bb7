"""Helpers shared by the payment tests: card bookings, checkout, and signed webhook delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking
from bookings.extensions import db
from bookings.payments import services
from bookings.payments.models import Payment
from tests.support.factories import make_event, make_user

SUCCESS_URL = "http://localhost/bookings/return"
CANCEL_URL = "http://localhost/bookings/review"


def real_now() -> datetime:
    """Stripe (and the fake) check `expires_at` against the real time, so card tests run on it."""
    return datetime.now(UTC).replace(microsecond=0)


def paid_event(capacity: int = 10, price_pence: int = 12000, vat_rate_bp: int = 2000, **overrides):
    return make_event(
        capacity=capacity,
        ticket_types=[{"name": "Public sector", "price_pence": price_pence, "vat_rate_bp": vat_rate_bp}],
        **overrides,
    )


def held_booking(event, now, places: int = 1, user=None) -> Booking:
    """A held booking with attendee details, ready for checkout."""
    user = user or make_user()
    booking = booking_services.hold_places(
        event_id=event.id, booker_id=user.id, ticket_type_id=None, places=places, now=now, card=True
    )
    people = [
        AttendeeInput(name=f"Person {i}", email=f"p{i}.{booking.reference.lower()}@nhs.example") for i in range(places)
    ]
    return booking_services.save_attendee_details(reference=booking.reference, actor=user, people=people, now=now)


def checkout(booking: Booking, now) -> str:
    return services.start_checkout(
        reference=booking.reference, actor=booking.booker, now=now, success_url=SUCCESS_URL, cancel_url=CANCEL_URL
    )


def payment_of(booking: Booking) -> Payment:
    db.session.commit()  # end any read snapshot (SQLite WAL) so rows other processes committed are seen
    db.session.expire_all()
    payment = db.session.scalars(
        select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id.desc())
    ).first()
    db.session.commit()
    return payment


def reload(booking: Booking) -> Booking:
    db.session.commit()  # end any read snapshot (SQLite WAL) so rows other processes committed are seen
    db.session.expire_all()
    fresh = db.session.scalars(select(Booking).where(Booking.id == booking.id)).one()
    return fresh


def post_event(client, fake, event_id: str, *, secret: str | None = None, payload: bytes | None = None):
    """Deliver a stored fake-Stripe event to the app, signed with the real scheme (t=..., v1=HMAC-SHA256)."""
    body = payload if payload is not None else fake.event_payload(event_id)
    return client.post(
        "/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": fake.sign(body, secret=secret), "Content-Type": "application/json"},
    )


def events_of(fake, type_: str, object_id: str | None = None) -> list[str]:
    return [e["id"] for e in fake.events(type_) if object_id is None or e["object_id"] == object_id]


def make_event_payload(event_id: str, type_: str, obj: dict) -> bytes:
    """An event body for types the fake cannot produce (asynchronous payment methods)."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": type_,
            "api_version": "2024-06-20",
            "created": 0,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": None,
        }
    ).encode()
