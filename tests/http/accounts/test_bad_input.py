"""Every accounts form: bad input re-renders with the error summary and writes nothing."""

from __future__ import annotations

import pytest

from tests.http.accounts.conftest import count_rows, error_summary, latest_email, reset_path, sign_in
from tests.support.factories import PASSWORD, make_user

GOOD_REGISTRATION = {
    "name": "Ann Example",
    "email": "ann@council.example",
    "organisation": "Exampleton Council",
    "sector": "public",
    "password": "plum orchard bicycle",
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "Enter your full name"),
        ({"email": "ann.council.example"}, "Enter an email address in the correct format, like name@example.org"),
        ({"organisation": "  "}, "Enter the name of your organisation"),
        ({"sector": ""}, "Select the sector you work in"),
        ({"sector": "royalty"}, "Select the sector you work in"),
        ({"password": "too short"}, "Password must be 12 characters or more"),
        ({"password": "Password1234"}, None),
        ({"password": "ann@council.example"}, "Password must not be the same as your email address"),
    ],
)
def test_register_with_bad_input_shows_the_error_and_writes_nothing(client, clock, changes, message):
    before = count_rows()

    response = client.post("/register", data={**GOOD_REGISTRATION, **changes})

    assert response.status_code == 200
    errors = error_summary(response.text)
    assert len(errors) == 1
    if message:
        assert errors == [message]
    assert "<title>Error: " in response.text
    assert count_rows() == before


def test_register_with_everything_missing_lists_every_problem(client, clock):
    before = count_rows()

    response = client.post("/register", data={})

    assert len(error_summary(response.text)) == 5
    assert count_rows() == before


def test_sign_in_with_empty_fields_shows_errors_and_writes_nothing(client, clock):
    before = count_rows()

    response = client.post("/sign-in", data={"email": "", "password": ""})

    assert error_summary(response.text) == ["Enter your email address", "Enter your password"]
    assert count_rows() == before


def test_reset_request_with_bad_email_shows_error_and_writes_nothing(client, clock):
    before = count_rows()

    response = client.post("/password-reset", data={"email": "not an address"})

    assert response.status_code == 200
    assert error_summary(response.text) == ["Enter an email address in the correct format, like name@example.org"]
    assert count_rows() == before


def test_new_password_from_reset_link_that_is_too_common_shows_error_and_writes_nothing(client, clock):
    make_user(email="ann@council.example")
    client.post("/password-reset", data={"email": "ann@council.example"})
    path = reset_path(latest_email("password_reset"))
    before = count_rows()

    response = client.post(path, data={"new_password": "qwertyuiop123"})

    assert response.status_code == 200
    [message] = error_summary(response.text)
    assert "too common" in message
    assert count_rows() == before


def test_change_password_with_short_new_password_shows_error_and_writes_nothing(client, clock):
    make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD)
    before = count_rows()

    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short"})

    assert error_summary(response.text) == ["Password must be 12 characters or more"]
    assert count_rows() == before


def test_token_without_a_name_shows_error_and_writes_nothing(client, clock):
    make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD)
    before = count_rows()

    response = client.post("/account/tokens", data={"name": " "})

    assert error_summary(response.text) == ["Enter a name for the token"]
    assert 'id="new-token"' not in response.text
    assert count_rows() == before
