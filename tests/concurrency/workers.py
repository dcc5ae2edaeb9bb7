"""Code that runs inside the racing processes. Each process builds its own app and database engine."""

from __future__ import annotations

import random
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from bookings import create_app
from bookings.core.errors import DomainError
from bookings.extensions import db

FIXED_NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def app_for(url: str):
    return create_app(
        "test", SQLALCHEMY_DATABASE_URI=url, MAX_LIVE_HOLDS_PER_USER=1000, MAX_LIVE_HOLDS_PER_EVENT_PER_USER=1000
    )


@contextmanager
def checking(app) -> Iterator[None]:
    """The parent's app context for reading a race's outcome; its connections are closed after (not left to the GC)."""
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


def run_actions(url: str, worker: int, event_id: int, user_ids: list[int], actions: int, barrier, results) -> None:
    """Book, hold and cancel at random; report each outcome as (kind, code)."""
    from sqlalchemy import select

    from bookings.accounts.models import User
    from bookings.booking import services
    from bookings.booking.inputs import AttendeeInput
    from bookings.booking.models import Booking, BookingStatus, PaymentMethod

    rng = random.Random(worker)
    app = app_for(url)
    outcomes = []
    with app.app_context():
        barrier.wait()
        for step in range(actions):
            user = db.session.get(User, rng.choice(user_ids))
            choice = rng.random()
            try:
                if choice < 0.45:
                    n = rng.randint(1, 3)
                    people = [
                        AttendeeInput(name=f"W{worker}-{step}-{i}", email=f"w{worker}s{step}i{i}@x.example")
                        for i in range(n)
                    ]
                    services.book_places(
                        event_id=event_id,
                        booker=user,
                        ticket_type_id=None,
                        people=people,
                        method=PaymentMethod.FREE,
                        now=FIXED_NOW,
                    )
                    outcomes.append(("book", "ok"))
                elif choice < 0.8:
                    services.hold_places(
                        event_id=event_id,
                        booker_id=user.id,
                        ticket_type_id=None,
                        places=rng.randint(1, 2),
                        now=FIXED_NOW,
                        replace_previous=False,
                    )
                    outcomes.append(("hold", "ok"))
                else:
                    reference = db.session.scalar(
                        select(Booking.reference)
                        .where(Booking.booker_id == user.id, Booking.status == BookingStatus.CONFIRMED.value)
                        .limit(1)
                    )
                    db.session.commit()
                    if reference is None:
                        outcomes.append(("cancel", "none"))
                        continue
                    services.cancel_booking(reference=reference, actor=user, now=FIXED_NOW)
                    outcomes.append(("cancel", "ok"))
            except DomainError as error:
                outcomes.append(("error", error.code))
                db.session.rollback()
            except Exception:  # every unexpected failure is reported to the test
                outcomes.append(("crash", traceback.format_exc()))
                db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    results.put((worker, outcomes))


def watch_capacity(url: str, event_id: int, stop, results) -> None:
    """Read the live count over and over during the race; report the highest seen."""
    from bookings import capacity
    from bookings.catalogue.models import Event

    app = app_for(url)
    highest = 0
    reads = 0
    with app.app_context():
        while not stop.is_set():
            event = db.session.get(Event, event_id)
            taken = capacity.availability(event, FIXED_NOW).taken
            highest = max(highest, taken)
            reads += 1
            db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    results.put(("watch", highest, reads))


def add_hits(url: str, worker: int, writes: int, barrier, results) -> None:
    """`writes` write transactions, each adding one throttle hit; report (worker, written, refused busy)."""
    from bookings.core import throttle
    from bookings.core.clock import utcnow
    from bookings.core.db import transactional
    from bookings.core.errors import Busy

    @transactional
    def add() -> None:
        throttle.add_hit(f"gate-{worker}", now=utcnow())

    app = app_for(url)
    written = busy = 0
    with app.app_context():
        barrier.wait()
        for _ in range(writes):
            try:
                add()
                written += 1
            except Busy:
                busy += 1
    results.put((worker, written, busy))


def book_until_cancelled(url: str, worker: int, event_id: int, user_id: int, attempts: int, barrier, results) -> None:
    """Free bookings (API path, even workers) and holds (web path, odd workers) until the event is cancelled."""
    from bookings.accounts.models import User
    from bookings.booking import services
    from bookings.booking.inputs import AttendeeInput
    from bookings.booking.models import PaymentMethod

    app = app_for(url)
    outcomes = []
    with app.app_context():
        barrier.wait()
        for step in range(attempts):
            try:
                if worker % 2 == 0:
                    person = AttendeeInput(name=f"W{worker}-{step}", email=f"w{worker}s{step}@x.example")
                    booker = db.session.get(User, user_id)
                    services.book_places(
                        event_id=event_id, booker=booker, ticket_type_id=None, people=[person],
                        method=PaymentMethod.FREE, now=FIXED_NOW,
                    )  # fmt: skip
                else:
                    services.hold_places(
                        event_id=event_id, booker_id=user_id, ticket_type_id=None, places=1, now=FIXED_NOW,
                        replace_previous=False,
                    )  # fmt: skip
                outcomes.append(("booked", "ok"))
            except DomainError as error:
                outcomes.append(("error", error.code))
                db.session.rollback()
            except Exception:  # every unexpected failure is reported to the test
                outcomes.append(("crash", traceback.format_exc()))
                db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    results.put((worker, outcomes))


def cancel_once_booked(url: str, event_id: int, admin_id: int, bookings_first: int, barrier, results) -> None:
    """Cancel the event as soon as `bookings_first` bookings of it have committed (a count, not a clock)."""
    import time

    from sqlalchemy import func, select

    from bookings.booking.models import Booking
    from bookings.catalogue.services import cancel_event

    app = app_for(url)
    with app.app_context():
        barrier.wait()
        seen = 0
        deadline = time.monotonic() + 120  # only a guard against a hung race
        while seen < bookings_first and time.monotonic() < deadline:
            seen = db.session.scalar(select(func.count()).select_from(Booking).where(Booking.event_id == event_id))
            db.session.rollback()
        try:
            cancel_event(event_id, admin_id, FIXED_NOW, reason="race")
            outcome = ("cancelled", seen)
        except Exception:
            outcome = ("crash", traceback.format_exc())
        db.session.remove()
        db.engine.dispose()
    results.put(("canceller", outcome))
