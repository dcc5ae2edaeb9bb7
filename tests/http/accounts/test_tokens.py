from __future__ import annotations

import re

from bookings.accounts import services
from bookings.accounts.models import ApiToken
from bookings.extensions import db
from tests.conftest import login_as
from tests.http.accounts.conftest import sign_in
from tests.support.confirm import link_hrefs, post_actions, read_confirm_page
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


def signed_in_at_the_revoke_page(client):
    """Ann, signed in with one token ("HR system"): (the token, its row, its confirmation page)."""
    user = make_user(email="ann@council.example")
    token = make_api_token(user, name="HR system")
    sign_in(client, "ann@council.example", PASSWORD)
    row = db.session.query(ApiToken).one()
    return token, row, read_confirm_page(client.get(f"/account/tokens/{row.id}/revoke").text)


def test_revoked_token_stops_authenticating_and_leaves_the_list(client, clock):
    token, _row, confirm = signed_in_at_the_revoke_page(client)

    response = client.post(confirm.action)

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

    assert client.get(f"/account/tokens/{row.id}/revoke").status_code == 404
    response = client.post(f"/account/tokens/{row.id}/revoke")

    assert response.status_code == 404
    assert services.authenticate_api_token(token, clock.now) is not None


def test_tokens_page_needs_sign_in(client):
    assert client.get("/account/tokens").status_code == 302
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 302


def _signed_in_with_tokens(client, *names: str) -> list[ApiToken]:
    user = make_user(email="ann@council.example")
    for name in names:
        make_api_token(user, name=name)
    login_as(client, user)
    return list(db.session.query(ApiToken).order_by(ApiToken.id))


def test_tokens_page_links_each_token_to_a_confirmation_page_not_a_form_that_revokes(csrf_app):
    client = csrf_app.test_client()  # with CSRF on, so the page's token fields are there to count
    rows = _signed_in_with_tokens(client, "HR system", "Learning record")

    page = client.get("/account/tokens").text

    hrefs = link_hrefs(page)
    assert all(f"/account/tokens/{row.id}/revoke" in hrefs for row in rows)
    assert post_actions(page) == [""]  # only the create form, which posts to the page itself
    assert page.count('id="csrf_token"') == 1
    assert page.count('<nav aria-label="Back">') == 1  # the layout's own, with no second one nested in it


def test_revoke_confirmation_names_the_token_and_posts_to_revoke(client, clock):
    (row,) = _signed_in_with_tokens(client, "HR system")

    response = client.get(f"/account/tokens/{row.id}/revoke")

    assert response.status_code == 200
    assert "Are you sure you want to revoke the token “HR system”?" in response.text
    confirm = read_confirm_page(response.text)
    assert confirm.action == f"/account/tokens/{row.id}/revoke"
    assert confirm.button == "Yes, revoke the token"
    assert (confirm.cancel_text, confirm.cancel_href) == ("No, keep the token", "/account/tokens")
    db.session.rollback()
    assert db.session.get(ApiToken, row.id).revoked_at is None  # asking changed nothing


def test_confirming_revokes_with_the_pages_csrf_token(csrf_app, clock):
    client = csrf_app.test_client()
    user = make_user(email="ann@council.example")
    token = make_api_token(user, name="HR system")
    login_as(client, user)
    row = db.session.query(ApiToken).one()

    confirm = read_confirm_page(client.get(f"/account/tokens/{row.id}/revoke").text)
    refused = client.post(confirm.action)
    revoked = client.post(confirm.action, data={"csrf_token": confirm.csrf_token}, follow_redirects=True)

    assert refused.status_code == 400
    assert services.authenticate_api_token(token, clock.now) is None
    assert "The token “HR system” has been revoked." in revoked.text


def test_keeping_the_token_changes_nothing(client, clock):
    token, _row, confirm = signed_in_at_the_revoke_page(client)

    kept = client.get(confirm.cancel_href)

    assert kept.status_code == 200 and "HR system" in kept.text
    assert services.authenticate_api_token(token, clock.now) is not None


def test_revoke_confirmation_of_a_revoked_token_says_so(client):
    (row,) = _signed_in_with_tokens(client, "HR system")
    client.post(f"/account/tokens/{row.id}/revoke")

    response = client.get(f"/account/tokens/{row.id}/revoke", follow_redirects=True)

    assert response.request.path == "/account/tokens"
    assert "The token “HR system” has already been revoked." in response.text


def test_revoke_confirmation_needs_sign_in(client):
    user = make_user()
    make_api_token(user)
    row = db.session.query(ApiToken).one()

    response = client.get(f"/account/tokens/{row.id}/revoke")

    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
