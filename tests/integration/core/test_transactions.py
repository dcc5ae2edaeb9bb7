"""`core.db.write_transaction`: durable or not, and the writes a request leaves for its next transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from bookings.core import throttle
from bookings.core.clock import utcnow
from bookings.core.db import forget_pending_write, run_with_next_write, transactional, write_transaction
from bookings.core.throttle import ThrottleHit
from bookings.extensions import db


def _synchronous_commit() -> str:
    return db.session.scalar(text("SHOW synchronous_commit"))


@pytest.fixture
def commits_wait_for_the_disk(app):
    """The test cluster runs with synchronous_commit off; put this database back to PostgreSQL's default."""
    database = db.session.scalar(text("SELECT current_database()"))
    db.session.execute(text(f'ALTER DATABASE "{database}" SET synchronous_commit = on'))
    db.session.commit()
    db.session.close()
    db.engine.dispose()
    yield
    db.session.execute(text(f'ALTER DATABASE "{database}" RESET synchronous_commit'))
    db.session.commit()
    db.session.close()
    db.engine.dispose()


@pytest.mark.postgres_only
def test_only_a_transaction_marked_not_durable_commits_without_waiting_for_the_disk(app, commits_wait_for_the_disk):
    with write_transaction():
        assert _synchronous_commit() == "on"
    with write_transaction(durable=False):
        assert _synchronous_commit() == "off"
    with write_transaction():  # SET LOCAL: the connection goes back to the pool as it was
        assert _synchronous_commit() == "on"


def test_a_transaction_that_is_not_durable_still_commits_and_rolls_back(app):
    @transactional(durable=False)
    def add(key: str, fail: bool = False) -> None:
        throttle.add_hit(key, now=utcnow())
        if fail:
            raise ValueError("half-way")

    add("kept")
    with pytest.raises(ValueError):
        add("lost", fail=True)
    assert db.session.scalars(select(ThrottleHit.key)).all() == ["kept"]


def _hits() -> list[str]:
    keys = db.session.scalars(select(ThrottleHit.key).order_by(ThrottleHit.id)).all()
    db.session.commit()
    return keys


def test_pending_writes_run_first_in_the_next_write_transaction(app):
    order: list[str] = []
    run_with_next_write(lambda: order.append("pending") or throttle.add_hit("pending", now=utcnow()))
    with write_transaction():
        order.append("body")
        throttle.add_hit("body", now=utcnow())
    assert order == ["pending", "body"]
    assert _hits() == ["pending", "body"]
    with write_transaction():  # run once only
        pass
    assert _hits() == ["pending", "body"]


def test_pending_writes_rolled_back_with_a_transaction_are_due_again(app):
    run_with_next_write(lambda: throttle.add_hit("pending", now=utcnow()))
    with pytest.raises(RuntimeError), write_transaction():
        raise RuntimeError("refused under the lock")
    assert _hits() == []
    with write_transaction():
        pass
    assert _hits() == ["pending"]


def test_a_forgotten_pending_write_never_runs(app):
    def forgotten() -> None:
        throttle.add_hit("forgotten", now=utcnow())

    def kept() -> None:
        throttle.add_hit("kept", now=utcnow())

    run_with_next_write(forgotten)
    run_with_next_write(kept)
    forget_pending_write(forgotten)
    forget_pending_write(forgotten)  # again: harmless
    with write_transaction():
        pass
    forget_pending_write(kept)  # after it ran: harmless
    assert _hits() == ["kept"]
