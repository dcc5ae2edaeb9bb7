"""Rule 1 under contention: many OS processes book, hold and cancel the last places at once.

Asserts invariants only (never timings): the places taken never exceed the
capacity or a rate's cap, at any moment a watcher sees and at the end, and
every attempt ends as booked/held/cancelled or a clean "sold out".
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bookings import capacity
from bookings.booking.models import Attendee, AttendeeStatus, Booking, BookingStatus
from bookings.catalogue.models import Event
from bookings.extensions import db
from tests.concurrency import workers
from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.concurrency

PROCESSES = 8
ACTIONS = 12
ALLOWED_ERRORS = {"sold_out"}


def _race(mp, url, event_id, user_ids):
    barrier = mp.Barrier(PROCESSES)
    results = mp.Queue()
    stop = mp.Event()
    watcher = mp.Process(target=workers.watch_capacity, args=(url, event_id, stop, results))
    watcher.start()
    procs = [
        mp.Process(target=workers.run_actions, args=(url, w, event_id, user_ids, ACTIONS, barrier, results))
        for w in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    outcomes = []
    for _ in procs:
        _worker, got = results.get(timeout=240)
        outcomes.extend(got)
    for p in procs:
        p.join(timeout=60)
    stop.set()
    _, highest, reads = results.get(timeout=60)
    watcher.join(timeout=60)
    return outcomes, highest, reads


@pytest.mark.parametrize("capacity_places", [10])
def test_processes_racing_for_last_places_never_overbook(app, race_db, mp, capacity_places):
    from bookings import create_app

    race_app = create_app("test", SQLALCHEMY_DATABASE_URI=race_db)
    with race_app.app_context():
        event = make_event(capacity=capacity_places)
        user_ids = [make_user().id for _ in range(6)]
        event_id = event.id
        db.session.remove()
        db.engine.dispose()

    outcomes, highest, reads = _race(mp, race_db, event_id, user_ids)

    crashes = [o for o in outcomes if o[0] == "crash"]
    assert not crashes, crashes[0][1]
    unexpected = [o for o in outcomes if o[0] == "error" and o[1] not in ALLOWED_ERRORS]
    assert not unexpected, unexpected
    assert len(outcomes) == PROCESSES * ACTIONS
    assert any(o == ("error", "sold_out") for o in outcomes), "the race never reached the capacity"
    assert reads > 0
    assert highest <= capacity_places

    with race_app.app_context():
        event = db.session.get(Event, event_id)
        final = capacity.availability(event, workers.FIXED_NOW)
        assert final.taken <= capacity_places
        confirmed = db.session.scalar(
            select(func.count())
            .select_from(Attendee)
            .join(Booking)
            .where(
                Attendee.event_id == event_id,
                Attendee.status == AttendeeStatus.ACTIVE.value,
                Booking.status == BookingStatus.CONFIRMED.value,
            )
        )
        held = db.session.scalar(
            select(func.count())
            .select_from(Attendee)
            .join(Booking)
            .where(
                Attendee.event_id == event_id,
                Attendee.status == AttendeeStatus.ACTIVE.value,
                Booking.status == BookingStatus.HELD.value,
                Booking.hold_expires_at > workers.FIXED_NOW,
            )
        )
        assert confirmed + held == final.taken
        assert confirmed + held <= capacity_places
        db.session.remove()
        db.engine.dispose()
