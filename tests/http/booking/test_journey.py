"""The booking journey through the web pages: choose, attendees, review, confirm; My bookings; cancel; substitute."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bookings.booking.models import Attendee, Booking, BookingStatus
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from tests.conftest import login_as
from tests.support.factories import make_admin, make_event, make_user


def start(client, event, places=2, ticket_type_id=None):
    data = {"places": str(places)}
    if ticket_type_id is not None:
        data["ticket_type_id"] = str(ticket_type_id)
    return client.post(f"/events/{event.slug}/book", data=data)


def reference_from(response) -> str:
    return re.search(r"/bookings/(BK-[A-Z0-9]+)/", response.headers["Location"]).group(1)


def attendee_form(n: int) -> dict[str, str]:
    data = {}
    for i in range(n):
        data[f"attendees-{i}-name"] = f"Delegate {i}"
        data[f"attendees-{i}-email"] = f"delegate{i}@council.example"
        data[f"attendees-{i}-organisation"] = "Exampleton Council"
    return data


def booked_through_the_pages(client, event, places: int) -> str:
    """A new user books `places` free places through the pages: the booking's reference."""
    login_as(client, make_user())
    reference = reference_from(start(client, event, places=places))
    client.post(f"/bookings/{reference}/attendees", data=attendee_form(places))
    client.post(f"/bookings/{reference}/review", data={"payment": "free"})
    return reference


def test_anonymous_visitor_is_sent_to_sign_in(client, clock):
    event = make_event()
    response = client.post(f"/events/{event.slug}/book", data={"places": "1"})
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_free_booking_journey_end_to_end(client, clock):
    event = make_event(capacity=5)
    user = make_user()
    login_as(client, user)
    assert client.get(f"/events/{event.slug}/book").status_code == 200

    response = start(client, event, places=2)
    assert response.status_code == 302
    reference = reference_from(response)

    page = client.get(f"/bookings/{reference}/attendees")
    html = page.get_data(as_text=True)
    assert "Place 1 of 2" in html and "We are holding 2 places" in html
    assert user.email in html  # the booker is offered as the first attendee

    response = client.post(f"/bookings/{reference}/attendees", data=attendee_form(2))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/bookings/{reference}/review")

    review = client.get(f"/bookings/{reference}/review").get_data(as_text=True)
    assert "Delegate 0" in review and "Confirm booking" in review

    response = client.post(f"/bookings/{reference}/review", data={"payment": "free"})
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Booking confirmed" in detail and reference in detail

    booking = db.session.scalars(select(Booking).where(Booking.reference == reference)).one()
    assert booking.status == BookingStatus.CONFIRMED.value
    kinds = sorted(m.kind for m in db.session.scalars(select(OutboxMessage)))
    assert kinds == ["attendee_confirmed", "attendee_confirmed", "booking_confirmed"]

    mine = client.get("/my-bookings").get_data(as_text=True)
    assert reference in mine and event.title in mine


def test_invoice_journey_needs_billing_details(client, clock):
    event = make_event(ticket_types=[{"name": "Public sector", "price_pence": 9500}])
    login_as(client, make_user())
    reference = reference_from(start(client, event, places=1))
    client.post(f"/bookings/{reference}/attendees", data=attendee_form(1))
    response = client.post(f"/bookings/{reference}/review", data={"payment": "invoice", "purchase_order": "PO-1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and 'href="#billing_address"' in html
    assert db.session.scalars(select(Booking)).one().status == BookingStatus.HELD.value
    response = client.post(
        f"/bookings/{reference}/review",
        data={
            "payment": "invoice",
            "purchase_order": "PO-1",
            "billing_contact": "Finance",
            "billing_address": "Town Hall",
        },
    )
    assert response.status_code == 302
    booking = db.session.scalars(select(Booking)).one()
    assert (booking.status, booking.payment_status, booking.purchase_order) == ("confirmed", "invoiced", "PO-1")


def test_bad_places_input_shows_error_summary_and_holds_nothing(client, clock):
    event = make_event(capacity=3, max_places_per_booking=2)
    login_as(client, make_user())
    for value, message in (("abc", "whole number"), ("0", "1 or more"), ("3", "up to 2"), ("", "whole number")):
        response = client.post(f"/events/{event.slug}/book", data={"places": value})
        assert response.status_code == 422, value
        html = response.get_data(as_text=True)
        assert "There is a problem" in html and message in html and 'href="#places"' in html
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_sold_out_is_a_clear_message_not_an_error_page(client, clock):
    event = make_event(capacity=1)
    login_as(client, make_user())
    response = start(client, event, places=2)
    assert response.status_code == 422
    assert "Only 1 place left" in response.get_data(as_text=True)


def test_bad_attendee_details_re_render_with_errors_and_save_nothing(client, clock):
    event = make_event(capacity=3)
    login_as(client, make_user())
    reference = reference_from(start(client, event, places=2))
    data = attendee_form(2)
    data["attendees-1-email"] = "nope"
    data["attendees-0-name"] = ""
    response = client.post(f"/bookings/{reference}/attendees", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#attendees-0-name"' in html and 'href="#attendees-1-email"' in html
    assert 'value="Delegate 1"' in html  # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(Attendee).where(Attendee.name != "")) == 0


def test_another_users_booking_pages_are_404(client, clock):
    event = make_event()
    owner = make_user()
    login_as(client, owner)
    reference = reference_from(start(client, event, places=1))
    login_as(client, make_user())
    for path in ("", "/attendees", "/review", "/cancel"):
        assert client.get(f"/bookings/{reference}{path}").status_code == 404, path
    assert client.post(f"/bookings/{reference}/cancel", data={"scope": "all"}).status_code == 404
    assert db.session.scalars(select(Booking)).one().status == BookingStatus.HELD.value


def test_cancel_one_place_through_the_page(client, clock):
    event = make_event(capacity=3)
    reference = booked_through_the_pages(client, event, places=2)
    booking = db.session.scalars(select(Booking)).one()
    first = booking.attendees[0].id
    assert client.post(f"/bookings/{reference}/cancel", data={"scope": "some"}).status_code == 422
    response = client.post(f"/bookings/{reference}/cancel", data={"scope": "some", "attendee_ids": str(first)})
    assert response.status_code == 302
    db.session.expire_all()
    assert [a.status for a in db.session.scalars(select(Attendee).order_by(Attendee.id))] == ["cancelled", "active"]


def test_cancel_after_cut_off_is_refused_with_a_message(client, clock):
    event = make_event(starts_at=clock.now + timedelta(hours=30), cancellation_cutoff_hours=48)
    reference = booked_through_the_pages(client, event, places=1)
    detail = client.get(f"/bookings/{reference}").get_data(as_text=True)
    assert "deadline for cancelling has passed" in detail
    response = client.post(f"/bookings/{reference}/cancel", data={"scope": "all"})
    assert response.status_code == 422
    assert db.session.scalars(select(Booking)).one().status == BookingStatus.CONFIRMED.value


def test_substitute_attendee_through_the_page(client, clock):
    event = make_event(capacity=3)
    reference = booked_through_the_pages(client, event, places=1)
    attendee = db.session.scalars(select(Attendee)).one()
    path = f"/bookings/{reference}/attendees/{attendee.id}/substitute"
    bad = client.post(path, data={"name": "", "email": "x"})
    assert bad.status_code == 422 and 'href="#name"' in bad.get_data(as_text=True)
    assert client.post(path, data={"name": "Sam Other", "email": "sam@council.example"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).email == "sam@council.example"


def test_substitute_page_refuses_someone_already_checked_in(client, clock):
    from bookings.admin.services import check_in

    event = make_event(capacity=3)
    reference = booked_through_the_pages(client, event, places=1)
    attendee = db.session.scalars(select(Attendee)).one()
    check_in(attendee.id, make_admin(), clock.now)
    path = f"/bookings/{reference}/attendees/{attendee.id}/substitute"
    response = client.post(path, data={"name": "Sam Other", "email": "sam@council.example"})
    assert response.status_code == 422
    assert "Delegate 0 has already been checked in" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).email == "delegate0@council.example"


def test_expired_hold_sends_the_booker_back_to_the_event(client, clock):
    event = make_event(capacity=1)
    login_as(client, make_user())
    reference = reference_from(start(client, event, places=1))
    clock.advance(minutes=31)
    other = make_user()
    from bookings.booking import services

    services.hold_places(event_id=event.id, booker_id=other.id, ticket_type_id=None, places=1, now=clock.now)
    response = client.post(f"/bookings/{reference}/attendees", data=attendee_form(1))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.slug}")


def test_booking_form_needs_csrf_token(csrf_app, clock):
    client = csrf_app.test_client()
    event = make_event()
    login_as(client, make_user())
    response = client.post(f"/events/{event.slug}/book", data={"places": "1"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
