"""What cancelling or moving an event does to its bookings and who is told (beyond the SMTP journeys)."""

from __future__ import annotations

from sqlalchemy import func, select

from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, BookingStatus, PaymentMethod
from bookings.catalogue import services as catalogue
from bookings.core.audit import AuditRecord
from bookings.core.clock import utcnow
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from bookings.payments.models import Document, DocumentKind
from tests.support.factories import make_admin, make_event, make_user

BILLING = booking_services.BillingDetails(
    purchase_order="PO-1", contact="Accounts Payable", email="ap@council.example", address="1 Town Hall"
)


def _outbox(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def test_cancelling_an_event_credits_an_invoiced_booking_and_says_so(app, clock):
    event = make_event(ticket_types=[{"name": "Public sector", "price_pence": 12000, "vat_rate_bp": 2000}])
    booker = make_user(email="lead@council.example")
    booking = booking_services.book_places(
        event_id=event.id,
        booker=booker,
        ticket_type_id=None,
        people=[AttendeeInput(name="Lead", email="lead@council.example")],
        method=PaymentMethod.INVOICE,
        now=utcnow(),
        billing=BILLING,
    )

    catalogue.cancel_event(event.id, make_admin().id, utcnow())

    credit_notes = db.session.scalars(
        select(Document).where(Document.booking_id == booking.id, Document.kind == DocumentKind.CREDIT_NOTE.value)
    ).all()
    assert len(credit_notes) == 1
    (message,) = _outbox("event_cancelled")
    assert "credit note" in message.text_body


def test_cancelling_an_event_is_recorded_as_the_admin_cancelling_each_booking(app, clock):
    admin = make_admin()
    event = make_event()
    bookings = [
        booking_services.book_places(
            event_id=event.id,
            booker=make_user(),
            ticket_type_id=None,
            people=[AttendeeInput(name="Someone", email="someone@council.example")],
            method=PaymentMethod.FREE,
            now=utcnow(),
        )
        for _ in range(3)
    ]

    catalogue.cancel_event(event.id, admin.id, utcnow())

    db.session.expire_all()
    assert {db.session.get(Booking, b.id).status for b in bookings} == {BookingStatus.CANCELLED.value}
    actors = db.session.scalars(select(AuditRecord.actor_id).where(AuditRecord.action == "booking.cancelled")).all()
    assert actors == [admin.id] * 3
    assert _outbox("booking_cancelled") == []
    assert len(_outbox("event_cancelled")) == 6  # three bookers, three attendees with their own address


def test_a_draft_event_that_changes_tells_nobody(app, clock):
    event = make_event()
    booking_services.book_places(
        event_id=event.id,
        booker=make_user(),
        ticket_type_id=None,
        people=[AttendeeInput(name="Someone", email="someone@council.example")],
        method=PaymentMethod.FREE,
        now=utcnow(),
    )
    admin = make_admin()
    catalogue.unpublish_event(event.id, admin.id, utcnow())

    catalogue.update_event(event.id, {"venue_name": "Another hall"}, admin.id, utcnow())

    assert db.session.scalar(select(func.count()).where(OutboxMessage.kind == "event_changed")) == 0


def test_a_new_venue_is_described_as_a_change_of_place(app, clock):
    event = make_event(venue_name="Town Hall")
    booking_services.book_places(
        event_id=event.id,
        booker=make_user(),
        ticket_type_id=None,
        people=[AttendeeInput(name="Someone", email="someone@council.example")],
        method=PaymentMethod.FREE,
        now=utcnow(),
    )

    catalogue.update_event(event.id, {"venue_name": "Civic Centre"}, make_admin().id, utcnow())

    messages = _outbox("event_changed")
    assert len(messages) == 2
    assert all("changed where it takes place" in m.text_body and "Civic Centre" in m.text_body for m in messages)


def test_an_event_cancelled_by_the_system_still_cancels_its_bookings(app, clock):
    event = make_event()
    booking = booking_services.book_places(
        event_id=event.id,
        booker=make_user(),
        ticket_type_id=None,
        people=[AttendeeInput(name="Someone", email="someone@council.example")],
        method=PaymentMethod.FREE,
        now=utcnow(),
    )

    catalogue.cancel_event(event.id, None, utcnow())

    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CANCELLED.value
    actors = db.session.scalars(select(AuditRecord.actor_id).where(AuditRecord.action == "booking.cancelled")).all()
    assert actors == [None]


def test_cancelling_an_event_ends_its_unfinished_bookings_at_once_and_tells_their_bookers(app, clock):
    event = make_event(capacity=5, hold_minutes=30)
    lapsed_holder, holder = make_user(email="lapsed@council.example"), make_user(email="holder@council.example")
    lapsed = booking_services.hold_places(
        event_id=event.id, booker_id=lapsed_holder.id, ticket_type_id=None, places=1, now=clock.now
    )
    clock.advance(minutes=40)  # that hold has run out, and no sweep has run
    held = booking_services.hold_places(
        event_id=event.id, booker_id=holder.id, ticket_type_id=None, places=2, now=clock.now
    )
    clock.advance(minutes=10)

    catalogue.cancel_event(event.id, make_admin().id, utcnow())

    db.session.expire_all()
    assert {db.session.get(Booking, b.id).status for b in (held, lapsed)} == {BookingStatus.CANCELLED.value}
    messages = _outbox("event_cancelled_hold")
    assert sorted(m.to_address for m in messages) == ["holder@council.example", "lapsed@council.example"]
    assert all("You have not been charged" in m.text_body for m in messages)
    assert held.reference in next(m.text_body for m in messages if m.to_address == "holder@council.example")
    assert _outbox("booking_cancelled") == [] and _outbox("event_cancelled") == []

    # Nothing is left for the sweep to expire when the hold would have run out, so no second email.
    assert booking_services.expire_holds(clock.advance(minutes=30)) == 0
    assert _outbox("hold_expired") == []
