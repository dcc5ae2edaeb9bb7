"""A small world for attacks: attendee A owns everything, attendee B and an admin look on.

A has an invoice booking (so an invoice document) on a paid event with a
custom question, a place on a full event's waiting list, a calendar feed and
an API token. B owns nothing of A's; the admin owns nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select

from bookings.accounts.models import ApiToken, User
from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, PaymentMethod
from bookings.calendar.services import regenerate_feed_token
from bookings.catalogue.models import Event, Question
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from bookings.payments import services as payment_services
from bookings.payments.models import Document
from bookings.waitlist.models import WaitlistEntry
from bookings.waitlist.services import join_waitlist
from tests.support.factories import PASSWORD, make_admin, make_api_token, make_event, make_user


@dataclass
class World:
    owner: User
    other: User
    admin: User
    event: Event
    full_event: Event
    booking: Booking
    attendee_id: int
    entry: WaitlistEntry
    document: Document
    question_id: int
    message_id: int
    feed_token: str
    owner_token: str
    other_token: str
    admin_token: str
    owner_api_token_id: int
    discount_id: int
    password: str = PASSWORD


def build_world(now: datetime) -> World:
    owner = make_user(name="Ann Owner", email="ann@council.example")
    other = make_user(name="Bob Other", email="bob@council.example")
    admin = make_admin(name="Ada Admin", email="ada@council.example")
    event = make_event(
        capacity=10,
        allow_invoice=True,
        ticket_types=[{"name": "Public sector", "price_pence": 12000, "vat_rate_bp": 2000}],
    )
    question = Question(event_id=event.id, label="Which workshop?", position=0)
    db.session.add(question)
    db.session.commit()
    booking = booking_services.book_places(
        event_id=event.id,
        booker=owner,
        ticket_type_id=None,
        people=[
            AttendeeInput(
                name="Ann Owner",
                email="ann@council.example",
                organisation="Exampleton Council",
                job_title="Social worker",
                dietary_needs="Vegan",
                access_needs="Step-free access",
            )
        ],
        method=PaymentMethod.INVOICE,
        now=now,
        billing=booking_services.BillingDetails(
            purchase_order="PO-1", contact="Accounts", email="accounts@council.example", address="1 High Street"
        ),
    )
    full_event = make_event(capacity=1)
    booking_services.book_places(
        event_id=full_event.id,
        booker=other,
        ticket_type_id=None,
        people=[AttendeeInput(name="Bob Other", email="bob@council.example")],
        method=PaymentMethod.FREE,
        now=now,
    )
    entry = join_waitlist(event_id=full_event.id, user=owner, places=1, now=now)
    document = db.session.scalars(select(Document).where(Document.booking_id == booking.id)).one()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.booking_reference == booking.reference)
    ).first()
    feed_token = regenerate_feed_token(owner.id, now)
    owner_token = make_api_token(owner)
    return World(
        owner=owner,
        other=other,
        admin=admin,
        event=event,
        full_event=full_event,
        booking=booking,
        attendee_id=booking.attendees[0].id,
        entry=entry,
        document=document,
        question_id=question.id,
        message_id=message.id,
        feed_token=feed_token,
        owner_token=owner_token,
        owner_api_token_id=db.session.scalars(select(ApiToken.id).where(ApiToken.user_id == owner.id)).one(),
        other_token=make_api_token(other),
        admin_token=make_api_token(admin),
        discount_id=payment_services.create_discount_code(code="WALK10", percent=10, actor=admin, now=now).id,
    )


@pytest.fixture
def world(app, clock) -> World:
    return build_world(clock.now)


@pytest.fixture
def csrf_world(csrf_app, clock) -> World:
    return build_world(clock.now)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
