"""Reminders are written once per person and booking, whoever runs the sweep and however often."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bookings.booking import reminders
from bookings.core.clock import utcnow
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from tests.support.factories import make_event, make_user


def _reminder_count() -> int:
    return db.session.scalar(select(func.count()).where(OutboxMessage.kind == "reminder"))


def test_a_second_sweep_that_missed_the_first_ones_reminders_writes_none(app, clock, book, monkeypatch):
    event = make_event(starts_at=utcnow() + timedelta(days=1))
    book(event, make_user(), [("Grace Hopper", "grace@council.example")])
    assert reminders.queue_reminders(utcnow()) == 2

    # As if a second host had read before the first committed: the unique key still stops the copies.
    real_scalars = db.session.scalars

    def blind(statement, *args, **kwargs):
        if "message_key" in str(statement):
            return real_scalars(statement.where(OutboxMessage.id < 0), *args, **kwargs)
        return real_scalars(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "scalars", blind)
    assert reminders.queue_reminders(utcnow()) == 0
    monkeypatch.undo()
    assert _reminder_count() == 2


def test_a_booking_made_after_the_reminders_went_out_still_gets_one(app, clock, book):
    event = make_event(starts_at=utcnow() + timedelta(days=1), capacity=5)
    book(event, make_user())
    reminders.queue_reminders(utcnow())
    book(event, make_user())

    assert reminders.queue_reminders(utcnow() + timedelta(minutes=1)) == 1
    assert _reminder_count() == 2


def test_no_reminder_once_the_event_has_started(app, clock, book):
    event = make_event(starts_at=utcnow() + timedelta(days=1))
    book(event, make_user())

    assert reminders.queue_reminders(utcnow() + timedelta(days=1, minutes=1)) == 0
