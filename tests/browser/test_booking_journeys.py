"""Whole booking journeys in Chromium, every page scanned by axe-core and checked at 320 px."""

from __future__ import annotations

import re
from pathlib import Path

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
    sign_in,
    sign_up,
)
from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.browser


def booking_by_reference(reference: str) -> Booking:
    """The booking as the live server left it (a new transaction: SQLite's WAL keeps an open one on its snapshot)."""
    db.session.rollback()
    return db.session.scalars(select(Booking).where(Booking.reference == reference)).one()


@pytest.fixture
def card_page(browser):
    """A page for the card journey, with the app's Content-Security-Policy in force.

    form-action allows the origin of STRIPE_API_BASE (the fake Stripe's hosted
    page here), so the redirect from the review form to checkout is allowed.
    """
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London", accept_downloads=True)
    yield context.new_page()
    context.close()


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
    # The hold's countdown (app.js, which shows it; the server sends it hidden): minutes and seconds
    # for a 30-minute hold, words for a long one.
    expect(page.locator("[data-timer]")).to_be_visible()
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"^(29|30):[0-5]\d$"))
    said = page.evaluate(
        "async () => { const {timeLeft} = await import('/static/js/app.js');"
        " return [59, 3599, 3600, 12060, 86400 * 2 + 3600 * 4 + 59].map(timeLeft); }"
    )
    assert said == ["0:59", "59:59", "1 hour 0 minutes", "3 hours 21 minutes", "2 days 4 hours"]

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
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("link", name=re.compile("^Data protection for managers"))).to_be_visible()
    audit(page, "my-bookings")
    page.get_by_role("link", name=re.compile("^Data protection for managers")).click()
    page.get_by_role("link", name="Payment details, invoices and receipts").click()
    page.get_by_role("link", name=re.compile("^view")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice")
    audit(page, "invoice")

    booking = booking_by_reference(reference)
    assert (booking.status, booking.payment_status, booking.purchase_order) == ("confirmed", "invoiced", "PO-4471")
    assert sorted(a.name for a in booking.active_attendees) == ["Priya Shah", "Tom Okafor"]


def test_pay_by_card_see_the_confirmation_download_the_ics_and_cancel_a_place(app, live_server, stripe, card_page):
    base, page = live_server.url, card_page
    booker = make_user(name="Sam Green", email="sam.green@nhs.example")
    event = make_event(
        title="Leading change in the NHS",
        capacity=12,
        venue_name="Exampleton General Hospital",
        venue_address="Hospital Road, Exampleton",
        ticket_types=[{"name": "Public sector", "price_pence": 12000}],
    )
    sign_in(page, base, booker.email)
    page.goto(f"{base}/events/{event.slug}")
    reference = book_places(page, 2)
    fill_attendee(page, 1, name="Alex Reid", email="alex.reid@nhs.example")
    continue_to_review(page)

    page.get_by_label("Pay now by card").check()
    page.get_by_role("button", name="Confirm and pay").click()
    # The fake Stripe's hosted page stands in for Stripe Checkout (not ours: not scanned).
    expect(page).to_have_title("Fake Stripe Checkout")
    page.get_by_role("button", name="Pay 240.00 GBP").click()
    expect(page).to_have_url(re.compile(rf"/bookings/{reference}/payment/return"))
    expect_confirmed(page, reference)
    audit(page, "confirmation-card")

    page.get_by_role("link", name="View your booking").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leading change in the NHS")
    expect(page.get_by_text("Paid", exact=False).first).to_be_visible()
    audit(page, "booking")
    page.get_by_role("link", name="Payment details, invoices and receipts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment, invoices and receipts")
    audit(page, "payment")
    page.get_by_role("link", name=re.compile("^view")).first.click()
    audit(page, "receipt")
    page.goto(f"{base}/bookings/{reference}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download a calendar file (.ics)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    ics = Path(download.path()).read_text()
    assert ics.startswith("BEGIN:VCALENDAR") and "SUMMARY:Leading change in the NHS" in ics

    page.get_by_role("link", name="Send someone else instead of Alex Reid").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who is going instead of Alex Reid?")
    audit(page, "substitute")
    page.get_by_label("Full name").fill("Jordan Blake")
    page.get_by_label("Email address").fill("jordan.blake@nhs.example")
    page.get_by_role("button", name="Change attendee").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The place now belongs to Jordan Blake.")

    page.get_by_role("link", name="Cancel places").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel places")
    audit(page, "cancel")
    page.get_by_label("Some places").check()
    page.get_by_label("Jordan Blake").check()
    page.get_by_role("button", name="Cancel places").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The places have been cancelled.")
    audit(page)

    booking = booking_by_reference(reference)
    assert [a.name for a in booking.active_attendees] == ["Sam Green"]
    assert booking.status == "confirmed"
