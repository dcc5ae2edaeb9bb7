"""Billing details on the review page: one too long is refused with the form's error summary, never cut short."""

from __future__ import annotations

from sqlalchemy import select

from bookings.booking.models import Booking, BookingStatus
from bookings.extensions import db
from tests.conftest import login_as
from tests.http.booking.test_journey import attendee_form, reference_from, start
from tests.support.factories import make_event, make_user

BILLING = {"payment": "invoice", "billing_contact": "Finance", "billing_address": "Town Hall"}


def test_a_purchase_order_number_too_long_is_refused_not_cut_short(client, clock):
    event = make_event(ticket_types=[{"name": "Public sector", "price_pence": 9500}])
    login_as(client, make_user())
    reference = reference_from(start(client, event, places=1))
    client.post(f"/bookings/{reference}/attendees", data=attendee_form(1))

    response = client.post(f"/bookings/{reference}/review", data={**BILLING, "purchase_order": "P" * 101})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and 'href="#purchase_order"' in html and "100 characters or fewer" in html
    db.session.rollback()
    booking = db.session.scalars(select(Booking)).one()
    assert (booking.status, booking.purchase_order) == (BookingStatus.HELD.value, "")

    response = client.post(f"/bookings/{reference}/review", data={**BILLING, "purchase_order": "P" * 100})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalars(select(Booking)).one().purchase_order == "P" * 100
