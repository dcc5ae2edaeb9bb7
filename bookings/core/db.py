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

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from bookings.core.errors import Busy
from bookings.extensions import db

P = ParamSpec("P")
T = TypeVar("T")

WRITE_OPTION = "bookings_write"
MAX_ATTEMPTS = 12
SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRES_LOCK_TIMEOUT = "5s"

# PostgreSQL SQLSTATEs worth a retry: serialization_failure, deadlock_detected, lock_not_available.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


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


def is_contention(error: BaseException) -> bool:
    """True when the error means 'someone else holds the lock; try again'."""
    if isinstance(error, OperationalError) and "database is locked" in str(error):
        return True
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return sqlstate in RETRYABLE_SQLSTATES
    return False


def in_write_transaction() -> bool:
    """True inside `write_transaction` (the capacity module refuses to run otherwise)."""
    return bool(db.session.info.get(WRITE_OPTION))


@contextmanager
def write_transaction() -> Iterator[None]:
    """One write transaction: IMMEDIATE on SQLite, committed on success, rolled back on error.

    Anything the session had loaded is committed away first so the
    transaction starts fresh (a request may have read the current user).
    """
    session = db.session
    if session.info.get(WRITE_OPTION):
        yield  # already inside one: join it
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("write_transaction() started with unflushed changes in the session")
    session.commit()
    session.connection(execution_options={WRITE_OPTION: True})
    session.info[WRITE_OPTION] = True
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(WRITE_OPTION, None)


def transactional(fn: Callable[P, T]) -> Callable[P, T]:
    """Run a service as one write transaction, retrying on database contention.

    The service must be safe to re-run from the start: it receives the same
    arguments and re-reads everything it needs. Raises `Busy` when contention
    outlasts every retry.
    """

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if in_write_transaction():
            return fn(*args, **kwargs)
        for attempt in range(MAX_ATTEMPTS):
            try:
                with write_transaction():
                    return fn(*args, **kwargs)
            except DBAPIError as error:
                if not is_contention(error):
                    raise
                time.sleep(min(0.5, 0.01 * (2**attempt)) * (0.5 + random.random()))
        raise Busy("The system is busy. Please try again in a moment.")

    return wrapper
