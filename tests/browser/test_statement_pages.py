"""The accessibility statement and the other pages linked from every footer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.steps import audit

pytestmark = pytest.mark.browser


def test_accessibility_statement_is_linked_from_the_footer_and_passes_the_checks(live_server, page):
    page.goto(f"{live_server.url}/")
    page.get_by_role("contentinfo").get_by_role("link", name="Accessibility statement").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement for Bookings")
    for section in (
        "Feedback and contact information",
        "Enforcement procedure",
        "Compliance status",
        "Non-accessible content",
        "Preparation of this accessibility statement",
    ):
        expect(page.get_by_role("heading", name=section)).to_be_visible()
    audit(page, "accessibility-statement")


def test_privacy_notice_passes_the_checks(live_server, page):
    page.goto(f"{live_server.url}/")
    page.get_by_role("contentinfo").get_by_role("link", name="Privacy notice").click()

    expect(page).to_have_url(f"{live_server.url}/privacy")
    audit(page, "privacy")


def test_page_not_found_passes_the_checks(live_server, page):
    response = page.goto(f"{live_server.url}/events/no-such-event")

    assert response.status == 404
    audit(page, "not-found")
