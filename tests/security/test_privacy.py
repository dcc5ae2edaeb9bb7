"""UK GDPR: old attendee data is anonymised, a person can take their data away and close their account."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bookings.accounts.models import User
from bookings.booking.models import Attendee, Booking
from bookings.core.audit import AuditRecord
from bookings.core.errors import Conflict, ValidationError
from bookings.extensions import db
from bookings.privacy.services import (
    ANONYMISED_NAME,
    anonymise_old_bookings,
    close_account,
    download_my_data,
)
from bookings.waitlist.models import WaitlistEntry
from tests.conftest import login_as
from tests.security.conftest import bearer


def _attendee(world) -> Attendee:
    db.session.expire_all()
    return db.session.get(Attendee, world.attendee_id)


def _after_event(world, clock, **delta):
    clock.set(world.event.ends_at + timedelta(**delta))
    return clock.now


def test_anonymise_removes_attendee_details_of_old_events(world, clock):
    now = _after_event(world, clock, days=400)
    report = anonymise_old_bookings(now=now, months=12)
    attendee = _attendee(world)
    assert (attendee.name, attendee.email, attendee.job_title) == (ANONYMISED_NAME, "", "")
    assert (attendee.dietary_needs, attendee.access_needs, attendee.organisation) == ("", "", "")
    assert report.attendees >= 1


def test_anonymise_keeps_places_and_money(world, clock):
    booking = db.session.get(Booking, world.booking.id)
    before = (booking.status, booking.total_pence, len(booking.attendees), booking.attendees[0].price_pence)
    anonymise_old_bookings(now=_after_event(world, clock, days=400), months=12)
    db.session.expire_all()
    booking = db.session.get(Booking, world.booking.id)
    assert (booking.status, booking.total_pence, len(booking.attendees), booking.attendees[0].price_pence) == before


def test_anonymise_leaves_events_inside_the_retention_period(world, clock):
    anonymise_old_bookings(now=_after_event(world, clock, days=300), months=12)
    assert _attendee(world).email == "ann@council.example"


def test_anonymise_keeps_billing_details_of_an_invoiced_booking(world, clock):
    anonymise_old_bookings(now=_after_event(world, clock, days=400), months=12)
    db.session.expire_all()
    assert db.session.get(Booking, world.booking.id).billing_address == "1 High Street"  # VAT records: six years


def test_anonymise_twice_changes_nothing_more(world, clock):
    now = _after_event(world, clock, days=400)
    anonymise_old_bookings(now=now, months=12)
    again = anonymise_old_bookings(now=now, months=12)
    assert (again.attendees, again.bookings, again.events) == (0, 0, 0)


def test_anonymise_blanks_emails_sent_about_the_booking(world, clock):
    from bookings.notifications.models import OutboxMessage, OutboxStatus

    db.session.execute(
        OutboxMessage.__table__.update()
        .where(OutboxMessage.booking_reference == world.booking.reference)
        .values(status=OutboxStatus.SENT.value)
    )
    db.session.commit()
    anonymise_old_bookings(now=_after_event(world, clock, days=400), months=12)
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.booking_reference == world.booking.reference)
    ).all()
    assert rows and all(row.to_address == "" and row.text_body == "" for row in rows)


def test_anonymise_writes_an_audit_record_per_event(world, clock):
    anonymise_old_bookings(now=_after_event(world, clock, days=400), months=12)
    actions = db.session.scalars(
        select(AuditRecord.subject_id).where(AuditRecord.action == "event.attendees_anonymised")
    ).all()
    assert str(world.event.id) in actions


def test_anonymise_refuses_negative_months(world, clock):
    with pytest.raises(ValidationError):
        anonymise_old_bookings(now=clock.now, months=-1)


def test_anonymise_command_uses_the_configured_months(app, world, clock):
    _after_event(world, clock, days=100)
    app.config["ANONYMISE_AFTER_MONTHS"] = 2
    result = app.test_cli_runner().invoke(args=["bookings", "anonymise"])
    assert result.exit_code == 0, result.output
    assert "attendees=" in result.output
    assert _attendee(world).name == ANONYMISED_NAME


def test_anonymise_command_takes_months_on_the_command_line(app, world, clock):
    _after_event(world, clock, days=100)
    result = app.test_cli_runner().invoke(args=["bookings", "anonymise", "--months", "12"])
    assert result.exit_code == 0, result.output
    assert _attendee(world).email == "ann@council.example"


# ---------------------------------------------------------------- download my data


def test_download_my_data_holds_bookings_attendees_and_waiting_lists(world):
    data = download_my_data(world.owner.id)
    assert data["account"]["email"] == "ann@council.example"
    assert data["bookings"][0]["reference"] == world.booking.reference
    assert data["bookings"][0]["attendees"][0]["access_needs"] == "Step-free access"
    assert data["waiting_lists"][0]["places"] == 1
    json.dumps(data)  # plain JSON values only


def test_download_my_data_never_holds_secrets(world):
    text = json.dumps(download_my_data(world.owner.id))
    owner = db.session.get(User, world.owner.id)
    for secret in (world.owner_token, world.feed_token, owner.password_hash):
        assert secret not in text


def test_download_my_data_holds_nothing_of_another_person(world):
    text = json.dumps(download_my_data(world.other.id))
    assert world.booking.reference not in text
    assert "Step-free access" not in text


def test_data_page_downloads_json_for_the_signed_in_person(client, world):
    login_as(client, world.owner)
    response = client.post("/account/data")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.json["bookings"][0]["reference"] == world.booking.reference


def test_data_page_needs_a_csrf_token(csrf_app, csrf_world):
    client = csrf_app.test_client()
    login_as(client, csrf_world.owner)
    assert client.post("/account/data").status_code == 400


# ---------------------------------------------------------------- close account


def test_close_account_refuses_a_wrong_password(world, clock):
    _after_event(world, clock, days=1)
    with pytest.raises(ValidationError):
        close_account(world.owner.id, "not my password at all", clock.now)
    db.session.expire_all()
    assert db.session.get(User, world.owner.id).is_active_account


def test_close_account_refuses_while_places_on_upcoming_events_remain(world, clock):
    with pytest.raises(Conflict) as raised:
        close_account(world.owner.id, world.password, clock.now)
    assert world.booking.reference in raised.value.message


def test_close_account_anonymises_bookings_and_ends_waiting_lists(world, clock):
    close_account(world.owner.id, world.password, _after_event(world, clock, days=1))
    db.session.expire_all()
    user = db.session.get(User, world.owner.id)
    assert not user.is_active_account
    assert user.email != "ann@council.example"
    assert _attendee(world).name == ANONYMISED_NAME
    assert db.session.get(WaitlistEntry, world.entry.id).status == "withdrawn"


def test_closed_account_tokens_and_feed_stop_working(client, world, clock):
    close_account(world.owner.id, world.password, _after_event(world, clock, days=1))
    assert client.get("/api/v1/me/bookings", headers=bearer(world.owner_token)).status_code == 401
    assert client.get(f"/calendar/{world.feed_token}.ics").status_code == 404


def test_closed_account_sessions_end(client, world, clock):
    login_as(client, world.owner)
    close_account(world.owner.id, world.password, _after_event(world, clock, days=1))
    assert client.get("/account").status_code == 302


def test_closed_account_cannot_sign_in_again(client, world, clock):
    close_account(world.owner.id, world.password, _after_event(world, clock, days=1))
    response = client.post("/sign-in", data={"email": "ann@council.example", "password": world.password})
    assert response.status_code == 200  # the form again, with an error
    assert client.get("/account").status_code == 302


def test_close_page_closes_and_signs_out(client, world, clock):
    _after_event(world, clock, days=1)
    login_as(client, world.owner)
    response = client.post("/account/close", data={"password": world.password, "confirm": "y"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User).where(User.is_active_account.is_(False))) == 1


def test_close_page_shows_the_refusal_on_the_password_field(client, world):
    login_as(client, world.owner)
    response = client.post("/account/close", data={"password": world.password, "confirm": "y"})
    assert response.status_code == 200
    assert b"govuk-error-summary" in response.data
    assert world.booking.reference.encode() in response.data


def test_close_page_needs_the_confirmation_box(client, world, clock):
    _after_event(world, clock, days=1)
    login_as(client, world.owner)
    response = client.post("/account/close", data={"password": world.password})
    assert b"Confirm that you want to close your account" in response.data
    db.session.expire_all()
    assert db.session.get(User, world.owner.id).is_active_account
