"""bench/floor.py stays a faithful reference: the app's statements and rows for a free booking and a 409.

The floor is measured beside the app in `make bench` as what the same SQL
costs without the ORM; it says so only while it sends as many statements as
the app and writes the same rows. When the app's booking path changes, these
fail until the floor is changed with it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from bench import floor, seed
from bookings.accounts.services.token_uses import backlog
from bookings.booking.models import Attendee, Booking
from bookings.core.audit import AuditRecord
from bookings.core.throttle import ThrottleHit
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from bookings.site import page_counter

WRITTEN = {"booking": Booking, "attendee": Attendee, "audit_record": AuditRecord, "outbox_message": OutboxMessage}
NOT_STATEMENTS = ("BEGIN", "COMMIT", "ROLLBACK", ";")


def _body(n: int) -> dict:
    return {"payment": "free", "attendees": [{"name": f"Rusher {n}", "email": f"rusher{n}@council.example"}]}


def _rows(event_id: int) -> dict[str, int]:
    db.session.rollback()
    counts = {
        name: db.session.scalar(select(func.count()).select_from(model).where(model.event_id == event_id))
        for name, model in WRITTEN.items()
    }
    counts["throttle_hit"] = db.session.scalar(select(func.count(ThrottleHit.id)))
    return counts


@pytest.fixture
def floor_client(app, database_url):
    # As in production (and the benchmark): a 409 owes its token's use to the process's next write.
    app.config["API_TOKEN_USE_MAX_DELAY_SECONDS"] = 3600
    floor._database = floor.Database(database_url)
    try:
        yield floor.app.test_client()
    finally:
        floor._database.conn.close()
        if not floor._database.is_sqlite:
            floor._database.counter.close()
        floor._database = None
        backlog().take()


def test_the_floor_sends_the_apps_statements_and_writes_its_rows(app, client, floor_client, monkeypatch):
    tokens = [token for _, token in seed.ensure_users(5, prefix="floor", with_tokens=True)]
    warm_up, app_event, floor_event = seed.add_events(3, capacity=1, attendees_per_event=0, prefix="floor").event_ids
    db.session.commit()
    # The first booking of a fresh schema writes the page cache's counter row, which migrations write.
    warmed = client.post(
        f"/api/v1/events/{warm_up}/bookings", json=_body(4), headers={"Authorization": f"Bearer {tokens[4]}"}
    )
    assert warmed.status_code == 201
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if not statement.strip().upper().startswith(NOT_STATEMENTS):
            sent.append(statement)

    moved = page_counter.CounterConnection.bump  # on its own connection, which the engine's events do not see

    def bump(counter):
        sent.append("UPDATE public_generation")
        moved(counter)

    monkeypatch.setattr(page_counter.CounterConnection, "bump", bump)
    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        answers = {}
        for name, token, body in (("book", tokens[0], _body(0)), ("full", tokens[1], _body(1))):
            sent.clear()
            response = client.post(
                f"/api/v1/events/{app_event}/bookings", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            answers[name] = (response.status_code, len(sent))
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)
    app_rows = _rows(app_event)

    floor_answers = {}
    for name, token, body in (("book", tokens[2], _body(2)), ("full", tokens[3], _body(3))):
        floor._database.statements = 0
        response = floor_client.post(
            f"/api/v1/events/{floor_event}/bookings", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        floor_answers[name] = (response.status_code, floor._database.statements)
    floor_rows = _rows(floor_event)

    assert answers["book"][0] == 201 and answers["full"][0] == 409
    assert floor_answers == answers  # the same answers from the same number of statements
    assert app_rows["booking"] == 1 and app_rows["attendee"] == 1
    assert floor_rows == {**app_rows, "throttle_hit": 3}  # the app's two hits and the floor's
    assert app_rows["throttle_hit"] == 2
