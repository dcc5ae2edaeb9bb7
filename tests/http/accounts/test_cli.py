from __future__ import annotations

from bookings.accounts import services
from bookings.accounts.models import User
from bookings.accounts.passwords import verify_password
from bookings.extensions import db
from tests.support.factories import make_user


def test_create_admin_command_creates_an_admin(app, clock):
    result = app.test_cli_runner().invoke(
        args=["bookings", "create-admin", "Boss@Council.example", "--password", "admin lantern granite"]
    )

    assert result.exit_code == 0, result.output
    db.session.rollback()
    user = db.session.query(User).filter_by(email="boss@council.example").one()
    assert user.is_admin
    assert verify_password(user.password_hash, "admin lantern granite")


def test_create_admin_command_promotes_an_existing_account(app, clock):
    make_user(email="boss@council.example")

    result = app.test_cli_runner().invoke(
        args=["bookings", "create-admin", "boss@council.example", "--password", "admin lantern granite"]
    )

    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert db.session.query(User).filter_by(email="boss@council.example").one().is_admin


def test_create_token_command_prints_a_token_that_authenticates(app, clock):
    user = make_user(email="ann@council.example")

    result = app.test_cli_runner().invoke(args=["bookings", "create-token", "ann@council.example", "--name", "HR"])

    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert " " not in token
    db.session.rollback()
    assert services.authenticate_api_token(token, clock.now).id == user.id
