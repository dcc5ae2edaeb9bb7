"""Transactions that change places or money: all or nothing, retried on contention.

On SQLite a transaction that reads and then writes must start with
`BEGIN IMMEDIATE`, or the upgrade from a read to a write lock fails at once
with "database is locked" whatever the busy timeout. pysqlite's own
transaction handling is turned off (SQLAlchemy's documented recipe) and BEGIN
is emitted from an event, IMMEDIATE when the session asked for a write
transaction. On PostgreSQL the capacity module takes row locks instead;
deadlocks, serialisation failures and lock time-outs are retried here.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import wraps
from typing import ParamSpec, TypeVar, overload

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from bookings.core.errors import Busy
from bookings.core.write_gate import write_gate
from bookings.extensions import db

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

WRITE_OPTION = "bookings_write"
MAX_ATTEMPTS = 12
SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRES_LOCK_TIMEOUT = "5s"

# PostgreSQL SQLSTATEs worth a retry: serialization_failure, deadlock_detected, lock_not_available.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


class ReadAgain(Exception):
    """Raised by a service that finds, once it holds its lock, that what it read before is out of date.

    `transactional` rolls the transaction back and runs the service again at
    once, which then reads the newer data (it counts as one of its attempts).
    """


def configure_engine(engine: Engine) -> None:
    """Per-connection settings: WAL and explicit BEGIN on SQLite, lock timeout on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        is_memory = engine.url.database in (None, "", ":memory:")

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):  # pragma: no cover - driver hook
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            if not is_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - driver hook
            if conn.get_execution_options().get(WRITE_OPTION):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

    elif engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _pg_connect(dbapi_connection, _record):  # pragma: no cover - driver hook
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{POSTGRES_LOCK_TIMEOUT}'")
            dbapi_connection.commit()


def end_session_quietly(_error: BaseException | None = None) -> None:
    """Teardown: end the request's session, even when its database went away meanwhile.

    Ending a session rolls back whatever read transaction is still open; if
    PostgreSQL restarted since, that rollback raises, and an exception in a
    teardown turns an answer already made into a 500. The connection is dead
    anyway: throw it away and let the pool make a new one.
    """
    try:
        db.session.close()
    except SQLAlchemyError:
        log.warning("Could not end the session cleanly; its connection is thrown away", exc_info=True)
        try:
            db.session().invalidate()  # the scoped session's Session
        except SQLAlchemyError:
            log.warning("Could not throw the session's connection away", exc_info=True)


def is_contention(error: BaseException) -> bool:
    """True when the error means 'someone else holds the lock; try again'."""
    if isinstance(error, OperationalError) and "database is locked" in str(error):
        return True
    return sqlstate(error) in RETRYABLE_SQLSTATES


def sqlstate(error: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of a database error (None for SQLite's and for anything else)."""
    if not isinstance(error, DBAPIError):
        return None
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


_PENDING_WRITES = "bookings_pending_writes"


def run_with_next_write(write: Callable[[], None]) -> None:
    """Run `write` at the start of this session's next write transaction instead of in one of its own.

    For small bookkeeping noticed before a request's view runs (a rate-limit
    hit): a request that writes anyway pays for one transaction, not two, and
    on SQLite takes the write lock once. If that transaction rolls back, the
    write is kept for the next one. The caller drops it when its request ends
    (`forget_pending_write`): a request that wrote nothing owes nothing.
    """
    db.session.info.setdefault(_PENDING_WRITES, []).append(write)


def forget_pending_write(write: Callable[[], None]) -> None:
    """Drop `write` if no write transaction has run it yet (its request is over)."""
    queued = db.session.info.get(_PENDING_WRITES, [])
    if write in queued:
        queued.remove(write)


# Called at the start of every write transaction; each may write what its process owes the database
# (a backlog of bookkeeping) and returns how to take that back if the transaction rolls back.
WriteHook = Callable[[], Callable[[], None] | None]
_write_hooks: list[WriteHook] = []


def at_each_write_transaction(hook: WriteHook) -> None:
    """Run `hook` at the start of every write transaction (registered once, at import of its area)."""
    if hook not in _write_hooks:
        _write_hooks.append(hook)


def in_write_transaction() -> bool:
    """True inside `write_transaction` (the capacity module refuses to run otherwise)."""
    return bool(db.session.info.get(WRITE_OPTION))


@contextmanager
def write_transaction(*, durable: bool = True, keep_loaded: bool = False, keep_reads: bool = False) -> Iterator[None]:
    """One write transaction: IMMEDIATE on SQLite, committed on success, rolled back on error.

    Anything the session had loaded is committed away first so the
    transaction starts fresh (a request may have read the current user). On
    SQLite the transaction waits its turn at the database's write gate
    (`core.write_gate`) first. It begins with what the process owes
    (`at_each_write_transaction`) and the session's pending writes
    (`run_with_next_write`). `durable=False` is for bookkeeping whose loss in
    a crash harms nothing (rate-limit hits, a token's last use, a rendered
    email that can be rendered again): on PostgreSQL its commit does not wait
    for the disk (`synchronous_commit` off for this transaction only).
    `keep_loaded=True`: what the transaction loaded and wrote is not expired
    by its commit, for a caller that answers with exactly what it wrote (the
    API's 201) instead of reading it all back. `keep_reads=True`: what the
    session read before is not expired when the transaction starts, for a
    caller that uses those reads and checks, under its lock, that they are
    still current (the API's booking: `booking.services.one_step`).
    """
    session = db.session
    if session.info.get(WRITE_OPTION):
        yield  # already inside one: join it
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("write_transaction() started with unflushed changes in the session")
    _commit(session, keep_loaded=keep_reads)
    with write_gate(session.get_bind()):
        connection = session.connection(execution_options={WRITE_OPTION: True})
        if not durable and connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        session.info[WRITE_OPTION] = True
        pending = session.info.pop(_PENDING_WRITES, [])
        undo: list[Callable[[], None]] = []
        try:
            for hook in _write_hooks:
                if (taken := hook()) is not None:
                    undo.append(taken)
            for write in pending:
                write()
            yield
            _commit(session, keep_loaded=keep_loaded)
        except BaseException:
            session.rollback()
            if pending:  # rolled back with the transaction: due again in the next one
                session.info[_PENDING_WRITES] = pending + session.info.get(_PENDING_WRITES, [])
            for give_back in undo:
                give_back()
            raise
        finally:
            session.info.pop(WRITE_OPTION, None)


def _commit(session, *, keep_loaded: bool) -> None:
    if not keep_loaded:
        session.commit()
        return
    actual = session()  # the scoped session's Session, which holds the setting
    expire = actual.expire_on_commit
    actual.expire_on_commit = False
    try:
        actual.commit()
    finally:
        actual.expire_on_commit = expire


@overload
def transactional(fn: Callable[P, T]) -> Callable[P, T]: ...


@overload
def transactional(
    *, durable: bool = True, keep_loaded: bool = False, keep_reads: bool = False
) -> Callable[[Callable[P, T]], Callable[P, T]]: ...


_SERVICE_STARTED = "bookings.service_started"  # in the session's info: when the outermost service began


def after_the_wait(now: datetime) -> datetime:
    """`now` moved on by the time the running service has taken so far (waiting for locks, retries).

    A service is given `now` as its request began; once it holds the event's lock, that time may be
    stale: a hold or offer it judges live by it may have run out while it waited, and another
    booking may have taken its places since. Judge what must still be live by this instead.
    """
    started = db.session.info.get(_SERVICE_STARTED)
    return now if started is None else now + timedelta(seconds=max(0.0, time.monotonic() - started))


def transactional(fn=None, *, durable: bool = True, keep_loaded: bool = False, keep_reads: bool = False):
    """Run a service as one write transaction, retrying on database contention.

    The service must be safe to re-run from the start: it receives the same
    arguments and re-reads everything it needs (a rollback expires what the
    session had loaded, so a retry reads afresh even with `keep_reads`).
    Raises `Busy` when contention outlasts every retry. `durable`,
    `keep_loaded` and `keep_reads`: see `write_transaction`.
    """

    def decorator(fn: Callable[P, T]) -> Callable[P, T]:
        @wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            if in_write_transaction():
                return fn(*args, **kwargs)
            db.session.info[_SERVICE_STARTED] = time.monotonic()
            try:
                for attempt in range(MAX_ATTEMPTS):
                    try:
                        with write_transaction(durable=durable, keep_loaded=keep_loaded, keep_reads=keep_reads):
                            return fn(*args, **kwargs)
                    except ReadAgain:
                        continue
                    except DBAPIError as error:
                        if not is_contention(error):
                            raise
                        time.sleep(min(0.5, 0.01 * (2**attempt)) * (0.5 + random.random()))
                raise Busy("The system is busy. Please try again in a moment.")
            finally:
                db.session.info.pop(_SERVICE_STARTED, None)

        return wrapper

    return decorator(fn) if fn is not None else decorator
