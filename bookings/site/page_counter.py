"""The public-data counter: a number in the database that every committed write to a public table moves.

The public page cache (`site.page_cache`) stores each answer under the counter's value read before
the page was built and serves it only while the value is the same, so that every host sees every
other host's changes. Here: which writes move it (`track_public_writes`, and the session hooks that
move it with or just after the commit), the connection each process keeps to read and move it
cheaply (`CounterConnection`), and the next moment a hold or waiting-list offer runs out
(`next_lapse`), which ends an answer without any write.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bookings.booking.models import Booking, BookingStatus
from bookings.core.write_gate import write_gate
from bookings.site.models import PublicGeneration
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus

log = logging.getLogger(__name__)

# Tables whose rows appear on public pages (listing, event page, public API). A write to any other
# table (audit, outbox, tokens, rate limits, payments...) leaves public pages as they were.
PUBLIC_TABLES = frozenset(
    {"event", "event_session", "ticket_type", "question", "booking", "attendee", "waitlist_entry"}
)
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_DIRTY = "bookings.public_write"  # in a connection's info: this transaction wrote a public table
_SEEN = "bookings.public_connections"  # in a session's info: the connections its transaction used


class CounterUnavailable(SQLAlchemyError):
    """The counter could not be read (the database does not answer)."""


class CounterConnection:
    """The counter on a connection of its own, kept open, in autocommit: one round trip a read (or a bump).

    Read on every request answered from memory, so it must cost next to nothing: through the pool a
    read paid a checkout, a liveness ping, BEGIN and ROLLBACK (about 0.9 ms of CPU on PostgreSQL,
    as much as a whole hello-world request); here it is the one SELECT. A failed read drops the
    connection, and the next read opens a new one (after a database restart, say)."""

    SQL = "SELECT value FROM public_generation WHERE id = 1"
    BUMP_SQL = "UPDATE public_generation SET value = value + 1 WHERE id = 1"
    START_SQL = "INSERT INTO public_generation (id, value) VALUES (1, 1)"

    def __init__(self, engine: Engine, *, synchronous_commit: bool = True):
        self.engine = engine
        self.synchronous_commit = synchronous_commit
        self._connection: Any = None
        self._pid = 0
        self._closer: weakref.finalize | None = None
        self._lock = threading.Lock()

    def read(self) -> int:
        rows = self._run(lambda cursor: (cursor.execute(self.SQL), cursor.fetchall())[1])
        return int(rows[0][0]) if rows else 0

    def bump(self) -> None:
        """Move the counter on, in its own (autocommit) statement; start it on a database made without
        migrations (create_all)."""

        def bump(cursor: Any) -> None:
            cursor.execute(self.BUMP_SQL)
            if cursor.rowcount == 0:
                cursor.execute(self.START_SQL)

        self._run(bump)

    def _run(self, work: Callable[[Any], Any]) -> Any:
        """`work` on a cursor; once more on a new connection if the kept one has gone (a database
        restart), as the pool's liveness ping would have done."""
        with self._lock:
            for attempt in (1, 2):
                fresh = self._connection is None
                try:
                    cursor = self._open().cursor()
                    try:
                        return work(cursor)
                    finally:
                        cursor.close()
                except Exception as error:  # the driver's own errors: psycopg's, sqlite3's
                    self._drop()
                    if fresh or attempt == 2:
                        raise CounterUnavailable(str(error)) from error
        raise AssertionError("unreachable")

    def _open(self) -> Any:
        if self._connection is None or self._pid != os.getpid():  # never a connection of the parent's
            pooled = self.engine.raw_connection()  # with the engine's per-connection settings
            driver = pooled.driver_connection
            if self.engine.dialect.name == "postgresql":
                driver.rollback()  # the pool's liveness ping may have begun a transaction
                driver.autocommit = True
                if not self.synchronous_commit:
                    driver.execute("SET synchronous_commit TO OFF")
            self._connection, self._pid = pooled, os.getpid()
            self._closer = weakref.finalize(self, _close_quietly, pooled)  # when the app goes, or at exit
        return self._connection.driver_connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            self._closer.detach()
            _close_quietly(connection)


def _close_quietly(connection: Any) -> None:
    """Close the driver's connection itself (invalidate), not hand it back to a pool that may be gone."""
    try:
        connection.invalidate()
    except Exception:  # already broken, or the interpreter is stopping: the point is to let it go
        log.debug("public page cache: closing the counter's connection failed", exc_info=True)


def next_lapse(engine: Engine, now: datetime) -> datetime | None:
    """The next moment after `now` at which a live hold or waiting-list offer runs out, if any.

    Until then every place count on public pages stays true without a write; at that moment one
    changes (capacity counts a hold or an offer only while it lasts). One read, on two indexes."""
    holds = select(func.min(Booking.hold_expires_at)).where(
        Booking.status == BookingStatus.HELD.value, Booking.hold_expires_at > now
    )
    offers = select(func.min(WaitlistEntry.offer_expires_at)).where(
        WaitlistEntry.status == WaitlistStatus.OFFERED.value, WaitlistEntry.offer_expires_at > now
    )
    with engine.connect() as connection:
        row = connection.execute(select(holds.scalar_subquery(), offers.scalar_subquery())).one()
        connection.rollback()
    moments = [_aware(moment) for moment in row if moment is not None]
    return min(moments) if moments else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def bump_generation(engine: Engine) -> None:
    """Move the counter on, in a short transaction of its own after the data's transaction committed.

    Afterwards, not inside it: a reader that saw the new value is then sure to see the new data. A
    process killed between the two commits leaves pages at most PUBLIC_CACHE_SECONDS out of date.
    On PostgreSQL the statement runs on the counter's own connection, in autocommit (one round
    trip: no pool checkout and ping, no BEGIN and COMMIT), without waiting for the disk: losing
    it in a crash costs no more than the case above."""
    try:
        if engine.dialect.name == "postgresql":
            counter_connection(engine).bump()
            return
        with write_gate(engine), engine.connect() as connection:
            changed = connection.execute(_BUMP).rowcount
            if not changed:  # a database made without migrations (create_all): start the counter
                connection.execute(PublicGeneration.__table__.insert().values(id=1, value=1))
            connection.commit()
    except SQLAlchemyError:
        log.warning("public page cache: could not move the generation counter", exc_info=True)


_connections: weakref.WeakKeyDictionary[Engine, CounterConnection] = weakref.WeakKeyDictionary()
_connections_lock = threading.Lock()


def counter_connection(engine: Engine) -> CounterConnection:
    """This process's one connection to the counter of `engine`'s database: reads and bumps share it."""
    with _connections_lock:
        connection = _connections.get(engine)
        if connection is None:
            connection = _connections[engine] = CounterConnection(engine, synchronous_commit=False)
        return connection


def track_public_writes(engine: Engine) -> None:
    """Listen for writes to PUBLIC_TABLES on this engine, and bump the counter after their commit."""

    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(connection, _cursor, statement, _parameters, _context, _executemany):
        match = _WRITE.match(statement)
        if match and match.group(1).lower() in PUBLIC_TABLES:
            connection.info[_DIRTY] = True

    @event.listens_for(engine, "rollback")
    def _forget(connection):
        # A connection lost mid-transaction (a database restart) is invalidated: its info cannot be
        # reached until the rollback completes, and its DBAPI connection is thrown away anyway.
        if not connection.invalidated:
            connection.info.pop(_DIRTY, None)


def _session_began(session: Session, _transaction, connection) -> None:
    session.info.setdefault(_SEEN, []).append(connection.info)


_BUMP = update(PublicGeneration).where(PublicGeneration.id == 1).values(value=PublicGeneration.value + 1)


def _session_committing(session: Session) -> None:
    """On SQLite, move the counter inside the committing transaction itself.

    SQLite lets one writer in at a time, so the counter's row costs no extra
    waiting there, and one commit carries data and counter together (a
    reader that sees the new value sees the new data), instead of a second
    write transaction after it. On PostgreSQL the counter stays after the
    commit: inside, its row lock would make every public write on any event
    wait for every other's commit.
    """
    infos = session.info.get(_SEEN, [])
    if not infos or session.get_bind().dialect.name != "sqlite":
        return
    session.flush()  # the commit's own flush comes after this hook: its writes must be seen first
    if any([info.get(_DIRTY, False) for info in infos]):
        if not session.execute(_BUMP).rowcount:  # a database made without migrations (create_all)
            session.execute(PublicGeneration.__table__.insert().values(id=1, value=1))
        for info in infos:
            info.pop(_DIRTY, None)


def _session_committed(session: Session) -> None:
    infos = session.info.pop(_SEEN, [])
    if any([info.pop(_DIRTY, False) for info in infos]):
        bump_generation(session.get_bind())


def _session_rolled_back(session: Session) -> None:
    for info in session.info.pop(_SEEN, []):
        info.pop(_DIRTY, None)


_session_hooks_installed = False


def install_session_hooks() -> None:
    global _session_hooks_installed
    if _session_hooks_installed:
        return
    event.listen(Session, "after_begin", _session_began)
    event.listen(Session, "before_commit", _session_committing)
    event.listen(Session, "after_commit", _session_committed)
    event.listen(Session, "after_rollback", _session_rolled_back)
    _session_hooks_installed = True
