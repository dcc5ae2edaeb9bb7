"""Chromium through Playwright against the live server, and the axe-core WCAG 2.2 AA scan."""

from __future__ import annotations

import pytest

from tests.support.browser import SCREENSHOT_DIR, axe_check

pytestmark = pytest.mark.browser


def test_home_page_has_its_title_and_no_wcag_violations(live_server, page):
    page.goto(f"{live_server.url}/")

    assert page.title() == "Upcoming events \N{EN DASH} Bookings"
    violations = axe_check(page)
    assert not violations, violations.report()


def test_axe_reports_a_violation_readably(page):
    page.set_content(
        "<html lang='en'><head><title>Broken</title></head><body><main><img src='x.png'></main></body></html>"
    )

    violations = axe_check(page)

    assert [v["id"] for v in violations] == ["image-alt"]
    assert "image-alt" in violations.report() and "<img" in violations.report()


def test_screenshot_is_saved_under_test_artifacts(page, screenshot):
    page.set_content("<html lang='en'><head><title>Shot</title></head><body><h1>Shot</h1></body></html>")

    path = screenshot("shot")

    assert path.parent == SCREENSHOT_DIR
    assert path.read_bytes().startswith(b"\x89PNG")
    path.unlink()
