"""Rules 1 and 4 under contention: offers, claims, cancellations, open sales and sweeps in many OS processes.

Asserts invariants only (never timings): confirmed + live held + live offered
places never exceed capacity at any moment a watcher sees or at the end; no
entry is offered twice; two sweeps at once make each offer once; every
attempt ends in success or a clean domain refusal.

All processes share one monotonic test clock (a counter in shared memory):
each action takes the next tick before it starts, so offers really expire
during the race.
"""

from __future__ import annotations

import random
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bookings import capacity, create_app
from bookings.core.errors import DomainError
from bookings.extensions import db

pytestmark = pytest.mark.concurrency

FIXED_NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
TICK = timedelta(minutes=5)
ACTORS = 4
SWEEPERS = 2
ACTIONS = 15
SWEEP_ROUNDS = 12
CAPACITY = 8
ALLOWED_ERRORS = {
    "sold_out",
    "offer_expired",
    "offer_used",
    "already_on_waitlist",
    "places_available",
    "not_on_waitlist",
    "not_found",
    "not_active",
}


def _app(url: str):
    return create_app(
        "test", SQLALCHEMY_DATABASE_URI=url, MAX_LIVE_HOLDS_PER_USER=1000, MAX_LIVE_HOLDS_PER_EVENT_PER_USER=1000
    )


def _now(clock_value) -> datetime:
    return FIXED_NOW + TICK * clock_value.value


def _tick(clock_value) -> datetime:
    with clock_value.get_lock():
        clock_value.value += 1
        return FIXED_NOW + TICK * clock_value.value


def _close(results, report) -> None:
    db.session.remove()
    db.engine.dispose()
    results.put(report)


# --- code run inside the racing processes ---------------------------------------------------------------------------


def _act(rng, worker: int, step: int, event_id: int, user_ids: list[int], now: datetime) -> tuple[str, str]:
    from bookings.accounts.models import User
    from bookings.booking import services as booking_services
    from bookings.booking.inputs import AttendeeInput
    from bookings.booking.models import Booking, BookingStatus, PaymentMethod
    from bookings.waitlist import services
    from bookings.waitlist.models import WaitlistEntry, WaitlistStatus

    choice = rng.random()
    if choice < 0.25:
        booking = db.session.scalars(
            select(Booking)
            .where(Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED.value)
            .order_by(func.random())
            .limit(1)
        ).first()
        if booking is None:
            return ("cancel", "none")
        reference, booker = booking.reference, booking.booker
        db.session.commit()
        booking_services.cancel_booking(reference=reference, actor=booker, now=now)
        return ("cancel", "ok")
    if choice < 0.65:
        kind = "claim" if choice < 0.55 else "decline"
        entry = db.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.event_id == event_id, WaitlistEntry.status == WaitlistStatus.OFFERED.value)
            .order_by(func.random())
            .limit(1)
        ).first()
        if entry is None:
            return (kind, "none")
        entry_id, owner, places = entry.id, entry.user, entry.places
        db.session.commit()
        if kind == "decline":
            services.decline_offer(entry_id=entry_id, actor=owner, now=now)
            return (kind, "ok")
        people = [
            AttendeeInput(name=f"C{worker}-{step}-{i}", email=f"c{worker}s{step}i{i}@x.example") for i in range(places)
        ]
        services.claim_offer_and_book(entry_id=entry_id, actor=owner, now=now, people=people, method=PaymentMethod.FREE)
        return (kind, "ok")
    user = db.session.get(User, rng.choice(user_ids))
    if choice < 0.85:
        n = rng.randint(1, 2)
        people = [
            AttendeeInput(name=f"B{worker}-{step}-{i}", email=f"b{worker}s{step}i{i}@x.example") for i in range(n)
        ]
        booking_services.book_places(
            event_id=event_id, booker=user, ticket_type_id=None, people=people, method=PaymentMethod.FREE, now=now
        )
        return ("book", "ok")
    services.join_waitlist(event_id=event_id, user=user, places=rng.randint(1, 2), now=now)
    return ("join", "ok")


def run_actor(url, worker, event_id, user_ids, barrier, clock_value, results) -> None:
    rng = random.Random(1000 + worker)
    outcomes = []
    app = _app(url)
    with app.app_context():
        barrier.wait()
        for step in range(ACTIONS):
            now = _tick(clock_value)
            try:
                outcomes.append(_act(rng, worker, step, event_id, user_ids, now))
            except DomainError as error:
                outcomes.append(("error", error.code))
                db.session.rollback()
            except Exception:  # every unexpected failure is reported to the test
                outcomes.append(("crash", traceback.format_exc()))
                db.session.rollback()
        _close(results, ("actor", outcomes))


def run_sweeper(url, rounds, barrier, clock_value, results) -> None:
    from bookings.waitlist.sweep import expire_offers, send_due_offers

    expired = offered = 0
    crashes = []
    app = _app(url)
    with app.app_context():
        barrier.wait()
        for _ in range(rounds):
            try:
                now = _now(clock_value)
                expired += expire_offers(now)
                offered += send_due_offers(now)
            except Exception:  # reported to the test
                crashes.append(traceback.format_exc())
                db.session.rollback()
        _close(results, ("sweep", (expired, offered, crashes)))


def watch_capacity(url, event_id, stop, clock_value, results) -> None:
    from bookings.catalogue.models import Event

    highest = reads = 0
    app = _app(url)
    with app.app_context():
        while not stop.is_set():
            event = db.session.get(Event, event_id)
            highest = max(highest, capacity.availability(event, _now(clock_value)).taken)
            reads += 1
            db.session.rollback()
        _close(results, ("watch", (highest, reads)))


# --- the tests ------------------------------------------------------------------------------------------------------


def _setup(race_db, *, event_capacity: int, booked: int, entry_sizes: list[int], **event_fields):
    """An event with `booked` confirmed places and waiting entries (in this order); returns ids."""
    from bookings.booking import services as booking_services
    from bookings.booking.inputs import AttendeeInput
    from bookings.booking.models import PaymentMethod
    from bookings.waitlist import services
    from tests.support.factories import make_event, make_user

    app = _app(race_db)
    with app.app_context():
        event = make_event(capacity=event_capacity, cancellation_cutoff_hours=0, **event_fields)
        users = [make_user() for _ in range(max(len(entry_sizes), booked) + 4)]
        for i in range(booked):
            booking_services.book_places(
                event_id=event.id,
                booker=users[i],
                ticket_type_id=None,
                people=[AttendeeInput(name=f"Setup {i}", email=f"setup{i}@x.example")],
                method=PaymentMethod.FREE,
                now=FIXED_NOW,
            )
        entry_ids = []
        for i, size in enumerate(entry_sizes):
            entry = services.join_waitlist(
                event_id=event.id, user=users[-(i + 1)], places=size, now=FIXED_NOW + timedelta(seconds=i)
            )
            entry_ids.append(entry.id)
        ids = (event.id, [u.id for u in users], entry_ids)
        db.session.remove()
        db.engine.dispose()
    return app, ids


def _offer_audit_counts(event_id: int) -> Counter:
    from bookings.core.audit import AuditRecord

    rows = db.session.scalars(
        select(AuditRecord.subject_id).where(AuditRecord.event_id == event_id, AuditRecord.action == "waitlist.offered")
    ).all()
    return Counter(rows)


def _collect(results, count: int) -> list:
    return [results.get(timeout=300) for _ in range(count)]


def test_two_sweeps_at_once_offer_each_freed_place_once(app, race_db, mp):
    from bookings.catalogue.models import Event
    from bookings.notifications.models import OutboxMessage
    from bookings.waitlist.models import WaitlistEntry, WaitlistStatus

    race_app, (event_id, _users, entry_ids) = _setup(race_db, event_capacity=4, booked=4, entry_sizes=[1] * 10)
    with race_app.app_context():
        event = db.session.get(Event, event_id)
        event.capacity = 9  # five places freed behind the list's back: only a sweep can offer them
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

    sweepers = 4
    barrier = mp.Barrier(sweepers)
    results = mp.Queue()
    clock_value = mp.Value("i", 0)
    procs = [mp.Process(target=run_sweeper, args=(race_db, 3, barrier, clock_value, results)) for _ in range(sweepers)]
    for p in procs:
        p.start()
    reports = _collect(results, sweepers)
    for p in procs:
        p.join(timeout=60)

    crashes = [c for _, (_, _, cs) in reports for c in cs]
    assert not crashes, crashes[0]
    assert sum(offered for _, (_, offered, _) in reports) == 5
    with race_app.app_context():
        statuses = [db.session.get(WaitlistEntry, i).status for i in entry_ids]
        assert statuses == [WaitlistStatus.OFFERED.value] * 5 + [WaitlistStatus.WAITING.value] * 5
        assert set(_offer_audit_counts(event_id).values()) == {1}
        assert (
            db.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer")
            )
            == 5
        )
        assert capacity.availability(db.session.get(Event, event_id), FIXED_NOW).taken == 9
        db.session.remove()
        db.engine.dispose()


def test_cancellations_claims_sales_and_sweeps_racing_never_overbook_or_offer_twice(app, race_db, mp):
    from bookings.booking.models import Attendee, AttendeeStatus, Booking, BookingStatus
    from bookings.catalogue.models import Event
    from bookings.waitlist.models import WaitlistEntry, WaitlistStatus

    race_app, (event_id, user_ids, _entries) = _setup(
        race_db,
        event_capacity=CAPACITY,
        booked=CAPACITY,
        entry_sizes=[2, 1, 3, 1, 2, 1, 1, 2, 1, 3],
        offer_expiry_hours=1,
    )

    barrier = mp.Barrier(ACTORS + SWEEPERS)
    results = mp.Queue()
    stop = mp.Event()
    clock_value = mp.Value("i", 0)
    watcher = mp.Process(target=watch_capacity, args=(race_db, event_id, stop, clock_value, results))
    watcher.start()
    procs = [
        mp.Process(target=run_actor, args=(race_db, w, event_id, user_ids, barrier, clock_value, results))
        for w in range(ACTORS)
    ] + [
        mp.Process(target=run_sweeper, args=(race_db, SWEEP_ROUNDS, barrier, clock_value, results))
        for _ in range(SWEEPERS)
    ]
    for p in procs:
        p.start()
    reports = _collect(results, len(procs))
    for p in procs:
        p.join(timeout=60)
    stop.set()
    ((_, (highest, reads)),) = _collect(results, 1)
    watcher.join(timeout=60)

    outcomes = [o for kind, got in reports if kind == "actor" for o in got]
    sweeps = [got for kind, got in reports if kind == "sweep"]
    crashes = [o[1] for o in outcomes if o[0] == "crash"] + [c for _, _, cs in sweeps for c in cs]
    assert not crashes, crashes[0]
    unexpected = [o for o in outcomes if o[0] == "error" and o[1] not in ALLOWED_ERRORS]
    assert not unexpected, unexpected
    assert len(outcomes) == ACTORS * ACTIONS
    assert reads > 0
    assert highest <= CAPACITY

    with race_app.app_context():
        end = FIXED_NOW + TICK * clock_value.value
        event = db.session.get(Event, event_id)
        assert capacity.availability(event, end).taken <= CAPACITY
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
        offered = db.session.scalar(
            select(func.coalesce(func.sum(WaitlistEntry.places), 0)).where(
                WaitlistEntry.event_id == event_id,
                WaitlistEntry.status == WaitlistStatus.OFFERED.value,
                WaitlistEntry.offer_expires_at > end,
            )
        )
        assert confirmed + offered <= CAPACITY
        # No entry was ever offered twice (every offer writes one audit row and one email).
        offers = _offer_audit_counts(event_id)
        assert offers, "the race made no offers"
        assert max(offers.values()) == 1
        # Every claim became exactly one booking of the offered places.
        claimed = db.session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.event_id == event_id, WaitlistEntry.status == WaitlistStatus.CLAIMED.value
            )
        ).all()
        assert len({e.claimed_booking_id for e in claimed}) == len(claimed)
        for entry in claimed:
            booking = db.session.get(Booking, entry.claimed_booking_id)
            assert len(booking.attendees) == entry.places
        db.session.remove()
        db.engine.dispose()
