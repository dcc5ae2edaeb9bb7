"""`book_places` writes its rows first and locks the event last: what that must not change.

The waiting list's share of freed places (the lock's count leaves the
booking's own rows out) is tested with the waiting list, in
tests/integration/waitlist/test_offers.py; the rush of many processes in
tests/concurrency/.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bookings import capacity
from bookings.accounts.models import User
from bookings.admin.services import events as admin_events
from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, PaymentMethod
from bookings.booking.services.common import event_for_booking
from bookings.catalogue import services as catalogue_services
from bookings.core.errors import RateLimited, ValidationError
from bookings.extensions import db
from tests.support.factories import make_admin, make_event, make_user


def _book_by_card(event, booker, now):
    return services.book_places(
        event_id=event.id,
        booker=booker,
        ticket_type_id=None,
        people=[AttendeeInput(name="Ada Lovelace", email="ada@council.example")],
        method=PaymentMethod.CARD,
        now=now,
    )


def _admin_changes_the_event_first(app, monkeypatch, owner, name: str, event_id: int, changes: dict, now) -> None:
    """Patch `owner.name` so that, the first time the booking calls it, an admin's `update_event`
    commits from a session of its own (another thread, as another request) before it goes on."""
    real = getattr(owner, name)
    done: list[bool] = []

    def admin_changes() -> None:
        with app.app_context():
            catalogue_services.update_event(event_id, changes, make_admin().id, now)
            done.append(True)

    def then_go_on(*args, **kwargs):
        if not done and threading.current_thread() is threading.main_thread():
            other = threading.Thread(target=admin_changes)
            other.start()
            other.join(timeout=30)
            assert done, "the admin's change did not commit"
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, then_go_on)


@pytest.mark.postgres_only  # on SQLite the booking's transaction holds the database's write lock from its start
def test_a_rate_changed_between_the_first_read_and_the_lock_is_read_again(app, clock, monkeypatch):
    event = make_event(capacity=5, ticket_types=[{"name": "Public sector", "price_pence": 5_000}])
    rate = {"id": event.ticket_types[0].id, "name": event.ticket_types[0].name, "price_pence": 7_000}
    booker = make_user()
    db.session.commit()
    # The booking's rows are written at the old price; the change commits before the lock.
    later = clock.now + timedelta(minutes=1)
    _admin_changes_the_event_first(app, monkeypatch, capacity, "lock_event", event.id, {"ticket_types": [rate]}, later)

    booking = _book_by_card(event, booker, clock.now)

    assert booking.total_pence == 7_000
    assert booking.attendees[0].price_pence == 7_000
    assert db.session.scalar(select(func.count()).select_from(Booking).where(Booking.event_id == event.id)) == 1


def test_the_hold_being_made_does_not_count_against_its_own_limit(app, clock):
    app.config["MAX_LIVE_HOLDS_PER_EVENT_PER_USER"] = 2
    event = make_event(capacity=10, ticket_types=[{"name": "Public sector", "price_pence": 5_000}])
    booker = make_user()
    first, second = _book_by_card(event, booker, clock.now), _book_by_card(event, booker, clock.now)
    assert first.is_held and second.is_held
    with pytest.raises(RateLimited, match="for this event"):
        _book_by_card(event, booker, clock.now)


@pytest.mark.postgres_only  # on SQLite the admin's change waits for the booking's transaction, which began first
def test_a_rate_removed_between_the_first_read_and_the_insert_is_read_again(app, clock, monkeypatch):
    from bookings.booking.services import one_step

    event = make_event(capacity=5, ticket_types=[{"name": "Early", "price_pence": 5_000}])
    booker = make_user()
    db.session.commit()
    # The booking has read and checked the old rate; its rows are not built yet.
    replaced = {"ticket_types": [{"name": "Standard", "price_pence": 7_000}]}
    _admin_changes_the_event_first(app, monkeypatch, one_step, "create_hold", event.id, replaced, clock.now)

    booking = _book_by_card(event, booker, clock.now)

    assert booking.total_pence == 7_000  # booked on the rate that exists, not a 500
    assert booking.attendees[0].ticket_type.name == "Standard"


def _meanwhile(app, change) -> None:
    """Run `change` as another request would (a thread with its own session), and wait for its commit."""
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                change()
            except BaseException as error:  # handed to the test's thread
                errors.append(error)

    other = threading.Thread(target=run)
    other.start()
    other.join(timeout=30)
    assert not other.is_alive() and not errors, errors


def test_what_the_view_read_before_the_transaction_is_checked_under_the_lock(app, clock):
    """The booking uses the event the request read (rates included) without reading it again; if it
    changed before the booking's transaction began, the lock's check runs the booking again."""
    event = make_event(capacity=5, ticket_types=[{"name": "Public sector", "price_pence": 5_000}])
    rate = {"id": event.ticket_types[0].id, "name": event.ticket_types[0].name, "price_pence": 7_000}
    booker, admin_id = make_user(), make_admin().id
    db.session.commit()
    assert event_for_booking(event.id).ticket_types[0].price_pence == 5_000  # what the API's view reads
    later = clock.now + timedelta(minutes=1)
    _meanwhile(app, lambda: catalogue_services.update_event(event.id, {"ticket_types": [rate]}, admin_id, later))

    booking = _book_by_card(event, booker, clock.now)

    assert booking.total_pence == 7_000
    assert booking.attendees[0].price_pence == 7_000


def test_a_question_added_after_the_view_read_the_event_is_asked(app, clock):
    """Adding a question moves the event's updated_at under its lock, so a booking that read the
    questions before is checked against the new ones."""
    event = make_event(capacity=5)
    booker, admin = make_user(), make_admin()
    db.session.commit()
    assert event_for_booking(event.id).questions == []
    later = clock.now + timedelta(minutes=1)
    _meanwhile(
        app,
        lambda: admin_events.add_question(
            event.id,
            db.session.get(User, admin.id),
            later,
            label="Dietary needs",
            kind="text",
            choices=[],
            is_required=True,
        ),
    )

    with pytest.raises(ValidationError, match="attendee details"):
        services.book_places(
            event_id=event.id,
            booker=booker,
            ticket_type_id=None,
            people=[AttendeeInput(name="Ada Lovelace", email="ada@council.example")],
            method=PaymentMethod.FREE,
            now=clock.now,
        )
    assert db.session.scalar(select(func.count()).select_from(Booking).where(Booking.event_id == event.id)) == 0


def test_an_answer_to_a_question_removed_after_the_view_read_the_event_is_refused(app, clock):
    """Removing a question moves the event's updated_at under its lock too: a booking that answered it,
    checked against the questions the view read, runs again against the questions left, and is refused
    rather than written with an answer to a question the event no longer asks. (A refusal on the view's
    read needs no second look: it writes nothing, and it was true when the request read the event.)"""
    event = make_event(capacity=5)
    booker, admin = make_user(), make_admin()
    question = admin_events.add_question(
        event.id, admin, clock.now, label="Dietary needs", kind="text", choices=[], is_required=True
    )
    question_id = question.id
    db.session.commit()
    assert [q.id for q in event_for_booking(event.id).questions] == [question_id]  # what the API's view reads
    later = clock.now + timedelta(minutes=1)
    _meanwhile(app, lambda: admin_events.remove_question(question_id, db.session.get(User, admin.id), later))

    with pytest.raises(ValidationError, match="attendee details"):
        services.book_places(
            event_id=event.id,
            booker=booker,
            ticket_type_id=None,
            people=[
                AttendeeInput(name="Ada Lovelace", email="ada@council.example", answers={str(question_id): "None"})
            ],
            method=PaymentMethod.FREE,
            now=clock.now,
        )
    assert db.session.scalar(select(func.count()).select_from(Booking).where(Booking.event_id == event.id)) == 0
