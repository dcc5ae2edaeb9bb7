"""Bulk data for the benchmarks, written straight into the tables (never through the services).

Rows go in with SQLAlchemy Core `executemany` and explicit ids, so a million
attendees take seconds rather than the hours the services would need; on
PostgreSQL the id sequences are moved past the seeded ids afterwards, so the
app's own inserts during the run do not collide with them.

Shape of the catalogue at every scale: each event has one session, one free
rate, capacity 150 and 100 attendees (50 confirmed bookings of two places),
so the per-event work is the same at 1x, 10x and 100x and only the amount of
data around it grows.
"""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from bookings.accounts.models import ApiToken, User
from bookings.booking.models import Attendee, Booking
from bookings.calendar.models import CalendarFeedToken
from bookings.catalogue.models import Event, EventSession, TicketType
from bookings.core.tokens import hash_token
from bookings.extensions import db
from bookings.waitlist.models import WaitlistEntry

ATTENDEES_PER_EVENT = 100
PLACES_PER_BOOKING = 2
CATALOGUE_CAPACITY = 150
BATCH = 5_000
SEEDED_TABLES = ("user", "api_token", "event", "event_session", "ticket_type", "booking", "attendee", "waitlist_entry")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _next_id(model) -> int:
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


def _insert(model, rows: list[dict]) -> None:
    if not rows:
        return
    if db.engine.dialect.name == "postgresql":
        _copy(model.__table__, rows)
        return
    if db.engine.dialect.name == "sqlite":
        _sqlite_executemany(model.__table__, rows)
        return
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[start : start + BATCH])


def _column_default(column):
    default = column.default
    if default is None or default.is_sequence or default.is_clause_element:
        return None
    return default.arg(None) if default.is_callable else default.arg


def _sqlite_value(value):
    """What SQLAlchemy itself would store on SQLite: naive UTC datetimes as text, JSON as text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _sqlite_executemany(table, rows: list[dict]) -> None:
    """sqlite3's own executemany, several times faster than SQLAlchemy's for a million rows."""
    names, defaults = _columns(table, rows[0])
    given = names[: len(names) - len(defaults)]
    columns = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" for _ in names)
    cursor = db.session.connection().connection.driver_connection.cursor()
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'
    cursor.executemany(sql, ([_sqlite_value(v) for v in [row[n] for n in given] + defaults] for row in rows))


def _columns(table, first: dict) -> tuple[list[str], list]:
    """The row's own columns, then those it leaves out that have a Python-side default, with their values."""
    given = list(first)
    missing = [c for c in table.columns if c.name not in given and _column_default(c) is not None]
    return given + [c.name for c in missing], [_column_default(c) for c in missing]


def _copy(table, rows: list[dict]) -> None:
    """PostgreSQL's COPY, ten times faster than executemany; fills the columns' Python-side defaults itself."""
    from psycopg.types.json import Json

    given = list(rows[0])
    missing = [c for c in table.columns if c.name not in given and _column_default(c) is not None]
    names = given + [c.name for c in missing]
    defaults = [_column_default(c) for c in missing]
    cursor = db.session.connection().connection.driver_connection.cursor()
    columns = ", ".join(f'"{n}"' for n in names)
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            values = [row[n] for n in given] + defaults
            copy.write_row([Json(v) if isinstance(v, dict | list) else v for v in values])


def _fix_sequences() -> None:
    if db.engine.dialect.name != "postgresql":
        return
    for table in SEEDED_TABLES:
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
            )
        )


def _reference() -> str:
    return "BN-" + secrets.token_hex(6).upper()


@dataclass
class EventIds:
    event_ids: list[int]
    ticket_type_ids: list[int]
    slugs: list[str]


def add_events(
    count: int,
    *,
    capacity: int = CATALOGUE_CAPACITY,
    attendees_per_event: int = ATTENDEES_PER_EVENT,
    prefix: str = "bench",
    price_pence: int = 0,
    rng: random.Random | None = None,
) -> EventIds:
    """`count` published events starting within two years, each with `attendees_per_event` confirmed places."""
    now = _now()
    first_event, first_session, first_rate = _next_id(Event), _next_id(EventSession), _next_id(TicketType)
    rng = rng or random.Random(first_event)
    events, sessions, rates, slugs = [], [], [], []
    for i in range(count):
        event_id, rate_id = first_event + i, first_rate + i
        starts = now + timedelta(days=7 + rng.randrange(700), hours=rng.randrange(8))
        slug = f"{prefix}-{event_id}"
        slugs.append(slug)
        events.append(
            {
                "id": event_id,
                "slug": slug,
                "title": f"Benchmark course {event_id}: safeguarding adults level 2",
                "kind": "course",
                "status": "published",
                "summary": "A seeded event for the benchmarks.",
                "description": "<p>Seeded for the benchmarks.</p>",
                "venue_name": "Civic Centre",
                "venue_address": "1 Civic Square, Exampleton",
                "capacity": capacity,
                "max_places_per_booking": 10,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=6),
                "created_at": now,
                "updated_at": now,
            }
        )
        sessions.append(
            {
                "id": first_session + i,
                "event_id": event_id,
                "title": "Day 1",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=6),
                "uid": f"bench-{first_session + i}-{secrets.token_hex(4)}@bookings.example",
            }
        )
        rates.append(
            {
                "id": rate_id,
                "event_id": event_id,
                "name": "Free" if price_pence == 0 else "Public sector",
                "price_pence": price_pence,
                "vat_rate_bp": 0 if price_pence == 0 else 2000,
            }
        )
    _insert(Event, events)
    _insert(EventSession, sessions)
    _insert(TicketType, rates)
    if attendees_per_event:
        booker = ensure_users(1, prefix="bench-booker")[0][0]
        add_confirmed_places(
            [(e["id"], r["id"]) for e, r in zip(events, rates, strict=True)], attendees_per_event, booker_id=booker
        )
    _fix_sequences()
    db.session.commit()
    return EventIds([e["id"] for e in events], [r["id"] for r in rates], slugs)


def add_confirmed_places(pairs: list[tuple[int, int]], places_per_event: int, *, booker_id: int) -> None:
    """Confirmed free bookings of two places each on every (event id, rate id) pair."""
    now = _now()
    booking_id, attendee_id = _next_id(Booking), _next_id(Attendee)
    bookings, attendees = [], []
    for event_id, rate_id in pairs:
        for _ in range(places_per_event // PLACES_PER_BOOKING):
            bookings.append(
                {
                    "id": booking_id,
                    "reference": _reference(),
                    "event_id": event_id,
                    "booker_id": booker_id,
                    "status": "confirmed",
                    "payment_status": "not_required",
                    "payment_method": "free",
                    "is_details_complete": True,
                    "created_at": now,
                    "confirmed_at": now,
                }
            )
            for _ in range(PLACES_PER_BOOKING):
                attendees.append(
                    {
                        "id": attendee_id,
                        "booking_id": booking_id,
                        "event_id": event_id,
                        "ticket_type_id": rate_id,
                        "status": "active",
                        "name": f"Attendee {attendee_id}",
                        "email": f"attendee{attendee_id}@council.example",
                        "organisation": "Exampleton Council",
                        "answers": {},
                        "created_at": now,
                    }
                )
                attendee_id += 1
            booking_id += 1
            if len(attendees) >= 4 * BATCH:
                _insert(Booking, bookings)
                _insert(Attendee, attendees)
                bookings, attendees = [], []
    _insert(Booking, bookings)
    _insert(Attendee, attendees)


def ensure_users(count: int, *, prefix: str, with_tokens: bool = False) -> list[tuple[int, str | None]]:
    """`count` attendee accounts (and one API token each when asked): [(user id, token)]."""
    now = _now()
    first_user, first_token = _next_id(User), _next_id(ApiToken)
    users, tokens, result = [], [], []
    for i in range(count):
        user_id = first_user + i
        users.append(
            {
                "id": user_id,
                "email": f"{prefix}-{user_id}@council.example",
                "name": f"Bench user {user_id}",
                "organisation": "Exampleton Council",
                "password_hash": "!",  # no password can match: these accounts sign in only by token
                "created_at": now,
            }
        )
        token = None
        if with_tokens:
            token = secrets.token_urlsafe(32)
            tokens.append(
                {
                    "id": first_token + i,
                    "user_id": user_id,
                    "name": "bench",
                    "token_hash": hash_token(token),
                    "created_at": now,
                }
            )
        result.append((user_id, token))
    _insert(User, users)
    if tokens:
        _insert(ApiToken, tokens)
    _fix_sequences()
    db.session.commit()
    return result


def add_feed_user(event_ids: list[int], rate_ids: list[int], bookings: int) -> str:
    """A user with `bookings` confirmed one-place bookings and a calendar feed; returns the feed token."""
    now = _now()
    user_id = ensure_users(1, prefix="bench-feed")[0][0]
    booking_id, attendee_id = _next_id(Booking), _next_id(Attendee)
    rows_b, rows_a = [], []
    for i in range(bookings):
        event_id, rate_id = event_ids[i % len(event_ids)], rate_ids[i % len(rate_ids)]
        rows_b.append(
            {
                "id": booking_id + i,
                "reference": _reference(),
                "event_id": event_id,
                "booker_id": user_id,
                "status": "confirmed",
                "payment_status": "not_required",
                "payment_method": "free",
                "is_details_complete": True,
                "created_at": now,
                "confirmed_at": now,
            }
        )
        rows_a.append(
            {
                "id": attendee_id + i,
                "booking_id": booking_id + i,
                "event_id": event_id,
                "ticket_type_id": rate_id,
                "status": "active",
                "name": "Feed Person",
                "email": f"feed{user_id}@council.example",
                "answers": {},
                "created_at": now,
            }
        )
    _insert(Booking, rows_b)
    _insert(Attendee, rows_a)
    token = secrets.token_urlsafe(32)
    db.session.execute(
        insert(CalendarFeedToken), [{"user_id": user_id, "token_hash": hash_token(token), "created_at": now}]
    )
    _fix_sequences()
    db.session.commit()
    return token


def add_sweep_work(holds: int, waiting: int, *, events: int = 100) -> None:
    """`holds` expired one-place holds and `waiting` waiting-list entries spread over `events` full events."""
    now = _now()
    ids = add_events(events, capacity=holds // events, attendees_per_event=0, prefix="bench-sweep")
    booker = ensure_users(1, prefix="bench-holder")[0][0]
    waiters = ensure_users(waiting, prefix="bench-waiter")
    booking_id, attendee_id = _next_id(Booking), _next_id(Attendee)
    rows_b, rows_a = [], []
    for i in range(holds):
        event_id, rate_id = ids.event_ids[i % events], ids.ticket_type_ids[i % events]
        rows_b.append(
            {
                "id": booking_id + i,
                "reference": _reference(),
                "event_id": event_id,
                "booker_id": booker,
                "status": "held",
                "payment_status": "pending",
                "payment_method": "card",
                "hold_expires_at": now - timedelta(minutes=5),
                "created_at": now - timedelta(minutes=35),
            }
        )
        rows_a.append(
            {
                "id": attendee_id + i,
                "booking_id": booking_id + i,
                "event_id": event_id,
                "ticket_type_id": rate_id,
                "status": "active",
                "name": "Holder",
                "email": "holder@council.example",
                "answers": {},
                "created_at": now - timedelta(minutes=35),
            }
        )
    _insert(Booking, rows_b)
    _insert(Attendee, rows_a)
    entries = [
        {
            "event_id": ids.event_ids[i % events],
            "user_id": waiters[i][0],
            "places": 1,
            "status": "waiting",
            "joined_at": now - timedelta(hours=1, seconds=-i),
            "has_email_consent": True,
        }
        for i in range(waiting)
    ]
    _insert(WaitlistEntry, entries)
    _fix_sequences()
    db.session.commit()
