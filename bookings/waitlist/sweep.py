"""The waiting list's part of the sweep: expire offers past their time and send offers that are due.

Each event is its own short transaction under the event lock, so the sweep
is idempotent and safe on several hosts at once: a second sweep waits for the
lock, then re-reads and finds nothing left to do (no double offers). Reads
never depend on it: an expired offer stops counting the moment it passes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from bookings import capacity
from bookings.catalogue.models import Event, EventStatus
from bookings.core.db import transactional
from bookings.extensions import db
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus
from bookings.waitlist.services import run_offers


@transactional
def _run_event(event_id: int, now: datetime) -> tuple[int, int]:
    capacity.lock_event(event_id)
    return run_offers(event_id, now)


def _event_ids(query) -> list[int]:
    ids = list(db.session.scalars(query.distinct()).all())
    db.session.commit()  # end the read before each event takes its own write transaction
    return ids


def expire_offers(now: datetime) -> int:
    """Mark offers past their time expired (and pass their places on). Returns how many expired."""
    event_ids = _event_ids(
        select(WaitlistEntry.event_id).where(
            WaitlistEntry.status == WaitlistStatus.OFFERED.value, WaitlistEntry.offer_expires_at <= now
        )
    )
    return sum(_run_event(event_id, now)[0] for event_id in event_ids)


def send_due_offers(now: datetime) -> int:
    """Offer free places to waiting entries of bookable events. Returns how many offers went out."""
    event_ids = _event_ids(
        select(WaitlistEntry.event_id)
        .join(Event, Event.id == WaitlistEntry.event_id)
        .where(
            WaitlistEntry.status == WaitlistStatus.WAITING.value,
            Event.status == EventStatus.PUBLISHED.value,
            or_(Event.starts_at.is_(None), Event.starts_at > now),
        )
    )
    return sum(_run_event(event_id, now)[1] for event_id in event_ids)
