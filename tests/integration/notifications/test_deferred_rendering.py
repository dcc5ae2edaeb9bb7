"""Confirmation emails queued in the booking's transaction and rendered by the mail process.

The row is written with the booking (so it is never lost) as `unrendered`,
holding only its recipe; neither the lock nor the request pays for the
templates and the calendar file. The delivery run renders it before it
sends. Rendering twice still gives one message.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import PaymentMethod
from bookings.booking.services import confirming
from bookings.core.clock import utcnow
from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications import outbox
from bookings.notifications.models import OutboxMessage, OutboxStatus
from tests.integration.notifications.conftest import calendar_parts, to
from tests.support.factories import make_event, make_user


def _messages() -> list[OutboxMessage]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    db.session.commit()
    return rows


def _book_free(event, booker, people):
    return services.book_places(
        event_id=event.id,
        booker=booker,
        ticket_type_id=None,
        people=[AttendeeInput(name=name, email=email) for name, email in people],
        method=PaymentMethod.FREE,
        now=utcnow(),
    )


def test_a_free_booking_queues_its_emails_unrendered_with_their_recipe(app, clock):
    event = make_event(capacity=5, title="Data protection basics")
    booker = make_user(email="booker@council.example")
    booking = _book_free(event, booker, [("Ann", "ann@council.example")])
    messages = _messages()
    assert [(m.kind, m.to_address, m.status) for m in messages] == [
        ("booking_confirmed", "booker@council.example", outbox.UNRENDERED),
        ("attendee_confirmed", "ann@council.example", outbox.UNRENDERED),
    ]
    recipes = [json.loads(m.text_body) for m in messages]
    assert [r["params"]["reference"] for r in recipes] == [booking.reference] * 2
    assert all(m.html_body == "" and m.attachments == [] for m in messages)


def test_delivery_renders_them_with_the_booking_and_its_calendar_file(app, clock, smtp_server):
    event = make_event(capacity=5, title="Data protection basics")
    booker = make_user(email="booker@council.example")
    booking = _book_free(event, booker, [("Ann", "ann@council.example")])
    assert outbox.render_deferred() == 2
    messages = _messages()
    assert {m.status for m in messages} == {OutboxStatus.PENDING.value}
    assert booking.reference in messages[0].text_body
    assert all("Data protection basics" in m.text_body and "Data protection basics" in m.html_body for m in messages)
    assert all(m.attachments[0]["filename"] == f"booking-{booking.reference}.ics" for m in messages)


def test_an_unrendered_message_is_never_claimed_for_sending(app, clock, smtp_server):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")
    _book_free(event, booker, [("Ann", "ann@council.example")])
    assert {m.status for m in _messages()} == {outbox.UNRENDERED}
    assert outbox._claim_next(utcnow()) is None


def test_delivery_renders_and_sends_them(app, clock, smtp_server):
    event = make_event(capacity=5, title="Safeguarding refresher")
    booker = make_user(email="booker@council.example")
    booking = _book_free(event, booker, [("Ann", "ann@council.example")])

    assert outbox.deliver_pending(utcnow()) == {"sent": 2, "failed": 0}

    [to_booker] = [m for m in smtp_server.messages if to("booker@council.example")(m)]
    assert booking.reference in to_booker.get_body(("plain",)).get_content()
    assert len(calendar_parts(to_booker)) == 1
    assert {m.status for m in _messages()} == {OutboxStatus.SENT.value}


def test_rendering_a_message_again_changes_nothing(app, clock):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")
    _book_free(event, booker, [("Ann", "ann@council.example")])
    assert outbox.render_deferred() == 2
    first = [(m.message_key, m.text_body, m.status) for m in _messages()]

    assert outbox.render_deferred() == 0
    assert [(m.message_key, m.text_body, m.status) for m in _messages()] == first


def test_a_message_that_cannot_be_rendered_waits_for_the_next_delivery_run(app, clock, smtp_server, monkeypatch):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")
    booking = _book_free(event, booker, [("Ann", "ann@council.example")])
    assert booking.status == "confirmed"

    def broken(params, memo):
        raise RuntimeError("template store unreachable")

    monkeypatch.setitem(outbox._renderers, confirming.CONFIRMATION_RENDERER, broken)
    assert outbox.deliver_pending(utcnow()) == {"sent": 0, "failed": 0}
    assert {m.status for m in _messages()} == {outbox.UNRENDERED}

    monkeypatch.undo()
    assert outbox.render_deferred() == 2
    assert {m.status for m in _messages()} == {OutboxStatus.PENDING.value}


def test_a_booking_made_inside_a_callers_transaction_queues_them_the_same_way(app, clock):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")

    @transactional
    def book_inside():
        return _book_free(event, booker, [("Ann", "ann@council.example")])

    book_inside()
    assert {m.status for m in _messages()} == {outbox.UNRENDERED}
