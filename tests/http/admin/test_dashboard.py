"""Dashboard (occupancy bars, money, failed emails with retry) and the audit log with its filters."""

from __future__ import annotations

from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from tests.conftest import login_as
from tests.integration.admin.support import book, failed_email, paid_event
from tests.support.factories import make_admin, make_event


def test_dashboard_shows_occupancy_of_upcoming_events_and_money(client, clock):
    event = make_event(capacity=10, title="Data protection essentials")
    book(event, clock.now)
    book(paid_event(), clock.now)
    login_as(client, make_admin())

    page = client.get("/admin/").get_data(as_text=True)

    assert "Data protection essentials" in page
    assert "1 confirmed, 0 held, 0 offered: 9 places free of 10; 0 on the waiting list" in page
    assert "<svg" in page and "style=" not in page.split("<main")[1]
    assert "1 invoice, £120.00" in page


def test_failed_emails_are_shown_and_can_be_retried(client, clock):
    message = failed_email("bounced@council.example", now=clock.now)
    login_as(client, make_admin())

    assert "bounced@council.example" in client.get("/admin/").get_data(as_text=True)
    response = client.post(f"/admin/emails/{message.id}/retry")

    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.PENDING.value


def test_retry_without_a_csrf_token_changes_nothing(csrf_app, clock):
    message = failed_email(now=clock.now)
    client = csrf_app.test_client()
    login_as(client, make_admin())

    assert client.post(f"/admin/emails/{message.id}/retry").status_code == 400
    db.session.rollback()
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.FAILED.value


def test_audit_log_filters_by_booking_reference(client, clock):
    event = make_event()
    wanted, other = book(event, clock.now), book(event, clock.now)
    login_as(client, make_admin())

    page = client.get(f"/admin/audit?reference={wanted.reference.lower()}").get_data(as_text=True)

    assert wanted.reference in page and other.reference not in page


def test_audit_log_filters_by_event_and_user(client, clock):
    first, second = make_event(), make_event()
    booking = book(first, clock.now)
    other = book(second, clock.now)
    login_as(client, make_admin())

    by_event = client.get(f"/admin/audit?event_id={first.id}").get_data(as_text=True)
    by_user = client.get(f"/admin/audit?user={booking.booker.email}").get_data(as_text=True)

    assert booking.reference in by_event and other.reference not in by_event
    assert booking.reference in by_user and other.reference not in by_user


def test_nav_links_to_the_console_for_admins(client):
    login_as(client, make_admin())

    assert 'href="/admin/"' in client.get("/").get_data(as_text=True)
