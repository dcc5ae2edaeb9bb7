"""Bearer tokens only: no token, a bad token, another user's role, and cookies that must not count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.accounts.models import ApiToken
from bookings.extensions import db
from tests.api.conftest import bearer, row_counts
from tests.conftest import login_as
from tests.support.factories import make_event

NEW_EVENT = {
    "title": "Safeguarding adults",
    "capacity": 20,
    "sessions": [{"starts_at": "2027-03-27T09:30:00+00:00", "ends_at": "2027-03-27T16:30:00+00:00"}],
    "ticket_types": [{"name": "Public sector", "price_pence": 0}],
}


def test_write_without_token_is_401_with_bearer_challenge(client, openapi):
    response = client.post("/api/v1/events", json=NEW_EVENT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert openapi.check_response(response, "/events", "post")["error"] == "unauthorised"


def test_unknown_token_is_401_even_on_public_catalogue(client, openapi):
    response = client.get("/api/v1/events", headers=bearer("not-a-real-token"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    openapi.check_response(response, "/events", "get")


def test_other_authorization_scheme_is_401(client, admin_token):
    response = client.post("/api/v1/events", json=NEW_EVENT, headers={"Authorization": f"Token {admin_token}"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorised"


def test_revoked_token_is_401(client, admin, admin_token, clock):
    db.session.execute(db.update(ApiToken).values(revoked_at=clock.now - timedelta(minutes=1)))
    db.session.commit()
    response = client.post("/api/v1/events", json=NEW_EVENT, headers=bearer(admin_token))
    assert response.status_code == 401


def test_token_of_deactivated_account_is_401(client, admin, admin_token):
    admin.is_active_account = False
    db.session.commit()
    response = client.get("/api/v1/events", headers=bearer(admin_token))
    assert response.status_code == 401


def test_non_admin_token_cannot_create_event(client, user_token, openapi):
    before = row_counts()
    response = client.post("/api/v1/events", json=NEW_EVENT, headers=bearer(user_token))
    assert response.status_code == 403
    assert openapi.check_response(response, "/events", "post") == {
        "error": "forbidden",
        "message": "Only an administrator can do this.",
    }
    assert row_counts() == before


def test_non_admin_token_cannot_patch_event(client, user_token):
    event = make_event()
    response = client.patch(f"/api/v1/events/{event.id}", json={"capacity": 1}, headers=bearer(user_token))
    assert response.status_code == 403
    db.session.refresh(event)
    assert event.capacity == 10


def test_admin_session_cookie_does_not_authorise_a_write(client, admin):
    login_as(client, admin)
    before = row_counts()
    response = client.post("/api/v1/events", json=NEW_EVENT)
    assert response.status_code == 401
    assert row_counts() == before


def test_admin_session_cookie_does_not_reveal_drafts(client, admin):
    draft = make_event(status="draft")
    login_as(client, admin)
    assert client.get(f"/api/v1/events/{draft.id}").status_code == 404


@pytest.fixture
def csrf_client(csrf_app):
    return csrf_app.test_client()


def test_bearer_write_needs_no_csrf_token(csrf_client):
    from tests.support.factories import make_admin, make_api_token

    token = make_api_token(make_admin())
    response = csrf_client.post("/api/v1/events", json=NEW_EVENT, headers=bearer(token))
    assert response.status_code == 201


def test_cookie_write_with_csrf_on_is_still_401(csrf_client):
    from tests.support.factories import make_admin

    login_as(csrf_client, make_admin())
    response = csrf_client.post("/api/v1/events", json=NEW_EVENT)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorised"


def test_catalogue_responses_vary_on_authorization(client):
    # Admins see more than others at the same address, so shared caches must key on the token.
    assert "Authorization" in client.get("/api/v1/events").headers["Vary"]
