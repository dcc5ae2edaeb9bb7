"""Events, their sessions and rates: creating, changing, publishing and cancelling them.

The rules owned here:

- An event always has at least one live session and one rate, and its
  `starts_at`/`ends_at` follow its live sessions.
- Calendars stay true (rule 5): every session keeps the UID it was given;
  a change of a session's time or title raises that session's SEQUENCE; a
  change of the event's title, timezone, place or status raises every
  session's; any of these raises the event's. A session taken off a
  published event is cancelled (shown as STATUS:CANCELLED), not deleted.
- Capacity and rate caps never drop below the places already taken (rule 1):
  they change under the capacity module's lock, in the transaction that
  checks them, so a concurrent booking cannot slip under a lowered limit.
  Places freed by raising them go to the waiting list first (rule 4).
- A rate that anything refers to (an attendee's booking) cannot be removed.
- Every change writes an audit record in the same transaction (rule 7).

Input is checked by `bookings.catalogue.inputs` (every field at once) before
anything is written. The catalogue knows nothing of bookings: areas that must
act when an event is cancelled or moved register a hook here.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bookings import capacity
from bookings.catalogue.inputs import (
    DATETIME_FIELDS,
    SCALAR_FIELDS,
    EventInput,
    SessionInput,
    TicketTypeInput,
    check_windows,
    parse_event_changes,
)
from bookings.catalogue.models import Event, EventSession, EventStatus, TicketType
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, NotFound, ValidationError
from bookings.extensions import db

# Fields that appear in a calendar entry: changing one raises every session's SEQUENCE.
CALENDAR_FIELDS = frozenset({"title", "timezone", "venue_name", "venue_address", "is_online", "online_url"})
# Plain attributes copied from input to the event as they are.
EVENT_ATTRIBUTES = tuple(name for name in (*SCALAR_FIELDS, *DATETIME_FIELDS) if name not in ("slug", "status"))
TICKET_TYPE_ATTRIBUTES = (
    "name",
    "description",
    "price_pence",
    "currency",
    "vat_rate_bp",
    "cap",
    "sale_starts_at",
    "sale_ends_at",
)
MAX_SLUG_LENGTH = 100

# (event, actor_id, now) -> None; runs inside the cancelling transaction.
CancellationHook = Callable[[Event, "int | None", datetime], None]
# (event, changed field names, actor_id, now) -> None; runs when a published event's time or place changes.
ChangeHook = Callable[[Event, "list[str]", "int | None", datetime], None]

_cancellation_hooks: dict[str, CancellationHook] = {}
_change_hooks: dict[str, ChangeHook] = {}


def register_cancellation_hook(name: str, hook: CancellationHook) -> None:
    """Run `hook` inside the transaction that cancels an event (to tell bookers, refund, close the waiting list)."""
    _cancellation_hooks[name] = hook


def register_change_hook(name: str, hook: ChangeHook) -> None:
    """Run `hook` inside the transaction that moves a published event (new times, place or sessions)."""
    _change_hooks[name] = hook


def new_session_uid() -> str:
    """A stable, globally unique iCalendar UID for a new session."""
    host = ""
    if has_app_context():
        host = (current_app.config.get("SERVER_NAME") or "").split(":")[0]
    return f"{uuid.uuid4()}@{host or 'bookings'}"


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-") or "event"


def _slug_taken(slug: str, *, except_event_id: int | None = None) -> bool:
    query = select(Event.id).where(Event.slug == slug)
    if except_event_id is not None:
        query = query.where(Event.id != except_event_id)
    return db.session.scalar(query) is not None


def _unique_slug(title: str) -> str:
    base = slugify(title)
    taken = set(db.session.scalars(select(Event.slug).where(Event.slug.startswith(base, autoescape=True))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _flush_checking_slug() -> None:
    # Two writers can pick the same free slug at once (PostgreSQL reads committed data);
    # the unique constraint decides, and the loser is told as if it had been taken before.
    try:
        db.session.flush()
    except IntegrityError as error:
        if "slug" not in str(error.orig).lower():
            raise
        raise ValidationError("The slug is already used by another event.", errors={"slug": "Already in use."})


def _sync_dates(event: Event) -> None:
    live = [s for s in event.sessions if not s.is_cancelled] or event.sessions
    event.starts_at = min(s.starts_at for s in live)
    event.ends_at = max(s.ends_at for s in live)


def _new_ticket_type(spec: TicketTypeInput, position: int) -> TicketType:
    ticket_type = TicketType(position=position)
    for name in TICKET_TYPE_ATTRIBUTES:
        setattr(ticket_type, name, getattr(spec, name))
    return ticket_type


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


def _load_locked(event_id: int) -> Event:
    if db.session.get(Event, event_id) is None:
        raise NotFound("There is no event with that id.")
    return capacity.lock_event(event_id)


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


def _replace_sessions(event: Event, specs: tuple[SessionInput, ...], touched: set[int]) -> bool:
    """Make the live sessions exactly `specs`; returns whether anything changed.

    `touched` receives (the Python ids of) existing sessions whose time, title or cancellation changed.
    """
    by_id = {s.id: s for s in event.sessions}
    kept_ids = {spec.id for spec in specs if spec.id is not None}
    changed = False
    for spec in specs:
        session = by_id.get(spec.id) if spec.id is not None else None
        if session is None:
            session = EventSession(
                title=spec.title, starts_at=spec.starts_at, ends_at=spec.ends_at, sequence=0, uid=new_session_uid()
            )
            event.sessions.append(session)
            changed = True
            continue
        if (session.starts_at, session.ends_at, session.title, session.is_cancelled) != (
            spec.starts_at,
            spec.ends_at,
            spec.title,
            False,
        ):
            session.starts_at, session.ends_at, session.title = spec.starts_at, spec.ends_at, spec.title
            session.is_cancelled = False
            touched.add(id(session))
            changed = True
    for session in list(event.sessions):
        if session.id is None or session.id in kept_ids or session.is_cancelled:
            continue
        changed = True
        if event.status == EventStatus.DRAFT.value:
            event.sessions.remove(session)  # never published: nobody has it in a calendar
        else:
            session.is_cancelled = True  # published: calendars show it cancelled, not silently gone
            touched.add(id(session))
    return changed


def _rates_in_use(ticket_type_ids: set[int]) -> set[int]:
    """Ids among these rates that any row refers to (found through the foreign keys; no import of bookings)."""
    if not ticket_type_ids:
        return set()
    target = TicketType.__table__.c.id
    used: set[int] = set()
    for table in db.metadata.sorted_tables:
        for foreign_key in table.foreign_keys:
            if foreign_key.column is target:
                column = foreign_key.parent
                used.update(db.session.scalars(select(column).where(column.in_(ticket_type_ids)).distinct()))
    return used


def _replace_ticket_types(event: Event, specs: tuple[TicketTypeInput, ...], taken: capacity.Availability) -> bool:
    by_id = {t.id: t for t in event.ticket_types}
    kept_ids = {spec.id for spec in specs if spec.id is not None}
    removed = {t.id for t in event.ticket_types if t.id not in kept_ids}
    in_use = _rates_in_use(removed)
    if in_use:
        names = ", ".join(sorted(by_id[i].name for i in in_use))
        raise Conflict(
            f"A rate with bookings cannot be removed: {names}.",
            code="ticket_type_in_use",
            field="ticket_types",
            ticket_type_ids=sorted(in_use),
        )
    for spec in specs:
        taken_here = taken.taken_by_type.get(spec.id, 0) if spec.id is not None else 0
        if spec.cap is not None and spec.cap < taken_here:
            raise Conflict(
                f"The cap of {spec.name} cannot go below the {taken_here} places already taken on it.",
                code="cap_below_taken",
                field="ticket_types",
                ticket_type_id=spec.id,
                taken=taken_here,
            )
    changed = bool(removed)
    for ticket_type in list(event.ticket_types):
        if ticket_type.id in removed:
            event.ticket_types.remove(ticket_type)
    for position, spec in enumerate(specs):
        if spec.id is None:
            event.ticket_types.append(_new_ticket_type(spec, position))
            changed = True
            continue
        ticket_type = by_id[spec.id]
        for name in (*TICKET_TYPE_ATTRIBUTES, "position"):
            value = position if name == "position" else getattr(spec, name)
            if getattr(ticket_type, name) != value:
                setattr(ticket_type, name, value)
                changed = True
    return changed


def _offer_freed_places(event_id: int, now: datetime) -> None:
    # Raising capacity or a cap frees places: the capacity module hands them to the
    # waiting list before they return to open sale (rule 4). The event is locked already.
    capacity.offer_freed_places(event_id, now)


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
