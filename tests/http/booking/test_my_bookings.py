"""My bookings lists bookings, not every hold started on the way to one."""

from __future__ import annotations

from sqlalchemy import select

from bookings.booking.models import Booking
from bookings.extensions import db
from tests.conftest import login_as
from tests.http.booking.test_journey import attendee_form, reference_from, start
from tests.support.factories import make_event, make_user


def test_holds_given_up_or_replaced_are_not_listed_but_a_cancelled_booking_is(client, clock):
    login_as(client, make_user())
    given_up = reference_from(start(client, make_event(title="Given up"), places=1))
    client.post(f"/bookings/{given_up}/cancel", data={"scope": "all"})
    course = make_event(title="Data protection basics")
    replaced = reference_from(start(client, course, places=1))
    kept = reference_from(start(client, course, places=2))  # starting again replaces the first hold
    client.post(f"/bookings/{kept}/attendees", data=attendee_form(2))
    client.post(f"/bookings/{kept}/review", data={"payment": "free"})
    client.post(f"/bookings/{kept}/cancel", data={"scope": "all"})
    db.session.rollback()
    statuses = dict(db.session.execute(select(Booking.reference, Booking.status)).all())
    assert statuses == {given_up: "cancelled", replaced: "cancelled", kept: "cancelled"}

    page = client.get("/my-bookings").get_data(as_text=True)

    assert kept in page
    assert given_up not in page and replaced not in page
