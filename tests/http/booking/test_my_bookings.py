"""My bookings lists bookings, not every hold started on the way to one."""

from __future__ import annotations

import re

from sqlalchemy import select

from bookings.booking.models import Booking
from bookings.extensions import db
from tests.conftest import login_as
from tests.http.booking.test_journey import attendee_form, reference_from, start
from tests.support.factories import make_event, make_user
from tests.support.markup import unlabelled_table_wrappers


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


def test_the_bookings_table_has_a_caption_as_well_as_a_labelled_region(client, clock):
    login_as(client, make_user())
    reference = reference_from(start(client, make_event(title="Data protection basics"), places=1))
    client.post(f"/bookings/{reference}/attendees", data=attendee_form(1))
    client.post(f"/bookings/{reference}/review", data={"payment": "free"})

    page = client.get("/my-bookings").get_data(as_text=True)

    assert unlabelled_table_wrappers(page) == []
    # The region's label names the scrolling box; the caption names the table itself for screen readers.
    assert re.search(
        r'aria-label="Upcoming bookings" tabindex="0">\s*<table class="govuk-table">\s*'
        r'<caption class="govuk-table__caption govuk-visually-hidden">Upcoming bookings</caption>',
        page,
    )
