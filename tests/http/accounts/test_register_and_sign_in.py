from __future__ import annotations

import html

from bookings.accounts.models import User
from bookings.extensions import db
from tests.http.accounts.conftest import client_from, count_rows, error_summary, latest_email, sign_in
from tests.support.factories import PASSWORD, make_user

NEW_ACCOUNT = {
    "name": "Ann Example",
    "email": "ann@council.example",
    "organisation": "Exampleton Council",
    "sector": "voluntary",
    "password": "plum orchard bicycle",
}


def test_sign_in_page_has_labelled_fields_with_autocomplete(client):
    page = client.get("/sign-in").text

    assert 'autocomplete="email"' in page
    assert 'autocomplete="current-password"' in page
    assert 'name="remember"' in page
    assert '<label class="govuk-label" for="email">' in page


def test_register_page_asks_for_sector_in_a_fieldset_with_new_password_autocomplete(client):
    page = client.get("/register").text

    assert "<fieldset" in page and "Which sector do you work in?" in page
    assert page.count('type="radio"') == 3
    assert 'autocomplete="new-password"' in page
    assert 'autocomplete="organization"' in page
    assert 'autocomplete="name"' in page


def test_register_creates_the_account_and_says_check_your_email(client, clock):
    response = client.post("/register", data=NEW_ACCOUNT)

    assert response.status_code == 302
    assert response.location == "/register/check-your-email"
    assert "Check your email" in client.get(response.location).text
    user = db.session.query(User).filter_by(email="ann@council.example").one()
    assert user.sector == "voluntary"
    assert latest_email("account_created").to_address == "ann@council.example"


def test_register_with_a_taken_email_answers_exactly_as_a_new_one(client, clock):
    fresh = client.post("/register", data={**NEW_ACCOUNT, "email": "new@council.example"})
    make_user(email="taken@council.example")
    before = count_rows()

    taken = client.post("/register", data={**NEW_ACCOUNT, "email": "taken@council.example"})

    assert (taken.status_code, taken.location) == (fresh.status_code, fresh.location)
    assert count_rows()["users"] == before["users"]
    assert latest_email("account_exists").to_address == "taken@council.example"


def test_sign_in_then_account_page_shows_the_details(client, clock):
    make_user(email="ann@council.example", name="Ann Example", organisation="Exampleton Council", sector="private")

    response = sign_in(client, "ann@council.example", PASSWORD)

    assert response.status_code == 302
    assert response.location == "/account"
    page = client.get("/account").text
    for text in ("Ann Example", "ann@council.example", "Exampleton Council", "Private sector"):
        assert text in page
    assert 'href="/account/password"' in page
    assert 'href="/account/tokens"' in page


def test_account_page_needs_sign_in(client):
    response = client.get("/account")

    assert response.status_code == 302
    assert response.location.startswith("/sign-in?next=")


def test_remember_me_sets_a_remember_cookie(client, clock):
    make_user(email="ann@council.example")

    sign_in(client, "ann@council.example", PASSWORD, remember=True)

    assert client.get_cookie("remember_token") is not None


def test_without_remember_me_no_remember_cookie_is_set(client, clock):
    make_user(email="ann@council.example")

    sign_in(client, "ann@council.example", PASSWORD)

    assert client.get_cookie("remember_token") is None


def test_remember_cookie_alone_keeps_you_signed_in(client, clock):
    make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD, remember=True)

    client.delete_cookie("session")

    assert client.get("/account").status_code == 200


def test_sign_in_starts_a_new_session(client, clock):
    make_user(email="ann@council.example")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"

    sign_in(client, "ann@council.example", PASSWORD)

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].endswith(":0")


def test_sign_out_ends_the_session_and_the_remember_cookie(client, clock):
    make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD, remember=True)

    response = client.post("/sign-out")

    assert response.status_code == 302
    assert client.get_cookie("remember_token") is None
    assert client.get("/account").status_code == 302


def test_wrong_password_message_is_identical_to_unknown_email(client, clock):
    make_user(email="ann@council.example")

    wrong_password = sign_in(client, "ann@council.example", "not the right password")
    unknown_email = sign_in(client, "nobody@council.example", "not the right password")

    assert error_summary(wrong_password.text) == error_summary(unknown_email.text)
    assert error_summary(wrong_password.text) == ["Enter a correct email address and password"]
    assert wrong_password.status_code == unknown_email.status_code == 200


def test_sign_in_is_rate_limited_after_n_failures_on_one_account(app, client, clock):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    make_user(email="ann@council.example")
    for _ in range(limit):
        assert error_summary(sign_in(client, "ann@council.example", "wrong wrong wrong").text) == [
            "Enter a correct email address and password"
        ]

    other_address = client_from(app, "198.51.100.9")
    response = sign_in(other_address, "ann@council.example", PASSWORD)

    assert response.status_code == 200
    [message] = error_summary(response.text)
    assert "Too many failed attempts to sign in" in html.unescape(message)


def test_sign_in_is_rate_limited_after_n_failures_from_one_address(app, client, clock):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 6
    make_user(email="ann@council.example")
    attacker = client_from(app, "203.0.113.66")
    for n in range(6):
        sign_in(attacker, f"guess{n}@council.example", "wrong wrong wrong")

    blocked = sign_in(attacker, "ann@council.example", PASSWORD)
    allowed = sign_in(client, "ann@council.example", PASSWORD)

    assert "Too many failed attempts" in " ".join(error_summary(blocked.text))
    assert allowed.status_code == 302


def test_safe_next_is_followed_after_sign_in(client, clock):
    make_user(email="ann@council.example")

    response = sign_in(client, "ann@council.example", PASSWORD, next_url="/my-bookings")

    assert response.location == "/my-bookings"


def test_page_that_asked_for_sign_in_is_shown_after_it(client, clock):
    make_user(email="ann@council.example")
    login_url = client.get("/account/tokens").location

    response = client.post(login_url, data={"email": "ann@council.example", "password": PASSWORD})

    assert response.location == "/account/tokens"


def test_remember_me_label_gives_the_configured_duration(app, client):
    app.config["REMEMBER_COOKIE_DURATION_DAYS"] = 14

    assert "Keep me signed in on this device for 14 days" in client.get("/sign-in").text


def test_offsite_next_is_ignored_after_sign_in(client, clock):
    make_user(email="ann@council.example")

    response = sign_in(client, "ann@council.example", PASSWORD, next_url="https://evil.example/")

    assert response.location == "/account"
