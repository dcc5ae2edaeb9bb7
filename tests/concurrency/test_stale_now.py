"""A time read before waiting for the event's lock is stale once the lock is held (DESIGN.md rule 1).

A booker asks to confirm (or for more time) while their hold is live; their request waits for the event's lock behind
another process, which holds it until the hold has run out and then, rightly counting the hold as
lapsed, takes the last place. The confirmation, judged by the time its request began, would still
see a live hold and confirm a second place on a one-place event. It must judge by the time it got
the lock: refused, and the event is not overbooked. The other process is a real one, on the same
database, so the wait is a real lock wait on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Attendee, Booking, BookingStatus, PaymentMethod
from bookings.core.clock import utcnow
from bookings.core.db import write_transaction
from bookings.extensions import db
from tests.concurrency import workers
from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.concurrency

HOLD_LEFT_SECONDS = 1.0


def take_the_place_once_the_hold_has_run_out(url: str, event_id: int, user_id: int, ends_at, locked, results) -> None:
    app = workers.app_for(url)
    with app.app_context():
        try:
            with write_transaction():
                capacity.lock_event(event_id)
                locked.set()  # the confirmation now waits for this lock
                while utcnow() <= ends_at:
                    time.sleep(0.02)
                services.book_places(
                    event_id=event_id,
                    booker=db.session.get(User, user_id),
                    ticket_type_id=None,
                    people=[AttendeeInput(name="Second Person", email="second@council.example")],
                    method=PaymentMethod.FREE,
                    now=utcnow(),
                )
            results.put(("booked", None))
        except Exception as error:  # reported to the test, which fails on it
            results.put(("crash", repr(error)))
        finally:
            db.session.remove()
            db.engine.dispose()


def confirm(reference, holder, now):
    services.confirm_booking(reference=reference, actor=holder, method=PaymentMethod.FREE, now=now)


def more_time(reference, holder, now):
    services.extend_hold(reference=reference, actor=holder, now=now)


@pytest.mark.parametrize("asks", [confirm, more_time], ids=["confirm", "more time"])
def test_a_hold_that_runs_out_while_its_request_waits_for_the_lock_is_not_kept(race_db, mp, asks):
    race_app = workers.app_for(race_db)
    with race_app.app_context():
        event = make_event(capacity=1)
        holder, other = make_user(email="holder@council.example"), make_user(email="other@council.example")
        asked_at = utcnow()
        # A hold of the default 30 minutes, made so that it ends HOLD_LEFT_SECONDS from now.
        made_at = asked_at - timedelta(minutes=30) + timedelta(seconds=HOLD_LEFT_SECONDS)
        hold = services.hold_places(event_id=event.id, booker_id=holder.id, ticket_type_id=None, places=1, now=made_at)
        services.save_attendee_details(
            reference=hold.reference,
            actor=holder,
            people=[AttendeeInput(name="First Person", email="first@council.example")],
            now=asked_at,
        )
        reference, ends_at, event_id, other_id = hold.reference, hold.hold_expires_at, event.id, other.id
        db.session.remove()
        db.engine.dispose()

    locked, results = mp.Event(), mp.Queue()
    other_booker = mp.Process(
        target=take_the_place_once_the_hold_has_run_out, args=(race_db, event_id, other_id, ends_at, locked, results)
    )
    other_booker.start()
    assert locked.wait(timeout=60)
    with race_app.app_context():
        try:
            holder = db.session.scalar(select(User).where(User.email == "holder@council.example"))
            asked = utcnow()  # as the view reads it, just before the service
            assert asked < ends_at  # asked while the hold was live
            with pytest.raises(services.HoldExpired):
                asks(reference, holder, asked)
        finally:
            db.session.remove()
    outcome = results.get(timeout=60)
    other_booker.join(timeout=60)
    assert outcome == ("booked", None), outcome

    with workers.checking(race_app):
        taken = db.session.scalar(
            select(func.count(Attendee.id))
            .join(Booking, Booking.id == Attendee.booking_id)
            .where(Attendee.event_id == event_id, Booking.status == BookingStatus.CONFIRMED.value)
        )
        live_holds = db.session.scalar(
            select(func.count(Booking.id)).where(
                Booking.event_id == event_id,
                Booking.status == BookingStatus.HELD.value,
                Booking.hold_expires_at > utcnow(),
            )
        )
        assert (taken, live_holds) == (1, 0)  # one place, one booking: not overbooked, no hold revived
