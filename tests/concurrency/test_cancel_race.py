"""Cancelling an event while many processes book it: nothing stays live on the cancelled event.

Bookings through the API's path (rows written first, the event locked last)
and holds through the web's path race one admin cancelling the event. Asserts
invariants only: every booking and hold of the event ends cancelled, each of
their bookers is told once, and every attempt ends booked or refused cleanly.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bookings.booking.models import Booking, BookingStatus
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from tests.concurrency import workers
from tests.support.factories import make_admin, make_event, make_user

pytestmark = pytest.mark.concurrency

BOOKERS = 6
ATTEMPTS = 15
BOOKINGS_BEFORE_CANCEL = 12
# After the cancellation: refused as closed (the event is no longer on sale).
ALLOWED_ERRORS = {"booking_closed"}


def test_bookings_racing_the_event_cancellation_leave_nothing_live_on_it(app, race_db, mp):
    from bookings import create_app

    race_app = create_app("test", SQLALCHEMY_DATABASE_URI=race_db)
    with race_app.app_context():
        event_id = make_event(capacity=500).id
        admin_id = make_admin().id
        user_ids = [make_user(email=f"booker{i}@council.example").id for i in range(BOOKERS)]
        db.session.remove()
        db.engine.dispose()

    barrier, results = mp.Barrier(BOOKERS + 1), mp.Queue()
    procs = [
        mp.Process(
            target=workers.book_until_cancelled, args=(race_db, w, event_id, user_ids[w], ATTEMPTS, barrier, results)
        )
        for w in range(BOOKERS)
    ]
    procs.append(
        mp.Process(
            target=workers.cancel_once_booked,
            args=(race_db, event_id, admin_id, BOOKINGS_BEFORE_CANCEL, barrier, results),
        )
    )
    for p in procs:
        p.start()
    reports = dict(results.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=60)

    kind, detail = reports.pop("canceller")
    assert kind == "cancelled", detail
    assert detail >= BOOKINGS_BEFORE_CANCEL
    outcomes = [o for got in reports.values() for o in got]
    crashes = [o for o in outcomes if o[0] == "crash"]
    assert not crashes, crashes[0][1]
    assert {o[1] for o in outcomes if o[0] == "error"} <= ALLOWED_ERRORS
    assert len(outcomes) == BOOKERS * ATTEMPTS
    assert ("error", "booking_closed") in outcomes, "no attempt came after the cancellation"

    with workers.checking(race_app):
        statuses = dict(
            db.session.execute(
                select(Booking.status, func.count()).where(Booking.event_id == event_id).group_by(Booking.status)
            ).all()
        )
        assert set(statuses) == {BookingStatus.CANCELLED.value}, statuses  # no confirmed or held booking left
        told = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.event_id == event_id,
                OutboxMessage.kind.in_(["event_cancelled", "event_cancelled_hold"]),
                OutboxMessage.to_address.like("booker%"),
            )
        )
        assert told == statuses[BookingStatus.CANCELLED.value]  # each booker once per booking
