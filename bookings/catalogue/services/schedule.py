"""An event's sessions and rates: replacing them on update without losing ones in use."""

from __future__ import annotations

import uuid

from flask import current_app, has_app_context
from sqlalchemy import select

from bookings import capacity
from bookings.catalogue.inputs import (
    SessionInput,
    TicketTypeInput,
)
from bookings.catalogue.models import Event, EventSession, EventStatus, TicketType
from bookings.core.errors import Conflict
from bookings.extensions import db

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


def new_session_uid() -> str:
    """A stable, globally unique iCalendar UID for a new session."""
    host = ""
    if has_app_context():
        host = (current_app.config.get("SERVER_NAME") or "").split(":")[0]
    return f"{uuid.uuid4()}@{host or 'bookings'}"


def _sync_dates(event: Event) -> None:
    live = [s for s in event.sessions if not s.is_cancelled] or event.sessions
    event.starts_at = min(s.starts_at for s in live)
    event.ends_at = max(s.ends_at for s in live)


def _new_ticket_type(spec: TicketTypeInput, position: int) -> TicketType:
    ticket_type = TicketType(position=position)
    for name in TICKET_TYPE_ATTRIBUTES:
        setattr(ticket_type, name, getattr(spec, name))
    return ticket_type


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
