"""Creating and updating events: checked input, limits under the event lock, SEQUENCE raised on calendar changes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bookings import capacity
from bookings.catalogue.inputs import (
    DATETIME_FIELDS,
    SCALAR_FIELDS,
    EventInput,
    check_windows,
    parse_event_changes,
)
from bookings.catalogue.models import Event, EventSession
from bookings.catalogue.services.hooks import _change_hooks
from bookings.catalogue.services.schedule import (
    _new_ticket_type,
    _replace_sessions,
    _replace_ticket_types,
    _sync_dates,
    new_session_uid,
)
from bookings.catalogue.services.slugs import _flush_checking_slug, _slug_taken, _unique_slug
from bookings.catalogue.services.status import _change_status, _load_locked
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, ValidationError
from bookings.extensions import db

# Fields that appear in a calendar entry: changing one raises every session's SEQUENCE.
CALENDAR_FIELDS = frozenset({"title", "timezone", "venue_name", "venue_address", "is_online", "online_url"})
# Plain attributes copied from input to the event as they are.
EVENT_ATTRIBUTES = tuple(name for name in (*SCALAR_FIELDS, *DATETIME_FIELDS) if name not in ("slug", "status"))


@transactional
def create_event(data: EventInput, actor_id: int | None, now: datetime) -> Event:
    """Create an event with its sessions and rates. Raises `ValidationError` when the slug is taken."""
    if data.slug is not None and _slug_taken(data.slug):
        raise ValidationError("The slug is already used by another event.", errors={"slug": "Already in use."})
    event = Event(
        slug=data.slug or _unique_slug(data.title),
        status=data.status,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    for name in EVENT_ATTRIBUTES:
        setattr(event, name, getattr(data, name))
    for spec in sorted(data.sessions, key=lambda s: s.starts_at):
        event.sessions.append(
            EventSession(
                title=spec.title, starts_at=spec.starts_at, ends_at=spec.ends_at, sequence=0, uid=new_session_uid()
            )
        )
    for position, spec in enumerate(data.ticket_types):
        event.ticket_types.append(_new_ticket_type(spec, position))
    _sync_dates(event)
    db.session.add(event)
    _flush_checking_slug()
    audit.record(
        "event.created",
        "event",
        event.id,
        actor_id=actor_id,
        event_id=event.id,
        at=now,
        title=event.title,
        status=event.status,
        capacity=event.capacity,
    )
    return event


@transactional
def update_event(event_id: int, changes: Mapping[str, Any], actor_id: int | None, now: datetime) -> Event:
    """Apply a partial change (raw values, checked here) to an event, under the capacity lock.

    `sessions` and `ticket_types`, when given, replace the lists; items carrying
    the `id` of an existing one keep it (and a session its UID). Raises
    `NotFound`, `ValidationError` (nothing written), `Conflict` with code
    `capacity_below_taken`, `cap_below_taken`, `ticket_type_in_use` or
    `event_cancelled`.
    """
    event = _load_locked(event_id)
    values = parse_event_changes(changes, timezone=event.timezone)
    _check_changes(event, values)
    taken = capacity.availability(event, now)
    old_capacity = event.capacity
    old_caps = {t.id: t.cap for t in event.ticket_types}

    if "capacity" in values and values["capacity"] < taken.taken:
        raise Conflict(
            f"Capacity cannot go below the {taken.taken} places already taken.",
            code="capacity_below_taken",
            field="capacity",
            taken=taken.taken,
        )

    changed: list[str] = []
    for name in EVENT_ATTRIBUTES:
        if name in values and getattr(event, name) != values[name]:
            setattr(event, name, values[name])
            changed.append(name)
    if "slug" in values and values["slug"] != event.slug:
        event.slug = values["slug"]
        changed.append("slug")
        _flush_checking_slug()

    calendar_changed = bool(CALENDAR_FIELDS.intersection(changed))
    touched_sessions: set[int] = set()
    sessions_changed = "sessions" in values and _replace_sessions(event, values["sessions"], touched_sessions)
    if sessions_changed:
        changed.append("sessions")
    if "ticket_types" in values and _replace_ticket_types(event, values["ticket_types"], taken):
        changed.append("ticket_types")

    moved = calendar_changed or sessions_changed
    if moved:
        for session in event.sessions:
            # New sessions (no id yet) start at SEQUENCE 0; existing ones rise once.
            if (calendar_changed and session.id is not None) or id(session) in touched_sessions:
                session.sequence += 1
        event.sequence += 1
    _sync_dates(event)

    if changed:
        event.updated_at = now
        details: dict[str, Any] = {"changed": changed}
        if "capacity" in changed:
            details.update(capacity_from=old_capacity, capacity_to=event.capacity)
        audit.record("event.updated", "event", event.id, actor_id=actor_id, event_id=event.id, at=now, **details)

    if "status" in values:
        _change_status(event, values["status"], actor_id, now)

    if moved and event.is_published:
        for hook in _change_hooks.values():
            hook(event, changed, actor_id, now)

    db.session.flush()
    raised_caps = any(
        old_caps[t.id] is not None and (t.cap is None or t.cap > old_caps[t.id])
        for t in event.ticket_types
        if t.id in old_caps
    )
    if event.capacity > old_capacity or raised_caps:
        _offer_freed_places(event.id, now)
    return event


def _check_changes(event: Event, values: Mapping[str, Any]) -> None:
    """Rules that need the event as it is: collected into one ValidationError, or a Conflict."""
    if event.is_cancelled:
        differs = [name for name, value in values.items() if not (name == "status" and value == event.status)]
        if differs:
            raise Conflict("A cancelled event cannot be changed.", code="event_cancelled")
    errors: dict[str, str] = {}
    if "slug" in values:
        if values["slug"] is None:
            errors["slug"] = "Must not be empty."
        elif _slug_taken(values["slug"], except_event_id=event.id):
            errors["slug"] = "Already in use."
    merged = {name: values.get(name, getattr(event, name)) for name in DATETIME_FIELDS}
    check_windows(merged, errors)
    for list_name, existing in (("sessions", event.sessions), ("ticket_types", event.ticket_types)):
        known_ids = {item.id for item in existing}
        for index, item in enumerate(values.get(list_name) or ()):
            if item.id is not None and item.id not in known_ids:
                errors[f"{list_name}[{index}].id"] = "Not one of this event's ids."
    if errors:
        count = len(errors)
        noun = "field is" if count == 1 else "fields are"
        raise ValidationError(f"{count} {noun} not valid: see errors.", errors=errors)


def _offer_freed_places(event_id: int, now: datetime) -> None:
    # Raising capacity or a cap frees places: the capacity module hands them to the
    # waiting list before they return to open sale (rule 4). The event is locked already.
    capacity.offer_freed_places(event_id, now)
