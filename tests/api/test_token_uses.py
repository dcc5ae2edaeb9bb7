"""An API token's last use is owed to the process's backlog and written with its next write transaction.

In the test config the backlog is written after every request
(API_TOKEN_USE_MAX_DELAY_SECONDS = 0); these tests turn the delay up to see
what production does: a read or a refusal writes nothing, and the next
change made by anyone in the process carries the owed uses.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from bookings.accounts.models import ApiToken
from bookings.accounts.services import token_uses
from bookings.core.db import write_transaction
from bookings.extensions import db
from tests.api.conftest import bearer
from tests.support.factories import make_api_token, make_event, make_user


@pytest.fixture
def delayed(app):
    app.config["API_TOKEN_USE_MAX_DELAY_SECONDS"] = 3600
    yield
    token_uses.backlog().take()


def _last_used(user):
    db.session.expire_all()
    value = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user.id))
    db.session.commit()
    return value


def _writes_during(action) -> list[str]:
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")):
            statements.append(statement.split("\n")[0][:40])

    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)
    return statements


def _book(client, event, token):
    body = {"attendees": [{"name": "Ann Example", "email": "ann@council.example"}]}
    return client.post(f"/api/v1/events/{event.id}/bookings", json=body, headers=bearer(token))


def test_a_read_and_a_refusal_owe_the_use_instead_of_writing_it(client, clock, delayed):
    full = make_event(capacity=0)
    reader, refused = make_user(), make_user()
    reader_token, refused_token = make_api_token(reader), make_api_token(refused)

    answers = []
    assert _writes_during(lambda: answers.append(client.get("/api/v1/events", headers=bearer(reader_token)))) == []
    assert _writes_during(lambda: answers.append(_book(client, full, refused_token))) == []
    assert [a.status_code for a in answers] == [200, 409]
    assert _last_used(reader) is None and _last_used(refused) is None


def test_the_next_change_in_the_process_writes_every_owed_use(client, clock, delayed):
    reader, booker = make_user(), make_user()
    reader_token, booker_token = make_api_token(reader), make_api_token(booker)
    client.get("/api/v1/events", headers=bearer(reader_token))
    read_at = clock.now
    clock.advance(seconds=5)

    assert _book(client, make_event(capacity=5), booker_token).status_code == 201
    assert _last_used(reader) == read_at
    assert _last_used(booker) == clock.now
    assert token_uses.backlog().take() == {}


def test_uses_taken_by_a_transaction_that_rolls_back_are_owed_again(app, clock):
    user = make_user()
    make_api_token(user)
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))
    db.session.commit()
    token_uses.owe_api_token_use(token_id, clock.now)
    with pytest.raises(RuntimeError), write_transaction():
        raise RuntimeError("sold out under the lock")
    assert _last_used(user) is None
    with write_transaction():
        pass
    assert _last_used(user) == clock.now


def test_the_latest_use_of_a_token_wins_and_a_full_backlog_is_due(monkeypatch, app, clock):
    backlog = token_uses.Backlog()
    backlog.owe({1: clock.now})
    backlog.owe({1: clock.advance(seconds=30)})
    backlog.owe({1: clock.now.replace(year=2000)})  # an older use does not replace a newer one
    assert not backlog.is_due(3600)
    monkeypatch.setattr(token_uses, "BACKLOG_MAX_TOKENS", 2)
    backlog.owe({2: clock.now})
    assert backlog.is_due(3600)
    assert backlog.take() == {1: clock.now, 2: clock.now}
    assert not backlog.is_due(0)


def _backlog_size(pipe) -> None:
    pipe.send(len(token_uses._backlogs))


def test_a_forked_process_owes_nothing_of_its_parents(app, clock):
    import multiprocessing

    token_uses.owe_api_token_use(12345, clock.now)
    try:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_backlog_size, args=(send,))
        child.start()
        assert receive.recv() == 0
        child.join(60)
    finally:
        token_uses.backlog().take()
