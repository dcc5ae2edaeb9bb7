"""Event status: publishing, unpublishing, cancelling (which runs the registered hooks); loading an event locked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookings import capacity
from bookings.catalogue.models import Event, EventStatus
from bookings.catalogue.services.hooks import _cancellation_hooks
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, NotFound
from bookings.extensions import db


def _load_locked(event_id: int) -> Event:
    if db.session.get(Event, event_id) is None:
        raise NotFound("There is no event with that id.")
    return capacity.lock_event(event_id)


# --- status -------------------------------------------------------------------------------------------------------

STATUS_ACTIONS = {
    EventStatus.PUBLISHED.value: "event.published",
    EventStatus.DRAFT.value: "event.unpublished",
    EventStatus.CANCELLED.value: "event.cancelled",
}


def _change_status(event: Event, status: str, actor_id: int | None, now: datetime, *, reason: str = "") -> None:
    if status == event.status:
        return
    if event.is_cancelled:
        raise Conflict("A cancelled event cannot be changed.", code="event_cancelled")
    previous = event.status
    event.status = status
    event.updated_at = now
    event.sequence += 1
    for session in event.sessions:
        if status == EventStatus.CANCELLED.value and not session.is_cancelled:
            session.is_cancelled = True
        session.sequence += 1
    details: dict[str, Any] = {"status_from": previous, "status_to": status}
    if reason:
        details["reason"] = reason
    audit.record(STATUS_ACTIONS[status], "event", event.id, actor_id=actor_id, event_id=event.id, at=now, **details)
    if status == EventStatus.CANCELLED.value:
        # Hook: telling bookers and the waiting list, refunds and cancelled calendar entries
        # are the booking, payments and waitlist areas' work. They register a cancellation
        # hook (the catalogue imports none of them); it runs here, in this transaction, so
        # their outbox emails commit with the cancellation or not at all.
        for hook in _cancellation_hooks.values():
            hook(event, actor_id, now)


@transactional
def publish_event(event_id: int, actor_id: int | None, now: datetime) -> Event:
    """Put an event in the public catalogue. Raises `NotFound`, or `Conflict` (`event_cancelled`)."""
    event = _load_locked(event_id)
    _change_status(event, EventStatus.PUBLISHED.value, actor_id, now)
    return event


@transactional
def unpublish_event(event_id: int, actor_id: int | None, now: datetime) -> Event:
    """Take an event back to draft (bookings already made stand). Raises `NotFound` or `Conflict`."""
    event = _load_locked(event_id)
    _change_status(event, EventStatus.DRAFT.value, actor_id, now)
    return event


@transactional
def cancel_event(event_id: int, actor_id: int | None, now: datetime, *, reason: str = "") -> Event:
    """Cancel an event and all its sessions, for good. Raises `NotFound`; cancelling twice changes nothing."""
    event = _load_locked(event_id)
    _change_status(event, EventStatus.CANCELLED.value, actor_id, now, reason=reason)
    return event
