"""Property-based: random sequences of book, hold, cancel, expire, substitute and capacity change.

A model of the places predicts every outcome; after each step the database
must agree with it, rule 1 must hold (taken <= capacity), and every change
must have left its audit record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from bookings import capacity
from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, PaymentMethod
from bookings.catalogue import services as catalogue_services
from bookings.catalogue.models import Event
from bookings.core import clock as clock_module
from bookings.core.audit import AuditRecord
from bookings.core.errors import Conflict, SoldOut
from bookings.extensions import db
from tests.support.factories import make_admin, make_event, make_user

START = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def person(i: int) -> AttendeeInput:
    return AttendeeInput(name=f"Person {i}", email=f"p{i}@council.example")


class PlacesMachine(RuleBasedStateMachine):
    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.counter = 0

    @initialize(capacity_places=st.integers(min_value=0, max_value=8))
    def setup(self, capacity_places):
        self.clock.set(START)  # every example starts at the same moment: no state carried between them
        self.event = make_event(capacity=capacity_places, max_places_per_booking=5)
        self.event_id = self.event.id
        # Counted beside the event, so that the listings' form of the count is checked too (one event has its own).
        self.other_event_id = make_event(capacity=3).id
        self.capacity = capacity_places
        self.admin = make_admin()
        self.users = [make_user() for _ in range(3)]
        self.confirmed: dict[str, list[int]] = {}  # reference -> active attendee ids
        self.holds: dict[str, tuple[int, object]] = {}  # reference -> (places, expires_at)
        self.audit_expected = db.session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.event_id == self.event_id)
        )

    # -- the model ---------------------------------------------------------------------------------------------
    def live_held(self) -> int:
        return sum(n for n, expires in self.holds.values() if expires > self.clock.now)

    def taken(self) -> int:
        return sum(len(ids) for ids in self.confirmed.values()) + self.live_held()

    def left(self) -> int:
        return max(0, self.capacity - self.taken())

    def audits(self) -> int:
        return db.session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.event_id == self.event_id)
        )

    # -- steps -------------------------------------------------------------------------------------------------
    @rule(places=st.integers(min_value=1, max_value=5), who=st.integers(min_value=0, max_value=2))
    def book(self, places, who):
        expected_ok = places <= self.left()
        people = [person(self.counter + i) for i in range(places)]
        self.counter += places
        try:
            booking = services.book_places(
                event_id=self.event_id,
                booker=self.users[who],
                ticket_type_id=None,
                people=people,
                method=PaymentMethod.FREE,
                now=self.clock.now,
            )
        except SoldOut as error:
            assert not expected_ok, "refused although places were free"
            assert error.places_left == self.left()
            return
        assert expected_ok, "booked beyond capacity"
        self.confirmed[booking.reference] = [a.id for a in booking.attendees]
        self.audit_expected += 2  # held + confirmed

    @rule(places=st.integers(min_value=1, max_value=5), who=st.integers(min_value=0, max_value=2))
    def hold(self, places, who):
        expected_ok = places <= self.left()
        try:
            booking = services.hold_places(
                event_id=self.event_id,
                booker_id=self.users[who].id,
                ticket_type_id=None,
                places=places,
                now=self.clock.now,
                replace_previous=False,
            )
        except SoldOut:
            assert not expected_ok
            return
        except Exception as error:  # the per-user cap on live holds is a rule of its own
            if getattr(error, "code", None) == "rate_limited":
                return
            raise
        assert expected_ok
        self.holds[booking.reference] = (places, booking.hold_expires_at)
        self.audit_expected += 1

    @precondition(lambda self: any(self.confirmed.values()))
    @rule(data=st.data())
    def cancel_some(self, data):
        # Draw positions, not database ids or references: those differ between Hypothesis's replays.
        live = [r for r, ids in self.confirmed.items() if ids]
        reference = live[data.draw(st.integers(min_value=0, max_value=len(live) - 1))]
        ids = self.confirmed[reference]
        positions = data.draw(st.lists(st.integers(0, len(ids) - 1), min_size=1, max_size=len(ids), unique=True))
        chosen = [ids[i] for i in positions]
        services.cancel_booking(reference=reference, actor=self.admin, now=self.clock.now, attendee_ids=chosen)
        self.confirmed[reference] = [i for i in ids if i not in chosen]
        self.audit_expected += 1

    @precondition(lambda self: any(self.confirmed.values()))
    @rule(data=st.data())
    def substitute(self, data):
        live = [r for r, ids in self.confirmed.items() if ids]
        reference = live[data.draw(st.integers(min_value=0, max_value=len(live) - 1))]
        ids = self.confirmed[reference]
        attendee_id = ids[data.draw(st.integers(min_value=0, max_value=len(ids) - 1))]
        services.substitute_attendee(
            reference=reference,
            attendee_id=attendee_id,
            name="Substitute",
            email="sub@council.example",
            actor=self.admin,
            now=self.clock.now,
        )
        self.audit_expected += 1

    @rule(minutes=st.integers(min_value=1, max_value=45))
    def time_passes(self, minutes):
        self.clock.advance(minutes=minutes)

    @rule()
    def sweep(self):
        expired = services.expire_holds(self.clock.now)
        gone = [r for r, (_, expires) in self.holds.items() if expires <= self.clock.now]
        for reference in gone:
            del self.holds[reference]
        # Earlier examples' events share the database, so the sweep may expire their holds too.
        assert expired >= len(gone)
        statuses = db.session.scalars(select(Booking.status).where(Booking.reference.in_(gone))).all()
        assert statuses == ["expired"] * len(gone)
        db.session.commit()
        self.audit_expected += len(gone)

    @rule(new_capacity=st.integers(min_value=0, max_value=10))
    def change_capacity(self, new_capacity):
        try:
            catalogue_services.update_event(self.event_id, {"capacity": new_capacity}, self.admin.id, self.clock.now)
        except Conflict as error:
            assert error.code == "capacity_below_taken"
            assert new_capacity < self.taken()
            return
        assert new_capacity >= self.taken()
        if new_capacity != self.capacity:
            self.audit_expected += 1
        self.capacity = new_capacity

    # -- what must always hold ---------------------------------------------------------------------------------
    @invariant()
    def database_agrees_and_never_overbooks(self):
        if not hasattr(self, "event_id"):
            return
        db.session.expire_all()
        event = db.session.get(Event, self.event_id)
        availability = capacity.availability(event, self.clock.now)
        assert availability.taken == self.taken()
        assert availability.taken <= event.capacity == self.capacity
        listed = capacity.availability_for([event, db.session.get(Event, self.other_event_id)], self.clock.now)
        assert listed[self.event_id] == availability
        db.session.commit()

    @invariant()
    def every_change_is_audited(self):
        if not hasattr(self, "event_id"):
            return
        assert self.audits() == self.audit_expected
        db.session.commit()


def test_random_sequences_keep_rule_one_and_the_audit_trail(app, clock):
    clock_module.set_clock(clock)

    class Machine(PlacesMachine):
        def __init__(self):
            super().__init__(clock)

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
