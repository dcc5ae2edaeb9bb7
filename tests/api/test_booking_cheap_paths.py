"""What makes one API booking cheap, and that none of it changes an answer.

A request that plainly cannot fit is refused from a read, before the event
is locked, with the locked path's own 409, and writes nothing: no rate-limit
hit (the limit counts changes). A booking is one write transaction: its
rate-limit hit and the token's last use are written at its start. The 201 is
built without reloading.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from bookings import capacity
from bookings.accounts.models import ApiToken
from bookings.booking.models import Attendee
from bookings.booking.services import one_step
from bookings.core import throttle
from bookings.core.throttle import ThrottleHit
from bookings.extensions import db
from tests.api.conftest import bearer
from tests.support.factories import make_api_token, make_event, make_user


def _book(client, event, people: int, token: str, **extra):
    body = {"attendees": [{"name": f"Delegate {i}", "email": f"d{i}@nhs.example"} for i in range(people)], **extra}
    return client.post(f"/api/v1/events/{event.id}/bookings", json=body, headers=bearer(token))


def _fill(client, event, places: int) -> None:
    response = _book(client, event, places, make_api_token(make_user()))
    assert response.status_code == 201


def _refuse_locking(monkeypatch) -> None:
    def locked(*args, **kwargs):
        raise AssertionError("the event was locked")

    monkeypatch.setattr(capacity, "lock_event", locked)


def test_a_request_that_cannot_fit_is_refused_without_locking_the_event(client, clock, monkeypatch):
    event = make_event(capacity=2)
    _fill(client, event, 2)
    _refuse_locking(monkeypatch)
    response = _book(client, event, 1, make_api_token(make_user()))
    assert response.status_code == 409
    assert response.get_json() == {"error": "sold_out", "message": "There are no places left.", "places_left": 0}


@pytest.mark.parametrize(("taken", "asked"), [(3, 1), (2, 2), (1, 3)])
def test_the_read_refuses_with_the_same_answer_as_the_locked_path(client, clock, monkeypatch, taken, asked):
    event = make_event(capacity=3)
    _fill(client, event, taken)
    token = make_api_token(make_user())
    from_the_read = _book(client, event, asked, token)

    monkeypatch.setattr(one_step, "refuse_if_plainly_sold_out", lambda *args: None)
    from_the_lock = _book(client, event, asked, token)

    assert from_the_read.status_code == from_the_lock.status_code == 409
    assert from_the_read.get_json() == from_the_lock.get_json()


def test_bad_attendee_details_on_a_full_event_are_still_a_422(client, clock, monkeypatch):
    event = make_event(capacity=1)
    _fill(client, event, 1)
    _refuse_locking(monkeypatch)
    response = client.post(
        f"/api/v1/events/{event.id}/bookings",
        json={"attendees": [{"name": "A", "email": "not-an-email"}]},
        headers=bearer(make_api_token(make_user())),
    )
    assert response.status_code == 422
    assert "attendees-0-email" in response.get_json()["errors"]


def test_places_that_appear_left_are_taken_under_the_lock(client, clock, monkeypatch):
    event = make_event(capacity=2)
    calls = []
    real_lock, real_take = capacity.lock_event, capacity.take_places
    monkeypatch.setattr(capacity, "lock_event", lambda event_id: calls.append("lock") or real_lock(event_id))
    monkeypatch.setattr(
        capacity, "take_places", lambda *args, **kwargs: calls.append(("take", kwargs)) or real_take(*args, **kwargs)
    )
    assert _book(client, event, 2, make_api_token(make_user())).status_code == 201
    # On both databases the event is read again under the lock (SQLite's from its BEGIN IMMEDIATE, PostgreSQL's
    # row lock), to check what the view read before the transaction, and its places then counted.
    assert calls == ["lock", ("take", {"locked": True, "written": True})]


def _last_used(token_id: int):
    db.session.expire_all()
    value = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
    db.session.commit()
    return value


def _token_id(user) -> int:
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))
    db.session.commit()
    return token_id


def test_a_booking_notes_its_hit_and_the_tokens_use_in_its_own_transaction(client, clock):
    event = make_event(capacity=5)
    user = make_user()
    token = make_api_token(user)
    writes: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(("BEGIN IMMEDIATE", "UPDATE api_token", "INSERT INTO throttle_hit")):
            writes.append(statement.split()[0] + " " + statement.split()[1])

    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert _book(client, event, 1, token).status_code == 201
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)
    assert _last_used(_token_id(user)) == clock.now
    if db.engine.dialect.name == "sqlite":  # PostgreSQL has no BEGIN IMMEDIATE to show where transactions start
        assert writes == ["BEGIN IMMEDIATE", "UPDATE api_token", "INSERT INTO"]  # one write transaction in all
    assert _hits() == 1


def _hits() -> int:
    count = db.session.scalar(select(func.count()).select_from(ThrottleHit))
    db.session.commit()
    return count


def test_a_refusal_from_the_read_writes_nothing_and_costs_no_hit(client, clock, app):
    app.config.update(BOOKING_RATE_LIMIT=1)
    full = make_event(capacity=1)
    _fill(client, full, 1)
    user = make_user()
    token = make_api_token(user)
    _book(client, full, 1, token)  # the token's first use is noted (by a write after the answer)
    before = _hits()
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert _book(client, full, 1, token).status_code == 409
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)
    assert not [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE"))]
    assert _hits() == before
    assert _book(client, make_event(capacity=5), 1, token).status_code == 201  # the limit of 1 is not used up


def test_a_refusal_under_the_lock_costs_no_hit_but_still_notes_the_tokens_use(client, clock, monkeypatch):
    event = make_event(capacity=1)
    _fill(client, event, 1)
    before = _hits()
    user = make_user()
    token = make_api_token(user)
    monkeypatch.setattr(one_step, "refuse_if_plainly_sold_out", lambda *args: None)  # straight to the lock
    assert _book(client, event, 1, token).status_code == 409
    assert _hits() == before
    assert _last_used(_token_id(user)) == clock.now


def test_the_limit_is_checked_again_inside_the_booking_transaction(client, clock, app, monkeypatch):
    """Two requests of one person can both pass the read; the second is refused inside its transaction."""
    app.config.update(BOOKING_RATE_LIMIT=1)
    event = make_event(capacity=5)
    token = make_api_token(make_user())
    assert _book(client, event, 1, token).status_code == 201
    reads = []
    real = throttle.is_limited

    def first_read_passes(*args, **kwargs):
        reads.append(1)
        return False if len(reads) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(throttle, "is_limited", first_read_passes)
    response = _book(client, event, 1, token)
    assert response.status_code == 429
    assert response.get_json()["error"] == "rate_limited"
    assert len(reads) == 2
    taken = db.session.scalar(select(func.count()).select_from(Attendee).where(Attendee.event_id == event.id))
    db.session.commit()
    assert taken == 1  # the refused booking was rolled back with its transaction


def test_a_refused_booking_still_notes_the_tokens_use(client, clock, app):
    app.config.update(BOOKING_RATE_LIMIT=1)
    event = make_event(capacity=5)
    user = make_user()
    token = make_api_token(user)
    assert _book(client, event, 1, token).status_code == 201
    clock.advance(minutes=1)
    assert _book(client, event, 1, token).status_code == 429
    assert _last_used(_token_id(user)) == clock.now


def test_a_change_without_a_rate_limit_still_notes_the_tokens_use(client, clock):
    event = make_event(capacity=5)
    user = make_user()
    token = make_api_token(user)
    reference = _book(client, event, 1, token).get_json()["reference"]
    clock.advance(minutes=1)
    assert client.post(f"/api/v1/bookings/{reference}/cancel", headers=bearer(token)).status_code == 200
    assert _last_used(_token_id(user)) == clock.now


def test_the_booker_and_event_the_view_read_are_not_read_again(client, clock):
    """Authentication reads the booker and the view the event with its rates and questions; the booking's
    transaction reuses both, and reads only the event's row again, under the lock, to check them."""
    event = make_event(capacity=5)
    token = make_api_token(make_user())
    assert event.id  # loaded here, before the request's statements are noted
    selects: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(" ".join(statement.split()))

    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert _book(client, event, 1, token).status_code == 201
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)
    user_reads = [s for s in selects if re.search(r'\bFROM "?user"?\b', s)]
    event_reads = [s for s in selects if re.search(r"\bFROM event\b", s)]
    assert len(user_reads) == 1, user_reads  # the token's lookup
    assert len(event_reads) == 2, "\n".join(
        s[:60] + " ... " + s[-120:] for s in selects
    )  # the view's, with rates and questions; the lock's, the row alone
    assert "ticket_type" in event_reads[0] and "ticket_type" not in event_reads[1]
