from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.accounts import services
from bookings.accounts.models import ApiToken, Role, User
from bookings.accounts.passwords import verify_password
from bookings.core.errors import NotFound
from bookings.core.tokens import hash_token
from bookings.extensions import db
from tests.integration.accounts.conftest import audit_actions
from tests.support.factories import PASSWORD, make_user

ADMIN_PASSWORD = "admin lantern granite"


def test_create_admin_creates_an_admin_account(app, clock):
    user = services.create_admin("Boss@Council.example", ADMIN_PASSWORD, "The Boss", clock.now)

    stored = db.session.get(User, user.id)
    assert stored.email == "boss@council.example"
    assert stored.role == Role.ADMIN.value
    assert verify_password(stored.password_hash, ADMIN_PASSWORD)
    assert audit_actions(user.id) == ["user.admin_created"]


def test_create_admin_promotes_an_existing_account_and_sets_its_password(app, clock):
    existing = make_user(email="boss@council.example")

    user = services.create_admin("boss@council.example", ADMIN_PASSWORD, "Ignored", clock.now)

    assert user.id == existing.id
    stored = db.session.get(User, user.id)
    assert stored.is_admin
    assert verify_password(stored.password_hash, ADMIN_PASSWORD)
    assert stored.session_epoch == 1
    assert db.session.query(User).count() == 1


def test_create_api_token_stores_only_its_hash(app, clock):
    user = make_user(email="ann@council.example")

    row, token = services.create_api_token("ann@council.example", "HR system", clock.now)

    stored = db.session.get(ApiToken, row.id)
    assert stored.user_id == user.id
    assert stored.token_hash == hash_token(token)
    assert token not in stored.token_hash
    assert len(token) >= 40
    assert "api_token.created" in audit_actions(row.id)


def test_create_api_token_for_unknown_email_is_not_found(app, clock):
    with pytest.raises(NotFound):
        services.create_api_token("nobody@council.example", "HR system", clock.now)


def test_api_token_authenticates_its_user_and_notes_the_use(app, clock):
    user = make_user(email="ann@council.example")
    row, token = services.create_api_token("ann@council.example", "HR system", clock.now)

    assert services.authenticate_api_token(token, clock.now).id == user.id
    assert db.session.get(ApiToken, row.id).last_used_at == clock.now


def test_last_used_is_written_at_most_once_a_minute(app, clock):
    make_user(email="ann@council.example")
    row, token = services.create_api_token("ann@council.example", "HR system", clock.now)
    first = clock.now
    services.authenticate_api_token(token, first)

    services.authenticate_api_token(token, clock.advance(seconds=59))
    assert db.session.get(ApiToken, row.id).last_used_at == first

    services.authenticate_api_token(token, clock.advance(seconds=1))
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).last_used_at == first + timedelta(seconds=60)


def test_unknown_token_does_not_authenticate(app, clock):
    assert services.authenticate_api_token("not-a-token", clock.now) is None
    assert services.authenticate_api_token("", clock.now) is None


def test_revoked_token_does_not_authenticate(app, clock):
    user = make_user(email="ann@council.example")
    row, token = services.create_api_token("ann@council.example", "HR system", clock.now)

    services.revoke_api_token(user.id, row.id, clock.now)

    assert services.authenticate_api_token(token, clock.now) is None
    assert "api_token.revoked" in audit_actions(row.id)


def test_token_of_inactive_user_does_not_authenticate(app, clock):
    user = make_user(email="ann@council.example")
    _, token = services.create_api_token("ann@council.example", "HR system", clock.now)
    user.is_active_account = False
    db.session.commit()

    assert services.authenticate_api_token(token, clock.now) is None


def test_revoking_someone_elses_token_is_not_found(app, clock):
    make_user(email="ann@council.example")
    mallory = make_user(email="mallory@council.example")
    row, token = services.create_api_token("ann@council.example", "HR system", clock.now)

    with pytest.raises(NotFound):
        services.revoke_api_token(mallory.id, row.id, clock.now)
    assert services.authenticate_api_token(token, clock.now) is not None


def test_list_api_tokens_shows_live_tokens_newest_first(app, clock):
    user = make_user(email="ann@council.example")
    services.create_api_token("ann@council.example", "first", clock.now)
    services.create_api_token("ann@council.example", "second", clock.advance(minutes=1))
    revoked, _ = services.create_api_token("ann@council.example", "revoked", clock.advance(minutes=1))
    services.revoke_api_token(user.id, revoked.id, clock.now)

    assert [t.name for t in services.list_api_tokens(user.id)] == ["second", "first"]


def test_password_is_not_needed_for_tokens_but_the_account_must_exist(app, clock):
    make_user(email="ann@council.example", password=PASSWORD)
    _, token = services.create_api_token(" ANN@council.example", "cli", clock.now)
    assert services.authenticate_api_token(token, clock.now).email == "ann@council.example"
