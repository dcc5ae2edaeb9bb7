"""The organiser console in Chromium: create and publish an event, watch its occupancy, check people in; set up a
discount code and end it early."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from bookings.core.clock import utcnow
from tests.browser.steps import audit, confirm_free_booking, sign_in
from tests.support.factories import make_admin, make_event, make_user

pytestmark = pytest.mark.browser


def empty_form_is_refused(page, section: str, create: str, form_name: str, button: str) -> None:
    """From the console's menu, a list, then its form for a new one, sent with nothing filled in: the error
    summary takes the focus. Each page passes the audit."""
    page.get_by_role("navigation", name="Organiser console").get_by_role("link", name=section).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(section)
    audit(page)
    page.get_by_role("link", name=create).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(create)
    audit(page, form_name)
    page.get_by_role("button", name=button).click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    audit(page)


def test_admin_creates_and_publishes_an_event_watches_occupancy_and_checks_people_in(app, live_server, page):
    base = live_server.url
    admin = make_admin(name="Morgan Lee")
    booker = make_user(name="Dana Whitfield")
    start = (utcnow() + timedelta(days=40)).strftime("%Y-%m-%d")

    sign_in(page, base, admin.email)
    page.get_by_role("link", name="Organiser console").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organiser console")
    audit(page, "admin-dashboard")
    empty_form_is_refused(page, "Events", "Create an event", "admin-event-form", "Create the event as a draft")

    page.get_by_label("Title", exact=True).fill("Procurement essentials")
    page.get_by_label("Course", exact=True).check()
    page.get_by_label("Summary", exact=True).fill("The Procurement Act 2023 in practice for council buyers.")
    page.get_by_label("Venue", exact=True).fill("Exampleton Library")
    page.get_by_label("Venue address").fill("2 Library Lane, Exampleton")
    page.locator("#sessions-0-starts_at").fill(f"{start}T09:30")
    page.locator("#sessions-0-ends_at").fill(f"{start}T16:30")
    page.get_by_label("Number of places", exact=True).fill("20")
    page.get_by_label("Most places in one booking").fill("5")
    page.locator("#rates-0-name").fill("Standard")
    page.locator("#rates-0-price").fill("0")
    page.get_by_label("Cancellation cut-off, in hours before the start").fill("24")
    page.get_by_label("Substitution cut-off, in hours before the start").fill("2")
    page.get_by_role("button", name="Create the event as a draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Procurement essentials")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("has been created as a draft")
    audit(page)
    event_id = int(re.search(r"/admin/events/(\d+)", page.url).group(1))

    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The event is published.")
    expect(page.get_by_text("0 confirmed, 0 held, 0 offered: 20 places free of 20")).to_be_visible()
    audit(page, "admin-event")

    # People book; the organiser sees the places go.
    confirm_free_booking(
        event_id, booker, [("Dana Whitfield", "dana@council.example"), ("Lee Ahmed", "lee@council.example")]
    )
    page.reload()
    expect(page.get_by_text("2 confirmed, 0 held, 0 offered: 18 places free of 20")).to_be_visible()
    page.get_by_role("navigation", name="Organiser console").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_text("2 confirmed, 0 held, 0 offered: 18 places free of 20")).to_be_visible()
    audit(page)

    page.goto(f"{base}/admin/events/{event_id}")
    page.get_by_role("link", name="Check people in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check in")
    audit(page, "admin-check-in")
    page.get_by_label("Search by name, email or organisation").fill("Dana")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=2, name="Lee Ahmed")).to_have_count(0)
    page.get_by_role("button", name=re.compile(r"^Mark as attended\W+Dana Whitfield$")).click()
    expect(page.get_by_role("button", name=re.compile(r"^Undo\W+the check-in of Dana Whitfield$"))).to_be_visible()
    expect(page.get_by_text("Attended", exact=True)).to_be_visible()
    audit(page)


def test_admin_creates_a_discount_code_for_an_event_and_ends_it_early(app, live_server, page):
    base = live_server.url
    admin = make_admin(name="Sam Patel")
    make_event(title="Commissioning for outcomes")

    sign_in(page, base, admin.email)
    page.goto(f"{base}/admin/")
    empty_form_is_refused(
        page, "Discount codes", "Create a discount code", "admin-discount-code-form", "Create the code"
    )

    page.get_by_label("Code", exact=True).fill("nhs 25")
    page.get_by_label("Percentage off", exact=True).fill("25")
    page.get_by_label("Event", exact=True).select_option(label="Commissioning for outcomes")
    page.get_by_label("Most times it can be used (optional)").fill("50")
    page.get_by_role("button", name="Create the code").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The discount code NHS25 has been created.")
    row = page.get_by_role("row", name=re.compile(r"^NHS25"))
    expect(row).to_contain_text("25% off")
    expect(row).to_contain_text("Commissioning for outcomes")
    expect(row).to_contain_text("0 of 50")
    expect(row).to_contain_text("Active")
    audit(page, "admin-discount-codes")

    page.get_by_role("link", name="End the code NHS25").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("End the code early")
    audit(page)
    page.get_by_role("button", name="End the code NHS25").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The discount code NHS25 has ended")
    expect(row).to_contain_text("Ended")
    expect(page.get_by_role("link", name="End the code NHS25")).to_have_count(0)
    audit(page)
