"""The console in Chromium: check-in on a 320 px phone without JavaScript-only parts, and axe WCAG 2.2 AA scans."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from bookings.booking.inputs import AttendeeInput
from bookings.payments import services as payment_services
from tests.integration.admin.support import book, failed_email
from tests.support.browser import axe_check
from tests.support.factories import PASSWORD, make_admin, make_event

pytestmark = pytest.mark.browser

ADMIN_EMAIL = "organiser@council.example"


@pytest.fixture
def event(app):
    make_admin(email=ADMIN_EMAIL)
    event = make_event(capacity=10, title="Safeguarding adults", days=2)
    now = datetime.now(UTC)
    people = [
        AttendeeInput(name="Ada Lovelace", email="ada@council.example", organisation="Exampleton Council"),
        AttendeeInput(name="Grace Hopper", email="grace@council.example", organisation="Exampleton NHS Trust"),
    ]
    book(event, now, people=people)
    failed_email(now=now)
    return event


def _sign_in_to(page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Email address").fill(ADMIN_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_check_in_on_a_320px_phone(live_server, page, event):
    page.set_viewport_size({"width": 320, "height": 640})
    _sign_in_to(page, f"{live_server.url}/admin/events/{event.id}/check-in")

    page.get_by_label("Search by name, email or organisation").fill("ada")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    violations = axe_check(page)
    assert not violations, violations.report()

    page.get_by_role("button", name=re.compile(r"^Mark as attended\W+Ada Lovelace")).click()

    expect(page.get_by_text("Attended", exact=True)).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Undo\W+the check-in of Ada Lovelace")).click()
    expect(page.get_by_role("button", name=re.compile(r"^Mark as attended\W+Ada Lovelace"))).to_be_visible()


def test_console_pages_have_no_wcag_violations(live_server, page, event):
    base = live_server.url
    discount = payment_services.create_discount_code(
        code="NHS25", percent=25, event_id=event.id, max_uses=50, actor=make_admin(), now=datetime.now(UTC)
    )
    _sign_in_to(page, f"{base}/admin/")
    paths = [
        "/admin/",
        "/admin/events",
        "/admin/events/new",
        f"/admin/events/{event.id}",
        f"/admin/events/{event.id}/edit",
        f"/admin/events/{event.id}/move",
        f"/admin/events/{event.id}/cancel",
        f"/admin/events/{event.id}/book",
        f"/admin/events/{event.id}/attendees",
        f"/admin/events/{event.id}/sign-in-sheet",
        "/admin/bookings",
        "/admin/discount-codes",
        "/admin/discount-codes/new",
        f"/admin/discount-codes/{discount.id}/end",
        "/admin/audit",
    ]
    found = {}
    for path in paths:
        page.goto(base + path)
        violations = axe_check(page)
        if violations:
            found[path] = violations.report()
    page.goto(f"{base}/admin/bookings")
    page.locator("table a.govuk-link").first.click()
    violations = axe_check(page)
    if violations:
        found["booking"] = violations.report()
    # The error states too: cancelling places with none ticked, cancelling the event without the box ticked.
    page.get_by_role("button", name="Cancel the chosen places and refund").click()
    page.get_by_role("link", name="Choose the places to cancel").click()
    expect(page.get_by_role("group", name="Places to cancel").get_by_role("checkbox").first).to_be_focused()
    violations = axe_check(page)
    if violations:
        found["booking, nothing ticked"] = violations.report()
    page.goto(f"{base}/admin/events/{event.id}/cancel")
    page.get_by_role("button", name="Cancel the event").click()
    page.get_by_role("link", name="Confirm that you want to cancel the event").click()
    expect(page.get_by_role("checkbox", name=re.compile("^I want to cancel Safeguarding adults"))).to_be_focused()
    violations = axe_check(page)
    if violations:
        found["event cancel, box not ticked"] = violations.report()

    assert found == {}
