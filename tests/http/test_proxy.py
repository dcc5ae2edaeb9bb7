"""Behind nginx (PROXY_FIX_HOPS=1) links in emails and calendar files follow the proxy's scheme and host."""

from __future__ import annotations

import pytest

from bookings import create_app
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from tests.support.factories import make_event, make_user

FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "bookings.council.example",
    "X-Forwarded-For": "203.0.113.9",
}


@pytest.fixture
def proxied_app(app, database_url):
    """A second app on the same database, built as production is behind one proxy (the `app` fixture cleans up)."""
    proxied = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=False, PROXY_FIX_HOPS=1)
    yield proxied
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def test_password_reset_email_links_use_the_forwarded_scheme_and_host(proxied_app, app, clock):
    make_user(email="ann@council.example")
    db.session.commit()
    response = proxied_app.test_client().post(
        "/password-reset", data={"email": "ann@council.example"}, headers=FORWARDED
    )
    assert response.status_code == 302
    message = db.session.query(OutboxMessage).filter_by(kind="password_reset").one()
    assert "https://bookings.council.example/password-reset/" in message.text_body
    assert "http://" not in message.text_body


def test_event_calendar_file_links_use_the_forwarded_scheme_and_host(proxied_app, app, clock):
    event = make_event()
    db.session.commit()
    response = proxied_app.test_client().get(f"/events/{event.slug}.ics", headers=FORWARDED)
    assert response.status_code == 200
    unfolded = response.text.replace("\r\n ", "")
    assert f"https://bookings.council.example/events/{event.slug}" in unfolded
    assert "http://" not in unfolded


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(client, clock):
    event = make_event()
    db.session.commit()
    response = client.get(f"/events/{event.slug}.ics", headers=FORWARDED)
    unfolded = response.text.replace("\r\n ", "")
    assert "bookings.council.example" not in unfolded
    assert f"http://localhost/events/{event.slug}" in unfolded
