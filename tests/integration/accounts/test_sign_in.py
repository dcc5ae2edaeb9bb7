from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from bookings.accounts import services
from bookings.accounts.models import User
from bookings.accounts.passwords import verify_password
from bookings.core.errors import RateLimited, ValidationError
from bookings.core.throttle import ThrottleHit
from bookings.extensions import db
from tests.integration.accounts.conftest import audit_actions
from tests.support.factories import PASSWORD, make_user

ADDRESS = "203.0.113.7"


def fail(email: str, *, address: str = ADDRESS, now) -> None:
    with pytest.raises(ValidationError):
        services.authenticate(email, "wrong password entirely", address, now)


def test_authenticate_returns_user_for_right_password_whatever_the_email_case(app, clock):
    user = make_user(email="ann@council.example")

    signed_in = services.authenticate("  ANN@council.example ", PASSWORD, ADDRESS, clock.now)

    assert signed_in.id == user.id
    assert audit_actions(user.id) == ["user.signed_in"]


def test_wrong_password_and_unknown_email_give_the_same_error(app, clock):
    make_user(email="ann@council.example")

    with pytest.raises(ValidationError) as wrong_password:
        services.authenticate("ann@council.example", "not the password at all", ADDRESS, clock.now)
    with pytest.raises(ValidationError) as unknown_email:
        services.authenticate("nobody@council.example", PASSWORD, ADDRESS, clock.now)

    assert wrong_password.value.message == unknown_email.value.message == "Enter a correct email address and password"
    assert wrong_password.value.code == unknown_email.value.code
    assert wrong_password.value.field == unknown_email.value.field == "email"


def test_failed_attempts_are_counted_even_though_the_service_refuses(app, clock):
    make_user(email="ann@council.example")

    fail("ann@council.example", now=clock.now)

    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ThrottleHit)) == 2  # account and address


def test_account_is_locked_after_max_failures_even_with_the_right_password(app, clock):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 3
    make_user(email="ann@council.example")
    for _ in range(3):
        fail("ann@council.example", now=clock.now)

    with pytest.raises(RateLimited) as raised:
        services.authenticate("ann@council.example", PASSWORD, "198.51.100.1", clock.now)

    assert "Too many failed attempts to sign in" in raised.value.message
    assert raised.value.status == 429


def test_one_failure_short_of_the_limit_still_signs_in(app, clock):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 3
    make_user(email="ann@council.example")
    for _ in range(2):
        fail("ann@council.example", now=clock.now)

    assert services.authenticate("ann@council.example", PASSWORD, ADDRESS, clock.now).email == "ann@council.example"


def test_address_is_limited_after_max_failures_across_accounts(app, clock):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 4
    make_user(email="ann@council.example")
    for n in range(4):
        fail(f"guess{n}@council.example", now=clock.now)

    with pytest.raises(RateLimited):
        services.authenticate("ann@council.example", PASSWORD, ADDRESS, clock.now)
    assert services.authenticate("ann@council.example", PASSWORD, "198.51.100.1", clock.now)


def test_failures_older_than_the_window_stop_counting(app, clock):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 2
    make_user(email="ann@council.example")
    for _ in range(2):
        fail("ann@council.example", now=clock.now)

    later = clock.advance(seconds=app.config["LOGIN_FAILURE_WINDOW_SECONDS"] + 1)

    assert services.authenticate("ann@council.example", PASSWORD, ADDRESS, later)


def test_successful_sign_in_clears_the_account_failures(app, clock):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 3
    make_user(email="ann@council.example")
    for _ in range(2):
        fail("ann@council.example", now=clock.now)
    services.authenticate("ann@council.example", PASSWORD, ADDRESS, clock.now)

    for _ in range(2):
        fail("ann@council.example", now=clock.now)

    assert services.authenticate("ann@council.example", PASSWORD, ADDRESS, clock.now)


def test_inactive_account_cannot_sign_in(app, clock):
    make_user(email="ann@council.example", is_active_account=False)

    with pytest.raises(ValidationError) as raised:
        services.authenticate("ann@council.example", PASSWORD, ADDRESS, clock.now)

    assert raised.value.message == "Enter a correct email address and password"


def test_sign_in_rehashes_a_hash_made_with_old_parameters(app, clock):
    old_hash = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(PASSWORD)
    user = make_user(email="ann@council.example")
    user.password_hash = old_hash
    db.session.commit()

    services.authenticate("ann@council.example", PASSWORD, ADDRESS, clock.now)

    stored = db.session.get(User, user.id)
    assert stored.password_hash != old_hash
    assert verify_password(stored.password_hash, PASSWORD)
