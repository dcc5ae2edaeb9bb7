"""SQLite's write gate (`core.write_gate`): writers queue in the kernel, across threads and processes.

The gate only orders writers; SQLite's own lock stays the authority. These
tests check what the gate promises: one holder at a time across processes,
re-entry within a thread, a process of its own after a fork, and no gate
where there is no file. Synchronised with events and pipes, never timings.
"""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from sqlalchemy import create_engine, func, select

from bookings.core import write_gate as gates
from bookings.core.throttle import ThrottleHit
from tests.concurrency import workers

pytestmark = pytest.mark.concurrency


def _free_to_take(path: str) -> bool:
    """Whether an outsider (its own open file) could take the gate right now."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def _hold_in_child(database: str, holding, release) -> None:
    engine = create_engine(f"sqlite:///{database}")
    with gates.write_gate(engine):
        holding.set()
        release.wait(60)


def _holder(mp, database: str):
    """A child process that holds the gate until `release` is set."""
    holding, release = mp.Event(), mp.Event()
    child = mp.Process(target=_hold_in_child, args=(database, holding, release))
    child.start()
    assert holding.wait(60)
    return child, release


def test_a_process_holding_the_gate_keeps_every_other_process_out(mp, tmp_path):
    database = str(tmp_path / "gate.sqlite")
    child, release = _holder(mp, database)
    assert not _free_to_take(f"{database}-writegate")
    release.set()
    child.join(60)
    assert child.exitcode == 0
    assert _free_to_take(f"{database}-writegate")


def test_a_killed_holder_lets_the_next_writer_in(mp, tmp_path):
    database = str(tmp_path / "gate.sqlite")
    child, _release = _holder(mp, database)
    child.kill()
    child.join(60)
    engine = create_engine(f"sqlite:///{database}")
    with gates.write_gate(engine):  # would block for ever if the dead holder's lock survived it
        assert not _free_to_take(f"{database}-writegate")


def test_the_gate_is_reentrant_within_a_thread_and_exclusive_between_threads(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'gate.sqlite'}")
    waiting, entered = threading.Event(), threading.Event()

    def other_writer() -> None:
        waiting.set()
        with gates.write_gate(engine):
            entered.set()

    with gates.write_gate(engine), gates.write_gate(engine):  # a nested transaction joins, never deadlocks
        other = threading.Thread(target=other_writer)
        other.start()
        assert waiting.wait(60)
        assert not entered.is_set()
        assert not _free_to_take(str(tmp_path / "gate.sqlite-writegate"))  # the inner exit did not let go
    other.join(60)
    assert entered.is_set()
    assert _free_to_take(str(tmp_path / "gate.sqlite-writegate"))


def _gate_identity(database: str, pipe) -> None:
    gate = gates._gate_for(database)
    pipe.send((gate.pid, os.getpid(), id(gate)))


def test_a_forked_child_opens_its_own_gate(mp, tmp_path):
    database = str(tmp_path / "gate.sqlite")
    parent_gate = gates._gate_for(database)
    receive, send = mp.Pipe(duplex=False)
    child = mp.Process(target=_gate_identity, args=(database, send))
    child.start()
    gate_pid, child_pid, _ = receive.recv()
    child.join(60)
    assert gate_pid == child_pid != parent_gate.pid


def test_no_gate_without_a_database_file():
    assert gates.write_gate(create_engine("sqlite://")).__class__.__name__ == "nullcontext"
    assert gates.write_gate(create_engine("postgresql+psycopg://u@localhost/x")).__class__.__name__ == "nullcontext"


def test_many_processes_writing_at_once_all_get_their_turn(mp, race_db, db_backend):
    processes, writes = 6, 25
    barrier, results = mp.Barrier(processes), mp.Queue()
    procs = [mp.Process(target=workers.add_hits, args=(race_db, w, writes, barrier, results)) for w in range(processes)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(60)
    assert sorted(outcomes) == [(w, writes, 0) for w in range(processes)]  # (worker, written, busy)
    engine = create_engine(race_db)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ThrottleHit)).scalar() == processes * writes
    engine.dispose()
