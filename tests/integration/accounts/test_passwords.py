from __future__ import annotations

import pytest

from bookings.accounts import services
from bookings.accounts.models import User
from bookings.accounts.passwords import verify_password
from bookings.core.errors import RateLimited, ValidationError
from bookings.extensions import db
from tests.integration.accounts.conftest import audit_actions, count_rows, outbox, reset_token_from
from tests.support.factories import PASSWORD, make_user

NEW = "granite lantern meadow"


def request_link(email: str, now, address: str = "203.0.113.7") -> str:
    services.request_password_reset(email, now, address=address)
    return reset_token_from(outbox("password_reset")[-1])


def test_reset_request_for_unknown_email_queues_nothing(app, clock):
    services.request_password_reset("nobody@council.example", clock.now, address="203.0.113.7")

    assert outbox() == []


def test_reset_request_queues_a_link_to_the_account_holder(app, clock):
    user = make_user(email="ann@council.example")

    services.request_password_reset("ANN@council.example", clock.now, address="203.0.113.7")

    [message] = outbox()
    assert message.kind == "password_reset"
    assert message.to_address == "ann@council.example"
    assert "expires in 1 hour" in message.text_body
    assert "user.password_reset_requested" in audit_actions(user.id)


def test_reset_link_sets_the_new_password_and_ends_sessions(app, clock):
    user = make_user(email="ann@council.example")
    token = request_link("ann@council.example", clock.now)

    services.reset_password(token, NEW, clock.now)

    stored = db.session.get(User, user.id)
    assert verify_password(stored.password_hash, NEW)
    assert stored.session_epoch == 1
    assert stored.password_changed_at == clock.now
    assert [m.kind for m in outbox()] == ["password_reset", "password_changed"]
    assert "user.password_reset" in audit_actions(user.id)


def test_reset_link_works_only_once(app, clock):
    make_user(email="ann@council.example")
    token = request_link("ann@council.example", clock.now)
    services.reset_password(token, NEW, clock.now)

    with pytest.raises(services.InvalidResetLink):
        services.reset_password(token, "another fine passphrase", clock.now)


def test_reset_link_expires_after_max_age(app, clock):
    make_user(email="ann@council.example")
    token = request_link("ann@council.example", clock.now)

    services.check_reset_token(token, clock.advance(seconds=app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]))
    with pytest.raises(services.InvalidResetLink):
        services.reset_password(token, NEW, clock.advance(seconds=1))


def test_tampered_reset_link_is_refused(app, clock):
    make_user(email="ann@council.example")
    token = request_link("ann@council.example", clock.now)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    with pytest.raises(services.InvalidResetLink):
        services.check_reset_token(tampered, clock.now)


def test_reset_with_a_weak_password_writes_nothing_and_keeps_the_link(app, clock):
    make_user(email="ann@council.example")
    token = request_link("ann@council.example", clock.now)
    before = count_rows()

    with pytest.raises(ValidationError) as raised:
        services.reset_password(token, "password1234", clock.now)

    assert raised.value.field == "new_password"
    assert count_rows() == before
    assert services.check_reset_token(token, clock.now)


def test_reset_requests_are_limited_per_email_known_or_not(app, clock):
    for _ in range(services.RESET_MAX_PER_EMAIL):
        services.request_password_reset("nobody@council.example", clock.now, address="203.0.113.7")

    with pytest.raises(RateLimited):
        services.request_password_reset("NOBODY@council.example", clock.now, address="198.51.100.1")


def test_reset_requests_are_limited_per_address(app, clock):
    for n in range(services.RESET_MAX_PER_ADDRESS):
        services.request_password_reset(f"person{n}@council.example", clock.now, address="203.0.113.7")

    with pytest.raises(RateLimited):
        services.request_password_reset("someone@council.example", clock.now, address="203.0.113.7")
    services.request_password_reset("someone@council.example", clock.now, address="198.51.100.1")


def test_change_password_bumps_the_session_epoch_and_tells_the_holder(app, clock):
    user = make_user(email="ann@council.example")

    services.change_password(user.id, PASSWORD, NEW, clock.now)

    stored = db.session.get(User, user.id)
    assert stored.session_epoch == 1
    assert stored.get_id() == f"{user.id}:1"
    assert verify_password(stored.password_hash, NEW)
    [message] = outbox()
    assert message.kind == "password_changed"
    assert audit_actions(user.id) == ["user.password_changed"]


def test_change_password_refuses_a_wrong_current_password_and_writes_nothing(app, clock):
    user = make_user(email="ann@council.example")
    before = count_rows()

    with pytest.raises(ValidationError) as raised:
        services.change_password(user.id, "not my password at all", NEW, clock.now)

    assert raised.value.field == "current_password"
    assert count_rows() == before


def test_change_password_refuses_a_weak_new_password_and_writes_nothing(app, clock):
    user = make_user(email="ann@council.example")
    before = count_rows()

    with pytest.raises(ValidationError) as raised:
        services.change_password(user.id, PASSWORD, "ann@council.example", clock.now)

    assert raised.value.field == "new_password"
    assert count_rows() == before
    assert db.session.get(User, user.id).session_epoch == 0
