"""A hold warns before it ends and gives more time on request, keeping what was typed (WCAG 2.2.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bookings.booking import services
from bookings.booking.models import Booking
from bookings.core.clock import utcnow
from bookings.extensions import db
from tests.browser.steps import audit, sign_in
from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.browser


def test_a_hold_about_to_end_warns_and_more_time_keeps_what_was_typed(app, live_server, page):
    base = live_server.url
    user = make_user(name="Ada Lovelace")
    event = make_event(capacity=3, title="Records management")
    now = utcnow()
    # A 30-minute hold with 90 seconds left: inside the warning's two minutes.
    hold = services.hold_places(
        event_id=event.id, booker_id=user.id, ticket_type_id=None, places=1, now=now - timedelta(minutes=28.5)
    )
    reference = hold.reference
    db.session.commit()

    sign_in(page, base, user.email)
    page.goto(f"{base}/bookings/{reference}/attendees")
    expect(page.locator("[data-hold-warning]")).to_have_text(
        "Your places will be released in 2 minutes. Use Give me more time to keep them longer."
    )
    page.get_by_label("Full name").first.fill("Ada King")
    page.get_by_role("button", name="Give me more time").click()

    expect(page.get_by_text("We will hold your places until")).to_be_visible()
    expect(page.get_by_label("Full name").first).to_have_value("Ada King")  # nothing typed is lost
    audit(page, "more-time")
    db.session.rollback()  # see what the server committed
    booking = db.session.scalars(select(Booking).where(Booking.reference == reference)).one()
    assert booking.hold_extensions == 1 and booking.hold_expires_at > utcnow() + timedelta(minutes=29)
