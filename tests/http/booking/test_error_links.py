"""Every link in the booking pages' error summaries leads somewhere, also for errors that belong to no field."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bookings.booking import services
from bookings.booking.inputs import AttendeeInput, validate_attendee
from bookings.booking.models import Booking
from bookings.booking.services.holding import apply_attendee_details
from bookings.core.errors import Conflict, ValidationError
from bookings.extensions import db
from tests.conftest import login_as
from tests.http.booking.test_journey import attendee_form, reference_from, start
from tests.support.factories import make_event, make_user
from tests.support.markup import error_summary_targets, error_without_field, missing_error_targets


def _held(client, places: int = 2) -> str:
    login_as(client, make_user())
    return reference_from(start(client, make_event(capacity=5), places=places))


def _booking(reference: str) -> Booking:
    return db.session.scalars(select(Booking).where(Booking.reference == reference)).one()


def test_a_free_booking_refused_at_confirmation_shows_the_error_by_the_button(client, clock, monkeypatch):
    reference = _held(client)
    client.post(f"/bookings/{reference}/attendees", data=attendee_form(2))

    def refuse(**_):  # the booking changed while the page was open
        raise Conflict("This booking can no longer be confirmed.", code="not_held")

    monkeypatch.setattr(services, "confirm_booking", refuse)
    html = client.post(f"/bookings/{reference}/review", data={"payment": "free"}).text

    assert error_summary_targets(html) == ["payment"] and missing_error_targets(html) == []
    assert error_without_field(html, "payment") == "This booking can no longer be confirmed."
    form = html.index(f'action="/bookings/{reference}/review"')
    assert form < html.index('id="payment"') < html.index("Confirm booking", form)


def test_a_payment_method_sent_for_a_free_booking_is_refused_beside_the_button(client, clock):
    reference = _held(client)
    client.post(f"/bookings/{reference}/attendees", data=attendee_form(2))

    response = client.post(f"/bookings/{reference}/review", data={"payment": "invoice"})

    assert response.status_code == 422 and missing_error_targets(response.text) == []
    assert error_without_field(response.text, "payment") == "This booking is free: no payment is needed."


def test_places_that_changed_while_the_attendee_page_was_open_are_reported_on_it(client, clock, monkeypatch):
    reference = _held(client)

    def fewer_places(**_):  # a place was cancelled meanwhile: the details no longer match the places
        apply_attendee_details(_booking(reference), [AttendeeInput(name="Ada", email="ada@council.example")])

    monkeypatch.setattr(services, "save_attendee_details", fewer_places)
    response = client.post(f"/bookings/{reference}/attendees", data=attendee_form(2))

    assert response.status_code == 422 and missing_error_targets(response.text) == []
    assert error_without_field(response.text, "attendees") == "Give details for each of the 2 places"


@pytest.mark.parametrize("place", [0, 1])
def test_answers_to_questions_the_event_does_not_ask_are_reported_on_that_place(client, clock, monkeypatch, place):
    reference = _held(client)
    stray = AttendeeInput(name="Ada", email="ada@council.example", answers={"999": "yes"})
    errors = validate_attendee(stray, [], f"attendees-{place}")
    assert list(errors) == [f"attendees-{place}-answers"]

    def refuse(**_):
        raise ValidationError("Check the attendee details.", errors=errors)

    monkeypatch.setattr(services, "save_attendee_details", refuse)
    html = client.post(f"/bookings/{reference}/attendees", data=attendee_form(2)).text

    assert missing_error_targets(html) == []
    message = error_without_field(html, f"attendees-{place}-answers")
    assert message == "Answers were given to questions this event does not ask"
    # Inside the block for that place, not another one.
    fieldset_start = html.index(f'aria-describedby="attendees-{place}-rate"')
    assert fieldset_start < html.index(f'id="attendees-{place}-answers"') < html.index("</fieldset>", fieldset_start)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"scope": ""}, "scope", "Choose whether to cancel the whole booking or some places"),
        ({"scope": "some"}, "attendee_ids", "Choose the places to cancel"),
    ],
)
def test_cancelling_a_single_place_refused_shows_a_govuk_error_message(client, clock, data, field, message):
    reference = _held(client, places=1)
    client.post(f"/bookings/{reference}/attendees", data=attendee_form(1))
    client.post(f"/bookings/{reference}/review", data={"payment": "free"})

    # The page for one place sends scope=all itself; a request without it has no radios to point at.
    response = client.post(f"/bookings/{reference}/cancel", data=data)

    assert response.status_code == 422 and missing_error_targets(response.text) == []
    assert error_without_field(response.text, field) == message
