from __future__ import annotations

from bookings.accounts.models import User
from bookings.accounts.passwords import verify_password
from bookings.extensions import db
from tests.http.accounts.conftest import count_rows, error_summary, latest_email, reset_path, sign_in
from tests.support.factories import PASSWORD, make_user

NEW = "granite lantern meadow"


def test_reset_request_answers_the_same_for_known_and_unknown_addresses(client, clock):
    make_user(email="ann@council.example")

    known = client.post("/password-reset", data={"email": "ann@council.example"})
    unknown = client.post("/password-reset", data={"email": "nobody@council.example"})

    assert (
        (known.status_code, known.location) == (unknown.status_code, unknown.location) == (302, "/password-reset/sent")
    )
    assert "Check your email" in client.get("/password-reset/sent").text
    assert latest_email("password_reset").to_address == "ann@council.example"
    assert count_rows()["emails"] == 1


def test_reset_flow_end_to_end(client, clock):
    user = make_user(email="ann@council.example")
    client.post("/password-reset", data={"email": "ann@council.example"})
    path = reset_path(latest_email("password_reset"))

    form = client.get(path)
    assert form.status_code == 200
    assert 'autocomplete="new-password"' in form.text
    done = client.post(path, data={"new_password": NEW})

    assert done.status_code == 302
    assert done.location == "/sign-in"
    assert verify_password(db.session.get(User, user.id).password_hash, NEW)
    assert sign_in(client, "ann@council.example", NEW).location == "/account"
    assert latest_email("password_changed").to_address == "ann@council.example"


def test_used_reset_link_is_rejected(client, clock):
    make_user(email="ann@council.example")
    client.post("/password-reset", data={"email": "ann@council.example"})
    path = reset_path(latest_email("password_reset"))
    client.post(path, data={"new_password": NEW})

    again = client.post(path, data={"new_password": "another fine passphrase"})

    assert again.status_code == 400
    assert "expired or has already been used" in again.text
    assert sign_in(client, "ann@council.example", "another fine passphrase").status_code == 200


def test_expired_reset_link_is_rejected(app, client, clock):
    make_user(email="ann@council.example")
    client.post("/password-reset", data={"email": "ann@council.example"})
    path = reset_path(latest_email("password_reset"))

    clock.advance(seconds=app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] + 1)
    response = client.get(path)

    assert response.status_code == 400
    assert "expired or has already been used" in response.text
    assert 'href="/password-reset"' in response.text


def test_reset_link_ends_sessions_elsewhere(app, client, clock):
    make_user(email="ann@council.example")
    elsewhere = app.test_client()
    sign_in(elsewhere, "ann@council.example", PASSWORD)
    client.post("/password-reset", data={"email": "ann@council.example"})

    client.post(reset_path(latest_email("password_reset")), data={"new_password": NEW})

    assert elsewhere.get("/account").status_code == 302


def test_change_password_ends_other_sessions_but_keeps_this_one(app, client, clock):
    user = make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD)
    other = app.test_client()
    sign_in(other, "ann@council.example", PASSWORD)
    assert other.get("/account").status_code == 200

    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW})

    assert response.status_code == 302
    assert response.location == "/account"
    assert client.get("/account").status_code == 200
    ended = other.get("/account")
    assert ended.status_code == 302
    assert ended.location.startswith("/sign-in")
    assert db.session.get(User, user.id).session_epoch == 1


def test_change_password_ends_remember_me_cookies_elsewhere(app, client, clock):
    make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD)
    laptop = app.test_client()
    sign_in(laptop, "ann@council.example", PASSWORD, remember=True)
    laptop.delete_cookie("session")
    assert laptop.get("/account").status_code == 200  # the remember cookie alone signs in
    laptop.delete_cookie("session")

    client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW})

    assert laptop.get("/account").status_code == 302


def test_change_password_keeps_remember_me_for_this_device(client, clock):
    make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD, remember=True)

    client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW})
    client.delete_cookie("session")

    assert client.get("/account").status_code == 200


def test_change_password_with_wrong_current_password_shows_the_error(client, clock):
    make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD)
    before = count_rows()

    response = client.post(
        "/account/password", data={"current_password": "not my password at all", "new_password": NEW}
    )

    assert response.status_code == 200
    assert error_summary(response.text) == ["Your current password is incorrect"]
    assert 'href="#current_password"' in response.text
    assert count_rows() == before
