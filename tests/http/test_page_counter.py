"""The public-data counter (bookings/site/page_counter.py): which writes move it, when, and on what connection."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy import event as sa_event

from bookings.extensions import db
from bookings.site import page_counter
from bookings.site.models import PublicGeneration
from tests.api.conftest import bearer
from tests.support.factories import make_api_token, make_event, make_user


@pytest.fixture
def counter_engine():
    engine = create_engine("sqlite://")
    db.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_a_connection_lost_mid_transaction_rolls_back_without_a_new_error(counter_engine):
    """The database went away (a restart): rolling back must raise nothing of ours, so the app answers 503."""
    page_counter.track_public_writes(counter_engine)
    connection = counter_engine.connect()
    connection.begin()
    connection.execute(PublicGeneration.__table__.update().values(value=5))
    connection.invalidate()
    connection.rollback()
    connection.close()


def test_the_counter_moves_with_the_data_on_sqlite_and_just_after_it_on_postgresql(app, client):
    """SQLite: one transaction carries both. PostgreSQL: a short one after, so events do not queue on its row."""
    event = make_event(capacity=5)
    token = make_api_token(make_user())
    seen: list[str] = []

    def statement(conn, cursor, sql, parameters, context, executemany):
        if sql.startswith(("UPDATE public_generation", "INSERT INTO booking ")):
            seen.append(sql.split()[0] + " " + sql.split()[2 if sql.startswith("INSERT") else 1])

    def commit(conn):
        seen.append("COMMIT")

    counter = page_counter.CounterConnection(db.engine)
    page_counter.bump_generation(db.engine)  # the counter's row exists, as migrations leave it
    before = counter.read()
    sa_event.listen(db.engine, "before_cursor_execute", statement)
    sa_event.listen(db.engine, "commit", commit)
    try:
        body = {"attendees": [{"name": "Ann Example", "email": "ann@council.example"}]}
        response = client.post(f"/api/v1/events/{event.id}/bookings", json=body, headers=bearer(token))
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", statement)
        sa_event.remove(db.engine, "commit", commit)
    assert response.status_code == 201
    booking_part = seen[seen.index("INSERT booking") :]
    if db.engine.dialect.name == "sqlite":
        assert booking_part[:3] == ["INSERT booking", "UPDATE public_generation", "COMMIT"]
        assert booking_part.count("UPDATE public_generation") == 1
    else:  # after the commit, on the counter's own connection (which the engine's events do not see)
        assert "UPDATE public_generation" not in booking_part
        assert booking_part[:2] == ["INSERT booking", "COMMIT"]
    assert counter.read() == before + 1  # moved once
    counter._drop()


def test_the_counter_is_read_on_a_kept_connection_that_is_opened_again_when_it_breaks(app):
    reader = page_counter.CounterConnection(db.engine)
    page_counter.bump_generation(db.engine)
    first = reader.read()
    kept = reader._connection
    kept.driver_connection.close()  # as a database restart leaves it
    page_counter.bump_generation(db.engine)
    assert reader.read() == first + 1  # on a new connection at once, reading the moved counter
    assert reader._connection is not kept
    reader._drop()


def test_a_counter_that_cannot_be_reached_is_reported_not_retried_forever(app):
    reader = page_counter.CounterConnection(create_engine("sqlite:////nonexistent-folder/db.sqlite"))
    with pytest.raises(page_counter.CounterUnavailable):
        reader.read()
