"""The floor: the booking API's own statements on a bare DB-API connection, in a bare Flask view.

Served with the same gunicorn settings as the app and rushed exactly as the
app is (bench/rush.py), it measures what this design's SQL costs on this
machine with no ORM and no application code around it: the token read,
the rate limit's count, the event with its rates and questions, the count
of places, then one transaction (the token's use, the limit's count and
hit, two audit records, the booking, its attendee, two outbox rows, the
event's lock, the waiting-list check, the count again) and the page
cache's counter. Those are the statements the app sends for one free booking
and, up to the first count, for a sold-out 409 (`tests/bench/test_floor.py`
counts the app's). Column lists are written out in full where the app writes
them in full. No check is made beyond what keeps places within capacity: the
floor is a reference, not a second booking path.

FLOOR_DATABASE_URL: a SQLAlchemy-style URL (postgresql+psycopg:// or sqlite:///).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import secrets
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask, jsonify, request

app = Flask(__name__)

# Written with :name parameters; turned into %(name)s for psycopg below.
AUTH = """SELECT "user".id, "user".email, "user".name, "user".organisation, "user".sector, "user".role,
 "user".password_hash, "user".session_epoch, "user".is_active_account, "user".created_at,
 "user".password_changed_at, api_token.id, api_token.last_used_at
 FROM "user" JOIN api_token ON api_token.user_id = "user".id
 WHERE api_token.token_hash = :token_hash AND api_token.revoked_at IS NULL"""
THROTTLE = "SELECT count(*) FROM throttle_hit WHERE throttle_hit.key = :key AND throttle_hit.at > :since"
EVENT = """SELECT event.capacity, event.title, ticket_type.id, event.*, ticket_type.*, question.*
 FROM event LEFT OUTER JOIN ticket_type ON event.id = ticket_type.event_id
 LEFT OUTER JOIN question ON event.id = question.event_id
 WHERE event.id = :event_id ORDER BY ticket_type.position, question.position"""
PLACES = """SELECT 0 AS kind, ticket_type.event_id, ticket_type.id, ticket_type.cap FROM ticket_type
 WHERE ticket_type.event_id IN (:event_id)
 UNION ALL SELECT 1, taken.event_id, taken.ticket_type_id, sum(taken.places) FROM (
  SELECT booking.event_id AS event_id, attendee.ticket_type_id AS ticket_type_id, count(*) AS places
  FROM booking JOIN attendee ON attendee.booking_id = booking.id
  WHERE booking.event_id IN (:event_id) AND booking.status IN ('confirmed', 'held')
   AND (booking.status = 'confirmed' OR booking.hold_expires_at > :now) AND attendee.status = 'active'
  GROUP BY booking.event_id, attendee.ticket_type_id
  UNION ALL SELECT waitlist_entry.event_id, waitlist_entry.offer_ticket_type_id, sum(waitlist_entry.places)
  FROM waitlist_entry WHERE waitlist_entry.event_id IN (:event_id) AND waitlist_entry.status = 'offered'
   AND waitlist_entry.offer_expires_at > :now
  GROUP BY waitlist_entry.event_id, waitlist_entry.offer_ticket_type_id) AS taken
 GROUP BY taken.event_id, taken.ticket_type_id"""
TOUCH = """UPDATE api_token SET last_used_at = :now WHERE api_token.id = :token_id
 AND (api_token.last_used_at IS NULL OR api_token.last_used_at <= :stale_before)"""
AUDIT = "INSERT INTO audit_record (at, actor_id, action, subject_type, subject_id, event_id, details) VALUES "
AUDIT_ROWS = (
    "(:now, :user_id, 'booking.held', 'booking', :reference, :event_id, :held)",
    "(:now, :user_id, 'booking.confirmed', 'booking', :reference, :event_id, :confirmed)",
)
HIT = "INSERT INTO throttle_hit (key, at) VALUES (:key, :now) RETURNING id"
BOOKING = """INSERT INTO booking (reference, event_id, booker_id, status, payment_status, payment_method,
 hold_expires_at, purchase_order, billing_contact, billing_email, billing_address, total_pence, currency,
 is_details_complete, is_over_capacity, created_at, confirmed_at, cancelled_at, expired_at) VALUES
 (:reference, :event_id, :user_id, 'confirmed', 'not_required', 'free', NULL, '', '', '', '', 0, 'GBP',
 :true, :false, :now, :now, NULL, NULL) RETURNING id"""
ATTENDEE = """INSERT INTO attendee (booking_id, event_id, ticket_type_id, status, name, email, organisation,
 job_title, dietary_needs, access_needs, answers, price_pence, created_at, cancelled_at, checked_in_at) VALUES
 (:booking_id, :event_id, :ticket_type_id, 'active', :name, :email, '', '', '', '', '{}', 0, :now, NULL, NULL)
 RETURNING id"""
OUTBOX = """INSERT INTO outbox_message (message_key, kind, to_address, subject, text_body, html_body, attachments,
 status, attempts, next_attempt_at, claimed_at, sent_at, last_error, created_at, booking_reference, event_id) VALUES """
OUTBOX_ROWS = (
    """(:key_1, 'booking_confirmed', :booker_email, :subject_1, :recipe_1, '', '[]', 'unrendered', 0, :now, NULL,
 NULL, '', :now, :reference, :event_id)""",
    """(:key_2, 'attendee_confirmed', :email, :subject_2, :recipe_2, '', '[]', 'unrendered', 0, :now, NULL, NULL,
 '', :now, :reference, :event_id)""",
)
LOCK = "SELECT event.* FROM event WHERE event.id = :event_id"  # and FOR NO KEY UPDATE on PostgreSQL
WAITING = """SELECT waitlist_entry.id FROM waitlist_entry WHERE waitlist_entry.event_id = :event_id
 AND waitlist_entry.status IN ('waiting', 'offered') LIMIT 1"""
BUMP = "UPDATE public_generation SET value = public_generation.value + 1 WHERE public_generation.id = 1"


class Database:
    """One connection per process, statements as the app's driver takes them."""

    def __init__(self, url: str) -> None:
        self.is_sqlite = url.startswith("sqlite")
        self.statements = 0  # sent, apart from BEGIN, COMMIT and ROLLBACK (tests/infra/test_bench_floor.py)
        if self.is_sqlite:
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            dsn = url.replace("postgresql+psycopg://", "postgresql://")
            self.conn = psycopg.connect(dsn)
            # The page cache's counter moves after the commit on a connection of its own, in autocommit,
            # without waiting for the disk (site.page_counter.CounterConnection).
            self.counter = psycopg.connect(dsn, autocommit=True)
            self.counter.execute("SET synchronous_commit TO OFF")

    def _send(self, sql: str, params: dict | None):
        self.statements += 1
        return self.conn.execute(sql if self.is_sqlite else _for_psycopg(sql), params or {})

    def run(self, sql: str, params: dict | None = None) -> list[tuple]:
        return self._send(sql, params).fetchall()

    def do(self, sql: str, params: dict | None = None) -> None:
        self._send(sql, params)

    def insert(self, head: str, rows: tuple[str, ...], params: dict) -> None:
        """Rows whose ids are wanted back, as the ORM sends them: one INSERT for all on PostgreSQL, one a
        row on SQLite."""
        for values in (rows,) if not self.is_sqlite else ((row,) for row in rows):
            self.run(head + ", ".join(values) + " RETURNING id", params)

    def begin(self, write: bool) -> None:
        if self.is_sqlite:  # psycopg begins by itself
            self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT") if self.is_sqlite else self.conn.commit()

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK") if self.is_sqlite else self.conn.rollback()

    def bound(self, moment: datetime) -> datetime | str:
        """A UTC moment as the app binds it: naive ISO text on SQLite (core.types.UTCDateTime)."""
        return moment.replace(tzinfo=None).isoformat(sep=" ") if self.is_sqlite else moment


@functools.cache
def _for_psycopg(sql: str) -> str:
    """:name parameters as %(name)s, and the event's lock as the app takes it on PostgreSQL."""
    return re.sub(r"(?<!:):([a-z_0-9]+)", r"%(\1)s", sql) + (" FOR NO KEY UPDATE OF event" if sql == LOCK else "")


_database: Database | None = None


def database() -> Database:
    global _database
    if _database is None:
        _database = Database(os.environ["FLOOR_DATABASE_URL"])
    return _database


THROTTLE_WINDOW = timedelta(minutes=10)


def _places_taken(rows: list[tuple]) -> int:
    return sum(row[3] or 0 for row in rows if row[0] == 1)


@app.get("/")
def ready() -> str:
    return "ready"


@app.post("/api/v1/events/<int:event_id>/bookings")
def book(event_id: int):
    """One free place: what the app answers 201 or 409, from the app's statements."""
    db, now = database(), datetime.now(UTC)
    stamp, since = db.bound(now), db.bound(now - THROTTLE_WINDOW)
    person = request.get_json()["attendees"][0]
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    db.begin(write=False)
    user = db.run(AUTH, {"token_hash": hashlib.sha256(token.encode()).hexdigest()})
    if not user:
        db.commit()
        return jsonify(error="unauthorised", message="Give a valid API token."), 401
    user_id, booker_email, token_id = user[0][0], user[0][1], user[0][11]
    key = f"book:user:{user_id}"
    db.run(THROTTLE, {"key": key, "since": since})
    event = db.run(EVENT, {"event_id": event_id})
    capacity, title, ticket_type_id = event[0][0], event[0][1], event[0][2]
    taken = _places_taken(db.run(PLACES, {"event_id": event_id, "now": stamp}))
    db.commit()
    if taken >= capacity:
        return jsonify(error="sold_out", message="There are no places left.", places_left=0), 409
    reference = "BK-" + secrets.token_hex(4).upper()
    values = {
        "now": stamp,
        "user_id": user_id,
        "event_id": event_id,
        "ticket_type_id": ticket_type_id,
        "reference": reference,
        "key": key,
        "since": since,
        "token_id": token_id,
        "stale_before": db.bound(now - timedelta(minutes=1)),
        "true": True,
        "false": False,
        "held": json.dumps({"places": 1, "ticket_type_id": ticket_type_id, "via": "api"}),
        "confirmed": json.dumps({"payment_method": "free", "places": 1}),
        "name": person["name"],
        "email": person["email"],
        "booker_email": booker_email,
    }
    db.begin(write=True)
    db.do(TOUCH, values)
    db.run(THROTTLE, values)
    db.insert(AUDIT, AUDIT_ROWS, values)
    db.run(HIT, values)
    values["booking_id"] = db.run(BOOKING, values)[0][0]
    attendee_id = db.run(ATTENDEE, values)[0][0]
    for n, attendee in ((1, None), (2, attendee_id)):
        values[f"key_{n}"] = uuid.uuid4().hex
        values[f"recipe_{n}"] = json.dumps(
            {"renderer": "booking.confirmed", "params": {"reference": reference, "attendee_id": attendee}}
        )
    values["subject_1"], values["subject_2"] = f"Booking confirmed: {title} ({reference})", f"Your place at {title}"
    db.insert(OUTBOX, OUTBOX_ROWS, values)
    db.run(LOCK, values)
    db.run(WAITING, values)
    if _places_taken(db.run(PLACES, values)) > capacity:
        db.rollback()
        return jsonify(error="sold_out", message="There are no places left.", places_left=0), 409
    if db.is_sqlite:  # SQLite: the counter moves in the booking's own transaction (site.page_counter)
        db.do(BUMP)
        db.commit()
    else:
        db.commit()
        db.statements += 1
        db.counter.execute(BUMP)
    body = {
        "reference": reference,
        "status": "confirmed",
        "event_id": event_id,
        "payment_method": "free",
        "payment_status": "not_required",
        "total_pence": 0,
        "currency": "GBP",
        "attendees": [{"id": attendee_id, "name": person["name"], "email": person["email"], "status": "active"}],
    }
    return jsonify(body), 201
