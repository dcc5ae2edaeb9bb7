"""Confirmation emails queued in the booking's transaction and rendered after its commit, outside the lock.

The row is written with the booking (so it is never lost) as `unrendered`;
the request renders it after the commit, and the delivery run renders any a
request left behind. Rendering twice still gives one message.
"""

from __future__ import annotations

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


def _book_without_rendering(monkeypatch, event, booker, people):
    """A request that dies between its commit and rendering its emails."""
    monkeypatch.setattr(confirming, "render_deferred_now", lambda: 0)
    booking = _book_free(event, booker, people)
    monkeypatch.undo()
    db.session.info.pop(outbox._DEFERRED_KEY, None)
    return booking


def test_free_booking_emails_are_rendered_by_the_time_the_service_returns(app, clock):
    event = make_event(capacity=5, title="Data protection basics")
    booker = make_user(email="booker@council.example")
    booking = _book_free(event, booker, [("Ann", "ann@council.example")])
    messages = _messages()
    assert [(m.kind, m.to_address, m.status) for m in messages] == [
        ("booking_confirmed", "booker@council.example", OutboxStatus.PENDING.value),
        ("attendee_confirmed", "ann@council.example", OutboxStatus.PENDING.value),
    ]
    assert booking.reference in messages[0].text_body
    assert all("Data protection basics" in m.text_body and "Data protection basics" in m.html_body for m in messages)
    assert all(m.attachments[0]["filename"] == f"booking-{booking.reference}.ics" for m in messages)


def test_an_unrendered_message_is_never_claimed_for_sending(app, clock, smtp_server, monkeypatch):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")
    _book_without_rendering(monkeypatch, event, booker, [("Ann", "ann@council.example")])
    assert {m.status for m in _messages()} == {outbox.UNRENDERED}
    assert outbox._claim_next(utcnow()) is None


def test_delivery_renders_and_sends_what_a_dead_request_left_unrendered(app, clock, smtp_server, monkeypatch):
    event = make_event(capacity=5, title="Safeguarding refresher")
    booker = make_user(email="booker@council.example")
    booking = _book_without_rendering(monkeypatch, event, booker, [("Ann", "ann@council.example")])

    assert outbox.deliver_pending(utcnow()) == {"sent": 2, "failed": 0}

    [to_booker] = [m for m in smtp_server.messages if to("booker@council.example")(m)]
    assert booking.reference in to_booker.get_body(("plain",)).get_content()
    assert len(calendar_parts(to_booker)) == 1
    assert {m.status for m in _messages()} == {OutboxStatus.SENT.value}


def test_rendering_a_message_again_changes_nothing(app, clock, monkeypatch):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")
    _book_without_rendering(monkeypatch, event, booker, [("Ann", "ann@council.example")])
    assert outbox.render_deferred() == 2
    first = [(m.message_key, m.text_body, m.status) for m in _messages()]

    assert outbox.render_deferred() == 0
    assert [(m.message_key, m.text_body, m.status) for m in _messages()] == first


def test_a_message_that_cannot_be_rendered_waits_without_failing_the_booking(app, clock, monkeypatch):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")

    def broken(params, memo):
        raise RuntimeError("template store unreachable")

    monkeypatch.setitem(outbox._renderers, confirming.CONFIRMATION_RENDERER, broken)
    booking = _book_free(event, booker, [("Ann", "ann@council.example")])
    assert booking.status == "confirmed"
    assert {m.status for m in _messages()} == {outbox.UNRENDERED}

    monkeypatch.undo()
    assert outbox.render_deferred() == 2
    assert {m.status for m in _messages()} == {OutboxStatus.PENDING.value}


def test_a_booking_made_inside_a_callers_transaction_renders_its_emails_there(app, clock):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")

    @transactional
    def book_inside():
        return _book_free(event, booker, [("Ann", "ann@council.example")])

    book_inside()
    assert {m.status for m in _messages()} == {OutboxStatus.PENDING.value}
