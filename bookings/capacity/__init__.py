"""Rule 1, no overbooking: the only code that counts or takes places.

For every event, at every commit:
    confirmed places + unexpired held places + unexpired offered places <= capacity
and the same for each ticket type with its own cap.

Counting is a pure function (`compute_availability`) over the event's
capacity, the rates' caps and the live claims at `now`; an expired hold or
offer stops counting at once, whether or not a sweep has run (rule 2).

Places are taken only through `take_places`, which refuses to run outside a
write transaction and locks the event first: a row lock (`SELECT ... FOR
UPDATE`) on PostgreSQL, the database write lock (`BEGIN IMMEDIATE`) on
SQLite. The caller inserts its rows in the same transaction, so two takers
can never both see the same free place: after the check, or before the lock
(`written=True`, so that the lock is held only for the count and the commit),
in which case its own rows are left out of the count until it is done.

The areas that hold places (bookings, waiting-list offers) sit above this
module and register a *place source*: a query giving (event_id,
ticket_type_id, places) of their live claims at `now`. This module imports
none of them. No Flask imports here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, Select, bindparam, func, literal, select, union_all

from bookings.catalogue.models import Event, TicketType
from bookings.core.db import in_write_transaction
from bookings.core.errors import NotFound, SoldOut
from bookings.core.types import UTCDateTime
from bookings.extensions import db

# A place source: (event ids, now) -> SELECT event_id, ticket_type_id, places (one row per claim or group).
# Called once per process with bound parameters (an expanding one for the ids), so the statement is
# built once and only executed per request; admin queries may call one with a list and a datetime.
PlaceSource = Callable[[Any, Any], Select]
# Called inside the locked transaction when places may have been freed (before an open sale, after a
# cancellation or expiry, when capacity is raised), so that freed places reach the waiting list first.
FreedPlacesHandler = Callable[[int, datetime], None]

_sources: dict[str, PlaceSource] = {}
# The same counts shaped for one event (`register_source(one_event=...)`): PostgreSQL's best plan for one
# event that is being booked fast is not its best plan for a page of events.
_one_event_sources: dict[str, PlaceSource] = {}
_freed_places_handlers: dict[str, FreedPlacesHandler] = {}


def register_source(name: str, source: PlaceSource, *, one_event: PlaceSource | None = None) -> None:
    """Make a kind of claim count against capacity (called once, at import of its area).

    `one_event`: the same query shaped for a single event, used when only one
    is counted (every booking path, and the event page); it must give exactly
    the rows `source` gives for that event.
    """
    _sources[name] = source
    _one_event_sources[name] = one_event or source


def register_freed_places_handler(name: str, handler: FreedPlacesHandler) -> None:
    """Give freed places of an event to whoever is owed them (the waiting list) before open sale."""
    _freed_places_handlers[name] = handler


def offer_freed_places(event_id: int, now: datetime) -> None:
    """Run the freed-places handlers; the caller holds the event lock (see `lock_event`)."""
    if not in_write_transaction():
        raise RuntimeError("capacity.offer_freed_places() must run inside a write transaction")
    for handler in _freed_places_handlers.values():
        handler(event_id, now)


@dataclass(frozen=True)
class Claim:
    """Places claimed on one rate; `expires_at` None means it does not expire (confirmed)."""

    ticket_type_id: int
    places: int
    expires_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True)
class Availability:
    capacity: int
    taken: int
    taken_by_type: Mapping[int, int] = field(default_factory=dict)
    caps: Mapping[int, int | None] = field(default_factory=dict)

    @property
    def places_left(self) -> int:
        return max(0, self.capacity - self.taken)

    def places_left_for(self, ticket_type_id: int) -> int:
        """Places left on one rate: the event's, further limited by the rate's own cap."""
        left = self.places_left
        cap = self.caps.get(ticket_type_id)
        if cap is not None:
            left = min(left, max(0, cap - self.taken_by_type.get(ticket_type_id, 0)))
        return left


def compute_availability(
    capacity: int, caps: Mapping[int, int | None], claims: Iterable[Claim], now: datetime
) -> Availability:
    """Pure arithmetic: what is taken and left at `now`, counting only live claims."""
    taken = 0
    by_type: dict[int, int] = {}
    for claim in claims:
        if not claim.is_live(now):
            continue
        taken += claim.places
        by_type[claim.ticket_type_id] = by_type.get(claim.ticket_type_id, 0) + claim.places
    return Availability(capacity=capacity, taken=taken, taken_by_type=by_type, caps=dict(caps))


_EVENT_IDS = bindparam("event_ids", expanding=True)
# Session info key: {event id: {ticket type id: places}} written by the taker in this transaction
# and left out of every count until its check is done (`take_places(written=True)`).
_UNCOUNTED = "capacity_uncounted"
_NOW = bindparam("now", type_=UTCDateTime())
_CAP, _CLAIM = 0, 1
# Built once per set of sources: constructing a union of selects costs more than running it.
_statements: dict[tuple[bool, tuple[str, ...]], Select | CompoundSelect] = {}


def _places_query(one_event: bool = False) -> Select | CompoundSelect:
    """(kind, event_id, ticket_type_id, value): each rate's cap (kind _CAP), then places claimed per rate (_CLAIM)."""
    sources = _one_event_sources if one_event else _sources
    key = (one_event, tuple(sources))
    if key not in _statements:
        caps = select(
            literal(_CAP).label("kind"), TicketType.event_id, TicketType.id.label("ticket_type_id"), TicketType.cap
        ).where(TicketType.event_id.in_(_EVENT_IDS))
        parts = [source(_EVENT_IDS, _NOW) for source in sources.values()]
        if parts:
            union = union_all(*parts).subquery()
            claims = select(
                literal(_CLAIM), union.c.event_id, union.c.ticket_type_id, func.sum(union.c.places)
            ).group_by(union.c.event_id, union.c.ticket_type_id)
            _statements[key] = union_all(caps, claims)
        else:
            _statements[key] = caps
    return _statements[key]


def availability_for(events: Iterable[Event], now: datetime) -> dict[int, Availability]:
    """Availability of several events in one query, for listings, the API and the booking paths."""
    events = list(events)
    event_ids = [e.id for e in events]
    if not event_ids:
        return {}
    caps: dict[int, dict[int, int | None]] = {event_id: {} for event_id in event_ids}
    claims: dict[int, list[Claim]] = {event_id: [] for event_id in event_ids}
    for kind, event_id, ticket_type_id, value in db.session.execute(
        _places_query(one_event=len(event_ids) == 1), {"event_ids": event_ids, "now": now}
    ):
        if kind == _CAP:
            caps[event_id][ticket_type_id] = None if value is None else int(value)
        else:
            claims[event_id].append(Claim(ticket_type_id=ticket_type_id, places=int(value or 0)))
    for event_id, places in db.session.info.get(_UNCOUNTED, {}).items():
        if event_id in claims:  # a taker's own claim, written before its count (see take_places)
            claims[event_id].extend(Claim(ticket_type_id=t, places=-n) for t, n in places.items())
    return {e.id: compute_availability(e.capacity, caps[e.id], claims[e.id], now) for e in events}


def availability(event: Event, now: datetime) -> Availability:
    return availability_for([event], now)[event.id]


# Built once: building a statement costs more than running this one.
_READ_EVENT = select(Event).where(Event.id == bindparam("event_id")).execution_options(populate_existing=True)
_LOCK_EVENT = _READ_EVENT.with_for_update(of=Event, key_share=True)


def lock_event(event_id: int) -> Event:
    """Serialise every taker of this event's places until the transaction ends. Raises NotFound if there is none.

    On PostgreSQL the lock is `FOR NO KEY UPDATE OF event`: takers exclude
    each other, while inserts that only reference the event (their foreign
    key check takes `FOR KEY SHARE`) are not held up by it. On SQLite the
    transaction began with BEGIN IMMEDIATE and already holds the write lock.
    The event row is read afresh; anything joined to it in the same statement
    would be read as of the statement's start, before the wait, so callers
    read what else they need in a statement after this one.
    """
    if not in_write_transaction():
        raise RuntimeError("capacity.lock_event() must run inside a write transaction")
    query = _LOCK_EVENT if db.session.get_bind().dialect.name == "postgresql" else _READ_EVENT
    event = db.session.scalars(query, {"event_id": event_id}).one_or_none()
    if event is None:
        raise NotFound("There is no such event.")
    return event


def reads_before_lock_may_be_stale() -> bool:
    """Whether others may have changed what this write transaction read before its `lock_event`.

    Not on SQLite, where the transaction has held the database's write lock
    since it began. On PostgreSQL they may: a taker that reads (and writes)
    before it locks must read again after the lock what its claim depends on.
    """
    return db.session.get_bind().dialect.name != "sqlite"


def take_places(
    event_id: int,
    wanted: Mapping[int, int],
    now: datetime,
    *,
    allow_over_capacity: bool = False,
    offer_freed_first: bool = True,
    locked: bool = False,
    written: bool = False,
) -> Availability:
    """Lock the event and check that `wanted` (ticket type id -> places) fits at `now`.

    The caller then writes its claim in the same transaction. Raises
    `SoldOut` with the places left when it does not fit. Freed places are
    offered to the waiting list first (freed-places handlers), so an open sale
    cannot take places that waiting people are owed (`offer_freed_first=False`
    is for claims that are themselves the waiting list's). `locked`: the caller
    has already called `lock_event` in this transaction.

    `written`: the caller has already written its claim, exactly `wanted`, in
    this transaction, so that the lock is held only for the count and the
    commit, not while rows are built and inserted. Its claim is left out of
    what the freed-places handlers and the check count (the waiting list is
    still offered freed places first), and counts from the commit on like any
    other. On SoldOut the caller's transaction must roll back, its claim with it.
    """
    if not locked:
        lock_event(event_id)
    if written:
        db.session.info[_UNCOUNTED] = {event_id: dict(wanted)}
    try:
        if offer_freed_first:
            offer_freed_places(event_id, now)
        event = db.session.get(Event, event_id)
        assert event is not None
        current = availability(event, now)
    finally:
        db.session.info.pop(_UNCOUNTED, None)
    if allow_over_capacity:
        return current
    total = sum(wanted.values())
    for ticket_type_id, places in wanted.items():
        left = current.places_left_for(ticket_type_id)
        if places > left:
            raise SoldOut(sold_out_message(left, places), places_left=left)
    if total > current.places_left:
        raise SoldOut(sold_out_message(current.places_left, total), places_left=current.places_left)
    return current


def sold_out_message(left: int, asked: int) -> str:
    """The words of SoldOut, here and wherever a booking is refused from a read before the lock."""
    if left == 0:
        return "There are no places left."
    place_word = "place" if left == 1 else "places"
    return f"Only {left} {place_word} left; you asked for {asked}."
