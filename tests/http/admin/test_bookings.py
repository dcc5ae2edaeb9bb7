"""Booking pages: search, detail, cancel and refund, mark an invoice paid, resend, book on someone's behalf."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bookings.accounts.models import User
from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, BookingStatus, PaymentStatus
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from tests.conftest import login_as
from tests.integration.admin.support import audit_rows, book, count, paid_event
from tests.support.factories import make_admin, make_event
from tests.support.markup import error_without_field, missing_error_targets


def _fresh(booking: Booking) -> Booking:
    db.session.rollback()
    return db.session.get(Booking, booking.id)


def test_search_finds_a_booking_by_attendee_name(client, clock):
    event = make_event()
    wanted = book(event, clock.now, people=[AttendeeInput(name="Grace Hopper", email="grace@council.example")])
    other = book(event, clock.now)
    login_as(client, make_admin())

    page = client.get("/admin/bookings?q=hopper").get_data(as_text=True)

    assert wanted.reference in page and other.reference not in page


def test_search_filters_by_payment_status(client, clock):
    invoiced = book(paid_event(), clock.now)
    free = book(make_event(), clock.now)
    login_as(client, make_admin())

    page = client.get("/admin/bookings?payment_status=invoiced").get_data(as_text=True)

    assert invoiced.reference in page and free.reference not in page


def test_bookings_list_paginates(client, clock):
    event = make_event(capacity=40)
    for _ in range(26):
        book(event, clock.now)
    login_as(client, make_admin())

    page = client.get("/admin/bookings").get_data(as_text=True)

    assert "26 bookings" in page and "page=2" in page


def test_detail_shows_attendees_and_payment(client, clock):
    booking = book(paid_event(), clock.now, people=[AttendeeInput(name="Ada Lovelace", email="ada@council.example")])
    login_as(client, make_admin())

    page = client.get(f"/admin/bookings/{booking.reference}").get_data(as_text=True)

    assert "Ada Lovelace" in page and "£120.00" in page and "Mark the invoice paid" in page


def test_unknown_booking_is_not_found(client):
    login_as(client, make_admin())

    assert client.get("/admin/bookings/BK-NOSUCH").status_code == 404


def test_admin_cancels_chosen_places_and_the_booker_is_told(client, clock):
    booking = book(
        make_event(), clock.now, people=[AttendeeInput(name=f"P{i}", email=f"p{i}@council.example") for i in range(2)]
    )
    login_as(client, make_admin())

    response = client.post(
        f"/admin/bookings/{booking.reference}/cancel",
        data={"attendee_ids": [str(booking.attendees[0].id)], "reason": "Ill"},
    )

    assert response.status_code == 302
    booking = _fresh(booking)
    assert [a.status for a in booking.attendees] == ["cancelled", "active"]
    assert count(OutboxMessage, OutboxMessage.kind == "booking_cancelled") == 1


def test_cancelling_without_choosing_places_is_refused(client, clock):
    booking = book(make_event(), clock.now)
    login_as(client, make_admin())

    response = client.post(f"/admin/bookings/{booking.reference}/cancel", data={})

    assert response.status_code == 422
    assert 'href="#attendee_ids"' in response.get_data(as_text=True)
    assert _fresh(booking).status == BookingStatus.CONFIRMED.value


def test_cancelling_without_choosing_places_follows_the_govuk_checkbox_error_pattern(client, clock):
    booking = book(
        make_event(), clock.now, people=[AttendeeInput(name=f"P{i}", email=f"p{i}@council.example") for i in range(2)]
    )
    login_as(client, make_admin())

    html = client.post(f"/admin/bookings/{booking.reference}/cancel", data={}).get_data(as_text=True)

    # The summary links to the first box; the message comes first in the group, and the group is a fieldset.
    assert missing_error_targets(html) == []
    assert f'type="checkbox" id="attendee_ids" name="attendee_ids" value="{booking.attendees[0].id}"' in html
    assert re.search(
        r'<div class="govuk-form-group govuk-form-group--error">\s*'
        r'<fieldset class="govuk-fieldset" aria-describedby="attendee_ids-error">\s*'
        r'<legend class="govuk-fieldset__legend govuk-visually-hidden">Places to cancel</legend>\s*'
        r'<p id="attendee_ids-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> '
        r"Choose the places to cancel</p>\s*<table",
        html,
    )


def test_cancelling_places_of_a_cancelled_booking_shows_the_refusal_where_the_summary_links(client, clock):
    booking = book(make_event(), clock.now)
    place = booking.attendees[0].id
    admin = make_admin()
    booking_services.cancel_booking(reference=booking.reference, actor=admin, now=clock.now)
    login_as(client, admin)

    response = client.post(f"/admin/bookings/{booking.reference}/cancel", data={"attendee_ids": [str(place)]})

    assert response.status_code == 422 and missing_error_targets(response.text) == []
    assert error_without_field(response.text, "attendee_ids") == "This booking is already cancelled."


def test_cancelling_without_a_csrf_token_changes_nothing(csrf_app, clock):
    booking = book(make_event(), clock.now)
    client = csrf_app.test_client()
    login_as(client, make_admin())

    response = client.post(
        f"/admin/bookings/{booking.reference}/cancel", data={"attendee_ids": [str(booking.attendees[0].id)]}
    )

    assert response.status_code == 400
    assert _fresh(booking).status == BookingStatus.CONFIRMED.value


def test_mark_invoice_paid(client, clock):
    booking = book(paid_event(), clock.now)
    login_as(client, make_admin())

    client.post(f"/admin/bookings/{booking.reference}/mark-paid")

    assert _fresh(booking).payment_status == PaymentStatus.PAID.value
    assert len(audit_rows("payment.invoice_paid")) == 1


def test_resend_confirmation_writes_the_email_again(client, clock):
    booking = book(make_event(), clock.now)
    login_as(client, make_admin())
    before = count(OutboxMessage, OutboxMessage.kind == "booking_confirmed")

    client.post(f"/admin/bookings/{booking.reference}/resend")

    assert count(OutboxMessage, OutboxMessage.kind == "booking_confirmed") == before + 1
    assert len(audit_rows("booking.confirmation_resent")) == 1


def _behalf(event, **extra) -> dict:
    return {
        "booker_email": "manager@council.example",
        "booker_name": "Mo Manager",
        "ticket_type_id": str(event.ticket_types[0].id),
        "method": "free",
        "rows": "3",
        "attendees-0-name": "Dee Legate",
        "attendees-0-email": "dee@council.example",
        **extra,
    }


def test_book_on_behalf_confirms_for_a_new_booker(client):
    event = make_event()
    login_as(client, make_admin())

    response = client.post(f"/admin/events/{event.id}/book", data=_behalf(event))

    booking = db.session.scalar(select(Booking))
    assert response.headers["Location"].endswith(f"/admin/bookings/{booking.reference}")
    assert booking.is_confirmed and booking.booker.email == "manager@council.example"
    assert [a.name for a in booking.active_attendees] == ["Dee Legate"]


def test_book_on_behalf_of_a_full_event_asks_for_the_override(client, clock):
    event = make_event(capacity=1)
    book(event, clock.now)
    login_as(client, make_admin())

    response = client.post(f"/admin/events/{event.id}/book", data=_behalf(event))

    assert response.status_code == 422
    assert 'href="#override"' in response.get_data(as_text=True)
    assert count(Booking) == 1


def test_book_on_behalf_with_override_is_audited_with_the_reason(client, clock):
    event = make_event(capacity=1)
    book(event, clock.now)
    admin = make_admin()
    login_as(client, admin)

    client.post(f"/admin/events/{event.id}/book", data=_behalf(event, override="yes", reason="Board member"))

    booking = db.session.scalar(select(Booking).where(Booking.is_over_capacity.is_(True)))
    [row] = audit_rows("booking.over_capacity")
    assert (row.subject_id, row.actor_id, row.details["reason"]) == (booking.reference, admin.id, "Board member")


def test_book_on_behalf_with_bad_input_writes_nothing(client):
    event = make_event()
    login_as(client, make_admin())

    response = client.post(
        f"/admin/events/{event.id}/book", data=_behalf(event, booker_email="nope", **{"attendees-0-email": ""})
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#booker_email"' in page and 'href="#attendees-0-email"' in page
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
    assert count(User) == 1  # the admin: no booker account was made
