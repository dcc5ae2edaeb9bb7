from __future__ import annotations

import re

from bookings.accounts import services
from bookings.accounts.models import ApiToken
from bookings.extensions import db
from tests.http.accounts.conftest import sign_in
from tests.support.factories import PASSWORD, make_api_token, make_user


def new_token_in(page: str) -> str:
    match = re.search(r'<code class="app-token" id="new-token">([^<]+)</code>', page)
    assert match, "no new token shown"
    return match.group(1)


def test_created_token_is_shown_once_and_authenticates(client, clock):
    user = make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD)

    created = client.post("/account/tokens", data={"name": "HR system"})

    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    token = new_token_in(created.text)
    assert services.authenticate_api_token(token, clock.now).id == user.id
    listing = client.get("/account/tokens").text
    assert "HR system" in listing
    assert token not in listing


def test_revoked_token_stops_authenticating_and_leaves_the_list(client, clock):
    user = make_user(email="ann@council.example")
    token = make_api_token(user, name="HR system")
    sign_in(client, "ann@council.example", PASSWORD)
    row = db.session.query(ApiToken).one()

    response = client.post(f"/account/tokens/{row.id}/revoke")

    assert response.status_code == 302
    assert response.location == "/account/tokens"
    assert services.authenticate_api_token(token, clock.now) is None
    assert "HR system" not in client.get("/account/tokens").text.split("Your tokens", 1)[1].split("Create a token")[0]


def test_cannot_revoke_someone_elses_token(client, clock):
    owner = make_user(email="owner@council.example")
    token = make_api_token(owner)
    make_user(email="ann@council.example")
    sign_in(client, "ann@council.example", PASSWORD)
    row = db.session.query(ApiToken).one()

    response = client.post(f"/account/tokens/{row.id}/revoke")

    assert response.status_code == 404
    assert services.authenticate_api_token(token, clock.now) is not None


def test_tokens_page_needs_sign_in(client):
    assert client.get("/account/tokens").status_code == 302
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 302
