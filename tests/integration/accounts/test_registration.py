from __future__ import annotations

import pytest

from bookings.accounts import services
from bookings.accounts.models import Role, User
from bookings.accounts.passwords import verify_password
from bookings.core.clock import utcnow
from bookings.core.errors import ValidationError
from bookings.extensions import db
from tests.integration.accounts.conftest import audit_actions, count_rows, outbox
from tests.support.factories import make_user

GOOD = "plum orchard bicycle"


def register(**overrides):
    values = {
        "name": "Ann Example",
        "email": "ann@council.example",
        "organisation": "Exampleton Council",
        "sector": "public",
        "password": GOOD,
    }
    values.update(overrides)
    return services.register_user(now=utcnow(), **values)


def test_register_user_creates_attendee_with_normalised_email_and_hashed_password(app, clock):
    user = register(email="  Ann@Council.EXAMPLE ")

    stored = db.session.get(User, user.id)
    assert stored.email == "ann@council.example"
    assert stored.role == Role.ATTENDEE.value
    assert stored.sector == "public"
    assert stored.password_hash != GOOD
    assert verify_password(stored.password_hash, GOOD)
    assert stored.created_at == clock.now


def test_register_user_queues_welcome_email_and_audit_record(app, clock):
    user = register()

    [message] = outbox()
    assert message.kind == "account_created"
    assert message.to_address == "ann@council.example"
    assert "/sign-in" in message.text_body
    assert audit_actions(user.id) == ["user.registered"]


def test_register_existing_email_creates_nothing_and_tells_the_holder(app, clock):
    holder = make_user(email="ann@council.example", name="Ann Holder")
    before = count_rows()

    result = register(email="ANN@council.example", name="Someone Else")

    assert result is None
    after = count_rows()
    assert after["users"] == before["users"]
    [message] = outbox()
    assert message.kind == "account_exists"
    assert message.to_address == "ann@council.example"
    assert "Ann Holder" in message.text_body
    assert "/password-reset" in message.text_body
    assert audit_actions(holder.id) == ["user.registration_attempted"]


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("name", {"name": "   "}),
        ("email", {"email": "not-an-address"}),
        ("organisation", {"organisation": ""}),
        ("sector", {"sector": "government"}),
        ("password", {"password": "short pass"}),
        ("password", {"password": "x" * 257}),
        ("password", {"password": "PASSWORD1234"}),
        ("password", {"password": "QwertyUiop123"}),
        ("password", {"email": "long.address@council.example", "password": "Long.Address@Council.example"}),
    ],
)
def test_register_refuses_bad_input_and_writes_nothing(app, clock, field, overrides):
    before = count_rows()

    with pytest.raises(ValidationError) as raised:
        register(**overrides)

    assert raised.value.field == field
    assert count_rows() == before


def test_register_accepts_a_password_of_exactly_the_minimum_length(app, clock):
    assert register(password="abcdefghijk!") is not None


def test_register_losing_a_race_for_the_address_answers_as_for_a_taken_one(app, clock, monkeypatch):
    holder = make_user(email="ann@council.example", name="Ann Holder")
    real_lookup = services._user_by_email
    calls = []

    def lookup_that_misses_the_first_time(email):
        # As if the other registration committed between our check and our insert.
        calls.append(email)
        return None if len(calls) == 1 else real_lookup(email)

    monkeypatch.setattr(services.registration, "_user_by_email", lookup_that_misses_the_first_time)

    result = register(email="ann@council.example")

    assert result is None
    assert db.session.query(User).count() == 1
    assert [m.kind for m in outbox()] == ["account_exists"]
    assert audit_actions(holder.id) == ["user.registration_attempted"]


def test_repeated_registrations_with_a_taken_address_email_its_holder_a_few_times_an_hour_at_most(app, clock):
    make_user(email="ann@council.example")
    for _ in range(services.TAKEN_ADDRESS_EMAILS_PER_HOUR + 2):
        assert register(email="ann@council.example") is None

    assert len(outbox("account_exists")) == services.TAKEN_ADDRESS_EMAILS_PER_HOUR
    clock.advance(hours=1, seconds=1)
    register(email="ann@council.example")
    assert len(outbox("account_exists")) == services.TAKEN_ADDRESS_EMAILS_PER_HOUR + 1
