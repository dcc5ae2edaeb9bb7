"""A queue in the kernel for SQLite's write transactions, instead of SQLite's sleeping busy handler.

SQLite lets one writer at a time into a database file. A writer that finds
the lock taken does not wait for it to be released: its busy handler sleeps
(1, 2, 5, 10 ... then 100 ms at a time) and tries again. In a rush for the
last places a dozen request threads in four processes queue for the same
lock, so most of them sleep through the moment it comes free, the cores sit
idle and the slowest answers take seconds.

Every write transaction this app begins (`core.db.write_transaction`, and
the page cache's counter) therefore first takes this gate: a lock shared by
the threads of one process, then an exclusive `flock` on a file beside the
database (`<database>-writegate`), which the kernel hands to the next waiter
the moment its holder lets go, and releases at once if the holder's process
dies. `BEGIN IMMEDIATE` then finds the database free.

The gate only orders writers; it guards nothing. SQLite's own lock stays
the authority (a writer that bypasses the gate, such as the `sqlite3` shell
or a migration, is still kept out by it and waited for with the busy
timeout). A holder is never stuck for long: its transaction is bounded by
the busy timeout and by the request. PostgreSQL, an in-memory database, or
a database whose folder cannot take the gate's file get no gate.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager, nullcontext

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


class WriteGate:
    """One database file's gate in this process (see the module docstring)."""

    def __init__(self, database_path: str):
        self.path = f"{database_path}-writegate"
        self.pid = os.getpid()
        self._threads = threading.Lock()
        self._owner: int | None = None
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Wait for the gate, then hold it; re-entrant within a thread (the outer holder releases it)."""
        me = threading.get_ident()
        if self._owner == me:
            yield
            return
        with self._threads:  # threads of this process queue here, the processes on the file below
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # blocks in the kernel, without the GIL
            self._owner = me
            try:
                yield
            finally:
                self._owner = None
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_gates: dict[str, WriteGate] = {}
_gates_lock = threading.Lock()
_unavailable: set[str] = set()


def _gate_for(database_path: str) -> WriteGate | None:
    gate = _gates.get(database_path)
    if gate is not None and gate.pid == os.getpid():
        return gate
    with _gates_lock:
        gate = _gates.get(database_path)
        # A forked child must not share its parent's open file: a flock belongs to the open file,
        # so parent and child would both "hold" it at once. Each process opens its own.
        if gate is None or gate.pid != os.getpid():
            if database_path in _unavailable:
                return None
            try:
                gate = WriteGate(database_path)
            except OSError:
                log.warning("No write gate for %s: writers wait in SQLite's busy handler", database_path)
                _unavailable.add(database_path)
                return None
            _gates[database_path] = gate
    return gate


def write_gate(engine: Engine) -> ContextManager[None]:
    """Hold the gate of this engine's SQLite file for a write transaction; nothing for other databases."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return nullcontext()
    gate = _gate_for(os.path.abspath(database))
    return gate.held() if gate is not None else nullcontext()
