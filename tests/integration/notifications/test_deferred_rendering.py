"""Confirmation emails queued in the booking's transaction and rendered by the mail process.

The row is written with the booking (so it is never lost) as `unrendered`,
holding only its recipe; neither the lock nor the request pays for the
templates and the calendar file. The delivery run renders it before it
sends. Rendering twice still gives one message. One that cannot be rendered
is tried again with the senders' back-off and fails where admins see it.
"""

from __future__ import annotations

import json

from sqlalchemy import select, update

from bookings.admin.services import retry_outbox_message
from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import PaymentMethod
from bookings.booking.services import confirming
from bookings.core.clock import utcnow
from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications import outbox
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.notifications.services import failed_messages
from tests.integration.notifications.conftest import calendar_parts, to
from tests.support.factories import make_admin, make_event, make_user


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


def _break_the_renderer(monkeypatch) -> None:
    def broken(params, memo):
        raise RuntimeError("template store unreachable")

    monkeypatch.setitem(outbox._renderers, confirming.CONFIRMATION_RENDERER, broken)


def test_a_message_that_cannot_be_rendered_is_tried_again_after_the_back_off(app, clock, smtp_server, monkeypatch):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")
    booking = _book_free(event, booker, [("Ann", "ann@council.example")])
    assert booking.status == "confirmed"
    _break_the_renderer(monkeypatch)

    assert outbox.deliver_pending(clock.now) == {"sent": 0, "failed": 0}
    messages = _messages()
    assert {m.status for m in messages} == {outbox.UNRENDERED}
    assert [m.attempts for m in messages] == [1, 1]
    assert all(m.last_error == "Not rendered: RuntimeError: template store unreachable" for m in messages)
    assert [p.status for p in failed_messages()] == [outbox.UNRENDERED] * 2  # shown to admins already
    assert outbox.render_deferred(clock.now) == 0  # not due again until the back-off has passed
    assert {m.attempts for m in _messages()} == {1}

    monkeypatch.undo()
    later = clock.advance(seconds=outbox.BACKOFF_BASE_SECONDS)
    assert outbox.deliver_pending(later) == {"sent": 2, "failed": 0}
    assert {(m.status, m.last_error) for m in _messages()} == {(OutboxStatus.SENT.value, "")}
    assert booking.reference in smtp_server.messages[0].get_body(("plain",)).get_content()


def test_a_message_that_never_renders_fails_where_admins_see_it_and_a_retry_renders_it(
    app, clock, smtp_server, monkeypatch
):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")
    booking = _book_free(event, booker, [("Booker", "booker@council.example")])
    _break_the_renderer(monkeypatch)
    outbox.deliver_pending(clock.now)
    outbox.deliver_pending(clock.advance(hours=1))

    (message,) = _messages()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED.value, 2)
    assert [p.has_given_up for p in failed_messages()] == [True]
    assert json.loads(message.text_body)["params"]["reference"] == booking.reference  # still its recipe

    monkeypatch.undo()
    retry_outbox_message(message.id, make_admin(), clock.now)  # the dashboard's "Retry now"
    assert [m.status for m in _messages()] == [outbox.UNRENDERED]  # rendered before it is sent, not sent as JSON
    assert outbox.deliver_pending(clock.now) == {"sent": 1, "failed": 0}
    assert booking.reference in smtp_server.messages[0].get_body(("plain",)).get_content()


def test_a_recipe_that_cannot_be_read_fails_at_once(app, clock):
    event = make_event(capacity=5)
    _book_free(event, make_user(email="booker@council.example"), [("Booker", "booker@council.example")])
    db.session.execute(update(OutboxMessage).values(text_body="{not json"))
    db.session.commit()

    assert outbox.render_deferred(clock.now) == 0
    (message,) = _messages()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED.value, 1)
    assert message.last_error.startswith("Not rendered: ")


def test_a_booking_made_inside_a_callers_transaction_queues_them_the_same_way(app, clock):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")

    @transactional
    def book_inside():
        return _book_free(event, booker, [("Ann", "ann@council.example")])

    book_inside()
    assert {m.status for m in _messages()} == {outbox.UNRENDERED}
