"""The cancel page cancels nothing on a guess: whole booking or some places is chosen, and agrees with the ticks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bookings.booking.models import Attendee, Booking, BookingStatus
from bookings.extensions import db
from tests.conftest import login_as
from tests.http.booking.test_journey import attendee_form, reference_from, start
from tests.support.factories import make_event, make_user


@pytest.fixture
def two_places(client, clock) -> tuple[str, int]:
    login_as(client, make_user())
    reference = reference_from(start(client, make_event(capacity=3), places=2))
    client.post(f"/bookings/{reference}/attendees", data=attendee_form(2))
    client.post(f"/bookings/{reference}/review", data={"payment": "free"})
    return reference, db.session.scalars(select(Attendee).order_by(Attendee.id)).first().id


def _untouched() -> bool:
    db.session.expire_all()
    booking = db.session.scalars(select(Booking)).one()
    return booking.status == BookingStatus.CONFIRMED.value and len(booking.active_attendees) == 2


def test_the_page_chooses_nothing_for_the_booker(client, two_places):
    reference, _ = two_places
    page = client.get(f"/bookings/{reference}/cancel").get_data(as_text=True)
    assert 'value="all">' in page and 'value="some">' in page and " checked" not in page


@pytest.mark.parametrize("scope", [None, "", "everything"])
def test_no_choice_or_an_unknown_one_cancels_nothing(client, two_places, scope):
    reference, first = two_places
    data = {"attendee_ids": str(first)} if scope is None else {"scope": scope}
    response = client.post(f"/bookings/{reference}/cancel", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#scope"' in html and "Choose whether to cancel the whole booking or some places" in html
    assert _untouched()


def test_the_whole_booking_with_places_ticked_cancels_nothing_and_keeps_the_ticks(client, two_places):
    reference, first = two_places
    response = client.post(f"/bookings/{reference}/cancel", data={"scope": "all", "attendee_ids": str(first)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "choose Some places to cancel only those" in html
    assert f'value="{first}" checked' in html and 'value="all" checked' in html
    assert _untouched()
    assert client.post(f"/bookings/{reference}/cancel", data={"scope": "all"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(Booking)).one().status == BookingStatus.CANCELLED.value
