"""Every kind of booking email, end to end: services write the outbox, `deliver_pending` sends it over SMTP
to a real aiosmtpd server on localhost, and the tests read what that server received."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, BookingStatus
from bookings.catalogue import services as catalogue
from bookings.core.clock import utcnow
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from bookings.sweep import run_sweep
from tests.integration.notifications.conftest import (
    accessibility_problems,
    calendar_of,
    calendar_parts,
    deliver,
    html_of,
    text_of,
    to,
)
from tests.support.factories import make_admin, make_event, make_user


def _uids_and_sequences(calendar) -> dict[str, int]:
    return {str(e["UID"]): int(e.get("SEQUENCE", 0)) for e in calendar.walk("VEVENT")}


def _assert_readable(message) -> None:
    assert text_of(message).rstrip().endswith("Questions? Reply to this email or write to events@bookings.example.")
    assert accessibility_problems(html_of(message)) == []


def test_confirmed_booking_sends_the_booker_text_html_and_an_invite(smtp_server, clock, book):
    booker = make_user(email="ada@council.example", name="Ada Lovelace")
    event = make_event(title="Data protection basics", days=2)
    booking = book(event, booker)

    assert deliver() == {"sent": 1, "failed": 0}

    (message,) = smtp_server.wait_for(to("ada@council.example"))
    assert message["Subject"] == f"Booking confirmed: Data protection basics ({booking.reference})"
    assert booking.reference in text_of(message)
    _assert_readable(message)
    method, calendar = calendar_of(message)
    assert method == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert len(list(calendar.walk("VEVENT"))) == 2
    assert all(booking.reference in uid for uid in _uids_and_sequences(calendar))


def test_each_attendee_with_their_own_address_gets_their_own_confirmation(smtp_server, clock, book):
    booker = make_user(email="lead@council.example", name="Team Lead")
    event = make_event(title="Safeguarding refresher")
    book(event, booker, [("Grace Hopper", "grace@council.example"), ("Alan Turing", "alan@council.example")])

    deliver()

    assert sorted(m["To"] for m in smtp_server.messages) == [
        "alan@council.example",
        "grace@council.example",
        "lead@council.example",
    ]
    (grace,) = smtp_server.wait_for(to("grace@council.example"))
    assert grace["Subject"] == "Your place at Safeguarding refresher"
    assert "Hello Grace Hopper" in text_of(grace)
    assert calendar_of(grace)[0] == "REQUEST"
    _assert_readable(grace)


def test_cancelling_a_booking_sends_a_calendar_cancellation(smtp_server, clock, book):
    booker = make_user(email="ada@council.example")
    event = make_event(title="Budget planning")
    booking = book(event, booker)
    deliver()
    smtp_server.clear()

    services.cancel_booking(reference=booking.reference, actor=booker, now=utcnow())
    deliver()

    (message,) = smtp_server.wait_for(to("ada@council.example"))
    assert message["Subject"] == f"Cancelled: Budget planning ({booking.reference})"
    method, calendar = calendar_of(message)
    assert method == "CANCEL"
    assert {str(e["STATUS"]) for e in calendar.walk("VEVENT")} == {"CANCELLED"}
    _assert_readable(message)


def test_an_expired_hold_tells_the_booker_their_places_were_released(smtp_server, clock):
    booker = make_user(email="ada@council.example")
    event = make_event(title="Procurement law")
    hold = services.hold_places(event_id=event.id, booker_id=booker.id, ticket_type_id=None, places=1, now=utcnow())
    services.save_attendee_details(
        reference=hold.reference,
        actor=booker,
        people=[AttendeeInput(name="Ada Lovelace", email="ada@council.example")],
        now=utcnow(),
    )
    clock.advance(hours=2)

    run_sweep(utcnow())

    (message,) = smtp_server.wait_for(to("ada@council.example"))
    assert message["Subject"] == "Your places for Procurement law were released"
    assert calendar_parts(message) == []
    _assert_readable(message)


def test_moving_an_event_sends_everyone_an_updated_invite_with_the_same_uids(smtp_server, clock, book):
    admin = make_admin()
    booker = make_user(email="lead@council.example", name="Team Lead")
    event = make_event(title="Leadership day")
    book(event, booker, [("Team Lead", "lead@council.example"), ("Grace Hopper", "grace@council.example")])
    deliver()
    (first,) = smtp_server.wait_for(to("lead@council.example"))
    before = _uids_and_sequences(calendar_of(first)[1])
    smtp_server.clear()

    session = event.sessions[0]
    later = session.starts_at + timedelta(days=7)
    catalogue.update_event(
        event.id,
        {
            "sessions": [
                {"id": session.id, "starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=3)).isoformat()}
            ]
        },
        admin.id,
        utcnow(),
    )
    deliver()

    messages = smtp_server.messages
    assert sorted(m["To"] for m in messages) == ["grace@council.example", "lead@council.example"]
    for message in messages:
        assert message["Subject"] == "Leadership day has changed: check the new details"
        assert "dates or times" in text_of(message)
        method, calendar = calendar_of(message)
        assert method == "REQUEST"
        after = _uids_and_sequences(calendar)
        assert after.keys() == before.keys()
        assert all(after[uid] > before[uid] for uid in before)
        (entry,) = calendar.walk("VEVENT")
        assert entry.decoded("DTSTART") == later
        _assert_readable(message)


def test_changing_only_the_rates_sends_no_email(smtp_server, clock, book):
    admin = make_admin()
    event = make_event(capacity=10)
    book(event, make_user())
    deliver()
    smtp_server.clear()

    catalogue.update_event(event.id, {"capacity": 20}, admin.id, utcnow())

    assert deliver() == {"sent": 0, "failed": 0}


def test_cancelling_an_event_cancels_each_booking_and_tells_everyone_once(smtp_server, clock, book):
    admin = make_admin()
    booker = make_user(email="lead@council.example", name="Team Lead")
    event = make_event(title="Coastal flooding conference")
    booking = book(event, booker, [("Team Lead", "lead@council.example"), ("Grace Hopper", "grace@council.example")])
    deliver()
    smtp_server.clear()

    catalogue.cancel_event(event.id, admin.id, utcnow(), reason="Venue closed")
    deliver()

    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CANCELLED.value
    messages = smtp_server.messages
    assert sorted(m["To"] for m in messages) == ["grace@council.example", "lead@council.example"]
    for message in messages:
        assert message["Subject"] == "Cancelled: Coastal flooding conference"
        assert "You do not need to do anything" in text_of(message)
        method, calendar = calendar_of(message)
        assert method == "CANCEL"
        assert {str(e["STATUS"]) for e in calendar.walk("VEVENT")} == {"CANCELLED"}
        _assert_readable(message)
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.booking_reference == booking.reference))
    assert "booking_cancelled" not in set(kinds)


def test_the_sweep_sends_a_reminder_to_the_booker_and_each_attendee_once(app, smtp_server, clock, book):
    app.config["REMINDER_DAYS_BEFORE"] = 2
    event = make_event(title="First aid at work", starts_at=utcnow() + timedelta(days=10))
    booker = make_user(email="lead@council.example", name="Team Lead")
    book(event, booker, [("Grace Hopper", "grace@council.example")])
    deliver()
    smtp_server.clear()

    clock.advance(days=7)
    assert run_sweep(utcnow())["reminders_queued"] == 0
    clock.advance(days=1, minutes=1)
    counts = run_sweep(utcnow())
    clock.advance(hours=1)
    again = run_sweep(utcnow())

    assert counts["reminders_queued"] == 2
    assert counts["mail_sent"] == 2
    assert again["reminders_queued"] == 0
    messages = smtp_server.messages
    assert sorted(m["To"] for m in messages) == ["grace@council.example", "lead@council.example"]
    for message in messages:
        assert message["Subject"] == "Reminder: First aid at work is coming up"
        assert calendar_of(message)[0] == "REQUEST"
        _assert_readable(message)


def test_no_reminder_for_a_cancelled_booking(app, smtp_server, clock, book):
    event = make_event(starts_at=utcnow() + timedelta(days=10))
    booker = make_user()
    booking = book(event, booker)
    services.cancel_booking(reference=booking.reference, actor=booker, now=utcnow())
    clock.advance(days=9)

    assert run_sweep(utcnow())["reminders_queued"] == 0
    assert [m["Subject"] for m in smtp_server.messages if "Reminder" in m["Subject"]] == []


def test_reminders_are_off_when_days_before_is_zero(app, smtp_server, clock, book):
    app.config["REMINDER_DAYS_BEFORE"] = 0
    event = make_event(starts_at=utcnow() + timedelta(days=1))
    book(event, make_user())

    assert run_sweep(utcnow())["reminders_queued"] == 0


def test_the_waiting_list_emails_arrive_joined_then_offer_with_claim_link_then_expired(smtp_server, clock, book):
    from bookings.waitlist.services import join_waitlist

    event = make_event(title="Mental health first aid", capacity=1, starts_at=utcnow() + timedelta(days=30))
    first = make_user(email="first@council.example")
    waiting = make_user(email="waiting@council.example")
    booking = book(event, first)
    join_waitlist(event_id=event.id, user=waiting, places=1, now=utcnow())
    services.cancel_booking(reference=booking.reference, actor=first, now=utcnow())
    run_sweep(utcnow())
    clock.advance(days=3)
    run_sweep(utcnow())

    joined, offer, expired = [m for m in smtp_server.messages if m["To"] == "waiting@council.example"]
    assert "waiting list" in joined["Subject"].lower()
    assert "/waitlist/claim/" in text_of(offer)
    assert "Claim your places</a>" in html_of(offer)
    assert "Claim them by" in text_of(offer)
    assert "not claimed in time" in text_of(expired)
    for message in (joined, offer, expired):
        _assert_readable(message)
