"""'Give me more time' on a hold (WCAG 2.2.1 Timing adjustable): at least ten times, nothing typed is lost."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bookings.booking import services
from bookings.booking.models import MAX_HOLD_EXTENSIONS, Booking, PaymentMethod
from bookings.core.audit import AuditRecord
from bookings.core.errors import Conflict
from bookings.extensions import db
from tests.conftest import login_as
from tests.http.booking.test_hold_timer import _fill_in_attendees, _hold
from tests.support.factories import make_event, make_user

HOLD = timedelta(minutes=30)  # the test configuration's HOLD_MINUTES


def booking_of(reference: str) -> Booking:
    db.session.commit()  # end the test's read snapshot: the request committed in its own transaction
    return db.session.scalars(select(Booking).where(Booking.reference == reference)).one()


def test_the_button_submits_the_pages_own_form_and_works_without_javascript(client, clock):
    reference = _hold(client, make_event(capacity=5), places=1)

    html = client.get(f"/bookings/{reference}/attendees").text

    button = re.search(r"<button[^>]*\bname=\"more_time\"[^>]*>\s*Give me more time\s*</button>", html)
    assert button and 'form="booking-form"' in button.group(0) and 'type="submit"' in button.group(0)
    assert re.search(r'<form method="post" action="/bookings/[^"]+/attendees" id="booking-form"', html)


def test_more_time_on_the_attendees_page_keeps_what_was_typed_and_saves_nothing(client, clock):
    reference = _hold(client, make_event(capacity=5), places=1)
    clock.advance(minutes=25)  # five minutes left

    page = client.post(
        f"/bookings/{reference}/attendees",
        data={"more_time": "yes", "attendees-0-name": "Grace Hopper", "attendees-0-email": "not yet an email"},
    )

    assert page.status_code == 200
    assert 'value="Grace Hopper"' in page.text and 'value="not yet an email"' in page.text
    assert "There is a problem" not in page.text  # half-typed details are not judged
    booking = booking_of(reference)
    assert booking.hold_expires_at == clock() + HOLD
    assert booking.hold_extensions == 1
    assert not booking.is_details_complete and booking.active_attendees[0].name != "Grace Hopper"
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "booking.hold_extended")).one()
    assert record.subject_id == reference


def test_more_time_on_the_review_page_keeps_the_billing_details(client, clock):
    event = make_event(capacity=5, ticket_types=[{"name": "Standard", "price_pence": 5000}], allow_invoice=True)
    reference = _hold(client, event, places=1)
    _fill_in_attendees(client, reference, 1)
    clock.advance(minutes=29)

    page = client.post(
        f"/bookings/{reference}/review",
        data={"more_time": "yes", "payment": "invoice", "purchase_order": "PO-1234"},
    )

    assert page.status_code == 200 and 'value="PO-1234"' in page.text
    assert booking_of(reference).hold_expires_at == clock() + HOLD
    assert booking_of(reference).is_held  # not confirmed by the button


def test_ten_times_and_no_more(client, clock):
    reference = _hold(client, make_event(capacity=5), places=1)
    for _ in range(MAX_HOLD_EXTENSIONS):
        clock.advance(minutes=20)
        assert client.post(f"/bookings/{reference}/attendees", data={"more_time": "yes"}).status_code == 200
    ends = booking_of(reference).hold_expires_at
    page = client.get(f"/bookings/{reference}/attendees").text
    assert "Give me more time" not in page

    clock.advance(minutes=1)
    refused = client.post(f"/bookings/{reference}/attendees", data={"more_time": "yes"}, follow_redirects=True)

    assert "as often as we can give it" in refused.text
    assert booking_of(reference).hold_expires_at == ends
    assert booking_of(reference).hold_extensions == MAX_HOLD_EXTENSIONS


def test_a_hold_that_ran_out_gets_more_time_only_if_its_places_still_fit(client, clock):
    event = make_event(capacity=1)
    reference = _hold(client, event, places=1)
    clock.advance(minutes=31)  # run out, not yet swept: the place is free again
    assert client.post(f"/bookings/{reference}/attendees", data={"more_time": "yes"}).status_code == 200
    assert booking_of(reference).hold_expires_at == clock() + HOLD  # it still fitted

    clock.advance(minutes=31)
    other = make_user()
    services.hold_places(event_id=event.id, booker_id=other.id, ticket_type_id=None, places=1, now=clock())
    late = client.post(f"/bookings/{reference}/attendees", data={"more_time": "yes"})

    assert late.status_code == 302 and late.headers["Location"].endswith(f"/events/{event.slug}")
    assert booking_of(reference).hold_expires_at < clock()  # the place is the other person's


def test_only_the_booker_may_have_more_time(client, clock):
    reference = _hold(client, make_event(capacity=5), places=1)
    login_as(client, make_user())
    assert client.post(f"/bookings/{reference}/attendees", data={"more_time": "yes"}).status_code == 404


def test_a_confirmed_booking_has_no_hold_to_extend(client, clock):
    reference = _hold(client, make_event(capacity=5), places=1)
    _fill_in_attendees(client, reference, 1)
    booking = booking_of(reference)
    services.confirm_booking(reference=reference, actor=booking.booker, method=PaymentMethod.FREE, now=clock())
    with pytest.raises(Conflict):
        services.extend_hold(reference=reference, actor=booking_of(reference).booker, now=clock())
