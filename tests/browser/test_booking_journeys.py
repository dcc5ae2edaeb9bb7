"""Whole booking journeys in Chromium, every page scanned by axe-core and checked at 320 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bookings.booking.models import Booking
from bookings.extensions import db
from tests.browser.steps import (
    audit,
    book_places,
    continue_to_review,
    expect_confirmed,
    fill_attendee,
    find_event,
    sign_up,
)
from tests.support.factories import make_event

pytestmark = pytest.mark.browser


def test_sign_up_find_a_course_book_two_places_and_pay_by_invoice(app, live_server, page):
    base = live_server.url
    make_event(title="Safeguarding adults: level 2", capacity=20)  # another course, so the search has work to do
    make_event(
        title="Data protection for managers",
        capacity=20,
        allow_invoice=True,
        venue_name="Exampleton Civic Centre",
        venue_address="1 High Street, Exampleton, EX1 1AA",
        ticket_types=[
            {"name": "Public sector", "price_pence": 9500},
            {"name": "Private sector", "price_pence": 15000},
        ],
    )
    page.goto(f"{base}/")
    audit(page, "home")

    sign_up(page, base, name="Priya Shah", email="priya.shah@council.example")
    page.get_by_role("link", name="Sign in").last.click()
    audit(page, "sign-in")
    page.get_by_label("Email address").fill("priya.shah@council.example")
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    audit(page, "account")

    find_event(page, base, "Data protection for managers", check=True)
    reference = book_places(page, 2, rate="Public sector: £95.00")
    audit(page, "attendees")

    # The booker is offered as the first attendee; the second place is left without a name.
    expect(page.locator("#attendees-0-name")).to_have_value("Priya Shah")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    audit(page, "attendees-errors")
    summary.get_by_role("link").first.click()
    expect(page.locator("#attendees-1-name")).to_be_focused()

    fill_attendee(page, 1, name="Tom Okafor", email="tom.okafor@council.example", organisation="Exampleton Council")
    continue_to_review(page)
    audit(page, "review")
    expect(page.get_by_text("Tom Okafor", exact=True)).to_be_visible()

    page.get_by_label("Pay by invoice").check()
    page.get_by_label("Purchase-order number (optional)").fill("PO-4471")
    page.get_by_label("Name of the person who pays invoices").fill("Accounts Payable")
    page.get_by_label("Billing address").fill("Town Hall\nExampleton\nEX1 1AA")
    page.get_by_role("button", name="Confirm").click()
    expect_confirmed(page, reference)
    audit(page, "confirmation-invoice")

    booking = db.session.scalars(select(Booking).where(Booking.reference == reference)).one()
    assert (booking.status, booking.payment_status, booking.purchase_order) == ("confirmed", "invoiced", "PO-4471")
    assert sorted(a.name for a in booking.active_attendees) == ["Priya Shah", "Tom Okafor"]
