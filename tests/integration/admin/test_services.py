"""Console services against a real database: booking for someone (and the audited override), moving and
duplicating events, check-in, retrying failed emails, dashboard figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bookings import capacity
from bookings.accounts.models import User
from bookings.admin import queries, services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Attendee, Booking, PaymentMethod
from bookings.catalogue.models import Event, EventSession, EventStatus
from bookings.core.errors import Conflict, Forbidden, SoldOut, ValidationError
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.payments import services as payment_services
from tests.integration.admin.support import add_question, audit_rows, book, count, failed_email, paid_event
from tests.support.factories import make_admin, make_event, make_user


def _people(n: int) -> list[AttendeeInput]:
    return [AttendeeInput(name=f"Delegate {i}", email=f"delegate{i}@council.example") for i in range(n)]


def test_booking_on_behalf_creates_the_booker_and_confirms(app, clock):
    event = make_event(capacity=5)
    admin = make_admin()

    booking = services.book_on_behalf(
        event.id, admin, "New.Person@Council.example", _people(2), PaymentMethod.FREE, False, "", clock.now
    )

    booker = db.session.scalar(select(User).where(User.email == "new.person@council.example"))
    assert booking.booker_id == booker.id
    assert booking.is_confirmed and not booking.is_over_capacity
    assert (
        count(OutboxMessage, OutboxMessage.kind == "booking_confirmed", OutboxMessage.to_address == booker.email) == 1
    )


def test_booking_on_behalf_of_a_full_event_is_refused_without_override(app, clock):
    event = make_event(capacity=1)
    book(event, clock.now)

    with pytest.raises(SoldOut):
        services.book_on_behalf(
            event.id, make_admin(), "x@council.example", _people(1), PaymentMethod.FREE, False, "", clock.now
        )

    assert count(Booking) == 1


def test_override_goes_over_capacity_flags_the_booking_and_audits_admin_and_reason(app, clock):
    event = make_event(capacity=1)
    book(event, clock.now)
    admin = make_admin()

    booking = services.book_on_behalf(
        event.id, admin, "x@council.example", _people(2), PaymentMethod.FREE, True, "Speaker's team", clock.now
    )

    assert booking.is_over_capacity
    assert capacity.availability(db.session.get(Event, event.id), clock.now).taken == 3
    [row] = audit_rows("booking.over_capacity")
    assert row.actor_id == admin.id and row.subject_id == booking.reference
    assert row.details["reason"] == "Speaker's team"


def test_override_without_a_reason_writes_nothing(app, clock):
    event = make_event(capacity=1)

    with pytest.raises(ValidationError) as caught:
        services.book_on_behalf(
            event.id, make_admin(), "x@council.example", _people(1), PaymentMethod.FREE, True, " ", clock.now
        )

    assert "reason" in caught.value.errors
    assert count(Booking) == 0 and count(User, User.email == "x@council.example") == 0


def test_booking_on_behalf_checks_every_field_at_once(app, clock):
    event = paid_event()

    with pytest.raises(ValidationError) as caught:
        services.book_on_behalf(
            event.id,
            make_admin(),
            "not-an-email",
            [AttendeeInput(name="", email="")],
            PaymentMethod.FREE,
            False,
            "",
            clock.now,
        )

    assert {"booker_email", "attendees-0-name", "attendees-0-email", "method"} <= set(caught.value.errors)


def test_booking_on_behalf_needs_an_admin(app, clock):
    event = make_event()

    with pytest.raises(Forbidden):
        services.book_on_behalf(
            event.id, make_user(), "x@council.example", _people(1), PaymentMethod.FREE, False, "", clock.now
        )


def test_move_shifts_every_session_keeps_uids_and_raises_sequences(app, clock):
    event = make_event(days=2)
    before = {s.id: (s.uid, s.starts_at, s.ends_at, s.sequence) for s in event.sessions}
    new_start = event.starts_at + timedelta(days=7, hours=1)

    services.move_event(event.id, make_admin(), clock.now, new_start=new_start)

    db.session.rollback()
    for session in db.session.scalars(select(EventSession).where(EventSession.event_id == event.id)):
        uid, starts_at, ends_at, sequence = before[session.id]
        assert session.uid == uid
        assert session.starts_at == starts_at + timedelta(days=7, hours=1)
        assert session.ends_at - session.starts_at == ends_at - starts_at
        assert session.sequence == sequence + 1
    assert [r.details["shift_seconds"] for r in audit_rows("event.moved")] == [7 * 86400 + 3600]


def test_move_by_a_delta_keeps_session_lengths(app, clock):
    event = make_event(days=2)
    starts = [s.starts_at for s in event.sessions]

    services.move_event(event.id, make_admin(), clock.now, delta=timedelta(days=-3))

    db.session.rollback()
    assert [s.starts_at for s in db.session.get(Event, event.id).sessions] == [t - timedelta(days=3) for t in starts]


def test_moving_to_the_same_start_is_refused(app, clock):
    event = make_event()

    with pytest.raises(ValidationError):
        services.move_event(event.id, make_admin(), clock.now, new_start=event.starts_at)


def test_moving_a_cancelled_event_is_refused(app, clock):
    event = make_event(status=EventStatus.CANCELLED.value)

    with pytest.raises(Conflict):
        services.move_event(event.id, make_admin(), clock.now, new_start=event.starts_at + timedelta(days=1))


def test_duplicate_is_a_draft_with_the_same_sessions_rates_and_questions_and_no_bookings(app, clock):
    event = paid_event(days=2, capacity=7)
    add_question(event, "Which workshop?")
    book(event, clock.now)

    copy = services.duplicate_event(event.id, make_admin(), clock.now)

    db.session.rollback()
    copy = db.session.get(Event, copy.id)
    assert copy.status == EventStatus.DRAFT.value and copy.slug != event.slug
    assert copy.title.startswith("Copy of") and copy.capacity == 7
    assert [s.starts_at for s in copy.sessions] == [s.starts_at for s in db.session.get(Event, event.id).sessions]
    assert {s.uid for s in copy.sessions}.isdisjoint({s.uid for s in db.session.get(Event, event.id).sessions})
    assert [(t.name, t.price_pence) for t in copy.ticket_types] == [("Public sector", 12000)]
    assert [q.label for q in copy.questions] == ["Which workshop?"]
    assert count(Booking, Booking.event_id == copy.id) == 0


def test_check_in_and_undo_are_audited_and_repeatable(app, clock):
    event = make_event()
    attendee = book(event, clock.now).attendees[0]
    admin = make_admin()

    services.check_in(attendee.id, admin, clock.now)
    services.check_in(attendee.id, admin, clock.now + timedelta(minutes=5))
    assert db.session.get(Attendee, attendee.id).checked_in_at == clock.now
    services.undo_check_in(attendee.id, admin, clock.now)

    assert db.session.get(Attendee, attendee.id).checked_in_at is None
    assert len(audit_rows("attendee.checked_in")) == 1
    assert len(audit_rows("attendee.check_in_undone")) == 1


def test_a_cancelled_place_cannot_be_checked_in(app, clock):
    event = make_event()
    booking = book(event, clock.now)
    from bookings.booking import services as booking_services

    booking_services.cancel_booking(reference=booking.reference, actor=booking.booker, now=clock.now)

    with pytest.raises(Conflict):
        services.check_in(booking.attendees[0].id, make_admin(), clock.now)


def test_retrying_a_failed_email_puts_it_back_in_the_queue(app, clock):
    message = failed_email(now=clock.now - timedelta(days=1))

    services.retry_outbox_message(message.id, make_admin(), clock.now)

    db.session.rollback()
    message = db.session.get(OutboxMessage, message.id)
    assert message.status == OutboxStatus.PENDING.value
    assert message.attempts == 0 and message.next_attempt_at == clock.now
    assert len(audit_rows("outbox.retried")) == 1


def test_only_a_failed_email_can_be_retried(app, clock):
    message = failed_email(now=clock.now)
    message.status = OutboxStatus.SENT.value
    db.session.commit()

    with pytest.raises(Conflict):
        services.retry_outbox_message(message.id, make_admin(), clock.now)


def test_dashboard_counts_confirmed_held_offered_and_waiting(app, clock):
    from bookings.booking import services as booking_services
    from bookings.catalogue import services as catalogue_services
    from bookings.waitlist import services as waitlist_services

    event = make_event(capacity=3)
    book(event, clock.now, people=_people(2))
    booking_services.hold_places(
        event_id=event.id, booker_id=make_user().id, ticket_type_id=None, places=1, now=clock.now
    )
    for places in (2, 1):
        waitlist_services.join_waitlist(
            event_id=event.id, user=make_user(), places=places, now=clock.now, has_email_consent=True
        )
    catalogue_services.update_event(event.id, {"capacity": 4}, None, clock.now)  # the single is offered the place

    board = queries.dashboard(clock.now)

    occupancy = board.occupancy[event.id]
    assert (occupancy.confirmed, occupancy.held, occupancy.offered, occupancy.free) == (2, 1, 1, 0)
    assert occupancy.waiting == 2


def test_an_expired_hold_is_not_counted_on_the_dashboard(app, clock):
    from bookings.booking import services as booking_services

    event = make_event(capacity=4)
    booking_services.hold_places(
        event_id=event.id, booker_id=make_user().id, ticket_type_id=None, places=1, now=clock.now
    )

    later = clock.now + timedelta(days=1)

    assert queries.dashboard(later).occupancy[event.id].held == 0


def test_income_counts_paid_invoices_and_outstanding_counts_unpaid_ones(app, clock):
    event = paid_event()
    paid = book(event, clock.now)
    book(event, clock.now)
    payment_services.mark_invoice_paid(paid.reference, make_admin(), clock.now)

    board = queries.dashboard(clock.now)

    assert board.income == {"GBP": 12000}
    assert board.invoices_outstanding == 1
    assert board.invoices_outstanding_pence == {"GBP": 12000}


def test_failed_emails_are_on_the_dashboard(app, clock):
    failed_email("bounced@council.example", now=clock.now)

    board = queries.dashboard(clock.now)

    assert [m.to_address for m in board.failed_emails] == ["bounced@council.example"]
    assert board.failed_email_count == 1


def _queries_for_dashboard(now) -> int:
    from sqlalchemy import event as sa_event

    statements: list[str] = []

    def _count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", _count)
    try:
        db.session.rollback()
        queries.dashboard(now)
    finally:
        sa_event.remove(engine, "before_cursor_execute", _count)
    return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])


def test_dashboard_takes_the_same_number_of_queries_for_one_event_or_many(app, clock):
    make_event()
    book(paid_event(), clock.now)
    few = _queries_for_dashboard(clock.now)
    for n in range(5):
        book(make_event(), clock.now)
        failed_email(f"bounced{n}@council.example", now=clock.now)

    assert _queries_for_dashboard(clock.now) == few
