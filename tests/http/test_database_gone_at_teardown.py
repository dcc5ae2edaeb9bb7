"""A database that goes away between the answer and the end of the request never turns the answer into a 500.

Ending the request's session rolls back its open read transaction; after a
PostgreSQL restart that rollback raises. `core.db.end_session_quietly`
throws the dead connection away instead (found by `make test-deploy`,
which restarts PostgreSQL under load).
"""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bookings import create_app
from bookings.extensions import db


def test_a_session_that_cannot_end_cleanly_still_gives_the_answer(database_url, _schema, monkeypatch):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)  # no outer app context: each request ends its own
    client = app.test_client()
    real_close = Session.close
    failures = []

    def close_after_a_restart(self):
        if not failures:
            failures.append(1)
            raise OperationalError("ROLLBACK", {}, Exception("terminating connection due to administrator command"))
        return real_close(self)

    monkeypatch.setattr(Session, "close", close_after_a_restart)
    response = client.get("/api/v1/events")  # reads, so the session has a transaction to end
    assert failures == [1]
    assert response.status_code == 200
    monkeypatch.undo()
    assert client.get("/api/v1/events").status_code == 200
    with app.app_context():
        db.engine.dispose()
